//! The driver: real UDP sockets around sans-IO endpoints, one loop for both clocks.
//!
//! # Shape
//! - [`Host`] (`host.rs`): an endpoint and its two sockets on the host's own loopback
//!   address — its IKE port and its NAT-T port (the OS picks both numbers; the endpoint is
//!   told them, and moves to the NAT-T port when it detects a NAT — ike_core::nat_t). What
//!   leaves a NAT-T port carries the non-ESP marker and what arrives there loses it
//!   ([`crate::framing::PortRole`]).
//! - [`Net`]: what lies between the hosts — each host's [`crate::network::Egress`] and the
//!   simulated [`crate::network::Nat`].
//! - `Wire` (`wire.rs`): hosts + net + the path queue of datagrams in flight; drains the
//!   endpoints, sends what is due for real, hands what arrives to its endpoint.
//! - `Pace` (`pace.rs`): how time passes — `Accelerated` (virtual time that jumps to the
//!   next deadline; every datagram sent is received at once) or `Wall` (the wall clock;
//!   one receive task per socket). The loop and the delivery code ask the pace and never
//!   which clock they run on; [`Clock`] only picks the pace.
//! - [`Observer`]: what the loop reports (events, datagrams on the wire).
//!
//! # Flow of one pass of the loop
//! 1. drain every endpoint: events to the observer; datagrams through the sending host's
//!    egress (network conditions applied at egress, like netem — the datagram still leaves
//!    from its true source address) into the path queue at their delivery time;
//! 2. the next deadline is the earliest of the endpoints' timers, the path queue and the
//!    scenario's actions; nothing left (or all past the end) and nothing in flight: done;
//! 3. the pace lets time pass to it — or, in real time, reports a datagram that arrived,
//!    which goes to its endpoint (or through the NAT) before looking again;
//! 4. scenario actions that are due ([`crate::traffic`]), then the datagrams that are due,
//!    in order (sent for real; a host behind the NAT sends and receives through it), then
//!    the endpoints' timers.
//!
//! # Not yet here (issue 10)
//! `serve` and `connect` still run loops of their own on the wall clock. The next step puts
//! them on this one: a host generalised to the ports they bind (`serve`'s listen port and
//! 4500, `connect`'s CGW ports: roles `Single`/`NatT`, any address when named on the command
//! line), an observer that also sees non-IKE datagrams (ESP: `traffic::heard_from_peer`)
//! and filters sources (the expected CGW, the responder), and an end decided by the
//! observer (a signal; `connect`'s verdict and DELETE wait) instead of a duration.

mod host;
mod pace;
mod wire;

use std::time::{Duration, Instant};

use ike_core::{Event, Transmit};
use tokio::sync::mpsc;

pub use host::Host;
use pace::{Accelerated, Advance, Pace, Wall};
use wire::{Inbox, Wire};

use crate::network::{Egress, Nat, Path};
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
    /// One per host, in host order.
    pub egress: Vec<Egress>,
    pub nat: Option<Nat>,
}

impl Net {
    /// Every host's datagrams delayed by `latency`, nothing else.
    pub fn latency(hosts: usize, latency: Duration, start: Instant) -> Net {
        Net {
            egress: (0..hosts).map(|_| Egress::delay(latency, start)).collect(),
            nat: None,
        }
    }
}

/// What the driver reports as it runs.
pub trait Observer {
    /// An endpoint produced an event at `now`.
    fn event(&mut self, host: usize, now: Instant, event: Event);
    /// A datagram went over the wire (for captures). Behind a NAT, the wire is its outside.
    fn datagram(&mut self, _now: Instant, _transmit: &Transmit) {}
}

/// Runs `hosts` from `t0` until `t0 + duration` or until nothing is left to do.
pub async fn run(
    hosts: &mut [Host],
    net: &mut Net,
    clock: Clock,
    t0: Instant,
    duration: Duration,
    schedule: Vec<(Instant, Action)>,
    observer: &mut dyn Observer,
) -> std::io::Result<()> {
    let end = t0 + duration;
    match clock {
        Clock::Accelerated => drive(Accelerated, hosts, net, t0, end, schedule, observer).await,
        Clock::Realtime => drive(Wall, hosts, net, t0, end, schedule, observer).await,
    }
}

/// The loop (see the module documentation), at the pace `pace`.
async fn drive<P: Pace>(
    pace: P,
    hosts: &mut [Host],
    net: &mut Net,
    t0: Instant,
    end: Instant,
    mut schedule: Vec<(Instant, Action)>,
    observer: &mut dyn Observer,
) -> std::io::Result<()> {
    schedule.sort_by_key(|(t, _)| *t);
    let mut schedule = std::collections::VecDeque::from(schedule);

    // Real time: one receive task per socket feeding a channel. A host behind the NAT hears
    // only the NAT, which relays to it directly.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for (port, (socket, addr)) in h.sockets.iter().zip(h.addrs).enumerate() {
            if !net.nat.as_ref().is_some_and(|n| n.is_behind(addr)) {
                tasks.extend(pace.listen(socket, Inbox::Host(i, port), &tx));
            }
        }
    }
    let mut wire = Wire {
        hosts,
        net,
        pace,
        observer,
        tx,
        path: Path::default(),
        in_flight: 0,
        buf: vec![0u8; MAX_DATAGRAM],
    };
    let mut now = t0;

    loop {
        wire.drain(now);
        let next_timer = wire
            .hosts
            .iter()
            .filter(|h| h.alive)
            .filter_map(|h| h.endpoint.poll_timeout())
            .min();
        let next_action = schedule.front().map(|(t, _)| *t);
        let next = [next_timer, wire.path.next_due(), next_action]
            .into_iter()
            .flatten()
            .min();
        let in_flight = wire.in_flight;
        let idle = next.is_none() && in_flight == 0;
        if idle || next.is_some_and(|t| t > end) && in_flight == 0 {
            break;
        }
        let advance = wire.pace.advance(now, next, end, in_flight, &mut rx).await;
        match advance {
            Advance::To(t) => now = t,
            Advance::Arrived(t, got) => {
                now = t;
                if let Some((inbox, from, data)) = got {
                    wire.in_flight = wire.in_flight.saturating_sub(1);
                    wire.arrived(now, inbox, from, data).await?;
                }
                continue;
            }
            Advance::End => break,
        }
        while schedule.front().is_some_and(|(t, _)| *t <= now) {
            let Some((_, action)) = schedule.pop_front() else {
                break;
            };
            traffic::apply(action, wire.hosts, now);
        }
        // Deliver what is due, in order.
        while let Some(t) = wire.path.pop_due(now) {
            wire.transmit(now, t).await?;
            wire.drain(now);
        }
        for h in wire.hosts.iter_mut().filter(|h| h.alive) {
            if h.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                h.endpoint.handle_timeout(now);
            }
        }
    }
    for t in tasks {
        t.abort();
    }
    for (i, e) in wire.net.egress.iter().enumerate() {
        tracing::debug!(host = i, stats = ?e.stats, "egress");
    }
    if let Some(nat) = &wire.net.nat {
        tracing::debug!(stats = ?nat.stats, "NAT");
    }
    Ok(())
}
