//! [`Firewall`]: a stateful packet filter between a network and its tunnels, as a CGW that
//! tracks connections per interface (a zone per tunnel) does — the reason asymmetric routing
//! over a VPN connection's two tunnels breaks traffic (docs/data-plane.md, "Routing over two
//! tunnels").
//!
//! A connection is the inner 5-tuple as the flows use it: for UDP the addresses and ports,
//! for ICMP echo the addresses and the echo identifier (as Linux's conntrack keys ICMP). It
//! is bound to the link (tunnel) its originator's last packet took: the originator's packets
//! move it, the other end's must come or go on the same link or are dropped. A packet that
//! only answers (an echo reply) with no connection to answer is dropped too. Fragments from a
//! link are reassembled first, as Linux's `nf_defrag` does before conntrack. A connection
//! silent for [`Firewall::TIMEOUT`] is forgotten; at most [`Firewall::MAX_CONNECTIONS`] are
//! tracked (past that a new one is dropped, as Linux drops on a full table). Other protocols
//! and other ICMP messages pass untracked: the flows send none.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::packet::{parse, Body, Parse, Transport};
use crate::reassembly::{Added, Reassembler};

/// Why the firewall dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FirewallDrop {
    /// A packet of a tracked connection on another link than the one it is bound to.
    WrongLink,
    /// An answer (an ICMP echo reply) to no tracked connection.
    NoConnection,
    /// A new connection with the table full.
    TableFull,
}

/// What [`Firewall::inbound`] let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// The packet as it came: hand it on.
    Pass,
    /// The last fragment of a datagram that passed: hand on this whole packet instead.
    Reassembled(Vec<u8>),
    /// A fragment held until its datagram is whole.
    Held,
    /// Dropped (and counted).
    Dropped(FirewallDrop),
}

/// The firewall's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FirewallStats {
    /// Packets of a connection on the wrong link.
    pub wrong_link: u64,
    /// Answers to no connection.
    pub no_connection: u64,
    /// New connections refused for a full table.
    pub table_full: u64,
    /// Connections forgotten after [`Firewall::TIMEOUT`] of silence.
    pub expired: u64,
}

impl FirewallStats {
    /// Every packet dropped.
    #[must_use]
    pub fn drops(&self) -> u64 {
        self.wrong_link + self.no_connection + self.table_full
    }
}

/// A connection: seen from the protected network, its own end first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    udp: bool,
    inside: Ipv4Addr,
    inside_port: u16,
    outside: Ipv4Addr,
    outside_port: u16,
}

#[derive(Debug, Clone, Copy)]
struct Connection {
    /// The link it is bound to.
    link: usize,
    /// Opened from the protected network (else from beyond a link).
    from_inside: bool,
    last_seen: Instant,
}

/// A stateful firewall in front of one network (see the module documentation). Sans-IO:
/// every packet carries `now`.
#[derive(Debug)]
pub struct Firewall {
    connections: HashMap<Key, Connection>,
    /// When the table is next swept of expired connections.
    next_sweep: Option<Instant>,
    reassembly: Reassembler,
    stats: FirewallStats,
}

impl Default for Firewall {
    fn default() -> Firewall {
        Firewall::new()
    }
}

/// A packet's connection and whether it only answers one (an echo reply).
fn connection(packet: &[u8], outbound: bool) -> Option<(Key, bool)> {
    let Some(Parse::Whole(p)) = parse(packet) else {
        return None;
    };
    let (udp, src_port, dst_port, answer) = match p.body {
        Body::Echo {
            transport: Transport::Echo { reply, id, .. },
            ..
        } => (false, id, id, reply),
        Body::Udp {
            transport: Transport::Udp { src, dst },
            ..
        } => (true, src, dst, false),
        _ => return None,
    };
    let key = if outbound {
        Key {
            udp,
            inside: p.src,
            inside_port: src_port,
            outside: p.dst,
            outside_port: dst_port,
        }
    } else {
        Key {
            udp,
            inside: p.dst,
            inside_port: dst_port,
            outside: p.src,
            outside_port: src_port,
        }
    };
    Some((key, answer))
}

impl Firewall {
    /// How long a silent connection is remembered (Linux's `nf_conntrack_icmp_timeout` and
    /// `nf_conntrack_udp_timeout`: 30 s).
    pub const TIMEOUT: Duration = Duration::from_secs(30);
    /// The most connections tracked at once (Linux's `nf_conntrack_max` on a small box).
    pub const MAX_CONNECTIONS: usize = 65_536;

