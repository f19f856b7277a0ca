//! The data plane's glue (docs/data-plane.md): ike-core's CHILD SAs installed into each
//! simulated host's `esp::Sad`, the `lan` networks' packets through them onto the wire,
//! and what arrives through them back into the networks.
//!
//! # Types
//! - [`DataPlane`]: one per connection (in the driver's `Net`) — a [`HostPlane`] per
//!   simulated host (`host.rs`: its `Sad`, each CHILD SA's outer addresses), one `lan::Lan`
//!   per side (the VPC behind every AWS endpoint, on-premises behind the CGW), the
//!   per-minute bytes of the AWS endpoints (`minutes.rs`).
//! - [`FacingPlane`] (`facing.rs`): one host facing a real peer (`serve`'s tunnels,
//!   `connect`'s CGW): a `HostPlane`, one `lan::Lan`, its sockets.
//! - [`lan_sites`] (`sites.rs`): a scenario's networks and flows as `lan` sites.
//! - [`pair_spec`] (`spec.rs`): an `ike_core::ipsec::EspSaPair` as an `esp::PairSpec`.
//! - [`DataPlaneReport`] (`report.rs`): the counters at the end, in `RunOutput`.
//!
//! # Flow
//! 1. The driver drains each endpoint's `poll_ipsec` into its host's `Sad`
//!    ([`DataPlane::ipsec`]); a host that goes down loses it ([`DataPlane::crash`]).
//! 2. The lans' timers are deadlines of the loop ([`DataPlane::poll_timeout`]); what they
//!    send ([`DataPlane::poll_transmit`]) is routed (below), checked against AWS's MTU,
//!    sealed, and handed to the driver as a datagram: plain ESP from the host's ESP port
//!    to the peer's (the port that stands for IP protocol 50), UDP-encapsulated ESP from
//!    NAT-T port to NAT-T port. The driver applies the egress conditions and the NAT to
//!    it like to any datagram.
//! 3. ESP that arrives ([`DataPlane::arrived`]) is opened by SPI (replay window,
//!    integrity, selectors); an authentic packet tells the endpoint it heard its peer
//!    (`Endpoint::esp_arrived`: on-demand DPD, RFC 3706 §5.3) and goes into the host's lan,
//!    which may answer (step 2 again).
//!
//! 4. A packet no tunnel takes (none of the hosts in front of its lan holds a CHILD SA,
//!    or the one routed to has none whose selectors hold it) is dropped and counted, and
//!    offered to those hosts' endpoints in tunnel order
//!    ([`DataPlane::poll_acquire`], `Endpoint::acquire`): a CGW with a trap policy
//!    negotiates the CHILD SA for it, as a kernel's acquire makes charon do.
//!
//! # Routing
//! A packet from the VPC leaves through the AWS endpoint of the tunnel `[vpc]
//! prefer_tunnel` names while it has a CHILD SA installed, else of the lowest-numbered
//! tunnel that has one; from on-premises likewise through the CGW's side (`[onprem]
//! prefer_tunnel`). AWS documents that with both tunnels up it picks one for its outbound
//! traffic (static routes: either; BGP: by its path selection) and does not say which; the
//! lowest number is ikesim's deterministic stand-in, `prefer_tunnel` the switch. With no
//! tunnel up the packet is dropped and counted (`vpc_no_tunnel`, `onprem_no_tunnel`).
//!
//! # The CGW's firewall
//! With `[onprem] firewall = "stateful"` a `lan::Firewall` stands between the CGW's
//! tunnels and on-premises, each tunnel a link: what on-premises sends passes it before it
//! is sealed, what a CGW opens before it is delivered. A drop counts on the CGW host of the
//! tunnel (`firewall_drops`): asymmetric routing made visible.
//!
//! # AWS's MTU
//! AWS documents a tunnel MTU of 1446 bytes (MSS 1406) and no path MTU discovery. That is
//! what AES-GCM leaves of a 1500-byte outer packet: 1500 − 20 (outer IPv4) − 8 (SPI,
//! sequence number) − 8 (IV) − 16 (ICV) − 2 (pad length, next header) = 1446, a multiple of
//! 4 with the trailer as ESP needs. With NAT-T the UDP header takes 8 more: 1438. An inner
//! packet from the VPC larger than that is fragmented before encryption, or — with DF set
//! — dropped and counted, with no ICMP back: the classic black hole.

