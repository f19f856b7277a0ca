//! The sans-IO endpoint: one simulated IKE host's view of its peer (quinn-proto shape).
//! The driver feeds datagrams and deadlines in and drains datagrams, the next deadline and
//! events out after every input. IKEv2 and IKEv1 SAs live side by side; the version byte
//! of each datagram says which machinery handles it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use ike_wire::{ExchangeType, Message};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::child::ChildSa;
use crate::config::EndpointConfig;
use crate::event::{Event, IkeSaSecrets, IkeVersion, SaState, Stats};
use crate::nat_t::{Arrival, NatTPorts};
use crate::sa::{IkeSa, State};
use crate::shell::{Ctx, Effect, IkeSaId, Role, Transmit};
use crate::v1::Phase1Sa;

/// Which SA an input went to (its events merge with the states of all the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SaRef {
    V2(usize),
    V1(usize),
}

/// One IKE host's state for one peer: its IKE SAs, pending output and counters.
pub struct Endpoint {
    config: EndpointConfig,
    local: SocketAddr,
    rng: ChaCha20Rng,
    sas: Vec<IkeSa>,
    v1: Vec<Phase1Sa>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: Stats,
    secrets: Vec<IkeSaSecrets>,
    /// The last `set_peer_traffic` value, for SAs created later.
    traffic: bool,
    nat_t: NatTPorts,
    /// Where the datagram being handled arrived and came from.
    arrival: Option<Arrival>,
}

impl Endpoint {
    /// `seed` fixes every SPI, nonce and IV this endpoint will draw.
    pub fn new(config: EndpointConfig, local: SocketAddr, seed: u64) -> Endpoint {
        Endpoint {
            config,
            local,
            rng: ChaCha20Rng::seed_from_u64(seed),
            sas: Vec::new(),
            v1: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            secrets: Vec::new(),
            traffic: false,
            nat_t: NatTPorts::default(),
            arrival: None,
        }
    }

    /// Where this host's and its peer's NAT-T ports are (see `nat_t`). Without them the
    /// endpoint stays on the port it started on.
    pub fn set_nat_t_ports(&mut self, ports: NatTPorts) {
        self.nat_t = ports;
    }

    pub fn nat_t_ports(&self) -> NatTPorts {
        self.nat_t
    }

