//! The driver: real UDP sockets around sans-IO endpoints — the one network loop of sim.
//! `run` (accelerated and `--realtime`), `serve` and `connect` all drive their endpoints
//! through it.
//!
//! # Shape
//! - [`Host`] (`host.rs`): an endpoint and its sockets ([`Port`]s, each with its framing
//!   role, [`crate::framing::PortRole`]: what leaves a NAT-T port carries the non-ESP
//!   marker and what arrives there loses it). A simulated host has an IKE and a NAT-T port
//!   on its own loopback address, wherever the OS put them (the endpoint is told them, and
//!   moves to the NAT-T port when it detects a NAT — ike_core::nat_t); a host facing a real
//!   peer (`serve`'s tunnel, `connect`'s CGW) has the ports it was told to bind.
//! - [`Net`]: what lies between the hosts — each host's [`crate::network::Egress`] and the
//!   simulated [`crate::network::Nat`] (nothing, for real peers).
//! - `Wire` (`wire.rs`): hosts + net + the path queue of datagrams in flight; drains the
//!   endpoints, sends what is due for real, hands what arrives to its endpoint.
//! - `Pace` (`pace.rs`): how time passes — `Accelerated` (virtual time that jumps to the
//!   next deadline; every datagram sent is received at once) or `Wall` (the wall clock;
//!   one receive task per socket; optionally Ctrl-C and SIGTERM). The loop and the delivery
//!   code ask the pace and never which clock they run on; [`Clock`] only picks the pace.
//! - [`Observer`]: what the loop reports (events, datagrams, non-IKE datagrams) and where the
//!   command has a say (which sources are let in, how a message is handed to the endpoint,
//!   when the run ends, what a signal does). `run`'s recorder, `serve`'s AWS side and
//!   `connect`'s CGW are observers.
//!
//! # Flow of one pass of the loop
//! 1. drain every endpoint: events to the observer; datagrams through the sending host's
//!    egress (network conditions applied at egress, like netem — the datagram still leaves
//!    from its true source address) into the path queue at their delivery time;
//! 2. the observer checks the run ([`Check`]): go on (with a deadline of its own), drain
//!    again, or stop;
//! 3. the next deadline is the earliest of the endpoints' timers, the path queue, the
//!    scenario's actions and the observer's; nothing left (or all past the end) and nothing
//!    in flight: done (`run` only; real peers run until the observer or a signal ends them);
//! 4. the pace lets time pass to it — or, in real time, reports a datagram that arrived
//!    (which goes to its endpoint, or through the NAT) or a signal, and looks again;
//! 5. scenario actions that are due ([`crate::traffic`]), then the datagrams that are due,
//!    in order (sent for real; a host behind the NAT sends and receives through it), then
//!    the endpoints' timers.

mod cell;
mod host;
mod pace;
mod receive;
mod wire;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::{Endpoint, Event, Trace, Transmit};
use tokio::sync::mpsc;

pub use cell::{Cell, Shared};
pub use host::{Host, Keepalive, Port};
pub(crate) use pace::shutdown_signal;
use pace::{Accelerated, Advance, Pace, Wall};
pub use receive::ReceiveQueue;
use wire::{Inbox, Wire};

use crate::dataplane::DataPlane;
use crate::network::{Egress, Fate, Nat, Path};
use crate::traffic::{self, Action};

/// Largest IKE datagram we accept (IKE messages over UDP stay well below this).
const MAX_DATAGRAM: usize = 65_535;

/// How long the driver waits for a datagram it sent over loopback before counting it lost.
const LOOPBACK_GRACE: Duration = Duration::from_secs(2);

/// Which clock a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Virtual time that jumps to the next deadline once every datagram sent has been
    /// delivered — days of a tunnel run in well under a second.
    Accelerated,
    /// The wall clock.
    Realtime,
}

