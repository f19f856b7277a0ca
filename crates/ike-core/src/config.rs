//! What an endpoint is configured with: credentials, proposals, traffic selectors and
//! retransmission behaviour. The simulator fills this from AWS's tunnel options (for the
//! AWS side) or from a CGW description; the core only ever sees this.

use std::time::Duration;

use ike_wire::{DhGroup, Identification, TrafficSelector};

use crate::proposal::Policy;
use crate::ts;

/// One endpoint's configuration, for both IKE versions (one IKE peer: an AWS tunnel, or a
/// CGW connection).
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// The pre-shared key (RFC 7296 §2.15).
    pub psk: Vec<u8>,
    /// Our identity; `None` means our IP address, as AWS identifies both sides.
    pub local_id: Option<Identification>,
    /// IKE SA proposals (what we offer as initiator, accept as responder).
    pub ike: Policy,
    /// CHILD SA (ESP) proposals. An empty `dh` list on a proposal means no PFS.
    pub esp: Policy,
    /// Our side of the tunnel (TSi when we initiate, TSr when we respond).
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side of the tunnel.
    pub remote_ts: Vec<TrafficSelector>,
    /// Further CHILD SAs an initiator negotiates once IKE_AUTH is done, one CREATE_CHILD_SA
    /// each (RFC 7296 §1.3.1), each with selectors of its own: a policy-based CGW's other
    /// subnet pairs (strongSwan: one child per pair; Cisco: one SA per crypto-map ACL
    /// entry). The first pair is `local_ts`/`remote_ts`, negotiated with IKE_AUTH.
    pub more_children: Vec<TsPair>,
    /// What an initiator does when the peer deletes one of its CHILD SAs (strongSwan's
    /// `close_action`).
    pub close_action: CloseAction,
    /// What a responder does with a CREATE_CHILD_SA for a new CHILD SA (not a rekey) while
    /// it has one up: AWS allows one SA pair per tunnel.
    pub new_child_sa: NewChildSa,
    /// When to resend an unanswered request and when to give up (RFC 7296 §2.1).
    pub retransmit: RetransmitConfig,
    /// Send INITIAL_CONTACT in IKE_AUTH (RFC 7296 §2.4), as CGWs do on their first SA.
    pub initial_contact: bool,
    /// Hand out each IKE SA's SK_e/SK_a keys (`Endpoint::poll_secrets`) so captures can
    /// be decrypted, like SSLKEYLOGFILE. Off unless asked for.
    pub export_secrets: bool,
    /// Hand out the ESP SAs to install and remove (`Endpoint::poll_ipsec`, see `ipsec`),
    /// for a data plane. Off unless asked for: off, nothing is queued.
    pub data_plane: bool,
    /// Report the plaintext of protected messages and the timers that fire
    /// (`Endpoint::poll_trace`, see `trace`), for the timeline. Off unless asked for: off,
    /// it costs nothing.
    pub trace: bool,
    /// SA lifetimes and when to rekey them (RFC 7296 §2.8).
    pub lifetimes: Lifetimes,
    /// Dead peer detection; `None` never probes (liveness requests are still answered).
    pub dpd: Option<DpdConfig>,
    /// How long a responder keeps an IKE SA whose initiator never completes IKE_AUTH.
    pub half_open_timeout: Duration,
    /// Deliberate misbehaviour, for scenarios (libreswan's `impair` vocabulary).
    pub impair: Impair,
    /// The IKE version we speak when we initiate.
    pub ike_version: crate::event::IkeVersion,
    /// Whether we answer IKEv1 as responder (AWS's `ike_versions` tunnel option); other
    /// versions' datagrams are dropped as malformed.
    pub accept_ikev1: bool,
    /// Whether we answer IKEv2 as responder (AWS's `ike_versions` tunnel option).
    pub accept_ikev2: bool,
    /// Whether an IKEv1 aggressive mode request is answered with UNSUPPORTED-EXCHANGE-TYPE
    /// (RFC 2408 §3.14.1), as AWS does; otherwise it is dropped and counted like any
    /// message for no known SA. A policy of the endpoint, not of IKEv1: AWS's tunnel
    /// options set it, a simulated CGW leaves it off.
    pub refuse_aggressive_mode: bool,
    /// A responder's defences against floods of IKE_SA_INIT requests (COOKIE challenges,
    /// bounds on half-open SAs, the expensive-DH policy): see `crate::dos` and
    /// docs/flood-defence.md.
    pub dos: DosConfig,
}

