//! The wire between the hosts: egress conditions, the path queue of datagrams in flight,
//! the NAT, and the real sockets — sending what is due and handing what arrives to its
//! endpoint. Whether a datagram sent to one of our sockets is picked up at once or by the
//! socket's receive task is the [`Pace`]'s business.

use std::net::SocketAddr;

use std::sync::Arc;
use std::time::Instant;

use ike_core::Transmit;
use tokio::net::UdpSocket;

use super::host::Host;
use super::pace::{Pace, PickUp};
use super::receive::{receive, Arrivals};
use super::{Net, NotIke, Observer};
use crate::dataplane::{DataPlane, PacketFate, PacketNote};
use crate::framing::Received;
use crate::network::{ip_packet_len, Egress, Fate, Path};

/// The socket a datagram arrived on, in real time.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Inbox {
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

/// The driver's view of the wire: hosts, what lies between them, and datagrams in flight.
pub(super) struct Wire<'a, P> {
    pub(super) hosts: &'a mut [Host],
    pub(super) net: &'a mut Net,
    pub(super) pace: P,
    pub(super) observer: &'a mut dyn Observer,
    pub(super) tx: &'a Arrivals,
    /// Datagrams in flight (egress delay), by delivery time.
    pub(super) path: &'a mut Path<Transmit>,
    /// Real time: datagrams sent whose arrival a receive task will report.
    pub(super) in_flight: usize,
    /// The receive buffer ([`super::MAX_DATAGRAM`] bytes; one per loop, shared by the
    /// cells an estate steps).
    pub(super) buf: &'a mut Vec<u8>,
}