/// What lies between the hosts: each host's egress conditions, and a NAT some of them sit
/// behind.
pub struct Net {
    /// One per host, in host order; `None` for a clear path ([`Conditions::is_clear`]).
    ///
    /// [`Conditions::is_clear`]: crate::network::Conditions::is_clear
    pub egress: Vec<Option<Egress>>,
    /// Boxed: most connections of an estate have none.
    pub nat: Option<Box<Nat>>,
    /// Real ESP between the hosts, when the scenario has flows (crate::dataplane).
    pub plane: Option<Box<DataPlane>>,
}

impl Net {
    /// Nothing between the hosts and their peers but the real network.
    pub fn none() -> Net {
        Net {
            egress: Vec::new(),
            nat: None,
            plane: None,
        }
    }
}

/// A datagram that arrived and is not an IKE message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotIke {
    /// A NAT-keepalive (RFC 3948 §2.3).
    Keepalive,
    /// UDP-encapsulated ESP (RFC 3948 §2.1): no data plane here, but a sign of life.
    Esp { len: usize },
    /// An IKE message without the non-ESP marker where one is due (RFC 3948 §2.2).
    UnmarkedIke,
}

/// Whether the run goes on, after the observer looked at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Go on; the observer wants to look again at this time, if any.
    Continue(Option<Instant>),
    /// The observer changed something (e.g. started a DELETE): collect the endpoints'
    /// output again before going on.
    Again,
    /// Stop (what is due is still sent).
    Stop,
}

/// When a datagram arrived: (now, our address, the source).
pub type Arrived = (Instant, SocketAddr, SocketAddr);

/// What the driver reports as it runs, and where the command running it has a say.
pub trait Observer {
    /// An endpoint produced an event at `now`.
    fn event(&mut self, host: usize, now: Instant, event: Event);
    /// A datagram went over the wire (for captures). Behind a NAT, the wire is its outside.
    fn datagram(&mut self, _now: Instant, _transmit: &Transmit) {}
    /// `host`'s endpoint hands out `transmit`, as the core wrote it (before framing).
    fn sending(&mut self, _host: usize, _transmit: &Transmit) {}
    /// `host`'s egress decided the fate of the datagram just handed out (`transmit`, framed
    /// as it goes on the wire; see [`Observer::sending`]): lost, or delivered at a time
    /// (and a copy later). For the timeline.
    fn egress(&mut self, _host: usize, _now: Instant, _transmit: &Transmit, _fate: &Fate) {}
    /// The NAT dropped a datagram that reached it (`transmit` as its sender framed it):
    /// for a port it maps no more (or never did), or addressed from outside to a host
    /// behind it. For the timeline.
    fn nat_dropped(&mut self, _now: Instant, _transmit: &Transmit) {}
    /// A datagram (`data`, framed as it arrived) reached `host` while it is down (crashed):
    /// nobody read it. For the timeline.
    fn host_down(&mut self, _host: usize, _at: Arrived, _data: &[u8]) {}
    /// A scenario action replaced `host`'s endpoint at `now` (`Action::Replace`): every SA
    /// it held is gone, and no event of the core tells it.
    fn endpoint_replaced(&mut self, _host: usize, _now: Instant) {}
    /// `host`'s endpoint reported a trace entry (`ike_core::EndpointConfig::trace`): drained
    /// with its events, before them.
    fn trace(&mut self, _host: usize, _now: Instant, _trace: Trace) {}
    /// Whether a datagram from `from` to `host` is let in (a real peer's host answers only
    /// the peer it expects).
    fn admit(&mut self, _host: usize, _from: SocketAddr) -> bool {
        true
    }
    /// An IKE message for `host`'s endpoint.
    fn handle(&mut self, _host: usize, endpoint: &mut Endpoint, at: Arrived, message: &[u8]) {
        let (now, local, from) = at;
        endpoint.handle(now, local, from, message);
    }
    /// Something that is not IKE arrived at `host`.
    fn not_ike(&mut self, host: usize, _endpoint: &mut Endpoint, at: Arrived, what: NotIke) {
        let (_, local, from) = at;
        tracing::debug!(host, %local, %from, ?what, "not an IKE message: dropped");
    }
    /// UDP-encapsulated ESP (`datagram`, RFC 3948 §2.1: its SPI first) arrived at `host`;
    /// by default [`Observer::not_ike`] with [`NotIke::Esp`].
    fn esp(&mut self, host: usize, endpoint: &mut Endpoint, at: Arrived, datagram: &[u8]) {
        let what = NotIke::Esp {
            len: datagram.len(),
        };
        self.not_ike(host, endpoint, at, what);
    }
    /// AWS endpoint `host` carried `bytes` of inner packets in the minute (of the records'
    /// clock) that ended at `minute_end` (crate::dataplane): once per minute that carried
    /// any, in time order, once it is over.
    fn data(&mut self, _host: usize, _minute_end: Instant, _bytes: vpn_log::DataBytes) {}
    /// What became of one inner packet of the data plane (crate::dataplane): delivered,
    /// lost on the path, dropped. For the timeline's ESP band.
    fn packet(&mut self, _note: &crate::dataplane::PacketNote) {}
    /// Real time, when the run ends: what `host`'s receive queues went through (datagrams
    /// dropped because one was full, the most that waited).
    fn receive_queue(&mut self, _host: usize, _queue: ReceiveQueue) {}
    /// After every endpoint's output was collected: go on or stop.
    fn check(&mut self, _now: Instant, _hosts: &mut [Host]) -> Check {
        Check::Continue(None)
    }
    /// A signal (Ctrl-C, SIGTERM) arrived: whether to stop at once (`true`), or to go on
    /// (the observer decides the end in [`Observer::check`]).
    fn signal(&mut self, _now: Instant, _signal: &'static str, _hosts: &mut [Host]) -> bool {
        true
    }
}

