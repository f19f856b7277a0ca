//! The fleet's data-plane counters: every connection's per-SA counters
//! (`RunOutput::data_plane`, docs/data-plane.md "Counters") summed over the fleet, per
//! side, as the summary shows them. Connections get flows from the `pings` key of the
//! healthy base (docs/fleet.md); without it none has any and every sum is 0.

use sim::dataplane::DataPlaneReport;

/// One side's SA pairs summed (the AWS endpoints', or the CGWs').
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideTotals {
    /// CHILD SAs (SA pairs) the side's data planes carried.
    pub sas: u64,
    /// Their SA pairs' counters summed: packets and inner bytes in and out (on the AWS
    /// side TunnelDataIn and TunnelDataOut), replay drops, ICV failures, selector
    /// mismatches.
    pub counters: esp::SaCounters,
    /// Inner packets over the MTU with DF, dropped (the AWS endpoint only).
    pub mtu_drops: u64,
    /// Inner packets over the MTU without DF, fragmented.
    pub fragmented: u64,
    /// The SA databases' drops, every reason (unknown SPI, no SA, …).
    pub sad_drops: u64,
}

/// The fleet's sums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataPlaneTotals {
    /// Connections that had a data plane (flows).
    pub connections: u64,
    /// The AWS endpoints.
    pub aws: SideTotals,
    /// The customer gateways.
    pub cgw: SideTotals,
    /// Flow packets sent, and answered.
    pub flow_sent: u64,
    /// Flow packets answered.
    pub flow_answered: u64,
    /// Packets that found no tunnel up (from the VPC and from on-premises).
    pub no_tunnel: u64,
}

impl DataPlaneTotals {
    /// Adds one connection's counters.
    pub fn add(&mut self, report: &DataPlaneReport) {
        self.connections += 1;
        for h in &report.hosts {
            let side = if h.host.starts_with("aws-") {
                &mut self.aws
            } else {
                &mut self.cgw
            };
            side.sas += h.sas.len() as u64;
            side.counters += h.total();
            side.mtu_drops += h.mtu_drops;
            side.fragmented += h.fragmented;
            side.sad_drops += h.drops.total();
        }
        for f in &report.flows {
            self.flow_sent += f.stats.sent;
            self.flow_answered += f.stats.answered;
        }
        self.no_tunnel += report.vpc_no_tunnel + report.onprem_no_tunnel;
    }
}
