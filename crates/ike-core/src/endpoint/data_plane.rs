//! What the data plane tells the endpoint (`EndpointConfig::data_plane`, or the traffic
//! model without one): the peer's traffic heard or not, an authenticated ESP packet that
//! arrived, a packet with no SA (the kernel's acquire), and the trap policy that turns
//! such a packet into a negotiation.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::sas::Sa;
use super::Endpoint;
use crate::config::CloseAction;
use crate::event::SaState;
use crate::ts;

impl Endpoint {
    /// The data-plane model (DESIGN.md, "Traffic and DPD"): whether the peer's ESP traffic
    /// reaches us. While it flows, on-demand DPD has no reason to probe; when it stops,
    /// the silence starts now.
    pub fn set_peer_traffic(&mut self, now: Instant, flowing: bool) {
        for e in self.sas.iter_mut() {
            e.sa.set_traffic(now, flowing);
        }
        self.sas.refresh_all(&self.config);
        self.traffic = flowing;
    }

    /// An ESP datagram with SPI `spi` (its first four bytes) arrived from `from`. It
    /// counts as hearing from the peer — on-demand DPD has no reason to probe (RFC 3706
    /// §5.3) — only when it names one of our installed inbound CHILD SAs (one being
    /// rekeyed, or the old SA of a rekey until it is deleted, included: the data plane
    /// still takes packets on them) and comes from that IKE SA's peer address: a datagram
    /// anyone can send must not keep a dead peer alive. The data plane
    /// (`EndpointConfig::data_plane`) calls it only for a packet that authenticated with
    /// that SA's keys (RFC 4303 §3.4.4) and passed the replay check; without one (`serve`
    /// counting ESP-in-UDP by SPI alone) nothing was checked but the SPI and the address.
    /// With a NAT detected DPD is periodic, not on demand (AWS's rule, as the model's:
    /// `shell::timing::dpd_at`): the packet counts, but does not put the next probe off.
    /// Returns whether it was counted.
    pub fn esp_arrived(&mut self, now: Instant, from: SocketAddr, spi: u32) -> bool {
        let Some(e) = self.sas.iter_mut().find(|e| {
            e.sa.remote().ip() == from.ip()
                && e.sa
                    .children()
                    .iter()
                    .any(|c| c.keys_in_use && c.spi_in.0 == spi)
        }) else {
            return false;
        };
        if !e.sa.nat().detected() {
            e.sa.heard(now);
            let handle = e.handle;
            self.sas.refresh(handle, &self.config);
        }
        true
    }

    /// strongSwan's `start_action = trap` (swanctl.conf; `auto = route` in ipsec.conf): a
    /// trap policy for the configured selectors towards `remote`, and no negotiation now.
    /// The policy stays while the endpoint lives: the first packet the data plane has for
    /// the selectors with no IKE SA up ([`Endpoint::acquire`]) negotiates the IKE SA and its
    /// CHILD SA, and one for a pair whose CHILD SA is gone negotiates that pair, as with
    /// `CloseAction::Trap`.
    pub fn trap(&mut self, remote: SocketAddr) {
        self.trap_peer = Some(remote);
    }

    /// The data plane has a packet from `src` to `dst` (inner addresses) that no CHILD SA
    /// takes: the kernel's acquire (RFC 4301 §5.2's "no SA": the SPD says PROTECT, the SAD
    /// has none; Linux's XFRM_MSG_ACQUIRE). With a trap policy (`CloseAction::Trap`, or
    /// [`Endpoint::trap`]) the first established IKE SA negotiates the configured selector
    /// pair that holds the packet — unless that pair is up, or a CHILD SA is being
    /// negotiated, which the acquire waits for. With no IKE SA up, the endpoint's
    /// [`Endpoint::trap`] policy negotiates one (with the first pair's CHILD SA), unless an
    /// IKE SA is on its way, being replaced or being deleted. The packet itself is not kept
    /// (Linux drops it while the SA is larval). Returns whether a negotiation started;
    /// without a trap policy, or with no pair holding the packet, nothing happens.
    pub fn acquire(&mut self, now: Instant, src: IpAddr, dst: IpAddr) -> bool {
        let close_trap = matches!(self.config.close_action, CloseAction::Trap { .. });
        if !close_trap && self.trap_peer.is_none() {
            return false;
        }
        let Some(pair) = self
            .config
            .ts_pairs()
            .position(|(local, remote)| ts::holds(local, src) && ts::holds(remote, dst))
        else {
            return false;
        };
        let Some(handle) = self
            .visit_order()
            .into_iter()
            .find(|&h| self.get(h).is_some_and(Sa::is_established))
        else {
            // Only with no IKE SA at all: not while one is on its way, being replaced or
            // being deleted (the next packet after it is gone finds none).
            let busy = self.sas.iter().any(|e| e.sa.phases().0 != SaState::Down);
            return match self.trap_peer {
                Some(remote) if !busy => {
                    self.initiate(now, remote);
                    true
                }
                _ => false,
            };
        };
        let mut started = false;
        self.with_sa(now, handle, |ctx, sa| started = sa.acquire(ctx, pair));
        self.sync_ipsec();
        started
    }
}