mod facing;
mod fates;
mod host;
mod minutes;
mod report;
mod sites;
mod spec;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use ike_core::ipsec::{EspSaPair, IpsecChange};
use ike_core::{Endpoint, Transmit};
use lan::{Firewall, Lan};
use vpn_log::DataBytes;

pub(crate) use facing::{Arrival, FacingPlane};
use fates::Fates;
pub(crate) use fates::{Cause, PacketFate, PacketNote};
pub(crate) use host::HostPlane;
pub use host::SaReport;
use minutes::Minutes;
pub use report::{DataPlaneReport, FlowReport, HostReport};
pub(crate) use sites::lan_sites;
pub use spec::{pair_spec, selector, suite, SpecError};

use crate::scenario::flows::{DataPlaneSpec, FirewallMode, Side};

/// AWS's tunnel MTU for inner packets (see the module documentation).
pub const AWS_MTU: u16 = 1446;
/// AWS's tunnel MTU for inner packets with NAT-T (8 bytes of UDP header less).
pub const AWS_MTU_NAT_T: u16 = 1438;

/// The echo port (RFC 862) a UDP flow and a request/response flow send to.
const ECHO_PORT: u16 = 7;

/// The lans by side.
const VPC: usize = 0;
const ONPREM: usize = 1;

/// One simulated host's place in the data plane.
pub(crate) struct HostSetup {
    /// The host's ESP port (its stand-in for IP protocol 50).
    pub esp_port: SocketAddr,
    /// Whether it is an AWS endpoint (in front of the VPC) or a CGW (of on-premises).
    pub aws: bool,
    /// Its tunnel's number from 1: the route's order.
    pub tunnel: usize,
    /// Its inbound anti-replay window.
    pub replay_window: u32,
    /// Seeds its SAs' IVs.
    pub seed: u64,
}

/// Per host: its ESP state and where it sits.
struct Seat {
    plane: HostPlane,
    setup: HostSetup,
    mtu_drops: u64,
    fragmented: u64,
    firewall_drops: u64,
}

/// A connection's data plane (see the module documentation).
pub struct DataPlane {
    seats: Vec<Seat>,
    lans: [Lan; 2],
    /// Host indices in front of each lan, in tunnel order.
    front: [Vec<usize>; 2],
    /// Per lan, the tunnel it sends over while that one is up.
    prefer: [Option<usize>; 2],
    /// The CGW's connection tracking, between its tunnels and on-premises.
    firewall: Option<Firewall>,
    no_tunnel: [u64; 2],
    minutes: Minutes,
    /// What became of each packet, for the timeline.
    fates: Fates,
    /// Sealed datagrams not yet handed to the driver (a fragmented packet gives several).
    ready: VecDeque<(usize, Transmit)>,
    /// Packets no tunnel took, for the endpoints' trap policies: (side, source,
    /// destination).
    acquires: VecDeque<Acquire>,
    seal_buf: Vec<u8>,
    open_buf: Vec<u8>,
}

/// A packet of a lan that no tunnel took (`DataPlane::poll_acquire`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Acquire {
    /// Its source and destination.
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The lan it came from (`VPC`, `ONPREM`).
    side: usize,
}

/// The source and destination of an IPv4 packet (RFC 791 §3.1).
fn addresses(packet: &[u8]) -> Option<(IpAddr, IpAddr)> {
    let at = |i: usize| -> Option<IpAddr> {
        let b: [u8; 4] = packet.get(i..i + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(b).into())
    };
    Some((at(12)?, at(16)?))
}

/// Whether an IPv4 packet has Don't Fragment set (RFC 791 §3.1).
fn dont_fragment(packet: &[u8]) -> bool {
    packet.get(6).is_some_and(|b| b & 0x40 != 0)
}

