//! One IKE SA and its CHILD SAs, for either role.
//!
//! The SA's `State` is one variant per expected message (rustls style): an initiator
//! goes `InitSent → AuthSent → Established`, a responder `InitReplied → Established`.
//! Each exchange lives in its own module; this one holds what they share: message ids,
//! retransmission, SK protection and event emission.

mod auth;
mod info;
mod init;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use ike_crypto::{IkeSaKeys, IkeSuite, KeyExchange, SkCipher};
use ike_wire::{
    encode_payloads, encode_sk_prefix, parse_payloads, ExchangeType, Flags, Header, Identification,
    Message, Payload, PayloadType,
};
use rand::RngCore;
use rand_chacha::ChaCha20Rng;

use crate::child::ChildSa;
use crate::config::EndpointConfig;
use crate::event::{Event, EventKind, IkeSaSecrets, SaState, Stats};
use crate::proposal::Selected;
use crate::Transmit;

/// Which end of the IKE SA we are: the original initiator or responder (RFC 7296 §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Responder,
}

/// Everything an SA needs from its endpoint while it handles one input.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub config: &'a EndpointConfig,
    pub rng: &'a mut ChaCha20Rng,
    pub transmits: &'a mut VecDeque<Transmit>,
    pub events: &'a mut Vec<Event>,
    pub stats: &'a mut Stats,
    pub secrets: &'a mut Vec<IkeSaSecrets>,
}

impl Ctx<'_> {
    pub fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.rng.fill_bytes(&mut v);
        v
    }

    /// A fresh non-zero IKE SPI.
    pub fn ike_spi(&mut self) -> u64 {
        loop {
            let spi = self.rng.next_u64();
            if spi != 0 {
                return spi;
            }
        }
    }

    /// A fresh ESP SPI outside the reserved range 0–255 (RFC 4303 §2.1).
    pub fn esp_spi(&mut self) -> u32 {
        loop {
            let spi = self.rng.next_u32();
            if spi > 255 {
                return spi;
            }
        }
    }

    pub fn send(&mut self, src: SocketAddr, dst: SocketAddr, payload: Vec<u8>) {
        self.stats.datagrams_out += 1;
        self.transmits.push_back(Transmit { src, dst, payload });
    }
}

/// The SK_* keys of an established (or authenticating) IKE SA, split by direction.
pub(crate) struct Keys {
    pub suite: IkeSuite,
    pub sk_d: Vec<u8>,
    pub sk_pi: Vec<u8>,
    pub sk_pr: Vec<u8>,
    pub outbound: SkCipher,
    pub inbound: SkCipher,
}

impl Keys {
    /// Splits the keys by direction for `role`, handing the traffic keys to `export` if
    /// asked (see `EndpointConfig::export_secrets`).
    pub fn new(
        suite: IkeSuite,
        k: IkeSaKeys,
        role: Role,
        export: Option<(&mut Vec<IkeSaSecrets>, u64, u64)>,
    ) -> Result<Keys, ike_crypto::CryptoError> {
        if let Some((out, spi_i, spi_r)) = export {
            out.push(IkeSaSecrets {
                spi_i,
                spi_r,
                encryption: suite.encryption.id(),
                key_bits: Some(suite.encryption.key_bits()),
                integrity: suite.integrity.map(|i| i.id()),
                sk_ei: k.sk_ei.clone(),
                sk_er: k.sk_er.clone(),
                sk_ai: k.sk_ai.clone(),
                sk_ar: k.sk_ar.clone(),
            });
        }
        let integ = suite.integrity;
        let initiator = SkCipher::new(suite.encryption, integ, &k.sk_ei, &k.sk_ai)?;
        let responder = SkCipher::new(suite.encryption, integ, &k.sk_er, &k.sk_ar)?;
        let (outbound, inbound) = match role {
            Role::Initiator => (initiator, responder),
            Role::Responder => (responder, initiator),
        };
        Ok(Keys {
            suite,
            sk_d: k.sk_d,
            sk_pi: k.sk_pi,
            sk_pr: k.sk_pr,
            outbound,
            inbound,
        })
    }
}

/// The initiator waits for the IKE_SA_INIT response.
pub(crate) struct InitSent {
    pub ke: KeyExchange,
    pub ni: Vec<u8>,
    pub cookie: Option<Vec<u8>>,
    /// Groups already tried after INVALID_KE_PAYLOAD, so a peer cannot make us loop.
    pub tried_groups: Vec<ike_wire::DhGroup>,
}

/// The initiator waits for the IKE_AUTH response.
pub(crate) struct AuthSent {
    pub keys: Keys,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    /// The IKE_SA_INIT response as received: the responder signs it (RFC 7296 §2.15).
    pub init_response: Vec<u8>,
}

/// The responder has answered IKE_SA_INIT and waits for IKE_AUTH (a half-open SA).
pub(crate) struct InitReplied {
    pub keys: Keys,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    /// The IKE_SA_INIT request as received: the initiator signs it.
    pub init_request: Vec<u8>,
    /// Our IKE_SA_INIT response: what we sign, and what we resend to a retransmitted request.
    pub init_response: Vec<u8>,
}