    pub fn local(&self) -> SocketAddr {
        self.local
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Phase 1 and phase 2 states over all of this endpoint's SAs.
    pub fn phase_states(&self) -> (SaState, SaState) {
        self.merged(None)
    }

    /// The IKE SAs that are up (not being replaced or deleted): (SPIi, SPIr) — IKEv1
    /// cookies for IKEv1.
    pub fn ike_sas(&self) -> Vec<(u64, u64)> {
        let v2 = self
            .sas
            .iter()
            .filter(|sa| sa.is_established())
            .map(|sa| (sa.spi_i, sa.spi_r));
        let v1 = self
            .v1
            .iter()
            .filter(|sa| sa.is_established())
            .map(|sa| (sa.cky_i, sa.cky_r));
        v2.chain(v1).collect()
    }

    /// The CHILD SAs that are up: (our inbound SPI, our outbound SPI).
    pub fn child_sas(&self) -> Vec<(u32, u32)> {
        let live = |c: &&ChildSa| !c.superseded && c.state == SaState::Established;
        let v2 = self
            .sas
            .iter()
            .filter(|sa| !sa.is_closed())
            .flat_map(|sa| sa.children.iter().filter(live));
        let v1 = self
            .v1
            .iter()
            .filter(|sa| !sa.is_closed())
            .flat_map(|sa| sa.children.iter().filter(live));
        v2.chain(v1).map(|c| (c.spi_in, c.spi_out)).collect()
    }

    /// Runs `f` with a context, then publishes its events and applies its effects.
    fn with<R>(
        &mut self,
        now: Instant,
        f: impl FnOnce(&mut Ctx<'_>, &mut Vec<IkeSa>, &mut Vec<Phase1Sa>) -> (R, Option<SaRef>),
    ) -> R {
        let mut events = Vec::new();
        let mut effects = Vec::new();
        let (r, from) = {
            let mut ctx = Ctx {
                now,
                config: &self.config,
                rng: &mut self.rng,
                transmits: &mut self.transmits,
                events: &mut events,
                stats: &mut self.stats,
                secrets: &mut self.secrets,
                effects: &mut effects,
                nat_t: self.nat_t,
                arrival: self.arrival,
            };
            f(&mut ctx, &mut self.sas, &mut self.v1)
        };
        // CHILD SAs change hands before the events are stamped, so the states they show
        // count the SAs where they now live; new IKE SAs join after (they tell their own
        // states), and every other effect follows in the order it was asked for.
        let (before, after): (Vec<Effect>, Vec<Effect>) =
            effects.into_iter().partition(Effect::moves_children);
        for effect in before {
            self.apply(now, effect);
        }
        self.publish(events, from);
        for effect in after {
            self.apply(now, effect);
        }
        self.sas.retain(|sa| !sa.is_closed());
        self.v1.retain(|sa| !sa.is_closed());
        r
    }

    /// Starts negotiating an IKE SA with `remote` (startup action `start`, or a CGW
    /// bringing its tunnel up), in the configured IKE version.
    pub fn initiate(&mut self, now: Instant, remote: SocketAddr) {
        self.start(now, self.local, remote, self.config.ike_version, None);
    }

    /// Starts an IKE SA from `local` (our IKE port, or the NAT-T port an SA it replaces
    /// had moved to).
    fn start(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        version: IkeVersion,
        replaces: Option<IkeSaId>,
    ) {
        let traffic = self.traffic;
        self.with(now, |ctx, sas, v1| match version {
            IkeVersion::V2 => match IkeSa::initiate(ctx, local, remote) {
                Some(mut sa) => {
                    sa.traffic = traffic;
                    sas.push(sa);
                    ((), Some(SaRef::V2(sas.len() - 1)))
                }
                None => ((), None),
            },
            IkeVersion::V1 => match Phase1Sa::initiate(ctx, local, remote, replaces) {
                Some(mut sa) => {
                    sa.traffic = traffic;
                    v1.push(sa);
                    ((), Some(SaRef::V1(v1.len() - 1)))
                }
                None => ((), None),
            },
        });
    }

    /// The data-plane model (DESIGN.md, "Traffic and DPD"): whether the peer's ESP traffic
    /// reaches us. While it flows, on-demand DPD has no reason to probe; when it stops,
    /// the silence starts now.
    pub fn set_peer_traffic(&mut self, now: Instant, flowing: bool) {
        for sa in &mut self.sas {
            if sa.traffic && !flowing {
                sa.last_heard = now;
            }
            sa.traffic = flowing;
        }
        for sa in &mut self.v1 {
            if sa.traffic && !flowing {
                sa.last_heard = now;
            }
            sa.traffic = flowing;
        }
        self.traffic = flowing;
    }

    /// Deletes every IKE SA that is up (an administrator's `terminate`).
    pub fn delete_ike_sas(&mut self, now: Instant) {
        for idx in 0..self.sas.len() {
            if matches!(self.sas[idx].state, State::Established(_)) && !self.sas[idx].superseded {
                self.with(now, |ctx, sas, _| {
                    (sas[idx].delete(ctx), Some(SaRef::V2(idx)))
                });
            }
        }
        for idx in 0..self.v1.len() {
            if self.v1.get(idx).is_some_and(Phase1Sa::is_established) {
                self.with(now, |ctx, _, v1| {
                    (v1[idx].delete(ctx), Some(SaRef::V1(idx)))
                });
            }
        }
    }

    /// A datagram from `remote` arrived at our address `local` (either of our ports; the
    /// IO layer has taken off the non-ESP marker of the NAT-T port).
    pub fn handle(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, data: &[u8]) {
        self.arrival = Some(Arrival { local, remote });
        self.handle_datagram(now, local, remote, data);
        self.arrival = None;
    }

    fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.stats.datagrams_in += 1;
        if ike_wire::ike_major_version(data) == Some(1) {
            self.handle_v1(now, local, remote, data);
            return;
        }
        let msg = match Message::parse(data) {
            Ok(m) if m.header.major == 2 && self.config.accept_ikev2 => m,
            Ok(m) => {
                tracing::debug!(%remote, major = m.header.major, "IKE version not accepted: dropped");
                self.stats.malformed += 1;
                return;
            }
            Err(e) => {
                tracing::debug!(%remote, "malformed datagram dropped: {e}");
                self.stats.malformed += 1;
                return;
            }
        };
        let h = msg.header;
        if h.exchange == ExchangeType::IKE_SA_INIT && !h.flags.is_response() {
            self.handle_init_request(now, local, remote, &msg, data);
            return;
        }
        // The INITIATOR flag tells which end sent it, and so which SPI is ours (§3.1).
        let idx = self.sas.iter().position(|sa| {
            sa.spi_i == h.spi_i
                && if h.flags.is_initiator() {
                    sa.role == Role::Responder && sa.spi_r == h.spi_r
                } else {
                    sa.role == Role::Initiator && (sa.spi_r == h.spi_r || sa.spi_r == 0)
                }
        });
        match idx {
            Some(idx) => self.with(now, |ctx, sas, _| {
                (sas[idx].handle(ctx, &msg, data), Some(SaRef::V2(idx)))
            }),
            None => {
                tracing::debug!(%remote, spi_i = h.spi_i, spi_r = h.spi_r, "message for no known IKE SA dropped");
                self.stats.unmatched += 1;
            }
        }
    }

    fn handle_init_request(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message,
        data: &[u8],
    ) {
        let h = msg.header;
        if h.spi_r != 0 || h.message_id != 0 {
            self.stats.unmatched += 1;
            return;
        }
        let existing = self
            .sas
            .iter()
            .find(|sa| sa.role == Role::Responder && sa.spi_i == h.spi_i && sa.remote == remote);
        if let Some(sa) = existing {
            // A retransmitted request gets our response again; anything else is ignored.
            match &sa.state {
                State::InitReplied(st) if st.init_request == data => {
                    let datagram = st.init_response.clone();
                    self.stats.retransmits += 1;
                    self.stats.datagrams_out += 1;
                    self.transmits.push_back(Transmit {
                        src: sa.local,
                        dst: sa.remote,
                        payload: datagram,
                    });
                }
                _ => self.stats.unmatched += 1,
            }
            return;
        }
        let traffic = self.traffic;
        self.with(now, |ctx, sas, _| {
            match IkeSa::accept(ctx, local, remote, msg, data) {
                Some(mut sa) => {
                    sa.traffic = traffic;
                    sas.push(sa);
                    ((), Some(SaRef::V2(sas.len() - 1)))
                }
                None => ((), None),
            }
        });
    }

    fn handle_v1(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, data: &[u8]) {
        let msg = match ike_wire::v1::Message::parse(data) {
            Ok(m) if self.config.accept_ikev1 => m,
            Ok(_) => {
                tracing::debug!(%remote, "IKEv1 not accepted: dropped");
                self.stats.malformed += 1;
                return;
            }
            Err(e) => {
                tracing::debug!(%remote, "malformed IKEv1 datagram dropped: {e}");
                self.stats.malformed += 1;
                return;
            }
        };
        let h = msg.header;
        let idx = self.v1.iter().position(|sa| {
            sa.cky_i == h.cky_i && (sa.cky_r == h.cky_r || sa.cky_r == 0 || h.cky_r == 0)
        });
        match idx {
            Some(idx) => self.with(now, |ctx, _, v1| {
                (v1[idx].handle(ctx, &msg, data), Some(SaRef::V1(idx)))
            }),
            None if h.cky_r == 0
                && h.exchange == ike_wire::v1::ExchangeType::IDENTITY_PROTECTION =>
            {
                let traffic = self.traffic;
                self.with(now, |ctx, _, v1| {
                    match Phase1Sa::accept(ctx, local, remote, &msg, data) {
                        Some(mut sa) => {
                            sa.traffic = traffic;
                            v1.push(sa);
                            ((), Some(SaRef::V1(v1.len() - 1)))
                        }
                        None => ((), None),
                    }
                });
            }
            None if h.cky_r == 0 && h.exchange == ike_wire::v1::ExchangeType::AGGRESSIVE => {
                // AWS does not do aggressive mode: say so (RFC 2408 §3.14.1), keep nothing.
                tracing::debug!(%remote, "IKEv1 aggressive mode refused");
                let refusal = crate::v1::unsupported_exchange(&h);
                self.stats.unmatched += 1;
                self.stats.datagrams_out += 1;
                self.transmits.push_back(Transmit {
                    src: local,
                    dst: remote,
                    payload: refusal,
                });
            }
            None => {
                tracing::debug!(%remote, "IKEv1 message for no known ISAKMP SA dropped");
                self.stats.unmatched += 1;
            }
        }
    }

    /// Runs retransmissions and other timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        for idx in 0..self.sas.len() {
            if self
                .sas
                .get(idx)
                .and_then(|sa| sa.deadline(&self.config))
                .is_some_and(|d| d <= now)
            {
                self.with(now, |ctx, sas, _| {
                    (sas[idx].handle_timeout(ctx), Some(SaRef::V2(idx)))
                });
            }
        }
        for idx in 0..self.v1.len() {
            if self
                .v1
                .get(idx)
                .and_then(|sa| sa.deadline(&self.config))
                .is_some_and(|d| d <= now)
            {
                self.with(now, |ctx, _, v1| {
                    (v1[idx].handle_timeout(ctx), Some(SaRef::V1(idx)))
                });
            }
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let v2 = self.sas.iter().filter_map(|sa| sa.deadline(&self.config));
        let v1 = self.v1.iter().filter_map(|sa| sa.deadline(&self.config));
        v2.chain(v1).min()
    }

