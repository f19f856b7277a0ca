//! IKEv1 (RFC 2409): an ISAKMP SA negotiated in main mode with a pre-shared key, its IPsec
//! SAs negotiated in quick mode (with or without PFS), informational exchanges (DELETE,
//! notifications) and DPD (RFC 3706). Same shape as the IKEv2 SA: sans-IO, inputs carry
//! `now`, everything leaves through [`Ctx`].
//!
//! ```text
//! initiator                                        responder
//!  |-- HDR, SA, VID ------------------------------------>|  main mode 1
//!  |<-- HDR, SA, VID ------------------------------------|  2
//!  |-- HDR, KE, Ni, NAT-D, NAT-D ----------------------->|  3
//!  |<-- HDR, KE, Nr, NAT-D, NAT-D -----------------------|  4  (keys: SKEYID from the PSK)
//!  |-- HDR*, IDii, HASH_I ------------------------------>|  5  (encrypted: a wrong PSK
//!  |<-- HDR*, IDir, HASH_R ------------------------------|  6   makes this undecryptable)
//!  |-- HDR*, HASH(1), SA, Ni, [KE], IDci, IDcr --------->|  quick mode 1
//!  |<-- HDR*, HASH(2), SA, Nr, [KE], IDci, IDcr ---------|  2
//!  |-- HDR*, HASH(3) ----------------------------------->|  3
//! ```

mod exchange;
mod main_mode;
mod main_mode_auth;
mod payloads;
pub(crate) mod proposal;
mod quick_mode;
mod quick_mode_responder;
mod timers;
mod trap;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_crypto::v1::{Cbc, Hash};
use ike_crypto::{KeyExchange, Prf};
use ike_wire::v1::Transform;
use ike_wire::TrafficSelector;

use crate::child::ChildSa;
use crate::event::{Event, EventKind, IkeVersion, SaFacts, SaState};
use crate::nat_t::Ends;
use crate::nat_t::Nat;
use crate::proposal::Selected;
use crate::shell::timer::{IkeTimers, Timer};
use crate::shell::{Ctx, IkeSaId, Role, Spi};

/// RFC 3706's vendor ID: "this implementation does DPD".
pub(crate) const DPD_VENDOR_ID: [u8; 16] = [
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
];
/// RFC 3947's vendor ID (MD5 of "RFC 3947").
pub(crate) const NAT_T_VENDOR_ID: [u8; 16] = [
    0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
];

/// The vendor IDs real peers put in main mode that ikesim names in its diagnostics (as
/// Wireshark names them). Only DPD's changes what ikesim does; NAT-T works from the NAT-D
/// payloads, and fragmentation and XAUTH are not offered by AWS. The flag says whether
/// more bytes may follow (capabilities).
const KNOWN_VENDOR_IDS: &[(&str, &[u8], bool)] = &[
    ("RFC 3706 DPD", &DPD_VENDOR_ID, false),
    ("RFC 3947 NAT-T", &NAT_T_VENDOR_ID, false),
    (
        "draft-ietf-ipsec-nat-t-ike-02\\n",
        &[
            0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81, 0xb5, 0xec, 0x42,
            0x7b, 0x1f,
        ],
        false,
    ),
    (
        "XAUTH",
        &[0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12],
        false,
    ),
    // IKEv1 fragmentation (Cisco's): these 16 bytes, then 4 bytes of capabilities.
    (
        "Cisco Fragmentation",
        &[
            0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6,
            0xc2, 0xd3,
        ],
        true,
    ),
];