pub(crate) struct Established {
    pub keys: Keys,
}

pub(crate) enum State {
    InitSent(Box<InitSent>),
    AuthSent(Box<AuthSent>),
    InitReplied(Box<InitReplied>),
    Established(Box<Established>),
    Closed,
}

/// What an outstanding request was for, so its response goes to the right handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    SaInit,
    Auth,
    /// INFORMATIONAL: empty (liveness), DELETE or an error notification.
    Informational(InfoPurpose),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InfoPurpose {
    DeleteIke,
    Notify,
}

/// Our one outstanding request (window size 1, RFC 7296 §2.3) and its retransmissions.
pub(crate) struct Pending {
    pub id: u32,
    pub exchange: ExchangeType,
    pub purpose: Purpose,
    pub datagram: Vec<u8>,
    pub transmissions: u32,
    pub deadline: Instant,
}

/// NAT detection results (RFC 7296 §2.23).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Nat {
    pub local_behind: bool,
    pub peer_behind: bool,
}

pub(crate) struct IkeSa {
    pub role: Role,
    pub spi_i: u64,
    pub spi_r: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: State,
    pub nat: Nat,
    /// Our next request's message id, and the request in flight.
    pub next_request_id: u32,
    pub pending: Option<Pending>,
    /// The peer's next request id, and our last response (resent on a retransmit).
    pub expected_request_id: u32,
    pub last_response: Option<(u32, Vec<u8>)>,
    pub children: Vec<ChildSa>,
    /// The IKE proposal chosen in IKE_SA_INIT.
    pub ike_selected: Option<Selected>,
}

impl IkeSa {
    fn new(
        role: Role,
        spi_i: u64,
        spi_r: u64,
        local: SocketAddr,
        remote: SocketAddr,
        state: State,
    ) -> IkeSa {
        IkeSa {
            role,
            spi_i,
            spi_r,
            local,
            remote,
            state,
            nat: Nat::default(),
            next_request_id: 0,
            pending: None,
            expected_request_id: 0,
            last_response: None,
            children: Vec::new(),
            ike_selected: None,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    pub fn phase1(&self) -> SaState {
        match self.state {
            State::InitSent(_) | State::AuthSent(_) | State::InitReplied(_) => SaState::Negotiating,
            State::Established(_) => SaState::Established,
            State::Closed => SaState::Down,
        }
    }

    pub fn phase2(&self) -> SaState {
        self.children
            .iter()
            .map(|c| c.state)
            .max()
            .unwrap_or(SaState::Down)
    }

    pub fn emit(&self, ctx: &mut Ctx<'_>, kind: EventKind) {
        ctx.events.push(Event {
            kind,
            phase1: self.phase1(),
            phase2: self.phase2(),
            nat_t_detected: self.nat.local_behind || self.nat.peer_behind,
            peer: self.remote,
        });
    }

    /// Our identity: configured, or our IP address.
    pub fn local_id(&self, config: &EndpointConfig) -> Identification {
        config
            .local_id
            .clone()
            .unwrap_or_else(|| Identification::from_ip(self.local.ip()))
    }

    /// The earliest instant this SA wants to be woken up.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    fn header(&self, exchange: ExchangeType, message_id: u32, response: bool) -> Header {
        let mut flags = Flags(0);
        if self.role == Role::Initiator {
            flags = flags | Flags::INITIATOR;
        }
        if response {
            flags = flags | Flags::RESPONSE;
        }
        Header {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            next_payload: PayloadType::NONE,
            major: 2,
            minor: 0,
            exchange,
            flags,
            message_id,
            length: 0,
        }
    }

    /// Encodes `payloads` inside an SK payload protected with our outbound keys.
    fn seal(
        &self,
        ctx: &mut Ctx<'_>,
        keys: &Keys,
        header: &Header,
        payloads: &[Payload],
    ) -> Vec<u8> {
        let (first, plaintext) = encode_payloads(payloads);
        let body_len = keys.outbound.body_len(plaintext.len());
        let mut datagram = encode_sk_prefix(header, first, body_len);
        let iv = ctx.random_bytes(keys.suite.encryption.iv_len());
        let body = keys.outbound.seal(&datagram, &plaintext, &iv);
        datagram.extend_from_slice(&body);
        datagram
    }

    /// Verifies and decrypts the SK payload of `msg` (whose bytes are `raw`). A failure is
    /// counted and the message dropped, as RFC 7296 §2.21.1 asks.
    fn open(ctx: &mut Ctx<'_>, keys: &Keys, msg: &Message, raw: &[u8]) -> Option<Vec<Payload>> {
        let Some(Payload::Encrypted(sk)) = msg.payloads.last() else {
            ctx.stats.malformed += 1;
            tracing::debug!("message without SK payload dropped");
            return None;
        };
        let prefix = &raw[..raw.len().saturating_sub(sk.data.len())];
        let plaintext = match keys.inbound.open(prefix, &sk.data) {
            Ok(p) => p,
            Err(e) => {
                ctx.stats.integrity_failures += 1;
                tracing::debug!("SK payload rejected: {e}");
                return None;
            }
        };
        match parse_payloads(sk.first_inner, &plaintext) {
            Ok(p) => Some(p),
            Err(e) => {
                ctx.stats.malformed += 1;
                tracing::debug!("decrypted payloads malformed: {e}");
                None
            }
        }
    }

    /// The keys, once IKE_SA_INIT is done.
    fn keys(&self) -> Option<&Keys> {
        match &self.state {
            State::AuthSent(s) => Some(&s.keys),
            State::InitReplied(s) => Some(&s.keys),
            State::Established(s) => Some(&s.keys),
            State::InitSent(_) | State::Closed => None,
        }
    }

    /// Sends a new request (the caller has checked that none is outstanding).
    fn send_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        purpose: Purpose,
        datagram: Vec<u8>,
    ) {
        let id = self.next_request_id;
        self.next_request_id = self.next_request_id.wrapping_add(1);
        let deadline = ctx.now + ctx.config.retransmit.wait_after(1);
        ctx.send(self.local, self.remote, datagram.clone());
        self.pending = Some(Pending {
            id,
            exchange,
            purpose,
            datagram,
            transmissions: 1,
            deadline,
        });
    }

