//! What the core tells its driver: events in protocol terms, each with the facts of the SA
//! it concerns (its own phase states, NAT and DPD facts) and the changes to the others.
//! Merging them into one tunnel state and AWS's wording is `sim::aws`'s job.

use std::net::SocketAddr;

use ike_wire::{DhGroup, ExchangeType, NotifyType};

use crate::failure::{Incompatibilities, Misbehaviours, PeerIncompatible, PeerMisbehaved};
use crate::proposal::Selected;

/// The state of phase 1 (IKE SA) or phase 2 (CHILD SA). Ordered by how far along it is,
/// so the state of several SAs is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SaState {
    /// No SA of this phase exists, or the last one is gone.
    Down,
    /// An exchange that sets one up is under way (IKE_SA_INIT/IKE_AUTH, main mode or
    /// quick mode) and nothing of this phase is up yet.
    Negotiating,
    /// Up, and being replaced (CREATE_CHILD_SA rekey, RFC 7296 §1.3.2–§1.3.3; in IKEv1
    /// a new main mode or quick mode).
    Rekeying,
    /// Up: authenticated (phase 1) or installed (phase 2).
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
    /// An IKE SA started negotiating: we sent or accepted IKE_SA_INIT (RFC 7296 §1.2), or
    /// IKEv1 main mode's first message (RFC 2409 §5). A replacement reports
    /// `IkeSaRekeying` instead.
    IkeSaNegotiating {
        /// The initiator's SPI (IKEv1: cookie).
        spi_i: u64,
        /// The responder's SPI, 0 while we initiate and have no answer yet (RFC 7296
        /// §3.1).
        spi_r: u64,
    },
    /// A peer's KE used another group than the one we chose (RFC 7296 §1.3): `Sent` when
    /// we answered IKE_SA_INIT with INVALID_KE_PAYLOAD, `Received` when the peer did.
    InvalidKePayload {
        /// The group the responder wants, as INVALID_KE_PAYLOAD's data carries it
        /// (RFC 7296 §3.10.1).
        group: DhGroup,
        /// Who sent the notify.
        direction: Direction,
    },
    /// IKE_SA_INIT (IKEv1: main mode's first exchange) found no common proposal
    /// (RFC 7296 §2.7, NO_PROPOSAL_CHOSEN).
    IkeNoProposalChosen {
        /// What the peer offered has nothing we implement at all (see
        /// `Policy::universe`); AWS logs that apart from a mere mismatch. Always `false`
        /// when `Received`: the notify does not say.
        unsupported: bool,
        /// `Sent` when we refused the peer's offer, `Received` when it refused ours.
        direction: Direction,
    },
    /// PSK authentication failed (RFC 7296 §2.15): `Sent` when the peer's AUTH did not
    /// verify here, `Received` when the peer rejected ours.
    AuthenticationFailed {
        /// Who sent AUTHENTICATION_FAILED.
        direction: Direction,
    },
    /// An IKE SA is up: IKE_AUTH completed on either side (RFC 7296 §1.2), or IKEv1 main
    /// mode's last message verified (RFC 2409 §5). A replacement IKE SA reports
    /// `IkeSaRekeyed` instead.
    IkeSaEstablished {
        /// The initiator's SPI (IKEv1: cookie).
        spi_i: u64,
        /// The responder's SPI (IKEv1: cookie).
        spi_r: u64,
        /// The IKE SA's algorithms.
        selected: Selected,
    },
    /// A CHILD SA is installed: with IKE_AUTH, by CREATE_CHILD_SA (RFC 7296 §1.3.1), or
    /// by IKEv1 quick mode (RFC 2409 §5.5). A CHILD SA that replaces a live one reports
    /// `ChildSaRekeyed` instead.
    ChildSaEstablished {
        /// Our inbound SPI: the one we chose, the peer sends with it.
        spi_in: u32,
        /// Our outbound SPI: the peer's choice.
        spi_out: u32,
        /// The CHILD SA's algorithms (`dh` is the PFS group, if any).
        selected: Selected,
    },
    /// A CHILD SA could not be set up, on either side, while its IKE SA lives on.
    ChildSaFailed {
        /// What went wrong.
        failure: ChildFailure,
    },
    /// IKE_SA_INIT or IKE_AUTH (IKEv1: main mode) failed for another reason than the
    /// variants above: the peer answered with another error notify, or with something we
    /// cannot use. The IKE SA is gone.
    IkeSaFailed {
        /// The peer's error notify, or the one that names what was wrong with its answer
        /// (NO_PROPOSAL_CHOSEN for a proposal we did not offer, INVALID_SYNTAX for a
        /// missing payload).
        notify: NotifyType,
        /// What the peer's answer got wrong, when that is why (`None`: the peer sent an
        /// error notify, or the failure is ours). Counted in `Stats::misbehaved`.
        misbehaved: Option<crate::failure::PeerMisbehaved>,
    },
    /// A request went unanswered through every retransmission (RFC 7296 §2.1, §2.4): the
    /// IKE SA is gone. Reported for live SAs only, not for one already being replaced.
    RetransmitsExhausted {
        /// The exchange of the unanswered request.
        exchange: ExchangeType,
        /// How many times it was retransmitted.
        retransmits: u32,
    },
    /// IKEv1 initiator: main mode message 5 went unanswered through every retransmission
    /// while the responder kept sending message 4 again — what a responder does that
    /// cannot decrypt message 5. With a PSK, the keys that encrypt it derive from the key
    /// (RFC 2409 §5.4: SKEYID = prf(pre-shared-key, Ni_b | Nr_b)), so the likely cause is
    /// a pre-shared key mismatch. The ISAKMP SA is gone (instead of `RetransmitsExhausted`).
    Message5Undecryptable {
        /// How many times message 5 was retransmitted.
        retransmits: u32,
        /// How many times the responder sent message 4 again.
        repeats: u32,
    },
    /// The peer deleted the IKE SA (INFORMATIONAL with DELETE, RFC 7296 §1.4.1).
    IkeSaDeleteReceived,
    /// The peer deleted a CHILD SA (RFC 7296 §1.4.1; IKEv1 RFC 2408 §3.15).
    ChildSaDeleteReceived {
        /// As the DELETE payload carried it: the peer's inbound SPI, our outbound one.
        spi: u32,
    },
    /// A CHILD SA is gone: the peer answered our DELETE for it (RFC 7296 §1.4.1). Not
    /// emitted when the peer deleted it (`ChildSaDeleteReceived` tells that), nor in IKEv1,
    /// whose DELETE is never answered (RFC 2408 §4.8): there `ChildSaDeleteSent` is all.
    ChildSaDeleted {
        /// Our inbound SPI.
        spi_in: u32,
        /// Our outbound SPI.
        spi_out: u32,
    },
    /// The IKE SA is gone (the peer confirmed our DELETE).
    IkeSaDeleted,
    /// We are deleting the IKE SA (lifetime over, or an administrator's request).
    IkeSaDeleteSent,
    /// We are deleting a CHILD SA (lifetime over, or replaced).
    ChildSaDeleteSent {
        /// Our inbound SPI, the one our DELETE payload names (RFC 7296 §3.11).
        spi_in: u32,
    },
    /// A responder's IKE SA was never authenticated and timed out.
    HalfOpenTimeout,
    /// DPD declared the peer dead after `retransmits` retransmitted liveness checks.
    /// IKEv2 liveness checks (RFC 7296 §2.4) or IKEv1 R-U-THERE (RFC 3706 §5), on either
    /// side. With `DpdAction::None` the SA lives on.
    DpdTimeout {
        /// How many times the last check was retransmitted.
        retransmits: u32,
        /// What the configuration says to do now, and what was done.
        action: crate::config::DpdAction,
    },
    /// IKEv2: we sent a CREATE_CHILD_SA request (RFC 7296 §1.3) to create or rekey a
    /// CHILD SA or to rekey the IKE SA.
    CreateChildRequestSent {
        /// The request's message id (§2.2).
        id: u32,
    },
    /// IKEv2: we handled the peer's CREATE_CHILD_SA request, before answering it.
    CreateChildRequestProcessed {
        /// The request's message id.
        id: u32,
    },
    /// IKEv2: we answered the peer's CREATE_CHILD_SA request.
    CreateChildResponseSent {
        /// The message id of the request it answers.
        id: u32,
    },
    /// IKEv2: the peer answered our CREATE_CHILD_SA request and we handled the answer.
    CreateChildResponseProcessed {
        /// The message id of our request.
        id: u32,
    },
    /// A CHILD SA was replaced by a new one (RFC 7296 §1.3.3; IKEv1: a quick mode for
    /// the same selectors), on either side; the old one is on its way out (deleted by the
    /// rekey's initiator, RFC 7296 §2.8).
    ChildSaRekeyed {
        /// The old CHILD SA's inbound SPI.
        old_spi_in: u32,
        /// The new CHILD SA's inbound SPI (ours).
        spi_in: u32,
        /// The new CHILD SA's outbound SPI (the peer's).
        spi_out: u32,
    },
    /// The IKE SA was replaced by one with these SPIs (RFC 7296 §2.18; IKEv1: a new main
    /// mode with the same peer, RFC 2409 having no rekey of its own).
    IkeSaRekeyed {
        /// The new IKE SA's initiator SPI (IKEv1: cookie).
        spi_i: u64,
        /// The new IKE SA's responder SPI (IKEv1: cookie).
        spi_r: u64,
    },
    /// A rekey of the IKE SA `spi_i`/`spi_r` started: IKEv2 sent or accepted a
    /// CREATE_CHILD_SA request for it (RFC 7296 §1.3.2, §2.18); IKEv1, which has no rekey
    /// of its own (RFC 2409), started the main mode that replaces it.
    IkeSaRekeying {
        /// The initiator SPI (IKEv1: cookie) of the IKE SA being replaced.
        spi_i: u64,
        /// The responder SPI (IKEv1: cookie) of the IKE SA being replaced.
        spi_r: u64,
    },
    /// The peer refused our CREATE_CHILD_SA request to rekey the IKE SA (RFC 7296 §2.18);
    /// the old IKE SA lives on.
    IkeRekeyFailed {
        /// The error notify of its answer.
        notify: NotifyType,
    },
    /// A simultaneous rekey left us with a redundant CHILD SA, which we delete (§2.8.1).
    RedundantChildSaDeleted {
        /// Its inbound SPI (ours).
        spi_in: u32,
    },
    /// The peer deleted a CHILD SA we were rekeying (§2.25.1).
    ChildRekeyCollisionDelete {
        /// As the DELETE payload carried it: our outbound SPI.
        spi: u32,
    },
    /// A CHILD SA started negotiating on an established IKE SA (IKEv1 quick mode).
    ChildSaNegotiating,
    /// IKEv1: the peer's encrypted main mode message did not decrypt to anything sensible
    /// with our keys — with PSK authentication, the keys depend on the PSK (RFC 2409 §5).
    PayloadDecryptionFailed,
    /// IKEv1 initiator, main mode: an unprotected informational with an error notify
    /// arrived (RFC 2408 §3.14.1). Nothing proves who sent it, so the SA is kept and keeps
    /// retransmitting (the message is dropped and counted); it is most likely the responder
    /// saying why it gave up. A refusal of main mode 1 reports `IkeNoProposalChosen`.
    UnauthenticatedNotify {
        /// The notify's type.
        notify: ike_wire::v1::NotifyType,
        /// Whether our main mode message 5 had gone out (its keys come from the PSK).
        after_message5: bool,
    },
    /// IKEv1 initiator: after our main mode message 5, an encrypted informational arrived
    /// that does not decrypt or verify with our keys (RFC 2409 §5: they come from the PSK).
    /// Most likely the responder could not decrypt message 5 either and says so under its
    /// own keys; nothing proves who sent it, so the SA is kept and the message dropped.
    Message5AnswerUndecryptable,
}