    /// An empty table.
    #[must_use]
    pub fn new() -> Firewall {
        Firewall {
            connections: HashMap::new(),
            next_sweep: None,
            reassembly: Reassembler::new(
                crate::Lan::REASSEMBLY_TIMEOUT,
                crate::Lan::MAX_REASSEMBLIES,
            ),
            stats: FirewallStats::default(),
        }
    }

    /// A packet from the network leaving through `link` at `now`: `None` if it may go.
    pub fn outbound(&mut self, now: Instant, link: usize, packet: &[u8]) -> Option<FirewallDrop> {
        let (key, answer) = connection(packet, true)?;
        self.check(now, link, key, answer, true)
    }

    /// A packet for the network arriving from `link` at `now`.
    pub fn inbound(&mut self, now: Instant, link: usize, packet: &[u8]) -> Inbound {
        if let Some(Parse::Fragment(fragment)) = parse(packet) {
            self.reassembly.expire(now);
            return match self.reassembly.add(now, &fragment) {
                Added::Held => Inbound::Held,
                // The network counts it malformed.
                Added::Malformed => Inbound::Pass,
                Added::Whole(whole) => match self.inbound(now, link, &whole) {
                    Inbound::Pass => Inbound::Reassembled(whole),
                    other => other,
                },
            };
        }
        let Some((key, answer)) = connection(packet, false) else {
            return Inbound::Pass;
        };
        match self.check(now, link, key, answer, false) {
            None => Inbound::Pass,
            Some(drop) => Inbound::Dropped(drop),
        }
    }

    /// The rule (module documentation) for one packet of `key` on `link`, from inside when
    /// `outbound`.
    fn check(
        &mut self,
        now: Instant,
        link: usize,
        key: Key,
        answer: bool,
        outbound: bool,
    ) -> Option<FirewallDrop> {
        self.sweep(now);
        let live = self
            .connections
            .get(&key)
            .filter(|c| now.saturating_duration_since(c.last_seen) < Firewall::TIMEOUT)
            .copied();
        let drop = match live {
            Some(c) if c.from_inside == outbound => {
                self.connections.insert(
                    key,
                    Connection {
                        link,
                        last_seen: now,
                        ..c
                    },
                );
                None
            }
            Some(c) if c.link == link => {
                self.connections.insert(
                    key,
                    Connection {
                        last_seen: now,
                        ..c
                    },
                );
                None
            }
            Some(_) => Some(FirewallDrop::WrongLink),
            None if answer => Some(FirewallDrop::NoConnection),
            None if self.connections.len() >= Firewall::MAX_CONNECTIONS
                && !self.connections.contains_key(&key) =>
            {
                Some(FirewallDrop::TableFull)
            }
            None => {
                self.connections.insert(
                    key,
                    Connection {
                        link,
                        from_inside: outbound,
                        last_seen: now,
                    },
                );
                None
            }
        };
        match drop {
            Some(FirewallDrop::WrongLink) => self.stats.wrong_link += 1,
            Some(FirewallDrop::NoConnection) => self.stats.no_connection += 1,
            Some(FirewallDrop::TableFull) => self.stats.table_full += 1,
            None => {}
        }
        drop
    }

