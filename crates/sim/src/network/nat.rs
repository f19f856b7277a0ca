//! A NAT in front of hosts — the one place where a relay is right (DESIGN.md, "Network
//! conditions without false NAT"): it lives on its own loopback address, and the peer on the
//! outside sees that address and a mapped port as the source, so NAT detection (RFC 7296
//! §2.23) finds it for real.
//!
//! The model, in RFC 4787's terms: endpoint-independent mapping and filtering (one outside
//! port per inside address, reachable by anyone who knows it), refreshed by outbound
//! datagrams only (inbound refresh is optional in RFC 4787 REQ-6; without it a silent host
//! behind the NAT loses its mapping, which is what NAT keepalives are for). A mapping idle
//! for `mapping_timeout` is gone, and at each `rebind_at` time every mapping is dropped;
//! either way the next outbound datagram gets a new outside port, and datagrams sent to
//! the old one are dropped.
//!
//! Both legs are real UDP: the host behind the NAT sends to the NAT's inside socket, the
//! NAT sends on from the mapping's outside socket; inbound, the mapping's socket receives
//! and the NAT relays from its inside socket. The driver moves the datagrams; this type
//! keeps the sockets and the mapping table.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// What the NAT does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatConfig {
    /// The NAT's (outside) address: what the peer sees as the source.
    pub outside_ip: IpAddr,
    /// A mapping no outbound datagram has used for this long is gone.
    pub mapping_timeout: Duration,
    /// Times (from the start) at which the NAT drops every mapping.
    pub rebind_at: Vec<Duration>,
}

/// One inside address's outside port.
pub struct Mapping {
    pub id: u64,
    pub inside: SocketAddr,
    pub outside: SocketAddr,
    pub socket: Arc<UdpSocket>,
    created: Instant,
    last_outbound: Instant,
    /// The real-time driver's receive task for `socket`.
    task: Option<JoinHandle<()>>,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The mapping an outbound datagram leaves through.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub id: u64,
    pub socket: Arc<UdpSocket>,
    pub outside: SocketAddr,
    /// A new mapping (a new outside port).
    pub created: bool,
}

/// What the NAT did, for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NatStats {
    pub mappings: u64,
    pub outbound: u64,
    pub inbound: u64,
    /// Inbound datagrams for a mapping that had expired or been rebound.
    pub dropped: u64,
}

pub struct Nat {
    config: NatConfig,
    start: Instant,
    inside: Arc<UdpSocket>,
    inside_addr: SocketAddr,
    /// The hosts behind the NAT.
    hosts: Vec<SocketAddr>,
    mappings: Vec<Mapping>,
    next_id: u64,
    pub stats: NatStats,
}

/// A UDP socket on `ip`, port chosen by the OS.
fn bind(ip: IpAddr) -> std::io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(SocketAddr::new(ip, 0))?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

