//! What the core tells its driver: events in protocol terms, each stamped with the phase
//! states after it. Turning them into AWS's wording is the log layer's job.

use std::net::SocketAddr;

use ike_wire::{DhGroup, ExchangeType, NotifyType};

use crate::failure::{Incompatibilities, Misbehaviours, PeerIncompatible, PeerMisbehaved};
use crate::proposal::Selected;

/// The state of phase 1 (IKE SA) or phase 2 (CHILD SA) as AWS reports it. Ordered by
/// how far along it is, so the state of several SAs is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SaState {
    Down,
    Negotiating,
    Rekeying,
    Established,
}

/// Which side sent an error notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// We detected the problem and notified the peer.
    Sent,
    /// The peer notified us.
    Received,
}

/// Why a CHILD SA could not be set up while its IKE SA lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildFailure {
    /// Nothing in common: `Sent` when we refused the peer's offer, `Received` when the
    /// peer refused ours.
    Incompatible(PeerIncompatible, Direction),
    /// Any other error notify from the peer (e.g. INTERNAL_ADDRESS_FAILURE).
    Notified(NotifyType),
    /// The peer's answer broke the rules (what we offered, or RFC 7296's).
    Misbehaved(PeerMisbehaved),
    /// IKEv1 quick mode: the initiator never sent the third message that confirms the
    /// IPsec SA (RFC 2409 §5.5), so we forget it.
    Unconfirmed,
    /// Our own state did not allow it (keys or the CHILD SA gone mid-exchange, a selected
    /// suite whose keys do not build). Should not happen; reported, never a panic.
    Internal,
}

/// Something that happened to an IKE or CHILD SA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An IKE SA started negotiating (we sent or accepted IKE_SA_INIT).
    IkeSaNegotiating {
        spi_i: u64,
        spi_r: u64,
    },
    /// A peer's KE used another group than the one we chose (RFC 7296 §1.3).
    InvalidKePayload {
        group: DhGroup,
        direction: Direction,
    },
    /// IKE_SA_INIT found no common proposal.
    IkeNoProposalChosen {
        unsupported: bool,
        direction: Direction,
    },
    /// PSK authentication failed (RFC 7296 §2.15): `Sent` when the peer's AUTH did not
    /// verify here, `Received` when the peer rejected ours.
    AuthenticationFailed {
        direction: Direction,
    },
    IkeSaEstablished {
        spi_i: u64,
        spi_r: u64,
        selected: Selected,
    },
    ChildSaEstablished {
        spi_in: u32,
        spi_out: u32,
        selected: Selected,
    },
    ChildSaFailed {
        failure: ChildFailure,
    },
    /// The peer answered IKE_SA_INIT or IKE_AUTH with another error notify.
    IkeSaFailed {
        notify: NotifyType,
    },
    /// A request went unanswered through every retransmission.
    RetransmitsExhausted {
        exchange: ExchangeType,
        retransmits: u32,
    },
    /// The peer deleted the IKE SA (INFORMATIONAL with DELETE, RFC 7296 §1.4.1).
    IkeSaDeleteReceived,
    /// The peer deleted a CHILD SA; `spi` as it appeared in the DELETE payload.
    ChildSaDeleteReceived {
        spi: u32,
    },
    /// A CHILD SA is gone: the peer answered our DELETE for it (RFC 7296 §1.4.1). Not
    /// emitted when the peer deleted it (`ChildSaDeleteReceived` tells that), nor in IKEv1,
    /// whose DELETE is never answered (RFC 2408 §4.8): there `ChildSaDeleteSent` is all.
    ChildSaDeleted {
        spi_in: u32,
        spi_out: u32,
    },
    /// The IKE SA is gone (the peer confirmed our DELETE).
    IkeSaDeleted,
    /// We are deleting the IKE SA (lifetime over, or an administrator's request).
    IkeSaDeleteSent,
    /// We are deleting a CHILD SA (lifetime over, or replaced).
    ChildSaDeleteSent {
        spi_in: u32,
    },
    /// A responder's IKE SA was never authenticated and timed out.
    HalfOpenTimeout,
    /// DPD declared the peer dead after `retransmits` retransmitted liveness checks.
    DpdTimeout {
        retransmits: u32,
        action: crate::config::DpdAction,
    },
    /// CREATE_CHILD_SA, seen from our side (RFC 7296 §1.3), with the message id.
    CreateChildRequestSent {
        id: u32,
    },
    CreateChildRequestProcessed {
        id: u32,
    },
    CreateChildResponseSent {
        id: u32,
    },
    CreateChildResponseProcessed {
        id: u32,
    },
    /// A CHILD SA was replaced by a new one (§1.3.3).
    ChildSaRekeyed {
        old_spi_in: u32,
        spi_in: u32,
        spi_out: u32,
    },
    /// The IKE SA was replaced by one with these SPIs (§2.18).
    IkeSaRekeyed {
        spi_i: u64,
        spi_r: u64,
    },
    /// A rekey of the IKE SA `spi_i`/`spi_r` started: IKEv2 sent or accepted a
    /// CREATE_CHILD_SA request for it (RFC 7296 §1.3.2, §2.18); IKEv1, which has no rekey
    /// of its own (RFC 2409), started the main mode that replaces it.
    IkeSaRekeying {
        spi_i: u64,
        spi_r: u64,
    },
    /// The peer refused to rekey the IKE SA.
    IkeRekeyFailed {
        notify: NotifyType,
    },
    /// A simultaneous rekey left us with a redundant CHILD SA, which we delete (§2.8.1).
    RedundantChildSaDeleted {
        spi_in: u32,
    },
    /// The peer deleted a CHILD SA we were rekeying (§2.25.1); `spi` as in its DELETE.
    ChildRekeyCollisionDelete {
        spi: u32,
    },
    /// A CHILD SA started negotiating on an established IKE SA (IKEv1 quick mode).
    ChildSaNegotiating,
    /// IKEv1: the peer's encrypted main mode message did not decrypt to anything sensible
    /// with our keys — with PSK authentication, the keys depend on the PSK (RFC 2409 §5).
    PayloadDecryptionFailed,
}

