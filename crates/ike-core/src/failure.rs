//! How the peer broke a negotiation, rustls-style: "the peer misbehaved" says precisely
//! what an answer got wrong, so a driver or a test matches on it instead of guessing from
//! bytes. (The "peer is incompatible" half — NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE,
//! INVALID_KE — is still told by `ChildFailure`'s and `EventKind`'s own variants.)

use ike_wire::PayloadType;

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
    MissingPayload { payload: PayloadType },
    /// An ESP SPI that is not 4 bytes (RFC 4303 §2.1, RFC 7296 §3.3.1).
    #[error("the peer's SPI is not 4 bytes")]
    BadSpiSize,
    /// The peer's KE value does not compute with the selected group (RFC 7296 §3.4).
    #[error("the peer's KE value is unusable")]
    KeValueUnusable,
}

impl PeerMisbehaved {
    const COUNT: usize = 6;

    /// The variant's index, for counting by kind (fields ignored).
    fn index(&self) -> usize {
        match self {
            PeerMisbehaved::SelectedUnofferedProposal => 0,
            PeerMisbehaved::SelectedSeveralProposals => 1,
            PeerMisbehaved::TsOutsideOffer => 2,
            PeerMisbehaved::MissingPayload { .. } => 3,
            PeerMisbehaved::BadSpiSize => 4,
            PeerMisbehaved::KeValueUnusable => 5,
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
    pub fn get(&self, kind: &PeerMisbehaved) -> u64 {
        self.counts[kind.index()]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub(crate) fn count(&mut self, kind: &PeerMisbehaved) {
        self.counts[kind.index()] += 1;
    }
}
