//! Drivers: real loopback UDP sockets around sans-IO endpoints.
//!
//! Both drivers own two tokio UDP sockets per simulated host, on the host's own loopback
//! address: its IKE port and its NAT-T port (the OS picks both numbers; the endpoint is
//! told them, and moves to the NAT-T port when it detects a NAT — ike_core::nat_t). What
//! leaves a NAT-T port carries the non-ESP marker and what arrives there loses it
//! ([`PortRole`]). Both drivers run the same loop: drain every endpoint's output, ask the
//! sending host's [`Egress`] what becomes of each datagram (network conditions applied at egress, like
//! netem — the datagram still leaves from its true source address), hold it until its
//! delivery time, send it for real, and hand what arrives to the destination endpoint. A
//! host behind the simulated [`Nat`] sends and receives through it. They differ only in
//! the clock:
//! - [`Clock::Accelerated`]: virtual time that jumps to the next deadline once every
//!   datagram sent has been delivered — days of a tunnel run in well under a second;
//! - [`Clock::Realtime`]: the wall clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ike_core::{Endpoint, Event, NatTPorts, Transmit};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::framing::{PortRole, Received};
use crate::network::{ip_packet_len, Egress, Fate, Nat, Path};
use crate::traffic::{self, Action, Reboot};

/// Largest IKE datagram we accept (IKE messages over UDP stay well below this).
const MAX_DATAGRAM: usize = 65_535;

/// How long the driver waits for a datagram it sent over loopback before counting it lost.
const LOOPBACK_GRACE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    Accelerated,
    Realtime,
}

/// A simulated host's two ports, in this order.
const ROLES: [PortRole; 2] = [PortRole::Ike, PortRole::NatT];

/// A simulated host: an endpoint and its sockets (IKE port, NAT-T port).
pub struct Host {
    pub endpoint: Endpoint,
    sockets: [Arc<UdpSocket>; 2],
    addrs: [SocketAddr; 2],
    /// A crashed host neither sends nor receives nor keeps time.
    pub(crate) alive: bool,
    /// How to bring the host back after a crash ([`Action::Boot`]).
    pub reboot: Option<Reboot>,
}

impl Host {
    /// Binds the IKE and NAT-T sockets on `ip` (a loopback address; the OS picks the
    /// ports) and builds the endpoint for the IKE port's address.
    pub async fn bind(
        ip: std::net::IpAddr,
        make: impl FnOnce(SocketAddr) -> Endpoint,
    ) -> std::io::Result<Host> {
        if !ip.is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{ip} is not a loopback address"),
            ));
        }
        let ike = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let nat_t = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let addrs = [ike.local_addr()?, nat_t.local_addr()?];
        let mut endpoint = make(addrs[0]);
        endpoint.set_nat_t_ports(NatTPorts {
            local: Some(addrs[1].port()),
            peer: None,
        });
        Ok(Host {
            endpoint,
            sockets: [Arc::new(ike), Arc::new(nat_t)],
            addrs,
            alive: true,
            reboot: None,
        })
    }

    /// The IKE port's address: where the peer calls.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// The NAT-T port's address.
    pub fn nat_t_addr(&self) -> SocketAddr {
        self.addrs[1]
    }

    /// Both addresses (IKE port, NAT-T port).
    pub fn addrs(&self) -> [SocketAddr; 2] {
        self.addrs
    }

    /// Tells the endpoint where its peer's NAT-T port is.
    pub fn set_peer_nat_t_port(&mut self, port: u16) {
        let ports = self.endpoint.nat_t_ports();
        self.endpoint.set_nat_t_ports(NatTPorts {
            peer: Some(port),
            ..ports
        });
    }

    /// Hands the endpoint a datagram that arrived on port `port` (index into `addrs`),
    /// without the NAT-T port's marker; anything else there (ESP, keepalives, unmarked IKE)
    /// is not for IKE and is dropped.
    fn deliver(&mut self, now: Instant, port: usize, from: SocketAddr, data: &[u8]) {
        if !self.alive {
            return;
        }
        let local = self.addrs[port];
        match ROLES[port].classify(local, from, data) {
            Received::Ike(message) => self.endpoint.handle(now, local, from, message),
            other => {
                tracing::debug!(%local, %from, ?other, "not an IKE message on the NAT-T port: dropped")
            }
        }
    }
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

