//! The lanes of a timeline — one per host — and which lanes a datagram goes between,
//! from the addresses its sender wrote (a datagram to the NAT's outside address is for the
//! CGW behind it, via the NAT).

use std::net::{IpAddr, SocketAddr};

use timeline::{Lane, LaneKind};

use crate::scenario::Presentation;

/// One simulated host's lane.
#[derive(Clone, Debug)]
struct HostLane {
    lane: usize,
    addrs: Vec<SocketAddr>,
    tunnel: Option<usize>,
}

/// The NAT's lane and addresses.
#[derive(Clone, Debug)]
struct NatLane {
    lane: usize,
    outside: IpAddr,
    inside: SocketAddr,
    /// The hosts (by index) behind it.
    behind: Vec<usize>,
}

/// A host of the driver, as the lanes need it.
#[derive(Clone, Debug)]
pub(crate) struct HostSpec {
    /// The driver's index of the host.
    pub host: usize,
    /// Its addresses (IKE and NAT-T ports).
    pub addrs: Vec<SocketAddr>,
    /// Its tunnel (0-based).
    pub tunnel: usize,
    /// An AWS endpoint (else a CGW).
    pub aws: bool,
}

/// Every lane, and how hosts and addresses map onto them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lanes {
    pub lanes: Vec<Lane>,
    /// By the driver's host index.
    hosts: Vec<Option<HostLane>>,
    nat: Option<NatLane>,
    /// `serve`: the real CGWs seen so far, by address.
    real: Vec<(IpAddr, usize)>,
}

