//! Why a negotiation with the peer failed, rustls-style: "the peer is incompatible" (its
//! configuration and ours have nothing in common; fix a config) apart from "the peer
//! misbehaved" (its message broke the rules; it is broken or hostile), each saying
//! precisely what happened, so a driver or a test matches on it instead of guessing from
//! bytes. CHILD SA failures carry them; the IKE SA's failures keep their own `EventKind`
//! variants (`IkeNoProposalChosen`, `InvalidKePayload`, `AuthenticationFailed`,
//! `PayloadDecryptionFailed`; `IkeSaFailed` carries its `PeerMisbehaved` kind), and every
//! one is counted here by kind (`Stats::incompatible`, `Stats::misbehaved`).

use ike_wire::{DhGroup, PayloadType};

/// The peer and we have nothing in common for this negotiation: a configuration
/// mismatch, told to the peer (or by it) with an error notify. Not `#[non_exhaustive]`,
/// unlike `PeerMisbehaved`: each kind writes its own AWS record, and the workspace's
/// event → record mapping (sim's aws/log.rs) must name every one, so a new kind does not
/// compile until its record is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PeerIncompatible {
    /// No proposal in common (RFC 7296 §2.7, NO_PROPOSAL_CHOSEN). `unsupported`: what the
    /// peer offered has nothing we implement at all (AWS: "No Proposal Match Found by AWS").
    #[error("no proposal in common (NO_PROPOSAL_CHOSEN)")]
    NoProposalChosen {
        /// Nothing in the offer is in `Policy::universe`.
        unsupported: bool,
    },
    /// No traffic selectors in common (§2.9, TS_UNACCEPTABLE; IKEv1 INVALID_ID_INFORMATION).
    #[error("no traffic selectors in common (TS_UNACCEPTABLE)")]
    TsUnacceptable,
    /// The initiator's KE payload is of another group than the one the responder selected
    /// (RFC 7296 §1.3, INVALID_KE_PAYLOAD): a retry with `wanted` may still succeed.
    #[error("KE of group {offered}, the responder wants {wanted} (INVALID_KE_PAYLOAD)")]
    InvalidKe {
        /// The group of the KE payload the initiator sent.
        offered: DhGroup,
        /// The group the responder selected, as INVALID_KE_PAYLOAD's data says.
        wanted: DhGroup,
    },
}

impl PeerIncompatible {
    const COUNT: usize = 3;

    fn index(&self) -> usize {
        match self {
            PeerIncompatible::NoProposalChosen { .. } => 0,
            PeerIncompatible::TsUnacceptable => 1,
            PeerIncompatible::InvalidKe { .. } => 2,
        }
    }
}

/// How many negotiations failed because the peer is incompatible, by kind of
/// `PeerIncompatible` (fields ignored), whichever side found it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Incompatibilities {
    counts: [u64; PeerIncompatible::COUNT],
}

impl Incompatibilities {
    /// How many negotiations failed with this kind (its fields ignored).
    pub fn get(&self, kind: &PeerIncompatible) -> u64 {
        self.counts[kind.index()]
    }

    /// How many negotiations failed because the peer is incompatible, whatever the kind.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub(crate) fn count(&mut self, kind: &PeerIncompatible) {
        self.counts[kind.index()] += 1;
    }
}

/// What a peer's message got wrong against what we offered or RFC 7296 requires. A peer
/// that does this is broken or hostile, not merely configured differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// The responder selected a proposal (or PFS group) we did not offer (RFC 7296 §2.7:
    /// it must pick one of ours and may not change it).
    #[error("the peer selected a proposal we did not offer")]
    SelectedUnofferedProposal,
    /// The responder's SA payload carries other than exactly one proposal (§2.7).
    #[error("the peer selected other than exactly one proposal")]
    SelectedSeveralProposals,
    /// The responder narrowed to traffic selectors outside what we offered (§2.9).
    #[error("the peer's traffic selectors are outside our offer")]
    TsOutsideOffer,
    /// A payload the message must carry is missing (named as RFC 7296 names it, for
    /// IKEv1 too).
    #[error("the peer's message lacks its {payload} payload")]
    MissingPayload {
        /// The payload that is not there.
        payload: PayloadType,
    },
    /// An ESP SPI that is not 4 bytes (RFC 4303 §2.1, RFC 7296 §3.3.1).
    #[error("the peer's SPI is not 4 bytes")]
    BadSpiSize,
    /// We asked for PFS — our CREATE_CHILD_SA carried KEi of `group` — and the answer has
    /// no KEr (RFC 7296 §1.3.1, §1.3.3: with PFS the responder's answer carries its KE
    /// payload of the group it selected), whether or not it kept a D-H transform: the
    /// responder dropped PFS, or broke its own choice.
    #[error(
        "the peer's answer has no KEr payload, which PFS requires (we sent KEi of group \
         {group})"
    )]
    PfsKeMissing {
        /// The group of the KEi we sent.
        group: DhGroup,
    },
    /// The peer's KE value does not compute with the selected group (RFC 7296 §3.4).
    #[error("the peer's KE value is unusable")]
    KeValueUnusable,
    /// The peer's AUTH payload does not verify with our PSK (RFC 7296 §2.15): the PSKs
    /// differ, or the peer is not who it claims to be.
    #[error("the peer's AUTH does not verify")]
    AuthenticationFailed,
    /// IKEv1: the peer's HASH_I / HASH_R does not verify (RFC 2409 §5).
    #[error("the peer's HASH does not verify")]
    HashMismatch,
    /// IKEv1: the peer's encrypted main mode message does not decrypt into payloads with
    /// our keys (RFC 2409 §5: with a PSK, they derive from it).
    #[error("the peer's message does not decrypt")]
    Undecryptable,
}

impl PeerMisbehaved {
    const COUNT: usize = 10;

    /// The variant's index, for counting by kind (fields ignored).
    fn index(&self) -> usize {
        match self {
            PeerMisbehaved::SelectedUnofferedProposal => 0,
            PeerMisbehaved::SelectedSeveralProposals => 1,
            PeerMisbehaved::TsOutsideOffer => 2,
            PeerMisbehaved::MissingPayload { .. } => 3,
            PeerMisbehaved::BadSpiSize => 4,
            PeerMisbehaved::KeValueUnusable => 5,
            PeerMisbehaved::AuthenticationFailed => 6,
            PeerMisbehaved::HashMismatch => 7,
            PeerMisbehaved::Undecryptable => 8,
            PeerMisbehaved::PfsKeMissing { .. } => 9,
        }
    }
}

/// How many times the peer misbehaved, by kind of `PeerMisbehaved` (its fields ignored:
/// `MissingPayload` counts every missing payload).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Misbehaviours {
    counts: [u64; PeerMisbehaved::COUNT],
}

impl Misbehaviours {
    /// How many times the peer misbehaved this way (fields ignored).
    pub fn get(&self, kind: &PeerMisbehaved) -> u64 {
        self.counts[kind.index()]
    }

    /// How many times the peer misbehaved, whatever the kind.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub(crate) fn count(&mut self, kind: &PeerMisbehaved) {
        self.counts[kind.index()] += 1;
    }
}