impl Nat {
    /// Binds the NAT's inside socket on its (loopback) address. `start` is the scenario's
    /// time zero, from which `rebind_at` counts. Needs a tokio runtime.
    pub fn bind(config: NatConfig, start: Instant) -> std::io::Result<Nat> {
        if !config.outside_ip.is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a loopback address", config.outside_ip),
            ));
        }
        let inside = bind(config.outside_ip)?;
        let inside_addr = inside.local_addr()?;
        Ok(Nat {
            config,
            start,
            inside: Arc::new(inside),
            inside_addr,
            hosts: Vec::new(),
            mappings: Vec::new(),
            next_id: 0,
            stats: NatStats::default(),
        })
    }

    /// Puts the host at `addr` behind the NAT: everything it sends goes through it.
    pub fn put_behind(&mut self, addr: SocketAddr) {
        self.hosts.push(addr);
    }

    pub fn is_behind(&self, addr: SocketAddr) -> bool {
        self.hosts.contains(&addr)
    }

    pub fn outside_ip(&self) -> IpAddr {
        self.config.outside_ip
    }

    pub fn inside_socket(&self) -> &Arc<UdpSocket> {
        &self.inside
    }

    pub fn inside_addr(&self) -> SocketAddr {
        self.inside_addr
    }

    /// Whether `m` still maps at `now`: used by an outbound datagram within the timeout,
    /// and no rebind since it was made.
    fn live(&self, m: &Mapping, now: Instant) -> bool {
        let idle = now.saturating_duration_since(m.last_outbound) <= self.config.mapping_timeout;
        let rebound = self
            .config
            .rebind_at
            .iter()
            .map(|r| self.start + *r)
            .any(|r| m.created < r && r <= now);
        idle && !rebound
    }

    /// An outbound datagram from `inside` at `now`: its live mapping, refreshed, or a new one
    /// on a new outside port.
    pub fn outbound(&mut self, now: Instant, inside: SocketAddr) -> std::io::Result<Outbound> {
        self.stats.outbound += 1;
        let existing = self.mappings.iter().position(|m| m.inside == inside);
        if let Some(i) = existing.filter(|&i| self.live(&self.mappings[i], now)) {
            let m = &mut self.mappings[i];
            m.last_outbound = now;
            return Ok(Outbound {
                id: m.id,
                socket: m.socket.clone(),
                outside: m.outside,
                created: false,
            });
        }
        // Bound before the old socket closes, so the port is a new one.
        let socket = Arc::new(bind(self.config.outside_ip)?);
        let outside = socket.local_addr()?;
        self.next_id += 1;
        self.stats.mappings += 1;
        let id = self.next_id;
        let m = Mapping {
            id,
            inside,
            outside,
            socket: socket.clone(),
            created: now,
            last_outbound: now,
            task: None,
        };
        match existing {
            Some(i) => {
                tracing::debug!(%inside, old = %self.mappings[i].outside, new = %outside, "NAT: mapping gone, new outside port");
                self.mappings[i] = m;
            }
            None => {
                tracing::debug!(%inside, %outside, "NAT: new mapping");
                self.mappings.push(m);
            }
        }
        Ok(Outbound {
            id,
            socket,
            outside,
            created: true,
        })
    }

    /// A datagram arrived at mapping `id`'s outside socket at `now`: the inside address it
    /// goes to, or `None` if the mapping is gone (the datagram is dropped).
    pub fn inbound(&mut self, now: Instant, id: u64) -> Option<SocketAddr> {
        let inside = self
            .mappings
            .iter()
            .find(|m| m.id == id)
            .filter(|m| self.live(m, now))
            .map(|m| m.inside);
        match inside {
            Some(_) => self.stats.inbound += 1,
            None => {
                tracing::debug!(id, "NAT: datagram for a mapping that is gone dropped");
                self.stats.dropped += 1;
            }
        }
        inside
    }

    /// The mapping whose outside address is `outside`, live or not.
    pub fn mapping_at(&self, outside: SocketAddr) -> Option<&Mapping> {
        self.mappings.iter().find(|m| m.outside == outside)
    }

    /// Hands mapping `id` the task that receives on its socket (aborted with the mapping).
    pub fn set_task(&mut self, id: u64, task: JoinHandle<()>) {
        match self.mappings.iter_mut().find(|m| m.id == id) {
            Some(m) => m.task = Some(task),
            None => task.abort(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nat(timeout: u64, rebind: &[u64], start: Instant) -> Nat {
        let config = NatConfig {
            outside_ip: "127.0.3.1".parse().unwrap(),
            mapping_timeout: Duration::from_secs(timeout),
            rebind_at: rebind.iter().map(|s| Duration::from_secs(*s)).collect(),
        };
        Nat::bind(config, start).unwrap()
    }

    #[tokio::test]
    async fn mappings_last_while_used_and_move_when_idle_or_rebound() {
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        let mut nat = nat(30, &[100], t0);
        let cgw: SocketAddr = "127.0.2.1:40000".parse().unwrap();
        let other: SocketAddr = "127.0.2.1:40001".parse().unwrap();
        nat.put_behind(cgw);
        assert!(nat.is_behind(cgw) && !nat.is_behind(other));

        let a = nat.outbound(s(0), cgw).unwrap();
        assert!(a.created && a.outside.ip() == nat.outside_ip() && a.outside != nat.inside_addr());
        let b = nat.outbound(s(20), cgw).unwrap();
        assert_eq!(
            (b.id, b.outside, b.created),
            (a.id, a.outside, false),
            "refreshed within the timeout"
        );
        assert_eq!(
            nat.inbound(s(50), a.id),
            Some(cgw),
            "20 s + 30 s: still mapped"
        );
        let o = nat.outbound(s(21), other).unwrap();
        assert_ne!(o.outside, a.outside, "one outside port per inside address");

        assert_eq!(
            nat.inbound(s(51), a.id),
            None,
            "idle past the timeout: gone"
        );
        let c = nat.outbound(s(60), cgw).unwrap();
        assert!(c.created && c.outside != a.outside);
        assert!(
            nat.mapping_at(a.outside).is_none(),
            "the old port is closed"
        );

        assert_eq!(nat.inbound(s(99), c.id), None, "idle 39 s");
        let d = nat.outbound(s(95), cgw).unwrap();
        assert!(d.created);
        assert_eq!(nat.inbound(s(99), d.id), Some(cgw));
        assert_eq!(nat.inbound(s(100), d.id), None, "rebound at 100 s");
        let e = nat.outbound(s(100), cgw).unwrap();
        assert!(e.created && e.outside != d.outside);
        assert_eq!(
            nat.inbound(s(101), e.id),
            Some(cgw),
            "made at the rebind: lives on"
        );
    }
}