/// The name of a vendor ID ikesim knows, else its hex.
pub(crate) fn vendor_id_name(v: &[u8]) -> String {
    let known = KNOWN_VENDOR_IDS
        .iter()
        .find(|(_, id, more)| if *more { v.starts_with(id) } else { v == *id });
    match known {
        Some((name, ..)) => (*name).to_owned(),
        None => v.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Where the ISAKMP SA stands: one variant per main mode message it expects next (rustls
/// style), each carrying what main mode has gathered so far, so a state can only accept
/// what is legal next (RFC 2409 §5).
pub(crate) enum State {
    /// Initiator: sent message 1 (our offer), expects 2 (the responder's choice).
    ExpectMm2(Box<ExpectMm2>),
    /// Responder: sent message 2, expects 3 (KE, Ni, NAT-D).
    ExpectMm3(Box<ExpectMm3>),
    /// Initiator: sent message 3, expects 4 (KE, Nr, NAT-D).
    ExpectMm4(Box<ExpectMm4>),
    /// Responder: keys derived and message 4 sent, expects 5 (IDii, HASH_I).
    ExpectMm5(Box<Authenticating>),
    /// Initiator: sent message 5, expects 6 (IDir, HASH_R).
    ExpectMm6(Box<Authenticating>),
    Established(Box<P1Keys>),
    Closed,
}

/// The initiator's SA payload body (SAi_b), which both HASH_I and HASH_R cover.
pub(crate) struct ExpectMm2 {
    pub sai_b: Vec<u8>,
}

pub(crate) struct ExpectMm3 {
    pub sai_b: Vec<u8>,
    /// The transform we chose from the initiator's offer.
    pub transform: Transform,
}

pub(crate) struct ExpectMm4 {
    pub sai_b: Vec<u8>,
    /// The transform the responder chose.
    pub transform: Transform,
    pub ke: KeyExchange,
    pub g_xi: Vec<u8>,
    pub ni: Vec<u8>,
}

/// Messages 5 and 6: the keys are there, what HASH_I and HASH_R cover too (§5).
pub(crate) struct Authenticating {
    pub sai_b: Vec<u8>,
    pub transform: Transform,
    pub g_xi: Vec<u8>,
    pub g_xr: Vec<u8>,
    pub keys: P1Keys,
    /// Initiator: how many times the responder sent main mode message 4 again while we
    /// waited for 6 — what a responder that cannot decrypt our message 5 does.
    pub message4_repeats: u32,
}

/// The ISAKMP SA's keys (RFC 2409 §5) and the CBC IV chain of phase 1.
pub(crate) struct P1Keys {
    pub hash: Hash,
    pub prf: Prf,
    pub skeyid: Vec<u8>,
    pub skeyid_d: Vec<u8>,
    pub skeyid_a: Vec<u8>,
    pub cbc: Cbc,
    /// The IV for the next phase 1 message.
    pub iv: Vec<u8>,
    /// The last CBC block of phase 1, from which every phase 2 IV is derived.
    pub last_block: Vec<u8>,
}

/// One quick mode exchange in progress.
pub(crate) struct QuickMode {
    pub mid: u32,
    pub role: Role,
    pub iv: Vec<u8>,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    pub ke: Option<KeyExchange>,
    pub spi_in: Spi,
    /// The CHILD SA this quick mode replaces (a phase 2 rekey).
    pub rekey_of: Option<Spi>,
    pub ts_local: Vec<TrafficSelector>,
    pub ts_remote: Vec<TrafficSelector>,
}

/// What an outstanding message of ours waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Awaiting {
    MainMode,
    Quick(u32),
    /// A responder's quick mode message 2, waiting for message 3.
    QuickFinish(u32),
    Dpd(u32),
}

pub(crate) struct Pending1 {
    pub awaiting: Awaiting,
    pub datagram: Vec<u8>,
    pub transmissions: u32,
    pub first_sent: Instant,
}

/// An ISAKMP SA and its IPsec SAs.
pub(crate) struct Phase1Sa {
    pub cky_i: u64,
    pub cky_r: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: State,
    pub selected: Option<Selected>,
    pub nat: Nat,
    /// The peer announced DPD support (RFC 3706 vendor ID).
    pub peer_dpd: bool,
    pub children: Vec<ChildSa>,
    pub quick: Vec<QuickMode>,
    pub pending: Option<Pending1>,
    /// Quick modes to start once the outstanding exchange completes.
    /// Quick modes to start once the outstanding exchange completes: the SA a rekey
    /// replaces, or the selector pair of a new one (`start_quick_mode`).
    pub queued_quick: VecDeque<(Option<Spi>, usize)>,
    /// IPsec SAs the peer deleted that a trap policy negotiates anew (`CloseAction::Trap`):
    /// when, and which selector pair. `Timer::Reacquire` fires at the earliest.
    pub reacquire: Vec<(Instant, usize)>,
    /// The last message received and our answer, to answer a retransmission alike.
    pub last_in: Option<Vec<u8>>,
    pub last_out: Option<Vec<u8>>,
    pub lifetime: Duration,
    /// Retransmission, the half-open timeout and the ISAKMP SA lifetime (`shell::timer`).
    pub timers: IkeTimers,
    pub last_heard: Instant,
    pub traffic: bool,
    /// Replaced by a newer ISAKMP SA: counts for nothing, waits to be deleted.
    pub superseded: bool,
    /// A new main mode replacing this SA is under way.
    pub rekeying: bool,
    /// The ISAKMP SA this one replaces once it is established (phase 1 rekey).
    pub replaces: Option<IkeSaId>,
    pub dpd_seq: u32,
}

impl Phase1Sa {
    pub(crate) fn new(
        cky_i: u64,
        cky_r: u64,
        local: SocketAddr,
        remote: SocketAddr,
        state: State,
        now: Instant,
    ) -> Self {
        Phase1Sa {
            cky_i,
            cky_r,
            local,
            remote,
            state,
            selected: None,
            nat: Nat::default(),
            peer_dpd: false,
            children: Vec::new(),
            quick: Vec::new(),
            pending: None,
            queued_quick: VecDeque::new(),
            reacquire: Vec::new(),
            last_in: None,
            last_out: None,
            lifetime: Duration::ZERO,
            timers: IkeTimers::default(),
            last_heard: now,
            traffic: false,
            superseded: false,
            rekeying: false,
            replaces: None,
            dpd_seq: 0,
        }
    }

    /// Its cookies (CKY-R is 0 until main mode message 2).
    pub fn id(&self) -> IkeSaId {
        IkeSaId {
            spi_i: self.cky_i,
            spi_r: self.cky_r,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_)) && !self.superseded
    }

    /// The ISAKMP SA's keys, once main mode has derived them (message 3 or 4 on).
    pub fn keys(&self) -> Option<&P1Keys> {
        match &self.state {
            State::ExpectMm5(st) | State::ExpectMm6(st) => Some(&st.keys),
            State::Established(keys) => Some(keys),
            State::ExpectMm2(_) | State::ExpectMm3(_) | State::ExpectMm4(_) | State::Closed => None,
        }
    }

    pub fn phase1(&self) -> SaState {
        match self.state {
            _ if self.superseded => SaState::Down,
            State::Established(_) if self.rekeying => SaState::Rekeying,
            State::Established(_) => SaState::Established,
            State::Closed => SaState::Down,
            State::ExpectMm2(_)
            | State::ExpectMm3(_)
            | State::ExpectMm4(_)
            | State::ExpectMm5(_)
            | State::ExpectMm6(_) => SaState::Negotiating,
        }
    }

    pub fn phase2(&self) -> SaState {
        self.children
            .iter()
            .filter_map(|c| c.state.shown())
            .max()
            .unwrap_or(SaState::Down)
    }

    pub fn emit(&self, ctx: &mut Ctx<'_>, kind: EventKind) {
        self.emit_with(ctx, kind, self.phase1(), self.phase2());
    }

    pub fn emit_with(&self, ctx: &mut Ctx<'_>, kind: EventKind, phase1: SaState, phase2: SaState) {
        let facts = SaFacts {
            phase1,
            phase2,
            nat: self.nat,
            dpd: self.peer_dpd && ctx.config.dpd.is_some(),
        };
        ctx.events
            .push(Event::new(kind, facts, self.remote, IkeVersion::V1));
    }

    /// Ends the outstanding request (answered, given up or abandoned): its retransmission
    /// timer stops with it.
    pub(crate) fn take_pending(&mut self) -> Option<Pending1> {
        self.timers.stop(Timer::Retransmit);
        self.pending.take()
    }

    pub(crate) fn clear_pending(&mut self) {
        self.take_pending();
    }

    /// Sends a message we expect an answer to, retransmitting it until then.
    fn send_awaiting(&mut self, ctx: &mut Ctx<'_>, awaiting: Awaiting, datagram: Vec<u8>) {
        let deadline = ctx.now + self.retransmit_wait(ctx, awaiting, 1);
        self.timers.set(Timer::Retransmit, deadline);
        ctx.send(self.local, self.remote, datagram.clone());
        self.pending = Some(Pending1 {
            awaiting,
            datagram,
            transmissions: 1,
            first_sent: ctx.now,
        });
    }

    /// Sends an answer, remembered so a retransmitted request gets it again.
    fn send_answer(&mut self, ctx: &mut Ctx<'_>, request: &[u8], datagram: Vec<u8>) {
        ctx.send(self.local, self.remote, datagram.clone());
        self.last_in = Some(request.to_vec());
        self.last_out = Some(datagram);
    }

    fn ends(&mut self) -> Ends<'_> {
        Ends {
            local: &mut self.local,
            remote: &mut self.remote,
            nat: self.nat,
            spi: self.cky_i,
        }
    }

    /// An authenticated message from the peer: DPD's silence starts again, and a peer
    /// behind a NAT is followed to its new port (`nat_t::Ends::follow_peer`).
    fn heard(&mut self, ctx: &Ctx<'_>) {
        self.last_heard = ctx.now;
        self.ends().follow_peer(ctx.arrival);
    }

    /// Ends the SA and its IPsec SAs without telling the peer.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.children.clear();
        self.quick.clear();
        self.clear_pending();
        self.queued_quick.clear();
    }
}

