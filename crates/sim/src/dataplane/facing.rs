//! The data plane of one host facing a real peer — a `serve` tunnel (the VPC behind it,
//! the real CGW in front) or `connect`'s CGW (on-premises behind it, the real responder in
//! front): the CHILD SAs the endpoint installs (`Endpoint::poll_ipsec`) in a
//! [`HostPlane`], the peer's UDP-encapsulated ESP opened with them and handed to the
//! simulated network (`lan::Lan`), and what that network sends — answers, and its flows'
//! packets — sealed and sent to the peer's NAT-T address from the port the SA uses
//! (docs/real-cgw.md).
//!
//! Only UDP-encapsulated ESP (RFC 3948) is carried: plain ESP (IP protocol 50) needs a
//! raw socket, and a peer on a UDP port of its own (strongSwan with kernel-libipsec, which
//! forces encapsulation) always encapsulates. A CHILD SA without encapsulation is
//! installed (its inbound SA opens whatever reaches it) but nothing is sent with it
//! (`not_encapsulated`).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use ike_core::ipsec::IpsecChange;
use tokio::net::UdpSocket;

use super::{DataPlaneReport, FlowReport, HostPlane, HostReport};
use crate::scenario::flows::Side;

/// What a facing host's data plane counted (besides the SA database's drops per reason).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PlaneCounters {
    /// ESP packets that authenticated and were handed to the network behind.
    pub packets_in: u64,
    /// Their inner bytes, after decryption (AWS's `TunnelDataIn`).
    pub bytes_in: u64,
    /// ESP packets sealed and sent to the peer.
    pub packets_out: u64,
    /// Their inner bytes, before encryption (AWS's `TunnelDataOut`).
    pub bytes_out: u64,
    /// Inner packets the network behind turned away (no such host, no such service,
    /// malformed).
    pub undeliverable: u64,
    /// Packets of the network behind that no CHILD SA could carry (the SA database's drop
    /// reason is counted too).
    pub unsealed: u64,
    /// Sealed packets of a CHILD SA without UDP encapsulation: not sent (no raw socket).
    pub not_encapsulated: u64,
    /// Sealed packets the socket refused (its buffer full, or an error).
    pub send_failed: u64,
    /// CHILD SAs the SA database could not take (a suite the data plane lacks, bad keys).
    pub install_failed: u64,
}

/// What [`FacingPlane::arrived`] made of an ESP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// It authenticated on the CHILD SA whose inbound SPI is `spi_in`; `inner` bytes went
    /// to the network behind.
    Opened { spi_in: u32, inner: usize },
    /// Dropped, for this reason (counted by the SA database).
    Dropped(esp::Drop),
}

/// One facing host's SA database (a [`HostPlane`], as a simulated host's), the network
/// behind it and its sockets.
pub(crate) struct FacingPlane {
    host: HostPlane,
    lan: lan::Lan,
    /// Which side the network is (for the report).
    side: Side,
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    /// The datagram being opened (in place).
    buf: Vec<u8>,
    /// The ESP packet being sealed.
    out: Vec<u8>,
    counters: PlaneCounters,
    /// Whether packets with no SA go to the endpoint's trap policy ([`Self::set_trap`]).
    trap: bool,
    /// Their inner addresses, for `Endpoint::acquire` ([`Self::poll_acquire`]).
    acquires: VecDeque<(IpAddr, IpAddr)>,
}

/// At most this many acquires wait for the endpoint: more of the same tell it nothing.
const ACQUIRES_QUEUED: usize = 16;

impl FacingPlane {
    /// A facing host's data plane: `site` behind it (on `side`; its flows' times count
    /// from `start`), sending on `sockets` (the host's own), with `replay_window` packets
    /// of anti-replay.
    pub fn new(
        site: lan::Site,
        side: Side,
        replay_window: u32,
        sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
        start: Instant,
        seed: u64,
    ) -> Result<FacingPlane, lan::SiteError> {
        Ok(FacingPlane {
            host: HostPlane::new(replay_window, seed, false),
            lan: lan::Lan::new(site, start, seed)?,
            side,
            sockets,
            buf: Vec::with_capacity(2_048),
            out: Vec::with_capacity(2_048),
            counters: PlaneCounters::default(),
            trap: false,
            acquires: VecDeque::new(),
        })
    }

    /// The endpoint has a trap policy (`close_action = "trap"`): a packet from behind that
    /// finds no CHILD SA is queued for it ([`Self::poll_acquire`]), as Linux's XFRM tells
    /// charon with an ACQUIRE.
    pub fn set_trap(&mut self, trap: bool) {
        self.trap = trap;
    }

    /// The inner addresses of a packet from behind that found no CHILD SA, for
    /// `Endpoint::acquire` (with [`Self::set_trap`] only).
    pub fn poll_acquire(&mut self) -> Option<(IpAddr, IpAddr)> {
        self.acquires.pop_front()
    }

