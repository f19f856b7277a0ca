//! One IKE SA and its CHILD SAs, for either role.
//!
//! The SA's `State` is one variant per expected message (rustls style): an initiator
//! goes `InitSent → AuthSent → Established`, a responder `InitReplied → Established`.
//! Each exchange lives in its own module (responder and initiator sides apart where they
//! are long); `messages` holds message ids, the request window and SK protection, this
//! one the SA's data and event emission.

mod auth;
mod auth_response;
mod info;
mod init;
mod init_accept;
mod messages;
mod rekey;
mod timers;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use ike_crypto::{IkeSaKeys, IkeSuite, KeyExchange, SkCipher};
use ike_wire::{ExchangeType, Identification, Message, Payload};

use crate::child::ChildSa;
use crate::config::EndpointConfig;
use crate::event::{DropReason, Event, EventKind, IkeSaSecrets, IkeVersion, SaFacts, SaState};
use crate::nat_t::{Ends, Nat};
use crate::proposal::Selected;
use crate::shell::timer::IkeTimers;
pub(crate) use crate::shell::Role;
use crate::shell::{Ctx, IkeSaId, MessageId, Spi};
pub(crate) use init::cookie_response;

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
        export: Option<(&mut Vec<IkeSaSecrets>, IkeSaId)>,
    ) -> Result<Keys, ike_crypto::CryptoError> {
        if let Some((out, id)) = export {
            out.push(IkeSaSecrets {
                ike_version: IkeVersion::V2,
                spi_i: id.spi_i,
                spi_r: id.spi_r,
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

/// A CHILD SA rekey of ours in flight (RFC 7296 §1.3.3).
pub(crate) struct ChildRekey {
    pub old_spi_in: Spi,
    pub new_spi_in: Spi,
    pub ni: Vec<u8>,
    pub ke: Option<KeyExchange>,
    pub tried_groups: Vec<ike_wire::DhGroup>,
}

/// A new CHILD SA of ours in flight (RFC 7296 §1.3.1): a CREATE_CHILD_SA without
/// REKEY_SA, for one of the configured selector pairs.
pub(crate) struct ChildCreate {
    pub spi_in: Spi,
    pub ni: Vec<u8>,
    pub ke: Option<KeyExchange>,
    pub tried_groups: Vec<ike_wire::DhGroup>,
    /// Which pair (see `IkeSa::reacquire`).
    pub pair: usize,
}

/// An IKE SA rekey of ours in flight (RFC 7296 §2.18).
pub(crate) struct IkeRekey {
    pub new_spi: u64,
    pub ni: Vec<u8>,
    pub ke: KeyExchange,
}

/// The peer's IKE SA rekey we answered while ours was in flight (RFC 7296 §2.8.1): the
/// nonces that decide which new SA survives, and the SA the peer's exchange created.
pub(crate) struct PeerIkeRekey {
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    pub new_sa: IkeSaId,
}

/// What an outstanding request is for, so its response goes to the right handler.
pub(crate) enum Purpose {
    SaInit,
    Auth,
    /// An empty INFORMATIONAL: a liveness check (DPD).
    Liveness,
    /// `live`: the SA was up (not replaced by a rekey) when we sent the DELETE, so its
    /// end is news (`superseded` is set by the DELETE itself and cannot tell).
    DeleteIke {
        live: bool,
    },
    DeleteChild {
        spi_in: Spi,
    },
    /// An INFORMATIONAL carrying an error notification.
    Notify,
    RekeyChild(Box<ChildRekey>),
    /// A new CHILD SA (RFC 7296 §1.3.1), not a rekey.
    CreateChild(Box<ChildCreate>),
    RekeyIke(Box<IkeRekey>),
}

/// Our one outstanding request (window size 1, RFC 7296 §2.3) and its retransmissions.
pub(crate) struct Pending {
    pub id: MessageId,
    pub exchange: ExchangeType,
    pub purpose: Purpose,
    pub datagram: Vec<u8>,
    pub transmissions: u32,
    pub first_sent: Instant,
}

/// A request waiting for the outstanding one to complete.
pub(crate) struct Queued {
    pub exchange: ExchangeType,
    pub purpose: Purpose,
    pub payloads: Vec<Payload>,
}

pub(crate) struct IkeSa {
    pub role: Role,
    pub spi_i: u64,
    pub spi_r: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: State,
    pub nat: Nat,
    /// Our next request's message id, the request in flight, and those queued behind it.
    pub next_request_id: MessageId,
    pub pending: Option<Pending>,
    pub queued: VecDeque<Queued>,
    /// The peer's next request id, and our last response (resent on a retransmit).
    pub expected_request_id: MessageId,
    pub last_response: Option<(MessageId, Vec<u8>)>,
    /// The request `last_response` answers, as received: only a bitwise copy of it is a
    /// retransmission (RFC 7296 §2.1).
    pub last_request: Vec<u8>,
    pub children: Vec<ChildSa>,
    /// The IKE proposal chosen in IKE_SA_INIT (or the IKE rekey that created this SA).
    pub ike_selected: Option<Selected>,
    /// Retransmission, the half-open timeout of a responder and the IKE SA lifetime
    /// (RFC 7296 §2.1, §2.8); see `shell::timer`.
    pub timers: IkeTimers,
    /// When we last heard from the peer (any authenticated message), for DPD.
    pub last_heard: Instant,
    /// The peer's ESP traffic reaches us (the data-plane model, see `Endpoint::set_peer_traffic`).
    pub traffic: bool,
    /// We answered the peer's IKE rekey while ours was in flight (RFC 7296 §2.8.1): the
    /// nonces of its exchange and the SA it created.
    pub ike_rekey_collision: Option<PeerIkeRekey>,
    /// Replaced by an IKE rekey: waits only for its DELETE, counts for nothing.
    pub superseded: bool,
    /// CHILD SAs the peer deleted that a trap policy negotiates anew (`CloseAction::Trap`):
    /// when, and which of `EndpointConfig`'s selector pairs (0: `local_ts`/`remote_ts`,
    /// then `more_children`). `Timer::Reacquire` fires at the earliest.
    pub reacquire: Vec<(Instant, usize)>,
}

impl IkeSa {
    fn new(
        role: Role,
        spi_i: u64,
        spi_r: u64,
        local: SocketAddr,
        remote: SocketAddr,
        state: State,
        now: Instant,
    ) -> IkeSa {
        IkeSa {
            role,
            spi_i,
            spi_r,
            local,
            remote,
            state,
            nat: Nat::default(),
            next_request_id: MessageId(0),
            pending: None,
            queued: VecDeque::new(),
            expected_request_id: MessageId(0),
            last_response: None,
            last_request: Vec::new(),
            children: Vec::new(),
            ike_selected: None,
            timers: IkeTimers::default(),
            last_heard: now,
            traffic: false,
            ike_rekey_collision: None,
            superseded: false,
            reacquire: Vec::new(),
        }
    }

    /// Its SPIs (SPIr is 0 until the IKE_SA_INIT response arrives).
    pub fn id(&self) -> IkeSaId {
        IkeSaId {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_)) && !self.superseded
    }

    fn rekeying_ike(&self) -> bool {
        matches!(
            self.pending.as_ref().map(|p| &p.purpose),
            Some(Purpose::RekeyIke(_))
        ) || self
            .queued
            .iter()
            .any(|q| matches!(q.purpose, Purpose::RekeyIke(_)))
    }

    pub fn phase1(&self) -> SaState {
        if self.superseded {
            return SaState::Down;
        }
        match self.state {
            State::InitSent(_) | State::AuthSent(_) | State::InitReplied(_) => SaState::Negotiating,
            State::Established(_) if self.rekeying_ike() => SaState::Rekeying,
            State::Established(_) => SaState::Established,
            State::Closed => SaState::Down,
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

    /// Emits with explicit states, for moments when this SA alone does not tell them
    /// (an IKE rekey hands everything to an SA the endpoint does not hold yet).
    pub fn emit_with(&self, ctx: &mut Ctx<'_>, kind: EventKind, phase1: SaState, phase2: SaState) {
        let facts = SaFacts {
            phase1,
            phase2,
            nat: self.nat,
            dpd: true,
        };
        ctx.events
            .push(Event::new(kind, facts, self.remote, IkeVersion::V2));
    }

    /// Our identity: configured, or our IP address.
    pub fn local_id(&self, config: &EndpointConfig) -> Identification {
        config
            .local_id
            .clone()
            .unwrap_or_else(|| Identification::from_ip(self.local.ip()))
    }

    fn ends(&mut self) -> Ends<'_> {
        Ends {
            local: &mut self.local,
            remote: &mut self.remote,
            nat: self.nat,
            spi: self.spi_i,
        }
    }

    /// Follows a peer behind a NAT to its new port (`nat_t::Ends::follow_peer`).
    pub(super) fn follow_peer(&mut self, ctx: &Ctx<'_>) {
        self.ends().follow_peer(ctx.arrival);
    }

    /// During setup, answers where the peer now is (`nat_t::Ends::move_with_peer`).
    pub(super) fn move_with_peer(&mut self, ctx: &Ctx<'_>) {
        self.ends().move_with_peer(ctx.arrival);
    }

    /// The initiator's move to the NAT-T ports (`nat_t::Ends::float`).
    pub(super) fn float(&mut self, ctx: &Ctx<'_>) {
        self.ends().float(ctx.nat_t);
    }

    /// Handles a message addressed to this SA (`raw` is its datagram; `ctx.arrival` says
    /// where it came from).
    pub fn handle(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let id = MessageId(msg.header.message_id);
        if msg.header.flags.is_response() {
            if self.pending.as_ref().map(|p| (p.id, p.exchange)) != Some((id, msg.header.exchange))
            {
                ctx.stats.unmatched += 1;
                return;
            }
            if msg.header.exchange == ExchangeType::IKE_SA_INIT {
                self.handle_init_response(ctx, msg, raw);
                return;
            }
            let Some(keys) = self.keys() else {
                ctx.drop_message(DropReason::NoKeys, "no keys yet");
                return;
            };
            let Some(payloads) = Self::open(ctx, keys, msg, raw) else {
                return;
            };
            self.last_heard = ctx.now;
            self.follow_peer(ctx);
            let Some(pending) = self.take_pending() else {
                return;
            };
            match pending.purpose {
                Purpose::Auth => self.handle_auth_response(ctx, &payloads),
                Purpose::RekeyChild(r) => self.handle_child_rekey_response(ctx, id, *r, &payloads),
                Purpose::CreateChild(c) => {
                    self.handle_child_create_response(ctx, id, *c, &payloads)
                }
                Purpose::RekeyIke(r) => self.handle_ike_rekey_response(ctx, id, *r, &payloads),
                Purpose::DeleteIke { live } => {
                    self.close();
                    if live {
                        self.emit(ctx, EventKind::IkeSaDeleted);
                    }
                }
                Purpose::DeleteChild { spi_in } => {
                    if let Some(pos) = self.children.iter().position(|c| c.spi_in == spi_in) {
                        let child = self.children.remove(pos);
                        self.emit(
                            ctx,
                            EventKind::ChildSaDeleted {
                                spi_in: child.spi_in.0,
                                spi_out: child.spi_out.0,
                            },
                        );
                    }
                }
                Purpose::SaInit | Purpose::Liveness | Purpose::Notify => {}
            }
            self.send_queued(ctx);
            return;
        }
        // A request. A retransmission of the last one gets the same response again; any
        // other message with its id (forged, corrupted) gets nothing.
        if let Some((last_id, response)) = &self.last_response {
            if *last_id == id {
                if raw == self.last_request {
                    ctx.send(self.local, self.remote, response.clone());
                    ctx.stats.retransmits += 1;
                } else {
                    tracing::debug!(
                        id = id.0,
                        "not a retransmission of the last request: dropped"
                    );
                    ctx.stats.unmatched += 1;
                }
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
            (State::Established(keys), exchange) => {
                let Some(payloads) = Self::open(ctx, &keys.keys, msg, raw) else {
                    return;
                };
                self.last_heard = ctx.now;
                self.follow_peer(ctx);
                match exchange {
                    ExchangeType::INFORMATIONAL => self.handle_info_request(ctx, id, &payloads),
                    ExchangeType::CREATE_CHILD_SA => {
                        self.handle_create_child_request(ctx, id, &payloads)
                    }
                    _ => ctx.stats.unmatched += 1,
                }
            }
            _ => ctx.stats.unmatched += 1,
        }
        if self
            .last_response
            .as_ref()
            .is_some_and(|(last_id, _)| *last_id == id)
        {
            self.last_request = raw.to_vec();
        }
    }

    /// Ends the SA and its children without telling the peer.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.children.clear();
        self.clear_pending();
        self.queued.clear();
    }
}
