//! The sans-IO endpoint: one simulated IKE host's view of its peer (quinn-proto shape).
//! The driver feeds datagrams and deadlines in and drains datagrams, the next deadline and
//! events out after every input. IKEv2 and IKEv1 SAs live side by side in one collection;
//! the version byte of each datagram says which machinery handles it (`input`).
//!
//! Events tell the facts of the SA they concern (`SaFacts`), stamped with its `SaHandle`;
//! the first event of each batch also carries what changed, since the last event, in the
//! other SAs without an event of their own (`SaChange`: CHILD SAs that changed hands, SAs
//! gone). A view that applies them holds every SA's facts as the endpoint has them when
//! the event is published; how AWS merges them into tunnel states is `sim::aws::view`.

mod data_plane;
mod effects;
mod input;
mod ledger;
mod sas;
mod table;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::child::ChildState;
use crate::config::EndpointConfig;
use crate::dos::Guard;
use crate::event::{
    ChildFailure, Event, EventKind, IkeSaSecrets, IkeVersion, SaHandle, SaState, Stats,
};
use crate::ipsec::IpsecChange;
use crate::nat_t::{Arrival, NatTPorts};
use crate::sa::IkeSa;
use crate::shell::{Ctx, Effect, IkeSaId, Transmit};
use crate::v1::Phase1Sa;
use ledger::Ledger;
use sas::Sa;
use table::{HalfOpenChange, SaTable};

/// One IKE host's state for one peer: its IKE SAs, pending output and counters.
pub struct Endpoint {
    config: EndpointConfig,
    local: SocketAddr,
    rng: ChaCha20Rng,
    sas: SaTable,
    next_handle: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: Stats,
    secrets: Vec<IkeSaSecrets>,
    /// The data plane's SA changes (`EndpointConfig::data_plane`), oldest first.
    ipsec: VecDeque<IpsecChange>,
    /// What the data plane holds, to tell it what changed (`ledger`).
    ledger: Ledger,
    /// The timeline's trace (`EndpointConfig::trace`), oldest first.
    trace: VecDeque<crate::trace::Trace>,
    /// The last `set_peer_traffic` value, for SAs created later.
    traffic: bool,
    nat_t: NatTPorts,
    /// Where the datagram being handled arrived and came from.
    arrival: Option<Arrival>,
    /// Its trace digest, when tracing.
    received: Option<u64>,
    /// The flood defences' state (`crate::dos`).
    guard: Guard,
    /// Where the trap policy of `start_action = trap` negotiates ([`Endpoint::trap`]).
    trap_peer: Option<SocketAddr>,
}

impl Endpoint {
    /// `seed` fixes every SPI, nonce and IV this endpoint will draw.
    pub fn new(config: EndpointConfig, local: SocketAddr, seed: u64) -> Endpoint {
        Endpoint {
            config,
            local,
            rng: ChaCha20Rng::seed_from_u64(seed),
            sas: SaTable::default(),
            next_handle: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            secrets: Vec::new(),
            ipsec: VecDeque::new(),
            ledger: Ledger::default(),
            trace: VecDeque::new(),
            traffic: false,
            nat_t: NatTPorts::default(),
            arrival: None,
            received: None,
            guard: Guard::default(),
            trap_peer: None,
        }
    }

    /// Where this host's and its peer's NAT-T ports are (see `nat_t`). Without them the
    /// endpoint stays on the port it started on.
    pub fn set_nat_t_ports(&mut self, ports: NatTPorts) {
        self.nat_t = ports;
    }

    /// Where this host's and its peer's NAT-T ports are, as last set.
    pub fn nat_t_ports(&self) -> NatTPorts {
        self.nat_t
    }

    /// Our IKE address (port 500 on a real host), where SAs start from.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The configuration this endpoint was built with.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// What the endpoint has counted so far (drops, retransmits, failures by kind).
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Half-open IKE SAs now: a responder's IKE SAs (IKEv1: ISAKMP SAs) not authenticated
    /// yet, whose half-open timer runs. What `DosConfig`'s thresholds count.
    pub fn half_open(&self) -> usize {
        self.sas.half_open()
    }

    /// Phase 1 and phase 2 states over all of this endpoint's SAs, the furthest along of
    /// each (`SaState`'s order).
    pub fn phase_states(&self) -> (SaState, SaState) {
        self.sas
            .iter()
            .map(|e| e.sa.phases())
            .fold((SaState::Down, SaState::Down), |(a, b), (p1, p2)| {
                (a.max(p1), b.max(p2))
            })
    }

    /// The IKE SAs that are up (not being replaced or deleted): (SPIi, SPIr) — IKEv1
    /// cookies for IKEv1.
    pub fn ike_sas(&self) -> Vec<(u64, u64)> {
        self.in_visit_order()
            .filter(|sa| sa.is_established())
            .map(|sa| (sa.id().spi_i, sa.id().spi_r))
            .collect()
    }

    /// The CHILD SAs that are up: (our inbound SPI, our outbound SPI).
    pub fn child_sas(&self) -> Vec<(u32, u32)> {
        self.in_visit_order()
            .filter(|sa| !sa.is_closed())
            .flat_map(|sa| sa.children())
            .filter(|c| c.state == ChildState::Installed)
            .map(|c| (c.spi_in.0, c.spi_out.0))
            .collect()
    }