fn joined(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `127.0.1.1:500, :4500`: a host's sockets, its one address written once (lane heads are
/// narrow).
fn ports_of(addrs: &[SocketAddr]) -> String {
    let ip = addrs.first().map(SocketAddr::ip);
    if addrs.iter().any(|a| Some(a.ip()) != ip) {
        return joined(addrs);
    }
    addrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 {
                a.to_string()
            } else {
                format!(":{}", a.port())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Lanes {
    /// Lanes for `hosts`: the CGWs left, then the NAT (`(outside IP, its inside address)`)
    /// when there is one, then the AWS endpoints, each side in tunnel order.
    pub(crate) fn new(hosts: &[HostSpec], nat: Option<(IpAddr, SocketAddr)>) -> Lanes {
        let mut lanes = Lanes::default();
        let mut ordered: Vec<&HostSpec> = hosts.iter().collect();
        ordered.sort_by_key(|h| (h.aws, h.tunnel));
        let mut nat_done = nat.is_none();
        for h in ordered {
            if h.aws && !nat_done {
                if let Some((outside, inside)) = nat {
                    lanes.add_nat(outside, inside, hosts);
                }
                nat_done = true;
            }
            let (name, kind) = if h.aws {
                (format!("AWS tunnel {}", h.tunnel + 1), LaneKind::Aws)
            } else {
                (format!("CGW (tunnel {})", h.tunnel + 1), LaneKind::Cgw)
            };
            let lane = lanes.push(name, kind, joined(&h.addrs), Some(h.tunnel));
            if lanes.hosts.len() <= h.host {
                lanes.hosts.resize(h.host + 1, None);
            }
            lanes.hosts[h.host] = Some(HostLane {
                lane,
                addrs: h.addrs.clone(),
                tunnel: Some(h.tunnel),
            });
        }
        if !nat_done {
            if let Some((outside, inside)) = nat {
                lanes.add_nat(outside, inside, hosts);
            }
        }
        lanes
    }

    /// These lanes, each simulated host's address shown as `presentation` presents it,
    /// with the loopback addresses it really uses after it (docs/timeline.md): the
    /// records name the presented one, the datagrams the real ones.
    pub(crate) fn presenting(mut self, presentation: &Presentation) -> Lanes {
        for h in self.hosts.iter().flatten() {
            let Some(real) = h.addrs.first().map(SocketAddr::ip) else {
                continue;
            };
            let shown = presentation.present(real);
            if shown != real {
                self.lanes[h.lane].address = format!("{shown} (on {})", ports_of(&h.addrs));
            }
        }
        if let Some(n) = &self.nat {
            let shown = presentation.present(n.outside);
            if shown != n.outside {
                self.lanes[n.lane].address =
                    format!("{shown} (on {}, inside {})", n.outside, n.inside);
            }
        }
        self
    }

    fn add_nat(&mut self, outside: IpAddr, inside: SocketAddr, hosts: &[HostSpec]) {
        let lane = self.push(
            "NAT".to_owned(),
            LaneKind::Nat,
            format!("{outside} (inside {inside})"),
            None,
        );
        let behind = hosts.iter().filter(|h| !h.aws).map(|h| h.host).collect();
        self.nat = Some(NatLane {
            lane,
            outside,
            inside,
            behind,
        });
    }

    fn push(
        &mut self,
        name: String,
        kind: LaneKind,
        address: String,
        tunnel: Option<usize>,
    ) -> usize {
        self.lanes.push(Lane {
            name,
            kind,
            address,
            tunnel,
        });
        self.lanes.len() - 1
    }

    /// Whether `ip` is the NAT's outside address.
    pub(crate) fn is_nat(&self, ip: IpAddr) -> bool {
        self.nat.as_ref().is_some_and(|n| n.outside == ip)
    }

    /// The lane of the driver's host `host`.
    pub(crate) fn of_host(&self, host: usize) -> Option<usize> {
        self.hosts.get(host)?.as_ref().map(|h| h.lane)
    }

    /// The lane of a real CGW at `ip` (`serve`), added the first time it is seen.
    pub(crate) fn real_peer(&mut self, ip: IpAddr) -> usize {
        if let Some(&(_, lane)) = self.real.iter().find(|(a, _)| *a == ip) {
            return lane;
        }
        let lane = self.push(format!("CGW {ip}"), LaneKind::Cgw, ip.to_string(), None);
        self.real.push((ip, lane));
        lane
    }

    fn host_at(&self, addr: SocketAddr) -> Option<&HostLane> {
        self.hosts
            .iter()
            .flatten()
            .find(|h| h.addrs.contains(&addr))
    }

    /// (from, to, via) for a datagram `host` sent to `dst`.
    pub(crate) fn route(
        &mut self,
        host: usize,
        dst: SocketAddr,
    ) -> Option<(usize, usize, Option<usize>)> {
        let sender = self.hosts.get(host)?.clone()?;
        let nat = self.nat.clone();
        let behind = |h: usize| nat.as_ref().is_some_and(|n| n.behind.contains(&h));
        if let Some(to) = self.host_at(dst) {
            let receiver = self
                .hosts
                .iter()
                .position(|h| h.as_ref().is_some_and(|h| h.lane == to.lane));
            let via = (behind(host) || receiver.is_some_and(behind))
                .then(|| nat.as_ref().map(|n| n.lane))
                .flatten();
            return Some((sender.lane, to.lane, via));
        }
        if let Some(n) = nat.as_ref().filter(|n| n.outside == dst.ip()) {
            // For the CGW of the sender's tunnel, behind the NAT.
            let cgw = n.behind.iter().find_map(|&h| {
                let l = self.hosts.get(h)?.as_ref()?;
                (l.tunnel == sender.tunnel).then_some(l.lane)
            });
            return Some((sender.lane, cgw.unwrap_or(n.lane), Some(n.lane)));
        }
        let to = self.real_peer(dst.ip());
        Some((sender.lane, to, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_datagram_to_the_nat_is_for_the_cgw_behind_it_via_the_nat() {
        let hosts = [
            HostSpec {
                host: 0,
                addrs: vec![a("127.0.2.1:500"), a("127.0.2.1:4500")],
                tunnel: 0,
                aws: true,
            },
            HostSpec {
                host: 1,
                addrs: vec![a("127.0.3.1:500")],
                tunnel: 0,
                aws: false,
            },
        ];
        let lanes = Lanes::new(
            &hosts,
            Some(("127.0.9.1".parse().unwrap(), a("127.0.9.2:1"))),
        );
        let names: Vec<&str> = lanes.lanes.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["CGW (tunnel 1)", "NAT", "AWS tunnel 1"]);
        // Each lane shows its presented address, then the loopback ones it uses.
        let presentation = Presentation::new(
            [("127.0.2.1", "192.0.2.1"), ("127.0.9.1", "203.0.113.1")]
                .map(|(r, p)| (r.parse().unwrap(), p.parse().unwrap())),
        );
        let mut lanes = lanes.presenting(&presentation);
        let shown: Vec<&str> = lanes.lanes.iter().map(|l| l.address.as_str()).collect();
        assert_eq!(
            shown,
            [
                "127.0.3.1:500",
                "203.0.113.1 (on 127.0.9.1, inside 127.0.9.2:1)",
                "192.0.2.1 (on 127.0.2.1:500, :4500)"
            ]
        );
        assert_eq!(lanes.route(0, a("127.0.9.1:1024")), Some((2, 0, Some(1))));
        assert_eq!(lanes.route(1, a("127.0.2.1:4500")), Some((0, 2, Some(1))));
        // serve: a real peer gets a lane when first seen.
        let mut lanes = Lanes::new(&hosts[..1], None);
        assert_eq!(lanes.route(0, a("192.0.2.7:500")), Some((0, 1, None)));
        assert_eq!(lanes.lanes[1].name, "CGW 192.0.2.7");
    }
}