/// A responder's flood defences (RFC 7296 §2.6; strongSwan's `charon.*` options of the
/// same names are the model). The defaults are strongSwan's where it has one; no ordinary
/// tunnel comes near them (one peer holds one half-open IKE SA at a time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DosConfig {
    /// Half-open IKE SAs (all peers) at which an IKE_SA_INIT request must carry a valid
    /// COOKIE (RFC 7296 §2.6); below it, none is asked for. strongSwan's
    /// `charon.cookie_threshold` (default 30). 0 asks for a cookie always.
    pub cookie_threshold: usize,
    /// Half-open IKE SAs one source IP may hold; its further requests are dropped without
    /// an answer. strongSwan's `charon.block_threshold` (default 5). 0: no bound.
    pub block_threshold: usize,
    /// Half-open IKE SAs at most; further requests are dropped without an answer, so
    /// memory stays bounded whatever a flood returns cookies from. strongSwan's
    /// `charon.init_limit_half_open` (its default 0 is unbounded; ours is 5,000).
    /// 0: no bound.
    pub half_open_limit: usize,
    /// How long cookies stay required after the half-open SAs fell below
    /// `cookie_threshold`, so a peer's retransmission is not answered once with and once
    /// without a cookie (strongSwan's `COOKIE_CALMDOWN_DELAY`, 10 s).
    pub cookie_calmdown: Duration,
    /// How long one cookie secret is used before a new one is drawn (strongSwan's
    /// `COOKIE_SECRET_SWITCH`, 120 s).
    pub cookie_secret_lifetime: Duration,
    /// How many cookies one secret makes before a new one is drawn (RFC 7296 §2.6: "after
    /// every so many cookies"); 10,000.
    pub cookie_secret_uses: u64,
    /// How long the previous secret's cookies stay valid after a new secret is drawn (its
    /// version id tells which secret made a cookie); strongSwan's `COOKIE_LIFETIME`, 10 s.
    pub cookie_grace: Duration,
    /// Key exchange groups that cost too much to compute for anyone under pressure (while
    /// cookies are required): such a request is answered with INVALID_KE_PAYLOAD naming
    /// the cheapest group it also offered that our proposals allow, if it offered one
    /// (RFC 7296 §1.3). Default: MODP-3072 to MODP-8192 (groups 15–18), 4–35 ms each here.
    pub expensive_dh_groups: Vec<DhGroup>,
    /// Answers that need no SA (INVALID_MAJOR_VERSION) sent per second at most, so a
    /// spoofed flood cannot turn us into a reflector; the rest are dropped. 100.
    pub stateless_answers_per_second: u32,
}

impl Default for DosConfig {
    fn default() -> Self {
        DosConfig {
            cookie_threshold: 30,
            block_threshold: 5,
            half_open_limit: 5_000,
            cookie_calmdown: Duration::from_secs(10),
            cookie_secret_lifetime: Duration::from_secs(120),
            cookie_secret_uses: 10_000,
            cookie_grace: Duration::from_secs(10),
            expensive_dh_groups: vec![DhGroup(15), DhGroup(16), DhGroup(17), DhGroup(18)],
            stateless_answers_per_second: 100,
        }
    }
}

/// The selectors of one CHILD SA: our side (TSi when we initiate) and the peer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsPair {
    /// Our side.
    pub local: Vec<TrafficSelector>,
    /// The peer's side.
    pub remote: Vec<TrafficSelector>,
}