impl DataPlane {
    /// The data plane of a connection whose hosts are `hosts` (in the driver's order; a
    /// host without a seat has none), starting at `t0`. `first_minute_end`: when the minute
    /// of the records' clock the run starts in ends. `keep_pairs`: remember every pair
    /// installed, for `--keys`.
    pub(crate) fn new(
        spec: &DataPlaneSpec,
        hosts: Vec<HostSetup>,
        t0: Instant,
        first_minute_end: Instant,
        lan_seed: u64,
        keep_pairs: bool,
    ) -> Result<DataPlane, lan::SiteError> {
        let [vpc, onprem] = lan_sites(spec);
        let lans = [
            Lan::new(vpc, t0, lan_seed)?,
            Lan::new(onprem, t0, lan_seed ^ 0x0a0b_0c0d)?,
        ];
        let mut front: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        for (i, h) in hosts.iter().enumerate() {
            front[if h.aws { VPC } else { ONPREM }].push(i);
        }
        for f in &mut front {
            f.sort_by_key(|&i| hosts[i].tunnel);
        }
        let aws: Vec<usize> = front[VPC].clone();
        let seats = hosts
            .into_iter()
            .map(|setup| Seat {
                plane: HostPlane::new(setup.replay_window, setup.seed, keep_pairs),
                setup,
                mtu_drops: 0,
                fragmented: 0,
                firewall_drops: 0,
            })
            .collect();
        Ok(DataPlane {
            seats,
            lans,
            front,
            prefer: [spec.vpc.prefer_tunnel, spec.onprem.prefer_tunnel],
            firewall: (spec.firewall == FirewallMode::Stateful).then(Firewall::new),
            no_tunnel: [0; 2],
            minutes: Minutes::new(aws, first_minute_end),
            fates: Fates::default(),
            ready: VecDeque::new(),
            acquires: VecDeque::new(),
            seal_buf: Vec::with_capacity(2048),
            open_buf: Vec::with_capacity(2048),
        })
    }

    /// One change of `host`'s endpoint (`Endpoint::poll_ipsec`).
    pub(crate) fn ipsec(&mut self, host: usize, change: IpsecChange) {
        if let Some(s) = self.seats.get_mut(host) {
            s.plane.apply(change);
        }
    }

    /// `host` is down: its SAs are gone (counted as removed).
    pub(crate) fn crash(&mut self, host: usize) {
        if let Some(s) = self.seats.get_mut(host).filter(|s| s.plane.up()) {
            s.plane.crash();
        }
    }

    /// The ESP port of every host, in host order.
    pub(crate) fn esp_ports(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.seats.iter().map(|s| s.setup.esp_port)
    }

