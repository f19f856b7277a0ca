//! Drivers: real loopback UDP sockets around sans-IO endpoints.
//!
//! Both drivers own one tokio UDP socket per simulated host (each on its own loopback
//! address) and run the same loop: drain every endpoint's output, hold each datagram for
//! the path's latency (egress delay, like netem — the datagram still leaves from its true
//! source address), send it for real, and hand what arrives to the destination endpoint.
//! They differ only in the clock:
//! - [`Clock::Accelerated`]: virtual time that jumps to the next deadline once every
//!   datagram sent has been delivered — days of a tunnel run in well under a second;
//! - [`Clock::Realtime`]: the wall clock.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ike_core::{Endpoint, Event, Transmit};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Largest IKE datagram we accept (IKE messages over UDP stay well below this).
const MAX_DATAGRAM: usize = 65_535;

/// How long the accelerated driver waits for a datagram it sent over loopback before
/// counting it lost.
const LOOPBACK_GRACE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    Accelerated,
    Realtime,
}

/// A simulated host: an endpoint and its socket.
pub struct Host {
    pub endpoint: Endpoint,
    socket: Arc<UdpSocket>,
    addr: SocketAddr,
    /// A crashed host neither sends nor receives nor keeps time.
    alive: bool,
}

/// Something the scenario makes happen at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The host dies for good (power cut, process killed).
    Crash { host: usize },
    /// The data-plane model: the host starts or stops receiving its peer's traffic.
    Traffic { host: usize, flowing: bool },
}

impl Host {
    /// Binds a socket on `ip` (a loopback address; the OS picks the port) and builds the
    /// endpoint for the bound address.
    pub async fn bind(ip: std::net::IpAddr, make: impl FnOnce(SocketAddr) -> Endpoint) -> std::io::Result<Host> {
        if !ip.is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{ip} is not a loopback address"),
            ));
        }
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let addr = socket.local_addr()?;
        Ok(Host { endpoint: make(addr), socket: Arc::new(socket), addr, alive: true })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// What the driver reports as it runs.
pub trait Observer {
    /// An endpoint produced an event at `now`.
    fn event(&mut self, host: usize, now: Instant, event: Event);
    /// A datagram went over the wire (for captures).
    fn datagram(&mut self, _now: Instant, _transmit: &Transmit) {}
}

/// Datagrams held for their delivery time, in (time, sequence) order.
struct Path {
    latency: Duration,
    queue: BTreeMap<(Instant, u64), Transmit>,
    seq: u64,
}

impl Path {
    fn hold(&mut self, now: Instant, t: Transmit) {
        self.seq += 1;
        self.queue.insert((now + self.latency, self.seq), t);
    }

    fn next_due(&self) -> Option<Instant> {
        self.queue.keys().next().map(|k| k.0)
    }

    fn pop_due(&mut self, now: Instant) -> Option<Transmit> {
        let (&key, _) = self.queue.iter().next()?;
        if key.0 > now {
            return None;
        }
        self.queue.remove(&key)
    }
}