/// Which IKE version an SA speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IkeVersion {
    V1,
    V2,
}

/// An event with the context a log record needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// Phase 1 and phase 2 states of the endpoint after this event.
    pub phase1: SaState,
    pub phase2: SaState,
    /// Whether NAT detection (RFC 7296 §2.23) found a NAT on the path.
    pub nat_t_detected: bool,
    /// The peer's address (IP and port) for this SA.
    pub peer: SocketAddr,
    pub ike_version: IkeVersion,
    /// Whether DPD runs on this SA: always in IKEv2 (liveness checks are part of it), in
    /// IKEv1 only when both sides announced RFC 3706 support with the DPD vendor ID.
    pub dpd_enabled: bool,
}

/// Counters of what the endpoint dropped or repeated; malformed input never stops a tunnel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub datagrams_in: u64,
    pub datagrams_out: u64,
    /// Datagrams that did not parse as IKEv2.
    pub malformed: u64,
    /// SK payloads whose integrity check or decryption failed (dropped, RFC 7296 §2.21).
    pub integrity_failures: u64,
    /// Messages for no known IKE SA, or with an unexpected message id.
    pub unmatched: u64,
    pub retransmits: u64,
    /// Messages an SA dropped without a word to the peer, by reason.
    pub drops: Drops,
    /// Answers that broke a negotiation because the peer misbehaved, by kind (each one a
    /// `ChildSaFailed` event with `ChildFailure::Misbehaved`).
    pub misbehaved: Misbehaviours,
    /// CHILD SA negotiations that failed because the peer is incompatible, by kind
    /// (`ChildFailure::Incompatible`, refused by either side).
    pub incompatible: Incompatibilities,
}

/// Why an SA dropped a message it could not act on (a diagnostic: the peer is not told,
/// as RFC 7296 §2.21 and RFC 2408 §5 prefer for what may be forged or stale).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// A payload the message must carry is missing (an SA, KE, Nonce, ID or HASH).
    MissingPayload,
    /// The message is not one the SA expects in its state (main mode's order, RFC 2409
    /// §5; a refusal when nothing was asked).
    UnexpectedMessage,
    /// The peer's proposal or values cannot be used (a transform without a group or hash
    /// we know, a KE value that does not compute).
    Unusable,
    /// The SA has no keys for it (a message, or a request of ours, before IKE_SA_INIT or
    /// main mode has derived them). The states should make this impossible; counted so
    /// that it shows if it happens.
    NoKeys,
}

impl DropReason {
    const ALL: [DropReason; 4] = [
        DropReason::MissingPayload,
        DropReason::UnexpectedMessage,
        DropReason::Unusable,
        DropReason::NoKeys,
    ];
}

/// How many messages were dropped for each `DropReason`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    counts: [u64; DropReason::ALL.len()],
}

impl Drops {
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts[reason as usize]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub(crate) fn count(&mut self, reason: DropReason) {
        self.counts[reason as usize] += 1;
    }
}

/// An IKE SA's traffic keys, for decrypting captures (Wireshark's IKEv2 and IKEv1
/// decryption tables). For IKEv1 the SPIs are the cookies and `sk_ei` is the ISAKMP SA's
/// encryption key (both directions use it); the other keys are empty.
#[derive(Clone, PartialEq, Eq)]
pub struct IkeSaSecrets {
    pub ike_version: IkeVersion,
    pub spi_i: u64,
    pub spi_r: u64,
    pub encryption: ike_wire::EncrId,
    pub key_bits: Option<u16>,
    pub integrity: Option<ike_wire::IntegId>,
    pub sk_ei: Vec<u8>,
    pub sk_er: Vec<u8>,
    pub sk_ai: Vec<u8>,
    pub sk_ar: Vec<u8>,
}

impl IkeSaSecrets {
    pub fn ikev1(cky_i: u64, cky_r: u64, enc_key: Vec<u8>) -> IkeSaSecrets {
        IkeSaSecrets {
            ike_version: IkeVersion::V1,
            spi_i: cky_i,
            spi_r: cky_r,
            encryption: ike_wire::EncrId::AES_CBC,
            key_bits: u16::try_from(enc_key.len() * 8).ok(),
            integrity: None,
            sk_ei: enc_key,
            sk_er: Vec::new(),
            sk_ai: Vec::new(),
            sk_ar: Vec::new(),
        }
    }
}

impl std::fmt::Debug for IkeSaSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IkeSaSecrets({:016x}_i {:016x}_r, ..)",
            self.spi_i, self.spi_r
        )
    }
}
