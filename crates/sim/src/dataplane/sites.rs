//! A scenario's data plane as `lan` sites: each side's hosts, and the flows its hosts
//! send (the scenario's kinds, patterns and the echo port mapped to `lan`'s).

use super::ECHO_PORT;
use crate::scenario::flows::{DataPlaneSpec, FlowKind, Side, Site};

fn lan_site(site: &Site, spec: &DataPlaneSpec, side: Side) -> lan::Site {
    let flows = spec
        .flows
        .iter()
        .filter(|f| f.from == side)
        .map(|f| lan::FlowSpec {
            name: f.name.clone(),
            kind: match f.kind {
                FlowKind::Icmp => lan::FlowKind::Icmp,
                FlowKind::Udp => lan::FlowKind::Udp { port: ECHO_PORT },
                FlowKind::RequestResponse => lan::FlowKind::RequestResponse {
                    port: ECHO_PORT,
                    response_size: f.response_size,
                },
            },
            src: f.src,
            dst: f.dst,
            rate: f.rate.per_second(),
            size: f.size,
            df: f.df,
            pattern: match f.pattern {
                crate::scenario::flows::Pattern::Steady => lan::Pattern::Steady,
                crate::scenario::flows::Pattern::OnOff { on, off } => {
                    lan::Pattern::OnOff { on, off }
                }
                crate::scenario::flows::Pattern::Bursts { every, burst } => lan::Pattern::Burst {
                    every,
                    count: burst,
                },
            },
            start: f.start,
            stop: f.stop,
        })
        .collect();
    lan::Site {
        hosts: site.hosts.iter().map(|&a| lan::HostSpec::echo(a)).collect(),
        flows,
    }
}

/// The `lan` sites of a scenario's data plane: the VPC's, then on-premises'.
pub(crate) fn lan_sites(spec: &DataPlaneSpec) -> [lan::Site; 2] {
    [
        lan_site(&spec.vpc, spec, Side::Vpc),
        lan_site(&spec.onprem, spec, Side::Onprem),
    ]
}