/// What an initiator does when the peer deletes one of its CHILD SAs (RFC 7296 §1.4.1)
/// while the IKE SA lives on; strongSwan's `close_action` (swanctl.conf).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CloseAction {
    /// Nothing: the CHILD SA stays gone (strongSwan's default).
    #[default]
    None,
    /// A trap policy stays installed for the CHILD SA's selectors; the next packet that
    /// matches it negotiates the CHILD SA anew (strongSwan's `trap`, a Cisco crypto map's
    /// "interesting traffic"). With an ESP data plane, the packet is the data plane's
    /// `Endpoint::acquire`; with none, "the next packet" is `after` the DELETE, and only
    /// while the traffic model says traffic flows (`Endpoint::set_peer_traffic`).
    Trap {
        /// How long after the DELETE the next matching packet comes (the traffic model's
        /// stand-in; `Endpoint::acquire` does not wait for it).
        after: Duration,
    },
}

/// What a responder does with a CREATE_CHILD_SA request for a new CHILD SA (no REKEY_SA,
/// RFC 7296 §1.3.1) while another CHILD SA of the IKE SA is up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NewChildSa {
    /// Accept it beside the others (strongSwan, RFC 7296's default).
    #[default]
    Accept,
    /// Accept it and delete the others: one SA pair per tunnel, the newest wins
    /// (ikesim's model of AWS, see docs/failures/ikev2-processed-create-child-sa-request.md).
    ReplaceOthers,
    /// Refuse it with TS_UNACCEPTABLE: one SA pair per tunnel, the first wins (the other
    /// reading of AWS's limit).
    Refuse,
}

/// Lifetimes with a rekey margin and fuzz, as AWS and strongSwan define them: an SA is
/// rekeyed at `lifetime - margin - random(0 ..= margin × fuzz %)` after it was set up,
/// and expires (is deleted) at `lifetime` if that did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    /// The IKE SA's lifetime (AWS's phase 1 lifetime).
    pub ike: Duration,
    /// A CHILD SA's lifetime (AWS's phase 2 lifetime).
    pub child: Duration,
    /// How long before the lifetime ends a rekey starts (AWS's rekey margin time).
    pub margin: Duration,
    /// How much of `margin` is randomly added to it, so both ends do not rekey at once
    /// (AWS's rekey fuzz; RFC 7296 §2.8.1 asks for such jitter).
    pub fuzz_percent: u32,
    /// `false`: never rekey, let SAs expire (a CGW with rekeying switched off).
    pub rekey: bool,
}

impl Default for Lifetimes {
    /// AWS's defaults: 28,800 s, 3,600 s, 270 s margin, 100 % fuzz.
    fn default() -> Self {
        Lifetimes {
            ike: Duration::from_secs(28_800),
            child: Duration::from_secs(3_600),
            margin: Duration::from_secs(270),
            fuzz_percent: 100,
            rekey: true,
        }
    }
}

/// What to do when DPD declares the peer dead (AWS's DPD timeout action).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpdAction {
    /// End the IKE SA and its CHILD SAs.
    Clear,
    /// End them and negotiate anew from IKE_SA_INIT.
    Restart,
    /// Log it and carry on.
    None,
}

/// Dead peer detection (RFC 7296 §2.4 liveness checks; RFC 3706 for IKEv1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DpdConfig {
    /// Probe after this long without hearing from the peer (AWS: 10 s).
    pub delay: Duration,
    /// AWS's DPD timeout: the probe is resent every `delay` and the peer declared dead
    /// this long after the first probe. `None`: the request's normal retransmission
    /// schedule decides (strongSwan's IKEv2 behaviour).
    pub timeout: Option<Duration>,
    /// What to do with the SA once the peer is declared dead.
    pub action: DpdAction,
}

impl DpdConfig {
    /// AWS's DPD: probe after 10 s of silence, dead after `timeout`.
    pub fn aws(timeout: Duration, action: DpdAction) -> DpdConfig {
        DpdConfig {
            delay: Duration::from_secs(10),
            timeout: Some(timeout),
            action,
        }
    }
}