/// Which IKE version an SA speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IkeVersion {
    /// IKEv1: ISAKMP main mode and quick mode (RFC 2408, RFC 2409).
    V1,
    /// IKEv2 (RFC 7296).
    V2,
}

/// The endpoint's name for one of its IKE SAs: stable while the SA lives, unlike its
/// SPIs (an initiator's SPIr is 0 until the first response, RFC 7296 §3.1, and IKEv1
/// cookies share the space) or its position among the endpoint's SAs. Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SaHandle(pub u64);

/// What an IKE SA can say about itself at one moment: protocol facts, no tunnel view (how
/// AWS merges several SAs into one tunnel state is `sim::aws`'s business).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaFacts {
    /// The IKE SA's own phase 1 state.
    pub phase1: SaState,
    /// The state of its CHILD SAs (IKEv1: IPsec SAs), the furthest along.
    pub phase2: SaState,
    /// What NAT detection found (RFC 7296 §2.23, RFC 3947 §3).
    pub nat: crate::nat_t::Nat,
    /// Whether DPD runs on this SA: always in IKEv2 (liveness checks are part of it,
    /// RFC 7296 §2.4), in IKEv1 only when it is configured and the peer announced RFC 3706
    /// support with the DPD vendor ID (RFC 3706 §5.1).
    pub dpd: bool,
}

