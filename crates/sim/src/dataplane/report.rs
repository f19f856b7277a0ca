//! What the data plane counted over a run ([`DataPlaneReport`], in `RunOutput`): per host
//! its SA pairs and drops, per flow what was sent and answered, per side what the network
//! behind it saw and what found no tunnel.

use esp::Drops;
use lan::{FirewallStats, FlowStats, LanStats};

use super::host::SaReport;
use crate::scenario::flows::Side;

/// One simulated host's ESP counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostReport {
    /// The host's name (`aws-tunnel-1`, `cgw-tunnel-1`, …).
    pub host: String,
    /// Every CHILD SA it carried, removed ones first.
    pub sas: Vec<SaReport>,
    /// Its SA database's drops per reason (unknown SPIs and packets no SA took included).
    pub drops: Drops,
    /// AWS endpoint: inner packets larger than the tunnel's MTU with DF set, dropped before
    /// encryption (no ICMP back: AWS does no path MTU discovery).
    pub mtu_drops: u64,
    /// AWS endpoint: inner packets larger than the tunnel's MTU without DF, fragmented
    /// before encryption.
    pub fragmented: u64,
    /// CGW with `[onprem] firewall = "stateful"`: packets its connection tracking dropped
    /// on this tunnel (a reply on another tunnel than its request's, an answer to nothing).
    pub firewall_drops: u64,
    /// CHILD SAs the SA database refused to install (a suite ESP does not implement).
    pub refused: u64,
}

impl HostReport {
    /// All of the host's SA pairs' counters summed.
    pub fn total(&self) -> esp::SaCounters {
        let mut t = esp::SaCounters::default();
        for s in &self.sas {
            t += s.counters;
        }
        t
    }
}

/// One flow's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowReport {
    /// The flow's name.
    pub name: String,
    /// The sender's side.
    pub from: Side,
    /// What it sent and what came back.
    pub stats: FlowStats,
}

/// The data plane's counters at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPlaneReport {
    /// Per simulated host, in host order.
    pub hosts: Vec<HostReport>,
    /// Per flow, the VPC's first, then on-premises', each in file order.
    pub flows: Vec<FlowReport>,
    /// What the network behind AWS saw.
    pub vpc: LanStats,
    /// What the network behind the CGW saw.
    pub onprem: LanStats,
    /// Packets from the VPC that found no tunnel with a CHILD SA up.
    pub vpc_no_tunnel: u64,
    /// Packets from on-premises that found no tunnel with a CHILD SA up.
    pub onprem_no_tunnel: u64,
    /// The CGW's firewall, when `[onprem] firewall = "stateful"`: its drops by reason.
    pub firewall: Option<FirewallStats>,
}

impl DataPlaneReport {
    /// One flow's counters by name.
    pub fn flow(&self, name: &str) -> Option<&FlowStats> {
        self.flows.iter().find(|f| f.name == name).map(|f| &f.stats)
    }

    /// `-v`'s lines: one per host (its SAs summed and its drops), one per SA, one per flow,
    /// one for routing and, with a stateful firewall, one for it.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for h in &self.hosts {
            let t = h.total();
            let drops: Vec<String> = h
                .drops
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(d, n)| format!("{}={n}", d.name()))
                .collect();
            out.push(format!(
                "esp host={} sas={} packets_in={} bytes_in={} packets_out={} bytes_out={} \
                 replay_drops={} integrity_failures={} selector_mismatches={} mtu_drops={} \
                 fragmented={} firewall_drops={} drops=[{}]",
                h.host,
                h.sas.len(),
                t.packets_in,
                t.bytes_in,
                t.packets_out,
                t.bytes_out,
                t.replay_drops,
                t.integrity_failures,
                t.selector_mismatches,
                h.mtu_drops,
                h.fragmented,
                h.firewall_drops,
                drops.join(" ")
            ));
            for s in &h.sas {
                let c = s.counters;
                out.push(format!(
                    "esp_sa host={} spi_in={:08x} spi_out={:08x} installed={} packets_in={} \
                     bytes_in={} packets_out={} bytes_out={} replay_drops={} \
                     integrity_failures={} selector_mismatches={}",
                    h.host,
                    s.spi_in,
                    s.spi_out,
                    s.installed,
                    c.packets_in,
                    c.bytes_in,
                    c.packets_out,
                    c.bytes_out,
                    c.replay_drops,
                    c.integrity_failures,
                    c.selector_mismatches
                ));
            }
        }
        for f in &self.flows {
            let s = &f.stats;
            let from = match f.from {
                Side::Vpc => "vpc",
                Side::Onprem => "onprem",
            };
            out.push(format!(
                "flow name={} from={from} sent={} answered={} unanswered={} late_or_duplicate={} \
                 bytes_sent={} bytes_answered={} rtt_max_ms={}",
                f.name,
                s.sent,
                s.answered,
                s.unanswered,
                s.late_or_duplicate,
                s.bytes_sent,
                s.bytes_answered,
                s.rtt_max.as_millis()
            ));
        }
        out.push(format!(
            "routing vpc_no_tunnel={} onprem_no_tunnel={}",
            self.vpc_no_tunnel, self.onprem_no_tunnel
        ));
        if let Some(f) = &self.firewall {
            out.push(format!(
                "firewall wrong_tunnel={} no_connection={} table_full={} expired={}",
                f.wrong_link, f.no_connection, f.table_full, f.expired
            ));
        }
        out
    }
}