    /// The SAs in the order the endpoint walks them: IKEv2 SAs, then IKEv1 SAs, each in
    /// the order they were created (the order records of simultaneous timers come in).
    fn in_visit_order(&self) -> impl Iterator<Item = &Sa> {
        let of = |v: IkeVersion| {
            self.sas
                .iter()
                .filter(move |e| e.sa.version() == v)
                .map(|e| &e.sa)
        };
        of(IkeVersion::V2).chain(of(IkeVersion::V1))
    }

    /// The handles of the SAs there are now, in visiting order: a walk that may close or
    /// create SAs looks each up again instead of trusting positions.
    fn visit_order(&self) -> Vec<SaHandle> {
        let of = |v: IkeVersion| {
            self.sas
                .iter()
                .filter(move |e| e.sa.version() == v)
                .map(|e| e.handle)
        };
        of(IkeVersion::V2).chain(of(IkeVersion::V1)).collect()
    }

    fn get(&self, handle: SaHandle) -> Option<&Sa> {
        self.sas.get(handle)
    }

    /// The handle of an SA about to be created, so that its first events can name it.
    fn reserve(&mut self) -> SaHandle {
        let handle = SaHandle(self.next_handle);
        self.next_handle += 1;
        handle
    }

    /// Takes in a new SA (the data-plane model's current state included) under `handle`.
    fn insert(&mut self, handle: SaHandle, mut sa: Sa) {
        sa.set_traffic_flag(self.traffic);
        self.sas.insert(handle, sa, &self.config);
    }

    /// A new SA that an effect brings (an IKE rekey's heir): it tells its own facts later.
    fn spawn(&mut self, sa: Sa) {
        let handle = self.reserve();
        self.insert(handle, sa);
    }

    /// Runs `f` with a context, then publishes its events as the SA `from`'s (the one
    /// `f` works on, or the one it creates) and applies its effects.
    fn with<R>(
        &mut self,
        now: Instant,
        from: SaHandle,
        f: impl FnOnce(&mut Ctx<'_>, &mut SaTable) -> R,
    ) -> R {
        let mut events = Vec::new();
        let mut effects = Vec::new();
        let r = {
            let mut ctx = Ctx {
                now,
                config: &self.config,
                rng: &mut self.rng,
                transmits: &mut self.transmits,
                events: &mut events,
                stats: &mut self.stats,
                secrets: &mut self.secrets,
                trace: &mut self.trace,
                effects: &mut effects,
                nat_t: self.nat_t,
                arrival: self.arrival,
                received: self.received,
            };
            f(&mut ctx, &mut self.sas)
        };
        // CHILD SAs change hands before the events are published, so the changes they carry
        // show the SAs where the CHILD SAs now live; new IKE SAs join after (they tell their
        // own facts), and every other effect follows in the order it was asked for.
        let any_effects = !effects.is_empty();
        let (before, after): (Vec<Effect>, Vec<Effect>) =
            effects.into_iter().partition(Effect::moves_children);
        for effect in before {
            self.apply(now, effect);
        }
        self.publish(events, from);
        for effect in after {
            self.apply(now, effect);
        }
        let change = self.sas.refresh(from, &self.config);
        if any_effects {
            self.sas.refresh_all(&self.config);
        }
        if let HalfOpenChange::Authenticated(spi_i, ip) = change {
            // Its IKE_SA_INIT, replayed once the SA is gone, must not start another.
            self.guard.replays.remember(spi_i, ip);
        }
        r
    }

    /// Runs `f` on the SA `handle` (if it still exists), as `with` does.
    fn with_sa(&mut self, now: Instant, handle: SaHandle, f: impl FnOnce(&mut Ctx<'_>, &mut Sa)) {
        self.with(now, handle, |ctx, sas| {
            if let Some(sa) = sas.get_mut(handle) {
                f(ctx, sa);
            }
        });
    }

    /// Starts negotiating an IKE SA with `remote` (startup action `start`, or a CGW
    /// bringing its tunnel up), in the configured IKE version.
    pub fn initiate(&mut self, now: Instant, remote: SocketAddr) {
        self.start(now, self.local, remote, self.config.ike_version, None);
        self.sync_ipsec();
    }

    /// Tells the data plane what the last input changed in the CHILD SAs (`ledger`), when
    /// there is one. Called at the end of every input, once the SAs' effects have all been
    /// applied (CHILD SAs in transit between IKE SAs are nowhere until then).
    fn sync_ipsec(&mut self) {
        if !self.config.data_plane {
            return;
        }
        let touched = self.sas.take_touched();
        self.ledger
            .sync(&touched, &self.sas, self.nat_t, &mut self.ipsec);
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
        let handle = self.reserve();
        let sa = self.with(now, handle, |ctx, _| match version {
            IkeVersion::V2 => IkeSa::initiate(ctx, local, remote).map(Sa::V2),
            IkeVersion::V1 => Phase1Sa::initiate(ctx, local, remote, replaces).map(Sa::V1),
        });
        if let Some(sa) = sa {
            self.insert(handle, sa);
        }
    }

    /// Deletes every IKE SA that is up (an administrator's `terminate`).
    pub fn delete_ike_sas(&mut self, now: Instant) {
        for handle in self.visit_order() {
            if self.get(handle).is_some_and(Sa::is_established) {
                self.with_sa(now, handle, |ctx, sa| sa.delete(ctx));
            }
        }
        self.sync_ipsec();
    }

    /// A datagram from `remote` arrived at our address `local` (either of our ports; the
    /// IO layer has taken off the non-ESP marker of the NAT-T port).
    pub fn handle(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, data: &[u8]) {
        self.arrival = Some(Arrival { local, remote });
        self.received = self.config.trace.then(|| crate::trace::digest(data));
        self.handle_datagram(now, local, remote, data);
        self.arrival = None;
        self.received = None;
        self.sync_ipsec();
    }

    /// Runs retransmissions and other timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        // The SAs due, from the deadline heap, in visiting order (IKEv2 first).
        let mut due = self.sas.pop_due(now);
        due.sort_by_key(|&h| {
            let v1 = matches!(self.get(h), Some(Sa::V1(_)));
            (v1, h)
        });
        for handle in due {
            let Some(sa) = self.get(handle) else {
                continue;
            };
            if sa.deadline(&self.config).is_some_and(|d| d <= now) {
                let expiring = sa.half_open_due(now);
                self.with_sa(now, handle, |ctx, sa| sa.handle_timeout(ctx));
                if expiring && self.get(handle).is_none_or(Sa::is_closed) {
                    self.stats.half_open_expired += 1;
                }
            }
            self.sas.rearm(handle);
        }
        self.sync_ipsec();
    }

    /// The next datagram to send, oldest first; drain after every input.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.transmits.pop_front();
        if t.is_none() {
            release(&mut self.transmits);
        }
        t
    }