    /// Forgets the connections silent for [`Firewall::TIMEOUT`], at most once per time-out
    /// (a connection found expired in between is treated as gone).
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|t| now < t) {
            return;
        }
        let before = self.connections.len();
        self.connections
            .retain(|_, c| now.saturating_duration_since(c.last_seen) < Firewall::TIMEOUT);
        self.stats.expired += (before - self.connections.len()) as u64;
        self.next_sweep = now.checked_add(Firewall::TIMEOUT);
    }

    /// The connections tracked now (expired ones not yet swept included).
    #[must_use]
    pub fn connections(&self) -> usize {
        self.connections.len()
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> &FirewallStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{build, Ip};

    const INSIDE: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 10);
    const OUTSIDE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);

    fn echo(reply: bool, id: u16) -> Vec<u8> {
        let (src, dst) = if reply {
            (OUTSIDE, INSIDE)
        } else {
            (INSIDE, OUTSIDE)
        };
        let ip = Ip {
            src,
            dst,
            id: 1,
            df: false,
        };
        build(ip, Transport::Echo { reply, id, seq: 1 }, &[0; 56])
    }

    fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
        let ip = Ip {
            src,
            dst,
            id: 2,
            df: false,
        };
        build(
            ip,
            Transport::Udp {
                src: sport,
                dst: dport,
            },
            &[1; 20],
        )
    }

    #[test]
    fn a_reply_passes_on_its_requests_link_and_is_dropped_on_the_other() {
        let t = Instant::now();
        let mut fw = Firewall::new();
        assert_eq!(fw.outbound(t, 1, &echo(false, 7)), None);
        assert_eq!(fw.inbound(t, 1, &echo(true, 7)), Inbound::Pass);
        assert_eq!(
            fw.inbound(t, 2, &echo(true, 7)),
            Inbound::Dropped(FirewallDrop::WrongLink)
        );
        // Another echo identifier is another connection: no request, no reply.
        assert_eq!(
            fw.inbound(t, 1, &echo(true, 8)),
            Inbound::Dropped(FirewallDrop::NoConnection)
        );
        // The request moves to link 2 (link 1 went down): its replies follow.
        assert_eq!(fw.outbound(t, 2, &echo(false, 7)), None);
        assert_eq!(fw.inbound(t, 2, &echo(true, 7)), Inbound::Pass);
        assert_eq!(
            fw.inbound(t, 1, &echo(true, 7)),
            Inbound::Dropped(FirewallDrop::WrongLink)
        );
        assert_eq!(fw.stats().drops(), 3);
    }

    #[test]
    fn a_connection_from_beyond_binds_the_answers_to_its_link() {
        let t = Instant::now();
        let mut fw = Firewall::new();
        let request = udp(OUTSIDE, INSIDE, 50_000, 7);
        let answer = udp(INSIDE, OUTSIDE, 7, 50_000);
        assert_eq!(fw.inbound(t, 2, &request), Inbound::Pass);
        assert_eq!(fw.outbound(t, 1, &answer), Some(FirewallDrop::WrongLink));
        assert_eq!(fw.outbound(t, 2, &answer), None);
        // UDP has no answers of its own: a datagram with no connection opens one.
        assert_eq!(fw.outbound(t, 1, &udp(INSIDE, OUTSIDE, 40_000, 7)), None);
        assert_eq!(fw.connections(), 2);
    }

    #[test]
    fn silent_connections_expire_and_the_table_stays_bounded() {
        let t = Instant::now();
        let mut fw = Firewall::new();
        for id in 0..1_000 {
            assert_eq!(fw.outbound(t, 1, &echo(false, id)), None);
        }
        assert_eq!(fw.connections(), 1_000);
        let later = t + Firewall::TIMEOUT;
        // Expired: the reply finds nothing, and the sweep forgot all of them.
        assert_eq!(
            fw.inbound(later, 1, &echo(true, 3)),
            Inbound::Dropped(FirewallDrop::NoConnection)
        );
        assert_eq!(fw.connections(), 0);
        assert_eq!(fw.stats().expired, 1_000);
        // Just inside the time-out a connection lives on.
        assert_eq!(fw.outbound(later, 1, &echo(false, 3)), None);
        let almost = later + Firewall::TIMEOUT - Duration::from_millis(1);
        assert_eq!(fw.inbound(almost, 1, &echo(true, 3)), Inbound::Pass);
    }

    #[test]
    fn a_full_table_refuses_new_connections_only() {
        let t = Instant::now();
        let mut fw = Firewall::new();
        for port in 0..Firewall::MAX_CONNECTIONS {
            let port = u16::try_from(port).unwrap();
            let p = udp(INSIDE, OUTSIDE, port, 7);
            assert_eq!(fw.outbound(t, 1, &p), None);
        }
        let new = udp(INSIDE, Ipv4Addr::new(10, 0, 0, 11), 1, 7);
        assert_eq!(fw.outbound(t, 1, &new), Some(FirewallDrop::TableFull));
        assert_eq!(fw.outbound(t, 1, &udp(INSIDE, OUTSIDE, 5, 7)), None);
        assert_eq!(fw.connections(), Firewall::MAX_CONNECTIONS);
    }

    #[test]
    fn fragments_are_reassembled_before_the_rule() {
        let t = Instant::now();
        let mut fw = Firewall::new();
        let ip = Ip {
            src: OUTSIDE,
            dst: INSIDE,
            id: 9,
            df: false,
        };
        let reply = build(
            ip,
            Transport::Echo {
                reply: true,
                id: 4,
                seq: 1,
            },
            &[5; 3000],
        );
        let fragments = crate::fragment(&reply, 1400).unwrap();
        assert!(fragments.len() > 1);
        let last = fragments.len() - 1;
        for f in &fragments[..last] {
            assert_eq!(fw.inbound(t, 1, f), Inbound::Held);
        }
        assert_eq!(
            fw.inbound(t, 1, &fragments[last]),
            Inbound::Dropped(FirewallDrop::NoConnection)
        );
        fw.outbound(t, 1, &echo(false, 4));
        for f in &fragments[..last] {
            fw.inbound(t, 1, f);
        }
        assert_eq!(
            fw.inbound(t, 1, &fragments[last]),
            Inbound::Reassembled(reply)
        );
    }
}