    /// Applies one change the endpoint queued (install, remove, new outer addresses).
    pub fn apply(&mut self, tunnel: usize, change: IpsecChange) {
        match &change {
            IpsecChange::Install(pair) => {
                tracing::debug!(tunnel, spi_in = %format_args!("{:08x}", pair.spi_in), spi_out = %format_args!("{:08x}", pair.spi_out), remote = %pair.remote, encapsulated = pair.encapsulated, "ESP SA pair installed");
            }
            IpsecChange::Remove { spi_in } => {
                tracing::debug!(tunnel, spi_in = %format_args!("{spi_in:08x}"), "ESP SA pair removed");
            }
            IpsecChange::Update { .. } => {}
        }
        self.host.apply(change);
    }

    /// What the data plane counted so far.
    pub fn counters(&self) -> PlaneCounters {
        PlaneCounters {
            install_failed: self.host.refused,
            ..self.counters
        }
    }

    /// An ESP datagram from the peer (its SPI first): opened, and its inner packet handed
    /// to the network behind; what that answers is sealed and sent at once.
    pub fn arrived(&mut self, tunnel: usize, now: Instant, datagram: &[u8]) -> Arrival {
        self.buf.clear();
        self.buf.extend_from_slice(datagram);
        let opened = match self.host.sad.open(&mut self.buf) {
            Ok(o) => o,
            Err(reason) => return Arrival::Dropped(reason),
        };
        let Some(inner) = self.buf.get(opened.inner.clone()) else {
            return Arrival::Dropped(esp::Drop::Malformed);
        };
        self.counters.packets_in += 1;
        self.counters.bytes_in += inner.len() as u64;
        let delivery = self.lan.deliver(now, inner);
        if let lan::Delivery::Undeliverable(why) = delivery {
            self.counters.undeliverable += 1;
            tracing::debug!(
                tunnel,
                ?why,
                "inner packet turned away by the network behind"
            );
        }
        let arrival = Arrival::Opened {
            spi_in: opened.spi_in,
            inner: opened.inner.len(),
        };
        self.send_queued(tunnel);
        arrival
    }

    /// Seals and sends what the network behind has queued.
    fn send_queued(&mut self, tunnel: usize) {
        while let Some(packet) = self.lan.poll_packet() {
            let sealed = match self.host.sad.seal(&packet, &mut self.out) {
                Ok(s) => s,
                Err(reason) => {
                    self.counters.unsealed += 1;
                    tracing::debug!(tunnel, %reason, len = packet.len(), "packet from behind not sealed");
                    let queued = self.acquires.len() < ACQUIRES_QUEUED;
                    if reason == esp::Drop::NoSa && self.trap && queued {
                        self.acquires.extend(super::addresses(&packet));
                    }
                    continue;
                }
            };
            let Some(route) = self.host.outer(sealed.spi_in) else {
                self.counters.unsealed += 1;
                continue;
            };
            if !route.encapsulated {
                self.counters.not_encapsulated += 1;
                continue;
            }
            let socket = self
                .sockets
                .iter()
                .find(|(addr, _)| *addr == route.local)
                .or_else(|| self.sockets.first());
            let sent = socket.map(|(_, s)| s.try_send_to(&self.out, route.remote));
            match sent {
                Some(Ok(_)) => {
                    self.counters.packets_out += 1;
                    self.counters.bytes_out += packet.len() as u64;
                }
                Some(Err(e)) => {
                    self.counters.send_failed += 1;
                    tracing::debug!(tunnel, to = %route.remote, "ESP not sent: {e}");
                }
                None => self.counters.send_failed += 1,
            }
        }
    }

    /// When the network behind next has work (its flows' packets, answer and reassembly
    /// time-outs); `None`: nothing without input.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.lan.poll_timeout()
    }

    /// Does what is due at `now` in the network behind, and sends what it queued.
    pub fn handle_timeout(&mut self, tunnel: usize, now: Instant) {
        if self.lan.poll_timeout().is_some_and(|at| at <= now) {
            self.lan.handle_timeout(now);
            self.send_queued(tunnel);
        }
    }

    /// The SA database's drops per reason, those that happened.
    pub fn drops(&self) -> Vec<(&'static str, u64)> {
        self.host
            .sad
            .drops()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(reason, n)| (reason.name(), n))
            .collect()
    }

    /// The counters as `run -v` shows them: this host (`name`) with its SA pairs, the
    /// network's flows; what no CHILD SA took counts as finding no tunnel.
    pub fn report(&self, name: &str) -> DataPlaneReport {
        let host = HostReport {
            host: name.to_owned(),
            sas: self.host.report(),
            drops: *self.host.sad.drops(),
            mtu_drops: 0,
            fragmented: 0,
            firewall_drops: 0,
            refused: self.host.refused,
        };
        let side = self.side;
        let flows = self
            .lan
            .flows()
            .map(|(name, stats)| FlowReport {
                name: name.to_owned(),
                from: side,
                stats: *stats,
            })
            .collect();
        let (stats, no_tunnel) = (*self.lan.stats(), self.counters.unsealed);
        let mut report = DataPlaneReport {
            hosts: vec![host],
            flows,
            vpc: lan::LanStats::default(),
            onprem: lan::LanStats::default(),
            vpc_no_tunnel: 0,
            onprem_no_tunnel: 0,
            firewall: None,
        };
        match side {
            Side::Vpc => (report.vpc, report.vpc_no_tunnel) = (stats, no_tunnel),
            Side::Onprem => (report.onprem, report.onprem_no_tunnel) = (stats, no_tunnel),
        }
        report
    }
}