    /// The earliest deadline of any SA's timers (retransmission, DPD, half-open, rekey,
    /// expiry); call `handle_timeout` then. `None`: nothing will happen
    /// until a datagram arrives.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sas.next_deadline()
    }

    /// Traffic keys of new IKE SAs, when `EndpointConfig::export_secrets` is set.
    pub fn poll_secrets(&mut self) -> Option<IkeSaSecrets> {
        self.secrets.pop()
    }

    /// The next change to the data plane's SA database (`crate::ipsec`), oldest first,
    /// when `EndpointConfig::data_plane` is set; drain after every input, like the events.
    pub fn poll_ipsec(&mut self) -> Option<IpsecChange> {
        let c = self.ipsec.pop_front();
        if c.is_none() {
            release(&mut self.ipsec);
        }
        c
    }

    /// The next trace entry (the plaintext of a protected message sealed or opened, a
    /// timer that fired), oldest first, when `EndpointConfig::trace` is set; drain after
    /// every input, like the events.
    pub fn poll_trace(&mut self) -> Option<crate::trace::Trace> {
        self.trace.pop_front()
    }

    /// The next event, in the order they happened; drain after every input.
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front();
        if e.is_none() {
            release(&mut self.events);
        }
        e
    }

    /// Queues the events of the SA `from`, the first carrying the other SAs' changes.
    fn publish(&mut self, events: Vec<Event>, from: SaHandle) {
        if events.is_empty() {
            return;
        }
        let mut changes = Some(self.sas.changes(from, &self.config));
        for mut e in events {
            match &e.kind {
                EventKind::ChildSaFailed {
                    failure: ChildFailure::Misbehaved(m),
                } => self.stats.misbehaved.count(m),
                EventKind::ChildSaFailed {
                    failure: ChildFailure::Incompatible(i, _),
                } => self.stats.incompatible.count(i),
                _ => {}
            }
            e.sa = from;
            e.changes = changes.take().unwrap_or_default();
            self.sas.told(from, e.facts);
            self.events.push_back(e);
        }
    }

    /// The host drops every CHILD SA without telling the peer, and keeps its IKE SAs: what
    /// a gateway does when its IPsec SAs are cleared without a DELETE — a data-plane
    /// restart, an HA failover that kept the IKE SA, or libreswan's
    /// `ipsec whack --impair send_no_delete` before taking a Child SA down ("causes pluto
    /// to omit sending Notify/Delete messages"). The peer's next rekey of one of them gets
    /// CHILD_SA_NOT_FOUND (RFC 7296 §2.25; strongSwan's child_rekey.c: the peer "might have
    /// lost the state … create a replacement"). No event: nothing was exchanged.
    pub fn forget_child_sas(&mut self, now: Instant) {
        for handle in self.visit_order() {
            self.with_sa(now, handle, |_, sa| sa.children_mut().clear());
        }
        self.sync_ipsec();
    }
}

/// Frees a drained queue's buffer: an idle endpoint (most of an estate's, most of the time)
/// holds none; the next message allocates it again.
fn release<T>(queue: &mut VecDeque<T>) {
    if queue.capacity() > 0 {
        *queue = VecDeque::new();
    }
}