    /// Sends a protected request with the next message id.
    fn send_protected_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        purpose: Purpose,
        payloads: &[Payload],
    ) {
        let Some(keys) = self.keys() else { return };
        let header = self.header(exchange, self.next_request_id, false);
        let datagram = self.seal(ctx, keys, &header, payloads);
        self.send_request(ctx, exchange, purpose, datagram);
    }

    /// Sends a protected response to request `id` and keeps it for retransmitted requests.
    fn send_protected_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        id: u32,
        payloads: &[Payload],
    ) {
        let Some(keys) = self.keys() else { return };
        let header = self.header(exchange, id, true);
        let datagram = self.seal(ctx, keys, &header, payloads);
        self.send_response(ctx, id, datagram);
    }

    fn send_response(&mut self, ctx: &mut Ctx<'_>, id: u32, datagram: Vec<u8>) {
        ctx.send(self.local, self.remote, datagram.clone());
        self.last_response = Some((id, datagram));
        self.expected_request_id = id.wrapping_add(1);
    }

    /// Handles a message addressed to this SA (`raw` is its datagram).
    pub fn handle(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let id = msg.header.message_id;
        if msg.header.flags.is_response() {
            if self.pending.as_ref().map(|p| (p.id, p.exchange)) != Some((id, msg.header.exchange))
            {
                ctx.stats.unmatched += 1;
                return;
            }
            match self.pending.as_ref().map(|p| p.purpose) {
                Some(Purpose::SaInit) => self.handle_init_response(ctx, msg, raw),
                Some(Purpose::Auth) => self.handle_auth_response(ctx, msg, raw),
                Some(Purpose::Informational(purpose)) => {
                    self.handle_info_response(ctx, purpose, msg, raw)
                }
                None => {}
            }
            return;
        }
        // A request. A retransmission of the last one gets the same response again.
        if let Some((last_id, response)) = &self.last_response {
            if *last_id == id {
                ctx.send(self.local, self.remote, response.clone());
                ctx.stats.retransmits += 1;
                return;
            }
        }
        if id != self.expected_request_id {
            ctx.stats.unmatched += 1;
            return;
        }
        match (&self.state, msg.header.exchange) {
            (State::InitReplied(_), ExchangeType::IKE_AUTH) => {
                self.handle_auth_request(ctx, msg, raw)
            }
            (State::Established(_), ExchangeType::INFORMATIONAL) => {
                self.handle_info_request(ctx, msg, raw)
            }
            (State::Established(_), ExchangeType::CREATE_CHILD_SA) => {
                self.refuse_create_child(ctx, msg, raw)
            }
            _ => ctx.stats.unmatched += 1,
        }
    }

    /// Retransmits the outstanding request, or gives up on it (RFC 7296 §2.1–2.4).
    pub fn handle_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let Some(p) = self.pending.as_mut() else {
            return;
        };
        if p.deadline > ctx.now {
            return;
        }
        if p.transmissions <= ctx.config.retransmit.tries {
            p.transmissions += 1;
            p.deadline = ctx.now + ctx.config.retransmit.wait_after(p.transmissions);
            let datagram = p.datagram.clone();
            ctx.stats.retransmits += 1;
            ctx.send(self.local, self.remote, datagram);
            return;
        }
        let exchange = p.exchange;
        let retransmits = p.transmissions - 1;
        self.pending = None;
        self.close();
        self.emit(
            ctx,
            EventKind::RetransmitsExhausted {
                exchange,
                retransmits,
            },
        );
    }

    /// Ends the SA and its children without telling the peer.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.children.clear();
        self.pending = None;
    }
}
