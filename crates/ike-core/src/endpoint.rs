//! The sans-IO endpoint: one simulated IKE host's view of its peer (quinn-proto shape).
//! The driver feeds datagrams and deadlines in and drains datagrams, the next deadline and
//! events out after every input.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use ike_wire::{ExchangeType, Message};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::config::EndpointConfig;
use crate::event::{Event, IkeSaSecrets, SaState, Stats};
use crate::sa::{Ctx, IkeSa, Role, State};

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
}

/// One IKE host's state for one peer: its IKE SAs, pending output and counters.
pub struct Endpoint {
    config: EndpointConfig,
    local: SocketAddr,
    rng: ChaCha20Rng,
    sas: Vec<IkeSa>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: Stats,
    secrets: Vec<IkeSaSecrets>,
    /// The last `set_peer_traffic` value, for SAs created later.
    traffic: bool,
}

impl Endpoint {
    /// `seed` fixes every SPI, nonce and IV this endpoint will draw.
    pub fn new(config: EndpointConfig, local: SocketAddr, seed: u64) -> Endpoint {
        Endpoint {
            config,
            local,
            rng: ChaCha20Rng::seed_from_u64(seed),
            sas: Vec::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            secrets: Vec::new(),
            traffic: false,
        }
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
        let p1 = self.sas.iter().map(IkeSa::phase1).max().unwrap_or(SaState::Down);
        let p2 = self.sas.iter().map(IkeSa::phase2).max().unwrap_or(SaState::Down);
        (p1, p2)
    }

    /// Starts negotiating an IKE SA with `remote` (startup action `start`, or a CGW
    /// bringing its tunnel up).
    pub fn initiate(&mut self, now: Instant, remote: SocketAddr) {
        let mut events = Vec::new();
        let (mut new_sas, mut restart, mut adoptions) = (Vec::new(), None, Vec::new());
        let mut ctx = Ctx {
            now,
            config: &self.config,
            rng: &mut self.rng,
            transmits: &mut self.transmits,
            events: &mut events,
            stats: &mut self.stats,
            secrets: &mut self.secrets,
            new_sas: &mut new_sas,
            restart: &mut restart,
            adoptions: &mut adoptions,
        };
        if let Some(mut sa) = IkeSa::initiate(&mut ctx, self.local, remote) {
            sa.traffic = self.traffic;
            self.sas.push(sa);
            let idx = self.sas.len() - 1;
            self.publish(events, Some(idx));
        } else {
            self.publish(events, None);
        }
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
        self.traffic = flowing;
    }

    /// Deletes every IKE SA that is up (an administrator's `terminate`).
    pub fn delete_ike_sas(&mut self, now: Instant) {
        for idx in 0..self.sas.len() {
            if matches!(self.sas[idx].state, State::Established(_)) {
                self.with_sa(now, idx, |sa, ctx| sa.delete(ctx));
            }
        }
        self.reap();
    }