/// What [`Wire::settle`] left: the run goes on (the observer wants to look again at this
/// time, if any), or the observer stopped it (what is due is still to be sent:
/// [`Wire::send_due`]).
enum Settled {
    Continue(Option<Instant>),
    Stopped,
}

/// How many passes of the loop may happen at one instant before the run is declared stuck:
/// a handshake at zero latency takes a handful, a timer that stays due after firing (a
/// core bug) takes them all — better a clear error than a loop that fills the memory.
const MAX_PASSES_AT_ONE_INSTANT: u32 = 100_000;

/// Counts the loop's passes at one instant ([`MAX_PASSES_AT_ONE_INSTANT`]).
#[derive(Debug)]
pub(crate) struct Stall {
    at: Option<Instant>,
    passes: u32,
}

impl Stall {
    pub(crate) fn new() -> Stall {
        Stall {
            at: None,
            passes: 0,
        }
    }

    /// Another pass at `now`: an error once there have been too many at one instant.
    pub(crate) fn pass(&mut self, now: Instant, t0: Instant) -> std::io::Result<()> {
        if self.at == Some(now) {
            self.passes += 1;
            if self.passes > MAX_PASSES_AT_ONE_INSTANT {
                return Err(std::io::Error::other(format!(
                    "the simulation is stuck {:?} after its start: {MAX_PASSES_AT_ONE_INSTANT} \
                     passes without time moving on (an endpoint's timer stays due after it \
                     fired — a bug: please report it with the scenario and seed)",
                    now.saturating_duration_since(t0)
                )));
            }
        } else {
            self.at = Some(now);
            self.passes = 0;
        }
        Ok(())
    }
}

/// The scenario's actions in time order.
fn sorted(mut schedule: Vec<(Instant, Action)>) -> VecDeque<(Instant, Action)> {
    schedule.sort_by_key(|(t, _)| *t);
    VecDeque::from(schedule)
}