impl SaFacts {
    /// An SA that does not exist (a refusal before any SA was kept).
    pub(crate) fn none(dpd: bool) -> SaFacts {
        SaFacts {
            phase1: SaState::Down,
            phase2: SaState::Down,
            nat: crate::nat_t::Nat::default(),
            dpd,
        }
    }
}

/// A change to one of the endpoint's other SAs that no event of its own told: CHILD SAs
/// handed to it (an IKE rekey, RFC 7296 §2.18; an IKEv1 phase 1 replacement), or the SA
/// gone (closed, INITIAL_CONTACT, replaced).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaChange {
    /// The SA's facts are now these.
    Facts(SaHandle, SaFacts),
    /// The SA no longer exists.
    Removed(SaHandle),
}

/// An event, with the facts of the SA it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The SA it happened to (for a refusal that kept no SA, a handle no SA will have).
    pub sa: SaHandle,
    /// That SA's facts after the event (a replaced SA may tell the states it hands over).
    pub facts: SaFacts,
    /// The endpoint's other SAs whose facts changed since the last event without one of
    /// their own, in the endpoint's order: applied before this event, they keep a view of
    /// every SA's facts current.
    pub changes: Vec<SaChange>,
    /// The peer's address (IP and port) for this SA.
    pub peer: SocketAddr,
    /// The version the SA speaks.
    pub ike_version: IkeVersion,
}