    /// A datagram from `remote` arrived at our address `local`.
    pub fn handle(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, data: &[u8]) {
        self.stats.datagrams_in += 1;
        let msg = match Message::parse(data) {
            Ok(m) if m.header.major == 2 => m,
            Ok(m) => {
                tracing::debug!(%remote, major = m.header.major, "not IKEv2: dropped");
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
            Some(idx) => {
                self.with_sa(now, idx, |sa, ctx| sa.handle(ctx, &msg, data));
                self.reap();
            }
            None => {
                tracing::debug!(%remote, spi_i = h.spi_i, spi_r = h.spi_r, "message for no known IKE SA dropped");
                self.stats.unmatched += 1;
            }
        }
    }

    fn handle_init_request(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, msg: &Message, data: &[u8]) {
        let h = msg.header;
        if h.spi_r != 0 || h.message_id != 0 {
            self.stats.unmatched += 1;
            return;
        }
        let existing =
            self.sas.iter().find(|sa| sa.role == Role::Responder && sa.spi_i == h.spi_i && sa.remote == remote);
        if let Some(sa) = existing {
            // A retransmitted request gets our response again; anything else is ignored.
            match &sa.state {
                State::InitReplied(st) if st.init_request == data => {
                    let datagram = st.init_response.clone();
                    self.stats.retransmits += 1;
                    self.stats.datagrams_out += 1;
                    self.transmits.push_back(Transmit { src: sa.local, dst: sa.remote, payload: datagram });
                }
                _ => self.stats.unmatched += 1,
            }
            return;
        }
        let mut events = Vec::new();
        let (mut new_sas, mut restart, mut adoptions) = (Vec::new(), None, Vec::new());
        let mut ctx = Ctx {
            now,
            config: &self.config,
            rng: &mut self.rng,
            transmits: &mut self.transmits,
            events: &mut events,
            stats: &mut self.stats,
            secrets: &mut self.secrets,
            new_sas: &mut new_sas,
            restart: &mut restart,
            adoptions: &mut adoptions,
        };
        match IkeSa::accept(&mut ctx, local, remote, msg, data) {
            Some(mut sa) => {
                sa.traffic = self.traffic;
                self.sas.push(sa);
                let idx = self.sas.len() - 1;
                self.publish(events, Some(idx));
            }
            None => self.publish(events, None),
        }
    }

    /// Runs retransmissions and other timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        for idx in 0..self.sas.len() {
            if self.sas[idx].deadline(&self.config).is_some_and(|d| d <= now) {
                self.with_sa(now, idx, |sa, ctx| sa.handle_timeout(ctx));
            }
        }
        self.reap();
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sas.iter().filter_map(|sa| sa.deadline(&self.config)).min()
    }

    /// Traffic keys of new IKE SAs, when `EndpointConfig::export_secrets` is set.
    pub fn poll_secrets(&mut self) -> Option<IkeSaSecrets> {
        self.secrets.pop()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn with_sa(&mut self, now: Instant, idx: usize, f: impl FnOnce(&mut IkeSa, &mut Ctx<'_>)) {
        let mut events = Vec::new();
        let (mut new_sas, mut restart, mut adoptions) = (Vec::new(), None, Vec::new());
        let mut ctx = Ctx {
            now,
            config: &self.config,
            rng: &mut self.rng,
            transmits: &mut self.transmits,
            events: &mut events,
            stats: &mut self.stats,
            secrets: &mut self.secrets,
            new_sas: &mut new_sas,
            restart: &mut restart,
            adoptions: &mut adoptions,
        };
        f(&mut self.sas[idx], &mut ctx);
        self.publish(events, Some(idx));
        self.settle(now, new_sas, restart, adoptions);
    }

    /// Takes in what an SA's handler produced besides events: IKE SAs created by a rekey,
    /// CHILD SAs handed to another IKE SA, and a DPD restart.
    fn settle(
        &mut self,
        now: Instant,
        new_sas: Vec<IkeSa>,
        restart: Option<SocketAddr>,
        adoptions: Vec<((u64, u64), Vec<crate::child::ChildSa>)>,
    ) {
        self.sas.extend(new_sas);
        for ((spi_i, spi_r), children) in adoptions {
            match self.sas.iter_mut().find(|sa| sa.spi_i == spi_i && sa.spi_r == spi_r) {
                Some(sa) => sa.children.extend(children),
                None => tracing::debug!("no IKE SA {spi_i:016x}_i {spi_r:016x}_r to adopt CHILD SAs"),
            }
        }
        if let Some(remote) = restart {
            self.initiate(now, remote);
        }
    }

    /// Forgets SAs that have ended (run after each input, never while iterating).
    fn reap(&mut self) {
        self.sas.retain(|sa| !sa.is_closed());
    }

    /// Queues events, with states merged over the endpoint's other SAs (a new IKE SA
    /// negotiating next to an established one leaves the tunnel established).
    fn publish(&mut self, events: Vec<Event>, from: Option<usize>) {
        let others = self.sas.iter().enumerate().filter(|(i, _)| Some(*i) != from).map(|(_, sa)| sa);
        let (p1, p2) =
            others.fold((SaState::Down, SaState::Down), |(a, b), sa| (a.max(sa.phase1()), b.max(sa.phase2())));
        for mut e in events {
            e.phase1 = e.phase1.max(p1);
            e.phase2 = e.phase2.max(p2);
            self.events.push_back(e);
        }
    }
}