impl<P: Pace> Wire<'_, P> {
    /// Steps 1–2 of the loop: collects every endpoint's output until the observer is
    /// content.
    fn settle(&mut self, now: Instant) -> Settled {
        loop {
            self.drain(now);
            match self.observer.check(now, self.hosts) {
                Check::Continue(at) => return Settled::Continue(at),
                Check::Again => {}
                Check::Stop => return Settled::Stopped,
            }
        }
    }

    /// Step 3: the earliest of the live endpoints' timers, the path queue, the next
    /// action and the observer's own deadline (`wanted`).
    fn next_deadline(
        &self,
        schedule: &VecDeque<(Instant, Action)>,
        wanted: Option<Instant>,
    ) -> Option<Instant> {
        let next_timer = self
            .hosts
            .iter()
            .filter(|h| h.alive)
            .filter_map(|h| h.endpoint.poll_timeout())
            .min();
        let next_keepalive = self
            .hosts
            .iter()
            .filter(|h| h.alive)
            .filter_map(|h| h.keepalive.map(|k| k.next))
            .min();
        let next_action = schedule.front().map(|(t, _)| *t);
        let next_packet = self.net.plane.as_ref().and_then(|p| p.poll_timeout());
        [
            next_packet,
            next_timer,
            self.path.next_due(),
            next_action,
            wanted,
            next_keepalive,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// After a stop: sends the datagrams that are due, and nothing else.
    async fn send_due(&mut self, now: Instant) -> std::io::Result<()> {
        while let Some(t) = self.path.pop_due(now) {
            self.transmit(now, t).await?;
        }
        Ok(())
    }

    /// Step 5: what is due at `now` — actions, then datagrams in order, then timers.
    async fn apply_due(
        &mut self,
        now: Instant,
        schedule: &mut VecDeque<(Instant, Action)>,
    ) -> std::io::Result<()> {
        while schedule.front().is_some_and(|(t, _)| *t <= now) {
            let Some((_, action)) = schedule.pop_front() else {
                break;
            };
            traffic::apply(action, self.hosts, now);
            if let Action::Replace { host, .. } = action {
                self.observer.endpoint_replaced(host, now);
            }
        }
        while let Some(t) = self.path.pop_due(now) {
            self.transmit(now, t).await?;
            self.drain(now);
        }
        self.send_keepalives(now);
        for h in self.hosts.iter_mut().filter(|h| h.alive) {
            if h.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                h.endpoint.handle_timeout(now);
            }
        }
        if let Some(plane) = self.net.plane.as_mut() {
            plane.handle_timeout(now);
        }
        Ok(())
    }
}

/// When the loop ends on its own (besides [`Check::Stop`] and a signal).
#[derive(Clone, Copy, Debug)]
struct Until {
    /// Nothing is done after this time.
    end: Option<Instant>,
    /// Stop once no endpoint has a timer, no action is due and nothing is in flight.
    idle: bool,
}

/// Runs simulated `hosts` from `t0` until `t0 + duration` or until nothing is left to do.
pub async fn run(
    hosts: &mut [Host],
    net: &mut Net,
    clock: Clock,
    t0: Instant,
    duration: Duration,
    schedule: Vec<(Instant, Action)>,
    observer: &mut dyn Observer,
) -> std::io::Result<()> {
    let until = Until {
        end: Some(t0 + duration),
        idle: true,
    };
    match clock {
        Clock::Accelerated => drive(Accelerated, hosts, net, t0, until, schedule, observer).await,
        // On the wall clock a signal wakes the loop (`Observer::signal` decides): `run
        // --realtime` stops cleanly on Ctrl-C and SIGTERM, with what it wrote whole.
        Clock::Realtime => drive(Wall::new(true), hosts, net, t0, until, schedule, observer).await,
    }
}