    /// The lans' next deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.lans.iter().filter_map(Lan::poll_timeout).min()
    }

    /// What the lans have due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        for lan in &mut self.lans {
            if lan.poll_timeout().is_some_and(|t| t <= now) {
                lan.handle_timeout(now);
            }
        }
    }

    /// The next ESP datagram to put on the wire, and the host that sends it.
    pub(crate) fn poll_transmit(&mut self, now: Instant) -> Option<(usize, Transmit)> {
        loop {
            if let Some(t) = self.ready.pop_front() {
                return Some(t);
            }
            let (side, packet) = match self.lans[VPC].poll_packet() {
                Some(p) => (VPC, p),
                None => (ONPREM, self.lans[ONPREM].poll_packet()?),
            };
            self.send(now, side, &packet);
        }
    }

    /// Routes one inner packet from `side`'s lan (module documentation, "Routing") and
    /// seals it.
    fn send(&mut self, now: Instant, side: usize, packet: &[u8]) {
        let seats = &self.seats;
        let up = |h: &usize| seats[*h].plane.up();
        let front = &self.front[side];
        let preferred = self.prefer[side]
            .and_then(|n| front.iter().copied().find(|&h| seats[h].setup.tunnel == n))
            .filter(up);
        let Some(host) = preferred.or_else(|| front.iter().copied().find(up)) else {
            self.no_tunnel[side] += 1;
            self.acquire(side, packet);
            if let Some(&first) = self.front[side].first() {
                let fate = PacketFate::Dropped(Cause::NoTunnel);
                self.fates.note(now, first, true, fate);
            }
            return;
        };
        if side == ONPREM {
            let tunnel = self.seats[host].setup.tunnel;
            if let Some(drop) = self
                .firewall
                .as_mut()
                .and_then(|f| f.outbound(now, tunnel, packet))
            {
                tracing::trace!(host, ?drop, "firewall dropped an outbound packet");
                self.seats[host].firewall_drops += 1;
                return;
            }
        }
        if side == VPC {
            let mtu = if self.seats[host].plane.encapsulated() {
                AWS_MTU_NAT_T
            } else {
                AWS_MTU
            };
            if packet.len() > usize::from(mtu) {
                if dont_fragment(packet) {
                    self.seats[host].mtu_drops += 1;
                    let fate = PacketFate::Dropped(Cause::Mtu);
                    self.fates.note(now, host, true, fate);
                    return;
                }
                match lan::fragment(packet, mtu) {
                    Ok(fragments) => {
                        self.seats[host].fragmented += 1;
                        for f in &fragments {
                            self.seal(now, host, f);
                        }
                    }
                    Err(_) => {
                        self.seats[host].mtu_drops += 1;
                        let fate = PacketFate::Dropped(Cause::Mtu);
                        self.fates.note(now, host, true, fate);
                    }
                }
                return;
            }
        }
        self.seal(now, host, packet);
    }

    /// `packet` from `side`'s lan found no CHILD SA: for the trap policies.
    fn acquire(&mut self, side: usize, packet: &[u8]) {
        if let Some((src, dst)) = addresses(packet) {
            self.acquires.push_back(Acquire { src, dst, side });
        }
    }

    fn seal(&mut self, now: Instant, host: usize, inner: &[u8]) {
        let seat = &mut self.seats[host];
        let sealed = match seat.plane.sad.seal(inner, &mut self.seal_buf) {
            Ok(s) => s,
            Err(drop) => {
                tracing::trace!(host, %drop, "not sealed");
                if drop == esp::Drop::NoSa {
                    let side = if seat.setup.aws { VPC } else { ONPREM };
                    self.acquire(side, inner);
                }
                let fate = PacketFate::Dropped(Cause::Esp(drop));
                self.fates.note(now, host, true, fate);
                return;
            }
        };
        let Some(outer) = seat.plane.outer(sealed.spi_in) else {
            return;
        };
        let (src, dst) = if outer.encapsulated {
            (outer.local, outer.remote)
        } else {
            // Plain ESP to the peer's address: its ESP port. Two hosts may share an
            // address (a CGW's tunnels): the one holding the SPI takes it, as a kernel's
            // SA lookup would.
            let ip = outer.remote.ip();
            let peer = |s: &&Seat| s.setup.esp_port.ip() == ip;
            let dst = self
                .seats
                .iter()
                .filter(peer)
                .find(|s| s.plane.sad.counters(sealed.spi_out).is_some())
                .or_else(|| self.seats.iter().find(peer))
                .map(|s| s.setup.esp_port);
            let Some(dst) = dst else {
                return;
            };
            (self.seats[host].setup.esp_port, dst)
        };
        if self.seats[host].setup.aws {
            self.minutes.add(host, now, inner.len(), false);
        }
        let t = Transmit {
            src,
            dst,
            payload: self.seal_buf.clone(),
        };
        self.ready.push_back((host, t));
    }

    /// ESP (`datagram`, its SPI first) arrived at `host` from `from`: opened, told to the
    /// endpoint when authentic, and its inner packet handed to the host's lan.
    pub(crate) fn arrived(
        &mut self,
        now: Instant,
        host: usize,
        from: SocketAddr,
        datagram: &[u8],
        endpoint: &mut Endpoint,
    ) {
        let Some(seat) = self.seats.get_mut(host) else {
            return;
        };
        self.open_buf.clear();
        self.open_buf.extend_from_slice(datagram);
        let opened = match seat.plane.sad.open(&mut self.open_buf) {
            Ok(o) => o,
            Err(drop) => {
                tracing::trace!(host, %from, %drop, "ESP dropped");
                let fate = PacketFate::Dropped(Cause::Esp(drop));
                self.fates.note(now, host, false, fate);
                return;
            }
        };
        self.fates.note(now, host, false, PacketFate::Delivered);
        endpoint.esp_arrived(now, from, opened.spi_in);
        let mut inner = &self.open_buf[opened.inner];
        let reassembled;
        let side = if seat.setup.aws {
            self.minutes.add(host, now, inner.len(), true);
            VPC
        } else {
            if let Some(firewall) = &mut self.firewall {
                match firewall.inbound(now, seat.setup.tunnel, inner) {
                    lan::Inbound::Pass => {}
                    lan::Inbound::Reassembled(whole) => {
                        reassembled = whole;
                        inner = &reassembled;
                    }
                    lan::Inbound::Held => return,
                    lan::Inbound::Dropped(drop) => {
                        tracing::trace!(host, ?drop, "firewall dropped an inbound packet");
                        seat.firewall_drops += 1;
                        return;
                    }
                }
            }
            ONPREM
        };
        let delivery = self.lans[side].deliver(now, inner);
        tracing::trace!(host, ?delivery, "inner packet delivered");
    }

    /// The next packet that no tunnel took, and the hosts in front of its lan in tunnel
    /// order: the driver offers it to their endpoints (`Endpoint::acquire`) until one
    /// negotiates a CHILD SA for it.
    pub(crate) fn poll_acquire(&mut self) -> Option<(Acquire, &[usize])> {
        let a = self.acquires.pop_front()?;
        Some((a, &self.front[a.side]))
    }

    /// What became of the next packet since the last call (for the timeline).
    pub(crate) fn poll_fate(&mut self) -> Option<PacketNote> {
        self.fates.pop()
    }

    /// The next minute of an AWS endpoint that is over at `now`: (host, its end, bytes).
    pub(crate) fn poll_minute(&mut self, now: Instant) -> Option<(usize, Instant, DataBytes)> {
        self.minutes.close(now);
        self.minutes.pop()
    }

    /// At the end of the run: the minutes still open, in time order.
    pub(crate) fn last_minutes(&mut self) -> Vec<(usize, Instant, DataBytes)> {
        self.minutes.close_all();
        std::iter::from_fn(|| self.minutes.pop()).collect()
    }

    /// Every CHILD SA installed, per host (for `--keys`; empty unless asked for).
    pub(crate) fn installed_pairs(&self) -> impl Iterator<Item = &EspSaPair> + '_ {
        self.seats
            .iter()
            .filter_map(|s| s.plane.installed.as_ref())
            .flatten()
    }

    /// The counters, hosts named by `names` (in host order).
    pub(crate) fn report(&self, names: &[String]) -> DataPlaneReport {
        let hosts = self
            .seats
            .iter()
            .enumerate()
            .map(|(i, s)| HostReport {
                host: names.get(i).cloned().unwrap_or_else(|| format!("host-{i}")),
                sas: s.plane.report(),
                drops: *s.plane.sad.drops(),
                mtu_drops: s.mtu_drops,
                fragmented: s.fragmented,
                firewall_drops: s.firewall_drops,
                refused: s.plane.refused,
            })
            .collect();
        let flows = [(VPC, Side::Vpc), (ONPREM, Side::Onprem)]
            .into_iter()
            .flat_map(|(i, from)| {
                self.lans[i].flows().map(move |(name, stats)| FlowReport {
                    name: name.to_owned(),
                    from,
                    stats: *stats,
                })
            })
            .collect();
        DataPlaneReport {
            hosts,
            flows,
            vpc: *self.lans[VPC].stats(),
            onprem: *self.lans[ONPREM].stats(),
            vpc_no_tunnel: self.no_tunnel[VPC],
            onprem_no_tunnel: self.no_tunnel[ONPREM],
            firewall: self.firewall.as_ref().map(|f| *f.stats()),
        }
    }
}