impl Event {
    /// An event of an SA; the endpoint stamps `sa` and `changes` when it publishes it.
    pub(crate) fn new(
        kind: EventKind,
        facts: SaFacts,
        peer: SocketAddr,
        ike_version: IkeVersion,
    ) -> Event {
        Event {
            kind,
            sa: SaHandle(u64::MAX),
            facts,
            changes: Vec::new(),
            peer,
            ike_version,
        }
    }
}

/// Counters of what the endpoint dropped or repeated; malformed input never stops a tunnel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handed to `Endpoint::handle`.
    pub datagrams_in: u64,
    /// Datagrams handed out by `Endpoint::poll_transmit`, retransmissions included.
    pub datagrams_out: u64,
    /// Datagrams that did not parse (either version) or speak a version we do not accept,
    /// and IKEv2 messages without an SK payload or whose decrypted payloads do not parse.
    pub malformed: u64,
    /// SK payloads whose integrity check or decryption failed (dropped, RFC 7296 §2.21),
    /// and IKEv1 messages whose HASH did not verify (RFC 2409 §5.5).
    pub integrity_failures: u64,
    /// Messages for no known IKE SA, or with an unexpected message id.
    pub unmatched: u64,
    /// Requests we sent again for want of an answer (RFC 7296 §2.1), and answers we
    /// repeated for a retransmitted request.
    pub retransmits: u64,
    /// Messages an SA dropped without a word to the peer, by reason.
    pub drops: Drops,
    /// Messages that broke a negotiation because the peer misbehaved, by kind, found here:
    /// `ChildSaFailed` with `ChildFailure::Misbehaved`, `IkeSaFailed` with `misbehaved`,
    /// `AuthenticationFailed { Sent }`, `PayloadDecryptionFailed`.
    pub misbehaved: Misbehaviours,
    /// Negotiations that failed because the peer is incompatible, by kind, refused by
    /// either side: `ChildFailure::Incompatible`, `IkeNoProposalChosen`, `InvalidKePayload`.
    pub incompatible: Incompatibilities,
    /// IKE_SA_INIT requests answered with a COOKIE (RFC 7296 §2.6) instead of a new SA:
    /// half-open SAs had reached `DosConfig::cookie_threshold` and the request carried no
    /// valid cookie.
    pub cookies_sent: u64,
    /// IKE_SA_INIT (and IKEv1 main mode) requests dropped without an answer because the
    /// source IP held `DosConfig::block_threshold` half-open SAs or the endpoint
    /// `DosConfig::half_open_limit`.
    pub half_open_refused: u64,
    /// Half-open IKE SAs forgotten because IKE_AUTH (main mode message 5) never came in
    /// `EndpointConfig::half_open_timeout`.
    pub half_open_expired: u64,
    /// Datagrams with an IKE major version above 2 (RFC 7296 §2.5); each request among
    /// them is answered with INVALID_MAJOR_VERSION while the stateless-answer budget lasts.
    pub invalid_major_version: u64,
    /// IKE_SA_INIT requests dropped because they start an IKE SA we have or had: the
    /// same SPIi from the same peer IP as an SA past IKE_SA_INIT (a replay).
    pub replays_dropped: u64,
    /// IKE_SA_INIT requests under pressure whose expensive KE group
    /// (`DosConfig::expensive_dh_groups`) was answered with INVALID_KE_PAYLOAD naming a
    /// cheaper group the peer offered, instead of computing it.
    pub expensive_dh_deflected: u64,
    /// Answers that need no SA (INVALID_MAJOR_VERSION) not sent because
    /// `DosConfig::stateless_answers_per_second` was spent.
    pub stateless_answers_limited: u64,
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
    /// How many messages were dropped for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts[reason as usize]
    }

    /// How many messages were dropped, whatever the reason.
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
    /// The version, which says which of Wireshark's tables the keys belong in.
    pub ike_version: IkeVersion,
    /// The initiator's SPI (IKEv1: cookie).
    pub spi_i: u64,
    /// The responder's SPI (IKEv1: cookie).
    pub spi_r: u64,
    /// The SK payload's cipher (RFC 7296 §3.14).
    pub encryption: ike_wire::EncrId,
    /// Its key length, for ciphers with a variable one (AES, RFC 7296 §3.3.5).
    pub key_bits: Option<u16>,
    /// The integrity algorithm; `None` with an AEAD cipher, and for IKEv1.
    pub integrity: Option<ike_wire::IntegId>,
    /// SK_ei: encrypts what the initiator sends (RFC 7296 §2.14).
    pub sk_ei: Vec<u8>,
    /// SK_er: encrypts what the responder sends.
    pub sk_er: Vec<u8>,
    /// SK_ai: authenticates what the initiator sends; empty with an AEAD cipher.
    pub sk_ai: Vec<u8>,
    /// SK_ar: authenticates what the responder sends; empty with an AEAD cipher.
    pub sk_ar: Vec<u8>,
}

impl IkeSaSecrets {
    /// An ISAKMP SA's secrets: its cookies and its AES-CBC key, derived from SKEYID_e
    /// (RFC 2409 §5, appendix B).
    pub(crate) fn ikev1(cky_i: u64, cky_r: u64, enc_key: Vec<u8>) -> IkeSaSecrets {
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