    /// Traffic keys of new IKE SAs, when `EndpointConfig::export_secrets` is set.
    pub fn poll_secrets(&mut self) -> Option<IkeSaSecrets> {
        self.secrets.pop()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Applies one effect an SA asked for (see `shell::effect`).
    fn apply(&mut self, now: Instant, effect: Effect) {
        match effect {
            Effect::Adopt { to, children } => match self.sas.iter_mut().find(|sa| sa.id() == to) {
                Some(sa) => sa.children.extend(children),
                None => tracing::debug!(
                    "no IKE SA {:016x}_i {:016x}_r to adopt CHILD SAs",
                    to.spi_i,
                    to.spi_r
                ),
            },
            Effect::Orphans(mut children) => {
                if let Some(heir) = self.v1.iter_mut().rev().find(|sa| sa.is_established()) {
                    heir.children.append(&mut children);
                }
            }
            Effect::Spawn(sa) => self.sas.push(*sa),
            Effect::InitialContact { peer, from } => {
                // Forget the stale SAs (either IKE version) without a word to the peer,
                // which no longer knows them. Only established ones, as strongSwan does: a
                // half-open SA was never authenticated and times out on its own (and says
                // so).
                for sa in &mut self.sas {
                    if sa.remote.ip() == peer && sa.id() != from && sa.is_established() {
                        tracing::debug!(
                            spi_i = sa.spi_i,
                            "INITIAL_CONTACT: dropping a stale IKE SA"
                        );
                        sa.close();
                    }
                }
                for sa in &mut self.v1 {
                    if sa.remote.ip() == peer && sa.id() != from && sa.is_established() {
                        tracing::debug!(
                            cky_i = sa.cky_i,
                            "INITIAL-CONTACT: dropping a stale ISAKMP SA"
                        );
                        sa.close();
                    }
                }
            }
            Effect::ReplacePhase1 { old } => {
                // The new ISAKMP SA takes over the IPsec SAs; the old one is deleted.
                if let Some(pos) = self.v1.iter().position(|sa| sa.id() == old) {
                    let children = std::mem::take(&mut self.v1[pos].children);
                    if let Some(new) = self.v1.iter_mut().find(|sa| sa.replaces == Some(old)) {
                        new.children.extend(children);
                    }
                    self.with(now, |ctx, _, v1| {
                        (v1[pos].delete(ctx), Some(SaRef::V1(pos)))
                    });
                }
            }
            Effect::RekeyPhase1 { local, remote, old } => {
                self.start(now, local, remote, IkeVersion::V1, Some(old));
            }
            Effect::Restart {
                local,
                remote,
                version,
            } => self.start(now, local, remote, version, None),
        }
    }

    /// Phase states over every SA except `except`.
    fn merged(&self, except: Option<SaRef>) -> (SaState, SaState) {
        let v2 = self
            .sas
            .iter()
            .enumerate()
            .filter(|(i, _)| except != Some(SaRef::V2(*i)))
            .map(|(_, sa)| (sa.phase1(), sa.phase2()));
        let v1 = self
            .v1
            .iter()
            .enumerate()
            .filter(|(i, _)| except != Some(SaRef::V1(*i)))
            .map(|(_, sa)| (sa.phase1(), sa.phase2()));
        v2.chain(v1)
            .fold((SaState::Down, SaState::Down), |(a, b), (p1, p2)| {
                (a.max(p1), b.max(p2))
            })
    }

    /// Queues events, with states merged over the endpoint's other SAs (a new IKE SA
    /// negotiating next to an established one leaves the tunnel established).
    fn publish(&mut self, events: Vec<Event>, from: Option<SaRef>) {
        let (p1, p2) = self.merged(from);
        for mut e in events {
            e.phase1 = e.phase1.max(p1);
            e.phase2 = e.phase2.max(p2);
            self.events.push_back(e);
        }
    }
}
