//! One `serve` tunnel's data plane: the CHILD SAs the endpoint installs
//! (`Endpoint::poll_ipsec`) in an `esp::Sad`, the real CGW's UDP-encapsulated ESP opened
//! with them and handed to the simulated VPC (`lan::Lan`), and what the VPC answers sealed
//! and sent back to the CGW's NAT-T address from the port the SA uses — as AWS's endpoint
//! carries a tunnel's traffic (docs/real-cgw.md, "Traffic through the tunnel").
//!
//! Only UDP-encapsulated ESP (RFC 3948) is carried: plain ESP (IP protocol 50) needs a
//! raw socket, and a CGW on a UDP port of its own (strongSwan with kernel-libipsec, which
//! forces encapsulation) always encapsulates. A CHILD SA without encapsulation is
//! installed (its inbound SA opens whatever reaches it) but nothing is sent with it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ike_core::ipsec::IpsecChange;
use tokio::net::UdpSocket;

use super::vpc::Vpc;
use crate::dataplane::HostPlane;

/// What one tunnel's data plane counted (besides the SA database's drops per reason).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct PlaneCounters {
    /// ESP packets that authenticated and were handed to the VPC.
    pub packets_in: u64,
    /// Their inner bytes, after decryption (AWS's `TunnelDataIn`).
    pub bytes_in: u64,
    /// ESP packets sealed and sent to the CGW.
    pub packets_out: u64,
    /// Their inner bytes, before encryption (AWS's `TunnelDataOut`).
    pub bytes_out: u64,
    /// Inner packets the VPC turned away (no such host, no such service, malformed).
    pub undeliverable: u64,
    /// VPC packets no CHILD SA could carry (the SA database's drop reason is counted too).
    pub unsealed: u64,
    /// Sealed packets of a CHILD SA without UDP encapsulation: not sent (no raw socket).
    pub not_encapsulated: u64,
    /// Sealed packets the socket refused (its buffer full, or an error).
    pub send_failed: u64,
    /// CHILD SAs the SA database could not take (a suite the data plane lacks, bad keys).
    pub install_failed: u64,
}

/// What [`Plane::arrived`] made of an ESP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Arrival {
    /// It authenticated on the CHILD SA whose inbound SPI is `spi_in`; `inner` bytes went
    /// to the VPC.
    Opened { spi_in: u32, inner: usize },
    /// Dropped, for this reason (counted by the SA database).
    Dropped(esp::Drop),
}

/// One tunnel's SA database (a [`HostPlane`], as a simulated host's), VPC and sockets.
pub(super) struct Plane {
    host: HostPlane,
    vpc: lan::Lan,
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    /// The datagram being opened (in place).
    buf: Vec<u8>,
    /// The ESP packet being sealed.
    out: Vec<u8>,
    counters: PlaneCounters,
}

impl Plane {
    /// A tunnel's data plane: `vpc`'s hosts behind it, sending on `sockets` (the tunnel's
    /// own), with AWS's `replay_window` packets of anti-replay.
    pub fn new(
        vpc: &Vpc,
        replay_window: u32,
        sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
        start: Instant,
        seed: u64,
    ) -> Result<Plane, lan::SiteError> {
        Ok(Plane {
            host: HostPlane::new(replay_window, seed, false),
            vpc: lan::Lan::new(vpc.site(), start, seed)?,
            sockets,
            buf: Vec::with_capacity(2_048),
            out: Vec::with_capacity(2_048),
            counters: PlaneCounters::default(),
        })
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

    /// An ESP datagram from the CGW (its SPI first): opened, and its inner packet handed
    /// to the VPC; what the VPC answers is sealed and sent at once.
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
        let delivery = self.vpc.deliver(now, inner);
        if let lan::Delivery::Undeliverable(why) = delivery {
            self.counters.undeliverable += 1;
            tracing::debug!(tunnel, ?why, "inner packet turned away by the VPC");
        }
        let arrival = Arrival::Opened {
            spi_in: opened.spi_in,
            inner: opened.inner.len(),
        };
        self.send_answers(tunnel);
        arrival
    }

    /// Seals and sends what the VPC has queued.
    fn send_answers(&mut self, tunnel: usize) {
        while let Some(packet) = self.vpc.poll_packet() {
            let sealed = match self.host.sad.seal(&packet, &mut self.out) {
                Ok(s) => s,
                Err(reason) => {
                    self.counters.unsealed += 1;
                    tracing::debug!(tunnel, %reason, len = packet.len(), "VPC packet not sealed");
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

    /// When the VPC next has work (reassembly time-outs).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.vpc.poll_timeout()
    }

    /// Does what is due at `now` in the VPC, and sends what it queued.
    pub fn handle_timeout(&mut self, tunnel: usize, now: Instant) {
        if self.vpc.poll_timeout().is_some_and(|at| at <= now) {
            self.vpc.handle_timeout(now);
            self.send_answers(tunnel);
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
}
