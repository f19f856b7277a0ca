//! The observer of `run` and of an estate's cells: each AWS endpoint's events through the
//! tunnel's AWS view into its log's records, and the captures (pcap, timeline) asked for.

use std::time::Instant;

use chrono::{DateTime, Utc};
use ike_core::{Event, Trace, Transmit};
use vpn_log::TunnelRecord;

use crate::aws::{TunnelLog, TunnelView};
use crate::capture::PcapSink;
use crate::driver::{self, Observer};
use crate::narration::narrate;
use crate::network::Fate;
use crate::timeline::Collector;
use crate::traffic::TunnelHosts;

/// The observer of a connection's run: the AWS view of each tunnel's endpoint and the
/// records it makes, and the captures asked for.
pub(crate) struct Recorder {
    /// The hosts' ESP ports: what leaves them is plain ESP (IP protocol 50 in the pcap).
    pub(super) esp_ports: Vec<std::net::SocketAddr>,
    pub(super) start: DateTime<Utc>,
    pub(super) t0: Instant,
    /// Which hosts are which tunnel's, by tunnel index.
    pub(super) hosts: Vec<TunnelHosts>,
    pub(crate) tunnels: Vec<TunnelLog>,
    /// Each tunnel's AWS view of its endpoint's SAs, by tunnel index.
    pub(super) views: Vec<TunnelView>,
    /// Every record in the order written, with its tunnel's index.
    pub(crate) records: Vec<(usize, TunnelRecord)>,
    pub(super) pcap: Option<PcapSink>,
    pub(super) pcap_error: Option<std::io::Error>,
    pub(super) timeline: Option<Box<Collector>>,
}

impl Recorder {
    pub(super) fn time(&self, now: Instant) -> DateTime<Utc> {
        let since = chrono::Duration::from_std(now.saturating_duration_since(self.t0))
            .unwrap_or(chrono::Duration::MAX);
        self.start + since
    }

    /// Hands the records `tunnel`'s log wrote from `before` on to the timeline and the
    /// run's list.
    fn written(&mut self, tunnel: usize, host: usize, now: Instant, before: usize) {
        let log = &self.tunnels[tunnel];
        for r in &log.records[before..] {
            if let Some(c) = &mut self.timeline {
                c.record(host, now, &log.stream, r);
            }
            self.records.push((tunnel, r.clone()));
        }
    }
}

impl Observer for Recorder {
    fn event(&mut self, host: usize, now: Instant, event: Event) {
        let aws = self.hosts.iter().position(|t| t.aws == host);
        // `-v` tells every event, both sides, as `connect` and `serve` do.
        if tracing::enabled!(tracing::Level::INFO) {
            let (side, peer, tunnel) = match aws {
                Some(t) => ("AWS", "the CGW", t),
                None => {
                    let t = self.hosts.iter().position(|t| t.cgw == host);
                    ("CGW", "AWS", t.unwrap_or(host))
                }
            };
            let told = narrate(&event, peer);
            tracing::info!(tunnel = tunnel + 1, side, "{}", told.line);
        }
        let Some(tunnel) = aws else {
            return;
        };
        let time = self.time(now);
        let state = self.views[tunnel].observe(&event);
        let before = self.tunnels[tunnel].records.len();
        self.tunnels[tunnel].record(time, &event, &state);
        self.written(tunnel, host, now, before);
    }

    fn endpoint_replaced(&mut self, host: usize, now: Instant) {
        let Some(tunnel) = self.hosts.iter().position(|t| t.aws == host) else {
            return;
        };
        let time = self.time(now);
        let (state, cgw) = self.views[tunnel].replaced();
        let before = self.tunnels[tunnel].records.len();
        self.tunnels[tunnel].replaced(time, &state, cgw);
        self.written(tunnel, host, now, before);
    }

    fn sending(&mut self, host: usize, t: &Transmit) {
        if let Some(c) = &mut self.timeline {
            c.sending(host, t);
        }
    }

    fn egress(&mut self, host: usize, now: Instant, t: &Transmit, fate: &Fate) {
        if let Some(c) = &mut self.timeline {
            c.egress(host, now, t, fate);
        }
    }

    fn packet(&mut self, note: &crate::dataplane::PacketNote) {
        if let Some(c) = &mut self.timeline {
            c.packet(note);
        }
    }

    fn nat_dropped(&mut self, _now: Instant, t: &Transmit) {
        if let Some(c) = &mut self.timeline {
            c.nat_dropped(t);
        }
    }

    fn host_down(&mut self, _host: usize, (_, local, _): driver::Arrived, data: &[u8]) {
        if let Some(c) = &mut self.timeline {
            c.host_down(local, data);
        }
    }

    fn trace(&mut self, host: usize, now: Instant, trace: Trace) {
        if let Some(c) = &mut self.timeline {
            c.trace(host, now, trace);
        }
    }

    fn datagram(&mut self, now: Instant, t: &Transmit) {
        let since_epoch = self
            .time(now)
            .signed_duration_since(DateTime::<Utc>::UNIX_EPOCH)
            .to_std()
            .unwrap_or_default();
        if let Some(pcap) = &mut self.pcap {
            let written = if self.esp_ports.contains(&t.src) {
                pcap.write_esp(since_epoch, t.src.ip(), t.dst.ip(), &t.payload)
            } else {
                pcap.write(since_epoch, t.src, t.dst, &t.payload)
            };
            if let Err(e) = written {
                self.pcap_error.get_or_insert(e);
            }
        }
    }
}