impl Phase1Sa {
    /// Handles a message for this ISAKMP SA (`raw` is its datagram). A retransmission of
    /// the message we last answered gets the same answer again.
    pub(crate) fn handle(&mut self, ctx: &mut Ctx<'_>, msg: &ike_wire::v1::Message, raw: &[u8]) {
        if self.last_in.as_deref() == Some(raw) {
            if let Some(out) = self.last_out.clone() {
                ctx.stats.retransmits += 1;
                ctx.send(self.local, self.remote, out);
            }
            return;
        }
        use ike_wire::v1::ExchangeType as X;
        match msg.header.exchange {
            X::IDENTITY_PROTECTION => self.handle_main_mode(ctx, msg, raw),
            X::QUICK_MODE if self.is_established() => self.handle_quick_mode(ctx, msg, raw),
            X::INFORMATIONAL => self.handle_informational(ctx, msg),
            _ => ctx.stats.unmatched += 1,
        }
    }
}

/// A plain informational answering `request` with UNSUPPORTED-EXCHANGE-TYPE (RFC 2408
/// §3.14.1): how AWS turns down aggressive mode, which it does not offer.
pub(crate) fn unsupported_exchange(request: &ike_wire::v1::Header) -> Vec<u8> {
    use ike_wire::v1::{Body, ExchangeType, Flags, Header, Message, NotifyType, PayloadType};
    let header = Header {
        cky_i: request.cky_i,
        cky_r: 0,
        next_payload: PayloadType::NONE,
        major: 1,
        minor: 0,
        exchange: ExchangeType::INFORMATIONAL,
        flags: Flags(0),
        message_id: 0,
        length: 0,
    };
    let n = exchange::notification(
        NotifyType::UNSUPPORTED_EXCHANGE_TYPE,
        ike_wire::v1::protocol::ISAKMP,
        Vec::new(),
        Vec::new(),
    );
    Message {
        header,
        body: Body::Plain(vec![n]),
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::vendor_id_name;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The five vendor IDs strongSwan 5.9 sends in main mode message 1 (captured), named as
    /// Wireshark names them; anything else shows as hex.
    #[test]
    fn strongswans_vendor_ids_are_named() {
        let names: Vec<String> = [
            "09002689dfd6b712",
            "afcad71368a1f1c96b8696fc77570100",
            "4048b7d56ebce88525e7de7f00d6c2d380000000",
            "4a131c81070358455c5728f20e95452f",
            "90cb80913ebb696e086381b5ec427b1f",
            "0123456789",
        ]
        .iter()
        .map(|h| vendor_id_name(&hex(h)))
        .collect();
        assert_eq!(
            names,
            [
                "XAUTH",
                "RFC 3706 DPD",
                "Cisco Fragmentation",
                "RFC 3947 NAT-T",
                "draft-ietf-ipsec-nat-t-ike-02\\n",
                "0123456789"
            ]
        );
    }
}