/// Runs `hosts` from `t0` until `t0 + duration` or until nothing is left to do.
pub async fn run(
    hosts: &mut [Host],
    clock: Clock,
    t0: Instant,
    duration: Duration,
    latency: Duration,
    mut schedule: Vec<(Instant, Action)>,
    observer: &mut dyn Observer,
) -> std::io::Result<()> {
    let end = t0 + duration;
    schedule.sort_by_key(|(t, _)| *t);
    let mut schedule = std::collections::VecDeque::from(schedule);
    let mut path = Path { latency, queue: BTreeMap::new(), seq: 0 };
    let mut now = t0;
    let mut buf = vec![0u8; MAX_DATAGRAM];

    // Real time: one receive task per socket feeding a channel.
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, SocketAddr, Vec<u8>)>();
    let mut tasks = Vec::new();
    if clock == Clock::Realtime {
        for (i, h) in hosts.iter().enumerate() {
            let (socket, tx) = (h.socket.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let mut buf = vec![0u8; MAX_DATAGRAM];
                while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                    if tx.send((i, from, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }));
        }
    }
    let mut in_flight = 0usize;

    loop {
        drain(hosts, now, &mut path, observer);
        let next_timer = hosts.iter().filter(|h| h.alive).filter_map(|h| h.endpoint.poll_timeout()).min();
        let next_action = schedule.front().map(|(t, _)| *t);
        let next = [next_timer, path.next_due(), next_action].into_iter().flatten().min();
        let idle = next.is_none() && in_flight == 0;
        if idle || next.is_some_and(|t| t > end) && in_flight == 0 {
            break;
        }
        match clock {
            Clock::Accelerated => {
                now = now.max(next.unwrap_or(now));
            }
            Clock::Realtime => {
                let wake = next.unwrap_or(end).min(end);
                tokio::select! {
                    got = rx.recv() => {
                        now = Instant::now();
                        if let Some((i, from, data)) = got {
                            in_flight = in_flight.saturating_sub(1);
                            let local = hosts[i].addr;
                            if hosts[i].alive {
                                hosts[i].endpoint.handle(now, local, from, &data);
                            }
                        }
                        continue;
                    }
                    _ = tokio::time::sleep_until(wake.into()) => {
                        now = Instant::now();
                        if now >= end && in_flight > 0 { break; }
                    }
                }
            }
        }
        while schedule.front().is_some_and(|(t, _)| *t <= now) {
            let Some((_, action)) = schedule.pop_front() else { break };
            tracing::debug!(?action, "scenario action");
            match action {
                Action::Crash { host } => hosts[host].alive = false,
                Action::Traffic { host, flowing } => hosts[host].endpoint.set_peer_traffic(now, flowing),
            }
        }
        // Deliver what is due, in order.
        while let Some(t) = path.pop_due(now) {
            let Some(src) = hosts.iter().position(|h| h.addr == t.src) else {
                continue;
            };
            let Some(dst) = hosts.iter().position(|h| h.addr == t.dst) else {
                tracing::debug!(dst = %t.dst, "datagram for no simulated host dropped");
                continue;
            };
            if !hosts[src].alive {
                continue;
            }
            observer.datagram(now, &t);
            hosts[src].socket.send_to(&t.payload, t.dst).await?;
            match clock {
                Clock::Accelerated => {
                    let received = tokio::time::timeout(LOOPBACK_GRACE, hosts[dst].socket.recv_from(&mut buf)).await;
                    match received {
                        Ok(Ok((n, from))) => {
                            let local = hosts[dst].addr;
                            if hosts[dst].alive {
                                hosts[dst].endpoint.handle(now, local, from, &buf[..n]);
                            }
                        }
                        Ok(Err(e)) => return Err(e),
                        Err(_) => {
                            tracing::warn!(src = %t.src, dst = %t.dst, "datagram lost on loopback")
                        }
                    }
                    drain(hosts, now, &mut path, observer);
                }
                Clock::Realtime => in_flight += 1,
            }
        }
        for h in hosts.iter_mut().filter(|h| h.alive) {
            if h.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                h.endpoint.handle_timeout(now);
            }
        }
    }
    for t in tasks {
        t.abort();
    }
    Ok(())
}

/// Collects every endpoint's events and datagrams.
fn drain(hosts: &mut [Host], now: Instant, path: &mut Path, observer: &mut dyn Observer) {
    for (i, h) in hosts.iter_mut().enumerate() {
        if !h.alive {
            while h.endpoint.poll_transmit().is_some() {}
            continue;
        }
        while let Some(e) = h.endpoint.poll_event() {
            observer.event(i, now, e);
        }
        while let Some(t) = h.endpoint.poll_transmit() {
            if !t.dst.ip().is_loopback() {
                tracing::warn!(dst = %t.dst, "refusing to send outside loopback");
                continue;
            }
            path.hold(now, t);
        }
    }
}
