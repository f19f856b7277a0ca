//! What `serve` says about a tunnel when it stops: its counters (tracing, `-v`) and the
//! records it did not write (stderr).

use super::Tunnel;
use crate::driver::Host;

impl Tunnel {
    /// The tunnel's counters, and a note on the records it did not write.
    pub(super) fn report(&self, h: &Host) {
        tracing::info!(
            tunnel = self.index + 1,
            stats = ?h.endpoint.stats(),
            esp = self.esp,
            esp_not_live = self.esp_not_live,
            data_plane = ?self.plane.counters(),
            esp_drops = ?self.plane.drops(),
            foreign = self.foreign,
            queue_dropped = self.queue.dropped,
            queue_peak = self.queue.peak,
            unwritten_records = self.records.unwritten,
            unwritten_sources = self.records.unwritten_sources,
            "counters"
        );
        if self.records.unwritten > 0 {
            let cgw = self
                .records
                .cgw()
                .map_or("no source authenticated".to_owned(), |ip| {
                    format!("the customer gateway is {ip}")
                });
            eprintln!(
                "ikesim serve: tunnel {}: {} records of {} sources other than the customer \
                 gateway, or from before one authenticated, were not written ({cgw}); pass \
                 --cgw IP to log the customer gateway's records from its first datagram (e.g. a \
                 pre-shared key mismatch)",
                self.index + 1,
                self.records.unwritten,
                self.records.unwritten_sources
            );
        }
    }
}
