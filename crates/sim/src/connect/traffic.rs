//! `connect`'s data plane, when its file has a `[[flow]]`: the simulated on-premises
//! network behind the CGW (`[onprem]`, a scenario's `lan` site) carried by a
//! [`FacingPlane`] — the CHILD SAs the endpoint installs, the responder's ESP-in-UDP
//! opened into the network, the flows' packets and the hosts' answers sealed and sent to
//! the responder. The network starts when the first CHILD SA is installed: the flows'
//! times count from then, so none is lost to the handshake.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ike_core::ipsec::IpsecChange;
use ike_core::{CloseAction, Endpoint};
use tokio::net::UdpSocket;

use crate::dataplane::{lan_sites, Arrival, DataPlaneReport, FacingPlane};
use crate::scenario::flows::{DataPlaneSpec, Side};

/// What `-v`'s lines call the CGW.
const HOST: &str = "cgw";

/// The on-premises network and, once a CHILD SA is up, its data plane.
pub(super) struct Traffic {
    /// The network to start at the first install.
    site: Option<lan::Site>,
    replay_window: u32,
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    seed: u64,
    plane: Option<FacingPlane>,
    /// ESP that did not open (unknown SPI, replayed, integrity, …) or was not from the
    /// responder's SA.
    pub(super) esp_dropped: u64,
    warned_plain: bool,
}

impl Traffic {
    /// The traffic of `spec` (its on-premises side), sent on `sockets`, with the CGW's
    /// `replay_window`. Fails when the network cannot be built (checked with the file).
    pub(super) fn new(
        spec: &DataPlaneSpec,
        replay_window: u32,
        sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
        seed: u64,
    ) -> Result<Traffic, lan::SiteError> {
        let [_, site] = lan_sites(spec);
        site.validate()?;
        Ok(Traffic {
            site: Some(site),
            replay_window,
            sockets,
            seed,
            plane: None,
            esp_dropped: 0,
            warned_plain: false,
        })
    }

    /// Takes the endpoint's CHILD SA changes; the first install starts the network.
    pub(super) fn ipsec(&mut self, now: Instant, endpoint: &mut Endpoint) {
        while let Some(change) = endpoint.poll_ipsec() {
            if let IpsecChange::Install(pair) = &change {
                if !pair.encapsulated && !self.warned_plain {
                    self.warned_plain = true;
                    tracing::warn!(
                        "the CHILD SA is not UDP-encapsulated (no NAT detected): `connect` sends only \
                         ESP-in-UDP (RFC 3948), plain ESP needs a raw socket; nothing goes through \
                         this SA (docs/real-cgw.md, Limits)"
                    );
                }
            }
            if self.plane.is_none() && matches!(change, IpsecChange::Install(_)) {
                self.start(now);
                let trap = matches!(endpoint.config().close_action, CloseAction::Trap { .. });
                if let Some(p) = &mut self.plane {
                    p.set_trap(trap);
                }
            }
            if let Some(p) = &mut self.plane {
                p.apply(1, change);
            }
        }
    }

    fn start(&mut self, now: Instant) {
        let Some(site) = self.site.take() else {
            return;
        };
        let sockets = std::mem::take(&mut self.sockets);
        match FacingPlane::new(
            site,
            Side::Onprem,
            self.replay_window,
            sockets,
            now,
            self.seed,
        ) {
            Ok(p) => self.plane = Some(p),
            // Validated in `new`.
            Err(e) => tracing::warn!("the on-premises network cannot start: {e}"),
        }
    }

    /// ESP from the responder: opened into the network (which may answer at once); an
    /// authentic packet on one of the responder's SAs is a sign of life for our DPD.
    pub(super) fn esp(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
        endpoint: &mut Endpoint,
    ) {
        self.ipsec(now, endpoint);
        let Some(plane) = &mut self.plane else {
            self.esp_dropped += 1;
            tracing::debug!(%from, len = datagram.len(), "ESP before any CHILD SA: dropped");
            return;
        };
        match plane.arrived(1, now, datagram) {
            Arrival::Opened { spi_in, inner } => {
                if endpoint.esp_arrived(now, from, spi_in) {
                    tracing::trace!(%from, inner, "ESP opened");
                } else {
                    self.esp_dropped += 1;
                    tracing::debug!(%from, "ESP authenticated but not from its CHILD SA's peer");
                }
            }
            Arrival::Dropped(reason) => {
                self.esp_dropped += 1;
                tracing::debug!(%from, len = datagram.len(), %reason, "ESP datagram dropped");
            }
        }
        self.acquire(now, endpoint);
    }

    /// Packets of the network that found no CHILD SA, to the endpoint's trap policy
    /// (`close_action = "trap"`): the first for a pair the responder deleted negotiates it
    /// anew (`Endpoint::acquire`).
    pub(super) fn acquire(&mut self, now: Instant, endpoint: &mut Endpoint) {
        let Some(plane) = &mut self.plane else {
            return;
        };
        while let Some((src, dst)) = plane.poll_acquire() {
            if endpoint.acquire(now, src, dst) {
                tracing::info!(%src, %dst, "no CHILD SA for the packet: the trap policy negotiates one");
            }
        }
    }

    /// When the network next has work.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.plane.as_ref().and_then(FacingPlane::poll_timeout)
    }

    /// Does what is due at `now`: the flows' packets, answer time-outs.
    pub(super) fn handle_timeout(&mut self, now: Instant) {
        if let Some(p) = &mut self.plane {
            p.handle_timeout(1, now);
        }
    }

    /// Whether the flows still have something to do: not started yet, a packet to send,
    /// or an answer awaited.
    pub(super) fn running(&self) -> bool {
        self.plane
            .as_ref()
            .is_none_or(|p| p.poll_timeout().is_some())
    }

    /// The counters at the end (`run -v`'s lines); `None` if no CHILD SA ever came up.
    pub(super) fn report(&self) -> Option<DataPlaneReport> {
        self.plane.as_ref().map(|p| p.report(HOST))
    }
}

/// The flows that lost packets, as the verdict says it: `flow icmp-1: 2 of 10 unanswered`.
pub(super) fn losses(report: &DataPlaneReport) -> Option<String> {
    let lost: Vec<String> = report
        .flows
        .iter()
        .filter(|f| f.stats.unanswered > 0)
        .map(|f| {
            format!(
                "flow {}: {} of {} unanswered",
                f.name, f.stats.unanswered, f.stats.sent
            )
        })
        .collect();
    (!lost.is_empty()).then(|| lost.join(", "))
}