/// Deliberate protocol misbehaviour a scenario can switch on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Impair {
    /// Stop after IKE_SA_INIT: never send IKE_AUTH (a half-open SA on the responder).
    /// IKEv1: stop after main mode message 4, never sending message 5.
    pub abandon_after_sa_init: bool,
    /// IKEv1: leave RFC 3706's DPD vendor ID out of main mode, as a peer without DPD
    /// support does; the other side then never probes it (RFC 3706 §5.1).
    pub no_dpd_vendor_id: bool,
    /// IKEv2 responder: answer IKE_AUTH's CHILD SA with another key size than the one it
    /// selected (128 ↔ 256 bits), a proposal the initiator did not offer — the misbehaving
    /// responder RFC 7296 §2.7 forbids, for tests of how an initiator reports it.
    pub select_unoffered_esp: bool,
}

impl EndpointConfig {
    /// Every CHILD SA's selectors, ours first: `local_ts`/`remote_ts`, then
    /// `more_children` (a policy-based CGW's other pairs).
    pub(crate) fn ts_pairs(
        &self,
    ) -> impl Iterator<Item = (&[TrafficSelector], &[TrafficSelector])> {
        std::iter::once((self.local_ts.as_slice(), self.remote_ts.as_slice())).chain(
            self.more_children
                .iter()
                .map(|p| (p.local.as_slice(), p.remote.as_slice())),
        )
    }

    /// A configuration with the given PSK and policies, route-based selectors
    /// (0.0.0.0/0 on both sides) and default retransmission.
    pub fn new(psk: impl Into<Vec<u8>>, ike: Policy, esp: Policy) -> Self {
        EndpointConfig {
            psk: psk.into(),
            local_id: None,
            ike,
            esp,
            local_ts: vec![ts::any_ipv4()],
            remote_ts: vec![ts::any_ipv4()],
            more_children: Vec::new(),
            close_action: CloseAction::None,
            new_child_sa: NewChildSa::Accept,
            retransmit: RetransmitConfig::default(),
            initial_contact: true,
            export_secrets: false,
            data_plane: false,
            trace: false,
            lifetimes: Lifetimes::default(),
            dpd: None,
            half_open_timeout: Duration::from_secs(30),
            impair: Impair::default(),
            ike_version: crate::event::IkeVersion::V2,
            accept_ikev1: true,
            accept_ikev2: true,
            refuse_aggressive_mode: false,
            dos: DosConfig::default(),
        }
    }
}

/// Request retransmission with exponential backoff (RFC 7296 §2.1). Defaults are
/// strongSwan's: 4 s, ×1.8, 5 retransmits, so a request is abandoned after ~165 s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetransmitConfig {
    /// How long to wait for an answer to the original transmission.
    pub timeout: Duration,
    /// The factor each further wait grows by.
    pub base: f64,
    /// How many retransmissions before the request is abandoned.
    pub tries: u32,
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        RetransmitConfig {
            timeout: Duration::from_secs(4),
            base: 1.8,
            tries: 5,
        }
    }
}

impl RetransmitConfig {
    /// How long to wait after the `n`th transmission (1 = the original) before the next
    /// one, or before giving up once `tries` retransmissions have gone out.
    pub(crate) fn wait_after(&self, n: u32) -> Duration {
        let exp = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
        self.timeout.mul_f64(self.base.powi(exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strongswan_backoff() {
        let r = RetransmitConfig::default();
        let total: f64 = (1..=r.tries + 1)
            .map(|n| r.wait_after(n).as_secs_f64())
            .sum();
        assert!((r.wait_after(1).as_secs_f64() - 4.0).abs() < 1e-9);
        assert!((r.wait_after(2).as_secs_f64() - 7.2).abs() < 1e-9);
        assert!((total - 165.06).abs() < 0.01, "{total}");
    }
}