/// The socket a datagram arrived on, in real time.
#[derive(Clone, Copy, Debug)]
enum Inbox {
    /// A host's port (index into its `addrs`).
    Host(usize, usize),
    /// A NAT mapping's outside socket.
    Mapping(u64),
}

/// Who receives a datagram sent to an address.
enum Receiver {
    /// A host's port (index into its `addrs`).
    Host(usize, usize),
    Mapping(u64, Arc<UdpSocket>),
    /// The NAT's address, on a port it maps no more (or never did).
    Unmapped,
    Nobody,
}

type Arrivals = mpsc::UnboundedSender<(Inbox, SocketAddr, Vec<u8>)>;

/// The real-time driver's receive loop for one socket.
fn spawn_receiver(socket: Arc<UdpSocket>, inbox: Inbox, tx: Arrivals) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if tx.send((inbox, from, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    })
}

/// Receives the datagram just sent to `socket` over loopback, or `None` after the grace.
async fn receive(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> std::io::Result<Option<(usize, SocketAddr)>> {
    match tokio::time::timeout(LOOPBACK_GRACE, socket.recv_from(buf)).await {
        Ok(Ok(got)) => Ok(Some(got)),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Runs `hosts` from `t0` until `t0 + duration` or until nothing is left to do.
pub async fn run(
    hosts: &mut [Host],
    net: &mut Net,
    clock: Clock,
    t0: Instant,
    duration: Duration,
    mut schedule: Vec<(Instant, Action)>,
    observer: &mut dyn Observer,
) -> std::io::Result<()> {
    let end = t0 + duration;
    schedule.sort_by_key(|(t, _)| *t);
    let mut schedule = std::collections::VecDeque::from(schedule);

    // Real time: one receive task per socket feeding a channel. A host behind the NAT hears
    // only the NAT, which relays to it directly.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    if clock == Clock::Realtime {
        for (i, h) in hosts.iter().enumerate() {
            for (port, (socket, addr)) in h.sockets.iter().zip(h.addrs).enumerate() {
                if !net.nat.as_ref().is_some_and(|n| n.is_behind(addr)) {
                    tasks.push(spawn_receiver(
                        socket.clone(),
                        Inbox::Host(i, port),
                        tx.clone(),
                    ));
                }
            }
        }
    }
    let mut wire = Wire {
        hosts,
        net,
        clock,
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
        match clock {
            Clock::Accelerated => {
                now = now.max(next.unwrap_or(now));
            }
            Clock::Realtime => {
                let wake = next.unwrap_or(end).min(end);
                tokio::select! {
                    got = rx.recv() => {
                        now = Instant::now();
                        if let Some((inbox, from, data)) = got {
                            wire.in_flight = wire.in_flight.saturating_sub(1);
                            wire.arrived(now, inbox, from, data).await?;
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
            let Some((_, action)) = schedule.pop_front() else {
                break;
            };
            traffic::apply(action, wire.hosts, now);
        }
        // Deliver what is due, in order.
        while let Some(t) = wire.path.pop_due(now) {
            wire.transmit(now, t).await?;
            if clock == Clock::Accelerated {
                wire.drain(now);
            }
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

/// The driver's view of the wire: hosts, what lies between them, and datagrams in flight.
struct Wire<'a> {
    hosts: &'a mut [Host],
    net: &'a mut Net,
    clock: Clock,
    observer: &'a mut dyn Observer,
    tx: Arrivals,
    path: Path<Transmit>,
    /// Real time: datagrams sent whose arrival a receive task will report.
    in_flight: usize,
    buf: Vec<u8>,
}

impl Wire<'_> {
    /// The host and port (index into its `addrs`) at `addr`.
    fn host_at(&self, addr: SocketAddr) -> Option<(usize, usize)> {
        self.hosts
            .iter()
            .enumerate()
            .find_map(|(i, h)| h.addrs.iter().position(|a| *a == addr).map(|p| (i, p)))
    }

    /// Collects every endpoint's events, and its datagrams through its egress.
    fn drain(&mut self, now: Instant) {
        for (i, h) in self.hosts.iter_mut().enumerate() {
            if !h.alive {
                while h.endpoint.poll_transmit().is_some() {}
                continue;
            }
            while let Some(e) = h.endpoint.poll_event() {
                self.observer.event(i, now, e);
            }
            while let Some(mut t) = h.endpoint.poll_transmit() {
                if !t.dst.ip().is_loopback() {
                    tracing::warn!(dst = %t.dst, "refusing to send outside loopback");
                    continue;
                }
                // From here on it is the datagram as it goes on the wire.
                let Some(port) = h.addrs.iter().position(|a| *a == t.src) else {
                    tracing::warn!(src = %t.src, "an endpoint sent from an address it does not have: dropped");
                    continue;
                };
                t.payload = ROLES[port].frame(t.src, t.dst, std::mem::take(&mut t.payload));
                let fate = match self.net.egress.get_mut(i) {
                    Some(egress) => egress.send(now, ip_packet_len(t.dst, t.payload.len())),
                    None => Fate::Delivered {
                        at: now,
                        copy: None,
                    },
                };
                match fate {
                    Fate::Dropped(reason) => {
                        tracing::trace!(?reason, src = %t.src, dst = %t.dst, "path dropped a datagram")
                    }
                    Fate::Delivered {
                        at,
                        copy: Some(copy),
                    } => {
                        self.path.hold(at, t.clone());
                        self.path.hold(copy, t);
                    }
                    Fate::Delivered { at, copy: None } => self.path.hold(at, t),
                }
            }
        }
    }

    /// Sends a datagram that is due, from its host's socket — or, for a host behind the
    /// NAT, into the NAT and out of the mapping's socket.
    async fn transmit(&mut self, now: Instant, t: Transmit) -> std::io::Result<()> {
        let Some((src, port)) = self.host_at(t.src) else {
            return Ok(());
        };
        if !self.hosts[src].alive {
            return Ok(());
        }
        let socket = self.hosts[src].sockets[port].clone();
        let Some(nat) = self.net.nat.as_mut() else {
            return self.put_on_wire(now, &socket, t).await;
        };
        match (nat.is_behind(t.src), nat.is_behind(t.dst)) {
            (true, false) => {}
            (false, true) => {
                tracing::debug!(dst = %t.dst, "behind the NAT, unreachable from outside: dropped");
                return Ok(());
            }
            _ => return self.put_on_wire(now, &socket, t).await,
        }
        // The inside leg: the host sends to the NAT, which picks the mapping for the source
        // it sees.
        socket.send_to(&t.payload, nat.inside_addr()).await?;
        let inside = nat.inside_socket().clone();
        let Some((n, from)) = receive(&inside, &mut self.buf).await? else {
            tracing::warn!(src = %t.src, "datagram lost on loopback on its way into the NAT");
            return Ok(());
        };
        let out = nat.outbound(now, from)?;
        if out.created && self.clock == Clock::Realtime {
            nat.set_task(
                out.id,
                spawn_receiver(out.socket.clone(), Inbox::Mapping(out.id), self.tx.clone()),
            );
        }
        let t = Transmit {
            src: out.outside,
            dst: t.dst,
            payload: self.buf[..n].to_vec(),
        };
        self.put_on_wire(now, &out.socket, t).await
    }

    fn receiver(&self, dst: SocketAddr) -> Receiver {
        if let Some((d, port)) = self.host_at(dst) {
            return Receiver::Host(d, port);
        }
        match &self.net.nat {
            Some(nat) if nat.outside_ip() == dst.ip() => match nat.mapping_at(dst) {
                Some(m) => Receiver::Mapping(m.id, m.socket.clone()),
                None => Receiver::Unmapped,
            },
            _ => Receiver::Nobody,
        }
    }

    /// Sends `t` from `socket` to its destination; in accelerated mode (or to a socket no
    /// task listens on) receives it there at once and hands it on.
    async fn put_on_wire(
        &mut self,
        now: Instant,
        socket: &UdpSocket,
        t: Transmit,
    ) -> std::io::Result<()> {
        let receiver = self.receiver(t.dst);
        match receiver {
            Receiver::Nobody => {
                tracing::debug!(dst = %t.dst, "datagram for no simulated host dropped");
                return Ok(());
            }
            Receiver::Unmapped => {
                self.observer.datagram(now, &t);
                tracing::debug!(dst = %t.dst, "NAT: no mapping for this port: dropped");
                if let Some(nat) = self.net.nat.as_mut() {
                    nat.stats.dropped += 1;
                }
                return Ok(());
            }
            Receiver::Host(..) | Receiver::Mapping(..) => {}
        }
        self.observer.datagram(now, &t);
        socket.send_to(&t.payload, t.dst).await?;
        match receiver {
            Receiver::Host(d, port) => {
                let behind_nat = self.net.nat.as_ref().is_some_and(|n| n.is_behind(t.dst));
                if self.clock == Clock::Realtime && !behind_nat {
                    self.in_flight += 1;
                    return Ok(());
                }
                let socket = self.hosts[d].sockets[port].clone();
                match receive(&socket, &mut self.buf).await? {
                    Some((n, from)) => self.hosts[d].deliver(now, port, from, &self.buf[..n]),
                    None => tracing::warn!(src = %t.src, dst = %t.dst, "datagram lost on loopback"),
                }
            }
            Receiver::Mapping(id, socket) => {
                if self.clock == Clock::Realtime {
                    self.in_flight += 1;
                    return Ok(());
                }
                match receive(&socket, &mut self.buf).await? {
                    Some((n, from)) => {
                        let data = self.buf[..n].to_vec();
                        self.through_nat(now, id, from, data).await?;
                    }
                    None => tracing::warn!(src = %t.src, dst = %t.dst, "datagram lost on loopback"),
                }
            }
            Receiver::Unmapped | Receiver::Nobody => {}
        }
        Ok(())
    }

    /// A datagram from `from` arrived at NAT mapping `id`: relayed to the host behind it,
    /// which sees `from` as the source (a NAT rewrites only the destination on the way in).
    async fn through_nat(
        &mut self,
        now: Instant,
        id: u64,
        from: SocketAddr,
        data: Vec<u8>,
    ) -> std::io::Result<()> {
        let Some(nat) = self.net.nat.as_mut() else {
            return Ok(());
        };
        let Some(inside) = nat.inbound(now, id) else {
            return Ok(());
        };
        let relay = nat.inside_socket().clone();
        let Some((d, port)) = self.host_at(inside) else {
            return Ok(());
        };
        relay.send_to(&data, inside).await?;
        let socket = self.hosts[d].sockets[port].clone();
        let Some((n, _)) = receive(&socket, &mut self.buf).await? else {
            tracing::warn!(dst = %inside, "datagram lost on loopback on its way out of the NAT");
            return Ok(());
        };
        self.hosts[d].deliver(now, port, from, &self.buf[..n]);
        Ok(())
    }

    /// Real time: a receive task reported a datagram.
    async fn arrived(
        &mut self,
        now: Instant,
        inbox: Inbox,
        from: SocketAddr,
        data: Vec<u8>,
    ) -> std::io::Result<()> {
        match inbox {
            Inbox::Host(i, port) => {
                self.hosts[i].deliver(now, port, from, &data);
                Ok(())
            }
            Inbox::Mapping(id) => self.through_nat(now, id, from, data).await,
        }
    }
}