impl<P: Pace> Wire<'_, P> {
    /// The host and port (index into its ports) at `addr`.
    fn host_at(&self, addr: SocketAddr) -> Option<(usize, usize)> {
        self.hosts
            .iter()
            .enumerate()
            .find_map(|(i, h)| h.port_at(addr).map(|p| (i, p)))
    }

    /// Collects every endpoint's events, and its datagrams through its egress; then the
    /// data plane's, and again the endpoints' if a trap policy acted on its packets.
    pub(super) fn drain(&mut self, now: Instant) {
        loop {
            self.drain_endpoints(now);
            if !self.drain_plane(now) {
                return;
            }
        }
    }

    fn drain_endpoints(&mut self, now: Instant) {
        for (i, h) in self.hosts.iter_mut().enumerate() {
            if !h.alive {
                while h.endpoint.poll_transmit().is_some() {}
                while h.endpoint.poll_trace().is_some() {}
                while h.endpoint.poll_ipsec().is_some() {}
                if let Some(plane) = self.net.plane.as_mut() {
                    plane.crash(i);
                }
                continue;
            }
            if let Some(plane) = self.net.plane.as_mut() {
                while let Some(change) = h.endpoint.poll_ipsec() {
                    plane.ipsec(i, change);
                }
            }
            while let Some(t) = h.endpoint.poll_trace() {
                self.observer.trace(i, now, t);
            }
            while let Some(e) = h.endpoint.poll_event() {
                self.observer.event(i, now, e);
            }
            while let Some(mut t) = h.endpoint.poll_transmit() {
                if !h.real_peer && !t.dst.ip().is_loopback() {
                    tracing::warn!(dst = %t.dst, "refusing to send outside loopback");
                    continue;
                }
                self.observer.sending(i, &t);
                // From here on it is the datagram as it goes on the wire.
                let Some(port) = h.port_at(t.src) else {
                    tracing::warn!(host = i, src = %t.src, "an endpoint sent from an address it does not have: dropped");
                    continue;
                };
                let role = h.ports[port].role;
                t.payload = role.frame(t.src, t.dst, std::mem::take(&mut t.payload));
                tracing::debug!(host = i, src = %t.src, dst = %t.dst, len = t.payload.len(), "send");
                let fate = fate_of(&mut self.net.egress, i, now, &t);
                self.observer.egress(i, now, &t, &fate);
                hold(self.path, fate, t);
            }
        }
    }

    /// The data plane's ESP datagrams (through the sending host's egress like any other),
    /// the minutes of bytes that are over, and the packets no tunnel took, offered to the
    /// endpoints in front of their lan (`Endpoint::acquire`). Whether an endpoint started
    /// negotiating for one (its datagrams are to be collected).
    fn drain_plane(&mut self, now: Instant) -> bool {
        let Some(plane) = self.net.plane.as_mut() else {
            return false;
        };
        while let Some((i, t)) = plane.poll_transmit(now) {
            let fate = fate_of(&mut self.net.egress, i, now, &t);
            if let Fate::Dropped(reason) = fate {
                let fate = PacketFate::Lost(reason);
                self.observer.packet(&PacketNote::sent(now, i, fate));
            }
            hold(self.path, fate, t);
        }
        while let Some(note) = plane.poll_fate() {
            self.observer.packet(&note);
        }
        while let Some((host, end, bytes)) = plane.poll_minute(now) {
            self.observer.data(host, end, bytes);
        }
        let mut acquired = false;
        while let Some((a, front)) = plane.poll_acquire() {
            acquired |= front.iter().any(|&h| {
                let h = &mut self.hosts[h];
                h.alive && h.endpoint.acquire(now, a.src, a.dst)
            });
        }
        acquired
    }

    /// The NAT keepalives that are due (RFC 3948 §4: one 0xFF byte, from the NAT-T port,
    /// no non-ESP marker), through the sending host's egress like any datagram. They are
    /// not IKE, so the timeline does not draw them; a capture has them.
    pub(super) fn send_keepalives(&mut self, now: Instant) {
        for (i, h) in self.hosts.iter_mut().enumerate() {
            let Some(k) = h.keepalive.as_mut().filter(|k| k.next <= now) else {
                continue;
            };
            k.next = now + k.every;
            let to = k.to;
            if !h.alive {
                continue;
            }
            let t = Transmit {
                src: h.nat_t_addr(),
                dst: to,
                payload: vec![0xff],
            };
            let fate = fate_of(&mut self.net.egress, i, now, &t);
            hold(self.path, fate, t);
        }
    }

    /// Sends a datagram that is due, from its host's socket — or, for a host behind the
    /// NAT, into the NAT and out of the mapping's socket.
    pub(super) async fn transmit(&mut self, now: Instant, t: Transmit) -> std::io::Result<()> {
        let Some((src, port)) = self.host_at(t.src) else {
            return Ok(());
        };
        if !self.hosts[src].alive {
            return Ok(());
        }
        let socket = self.hosts[src].ports[port].socket.clone();
        let real = self.hosts[src].real_peer;
        let Some(nat) = self.net.nat.as_mut() else {
            return self.put_on_wire(now, &socket, t, real).await;
        };
        match (nat.is_behind(t.src), nat.is_behind(t.dst)) {
            (true, false) => {}
            (false, true) => {
                self.observer.nat_dropped(now, &t);
                tracing::debug!(dst = %t.dst, "behind the NAT, unreachable from outside: dropped");
                return Ok(());
            }
            _ => return self.put_on_wire(now, &socket, t, real).await,
        }
        // The inside leg: the host sends to the NAT, which picks the mapping for the source
        // it sees.
        socket.send_to(&t.payload, nat.inside_addr()).await?;
        let inside = nat.inside_socket().clone();
        let Some((n, from)) = receive(&inside, self.buf).await? else {
            tracing::warn!(src = %t.src, "datagram lost on loopback on its way into the NAT");
            return Ok(());
        };
        let out = nat.outbound(now, from)?;
        if out.created {
            let listening = self
                .pace
                .listen(&out.socket, Inbox::Mapping(out.id), self.tx);
            if let Some(task) = listening {
                nat.set_task(out.id, task);
            }
        }
        let t = Transmit {
            src: out.outside,
            dst: t.dst,
            payload: self.buf[..n].to_vec(),
        };
        self.put_on_wire(now, &out.socket, t, real).await
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
    /// task listens on) receives it there at once and hands it on. A host facing a real
    /// peer (`real`) sends to addresses that are none of ours as well.
    async fn put_on_wire(
        &mut self,
        now: Instant,
        socket: &UdpSocket,
        t: Transmit,
        real: bool,
    ) -> std::io::Result<()> {
        let receiver = self.receiver(t.dst);
        match receiver {
            Receiver::Nobody if real => {
                self.observer.datagram(now, &t);
                // A peer that went away (or a route that does not exist) must not stop the
                // run: the core retransmits and times out like a real endpoint would.
                if let Err(e) = socket.send_to(&t.payload, t.dst).await {
                    tracing::warn!(dst = %t.dst, "send failed: {e}");
                }
                return Ok(());
            }
            Receiver::Nobody => {
                tracing::debug!(dst = %t.dst, "datagram for no simulated host dropped");
                return Ok(());
            }
            Receiver::Unmapped => {
                self.observer.datagram(now, &t);
                self.observer.nat_dropped(now, &t);
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
                let socket = self.hosts[d].ports[port].socket.clone();
                // A host behind the NAT has no receive task: the NAT relays to it directly.
                let behind_nat = self.net.nat.as_ref().is_some_and(|n| n.is_behind(t.dst));
                let got = if behind_nat {
                    PickUp::Now(receive(&socket, self.buf).await?)
                } else {
                    self.pace.pick_up(&socket, self.buf).await?
                };
                match got {
                    PickUp::Later => self.in_flight += 1,
                    PickUp::Now(Some((n, from))) => deliver(
                        self.hosts,
                        self.observer,
                        self.net.plane.as_deref_mut(),
                        (now, d, port, from),
                        &self.buf[..n],
                    ),
                    PickUp::Now(None) => {
                        tracing::warn!(src = %t.src, dst = %t.dst, "datagram lost on loopback")
                    }
                }
            }
            Receiver::Mapping(id, socket) => match self.pace.pick_up(&socket, self.buf).await? {
                PickUp::Later => self.in_flight += 1,
                PickUp::Now(Some((n, from))) => {
                    let data = self.buf[..n].to_vec();
                    self.through_nat(now, id, from, data).await?;
                }
                PickUp::Now(None) => {
                    tracing::warn!(src = %t.src, dst = %t.dst, "datagram lost on loopback")
                }
            },
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
        let socket = self.hosts[d].ports[port].socket.clone();
        let Some((n, _)) = receive(&socket, self.buf).await? else {
            tracing::warn!(dst = %inside, "datagram lost on loopback on its way out of the NAT");
            return Ok(());
        };
        deliver(
            self.hosts,
            self.observer,
            self.net.plane.as_deref_mut(),
            (now, d, port, from),
            &self.buf[..n],
        );
        Ok(())
    }

    /// Real time: a receive task reported a datagram.
    pub(super) async fn arrived(
        &mut self,
        now: Instant,
        inbox: Inbox,
        from: SocketAddr,
        data: Vec<u8>,
    ) -> std::io::Result<()> {
        match inbox {
            Inbox::Host(i, port) => {
                let plane = self.net.plane.as_deref_mut();
                deliver(
                    self.hosts,
                    self.observer,
                    plane,
                    (now, i, port, from),
                    &data,
                );
                Ok(())
            }
            Inbox::Mapping(id) => self.through_nat(now, id, from, data).await,
        }
    }
}

/// What `host`'s egress makes of `t`, sent at `now`: a host with a clear path (no egress)
/// delivers at once.
fn fate_of(egress: &mut [Option<Egress>], host: usize, now: Instant, t: &Transmit) -> Fate {
    match egress.get_mut(host).and_then(Option::as_mut) {
        Some(egress) => egress.send(now, ip_packet_len(t.dst, t.payload.len())),
        None => Fate::Delivered {
            at: now,
            copy: None,
        },
    }
}

/// Puts `t` on the path at its fate's delivery time (and its duplicate's), or drops it.
fn hold(path: &mut Path<Transmit>, fate: Fate, t: Transmit) {
    match fate {
        Fate::Dropped(reason) => {
            tracing::trace!(?reason, src = %t.src, dst = %t.dst, "path dropped a datagram");
        }
        Fate::Delivered {
            at,
            copy: Some(copy),
        } => {
            path.hold(at, t.clone());
            path.hold(copy, t);
        }
        Fate::Delivered { at, copy: None } => path.hold(at, t),
    }
}

/// Hands a datagram that arrived at `host`'s port `port` from `from` to its endpoint,
/// without the NAT-T port's marker, if the observer lets it in; anything that is not an
/// IKE message (keepalives, unmarked IKE) goes to the observer instead, ESP to the data
/// plane if there is one (else to the observer too).
fn deliver(
    hosts: &mut [Host],
    observer: &mut dyn Observer,
    plane: Option<&mut DataPlane>,
    (now, host, port, from): (Instant, usize, usize, SocketAddr),
    data: &[u8],
) {
    let Some(h) = hosts.get_mut(host) else {
        return;
    };
    if !h.alive {
        if let Some(p) = h.ports.get(port) {
            observer.host_down(host, (now, p.addr, from), data);
        }
        return;
    }
    if !observer.admit(host, from) {
        return;
    }
    let Some(p) = h.ports.get(port) else {
        return;
    };
    let (role, local) = (p.role, p.addr);
    let what = match role.classify(local, from, data) {
        Received::Ike(message) => {
            tracing::debug!(host, %from, %local, len = message.len(), "receive");
            observer.handle(host, &mut h.endpoint, (now, local, from), message);
            return;
        }
        Received::Keepalive => NotIke::Keepalive,
        Received::Esp => {
            match plane {
                Some(plane) => plane.arrived(now, host, from, data, &mut h.endpoint),
                None => observer.esp(host, &mut h.endpoint, (now, local, from), data),
            }
            return;
        }
        Received::UnmarkedIke => NotIke::UnmarkedIke,
    };
    observer.not_ike(host, &mut h.endpoint, (now, local, from), what);
}