/// Runs hosts that face real peers (`serve`, `connect`) on the wall clock until the
/// observer stops the run or a signal does.
pub async fn run_facing_peers(
    hosts: &mut [Host],
    observer: &mut dyn Observer,
) -> std::io::Result<()> {
    let until = Until {
        end: None,
        idle: false,
    };
    let mut net = Net::none();
    let t0 = Instant::now();
    drive(
        Wall::new(true),
        hosts,
        &mut net,
        t0,
        until,
        Vec::new(),
        observer,
    )
    .await
}

/// The loop (see the module documentation), at the pace `pace`.
async fn drive<P: Pace>(
    pace: P,
    hosts: &mut [Host],
    net: &mut Net,
    t0: Instant,
    until: Until,
    schedule: Vec<(Instant, Action)>,
    observer: &mut dyn Observer,
) -> std::io::Result<()> {
    let mut schedule = sorted(schedule);

    // Real time: one receive task per socket feeding a channel. A host behind the NAT hears
    // only the NAT, which relays to it directly.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for (port, p) in h.ports.iter().enumerate() {
            if !net.nat.as_ref().is_some_and(|n| n.is_behind(p.addr)) {
                tasks.extend(pace.listen(&p.socket, Inbox::Host(i, port), &tx));
            }
        }
    }
    let mut path = Path::default();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut wire = Wire {
        hosts,
        net,
        pace,
        observer,
        tx: &tx,
        path: &mut path,
        in_flight: 0,
        buf: &mut buf,
    };
    let mut now = t0;
    let mut stall = Stall::new();

    loop {
        stall.pass(now, t0)?;
        let wanted = match wire.settle(now) {
            Settled::Continue(at) => at,
            Settled::Stopped => {
                wire.send_due(now).await?;
                break;
            }
        };
        let next = wire.next_deadline(&schedule, wanted);
        let in_flight = wire.in_flight;
        let idle = next.is_none() && in_flight == 0;
        let past_end = until.end.is_some_and(|end| next.is_some_and(|t| t > end));
        if until.idle && idle || past_end && in_flight == 0 {
            break;
        }
        let advance = wire
            .pace
            .advance(now, next, until.end, in_flight, &mut rx)
            .await;
        match advance {
            Advance::To(t) => now = t,
            Advance::Arrived(t, got) => {
                // A batch (pace::BATCH at most), cut short when a deadline comes due while
                // it is handled: the loop's timers run before the rest.
                now = t;
                let mut got = got.into_iter();
                while let Some((inbox, from, data)) = got.next() {
                    wire.in_flight = wire.in_flight.saturating_sub(1);
                    wire.arrived(now, inbox, from, data).await?;
                    wire.drain(now);
                    now = now.max(Instant::now());
                    if next.is_some_and(|due| now >= due) {
                        wire.pace.put_back(got.collect());
                        break;
                    }
                }
                continue;
            }
            Advance::Signal(t, signal) => {
                now = t;
                if wire.observer.signal(now, signal, wire.hosts) {
                    break;
                }
                continue;
            }
            Advance::End => break,
        }
        wire.apply_due(now, &mut schedule).await?;
    }
    for t in tasks {
        t.abort();
    }
    let mut queues = vec![None::<ReceiveQueue>; wire.hosts.len()];
    for (inbox, q) in wire.pace.receive_queues() {
        if let Inbox::Host(i, _) = inbox {
            if let Some(slot) = queues.get_mut(i) {
                *slot = Some(slot.map_or(q, |s| s.merge(q)));
            }
        }
    }
    for (i, q) in queues.into_iter().enumerate() {
        if let Some(q) = q {
            wire.observer.receive_queue(i, q);
        }
    }
    for (i, e) in wire
        .net
        .egress
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, e.as_ref()?)))
    {
        tracing::debug!(host = i, stats = ?e.stats, "egress");
    }
    if let Some(nat) = &wire.net.nat {
        tracing::debug!(stats = ?nat.stats, "NAT");
    }
    Ok(())
}
