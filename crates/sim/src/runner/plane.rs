//! A scenario's data plane (crate::dataplane) as `build` attaches it: an ESP port and a seat
//! per simulated host, the networks behind each end, the minutes of the records' clock.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::build::host_seed;
use crate::dataplane::{DataPlane, HostSetup};
use crate::driver::Host;
use crate::scenario::{DataPlaneSpec, Scenario};
use crate::traffic::TunnelHosts;

/// Binds every host's ESP port and says where it sits: in host order (each tunnel's AWS
/// endpoint, then its CGW, as `build` makes them), with the AWS tunnel's
/// `replay_window_size` or the CGW's `replay_window`.
pub(super) async fn seats(
    scenario: &Scenario,
    hosts: &mut [Host],
    topology: &[TunnelHosts],
    seed: u64,
) -> std::io::Result<Vec<HostSetup>> {
    let mut seats: Vec<(usize, HostSetup)> = Vec::with_capacity(hosts.len());
    for ((tunnel, ids), t) in (1..).zip(topology).zip(&scenario.tunnel) {
        for (host, aws) in [(ids.aws, true), (ids.cgw, false)] {
            let setup = HostSetup {
                esp_port: hosts[host].add_esp_port().await?,
                aws,
                tunnel,
                replay_window: if aws {
                    t.aws.replay_window_size.0
                } else {
                    t.cgw.replay_window
                },
                seed: host_seed(seed, host as u64) ^ 0xe5b0_0000,
            };
            seats.push((host, setup));
        }
    }
    seats.sort_by_key(|(host, _)| *host);
    Ok(seats.into_iter().map(|(_, s)| s).collect())
}

/// The connection's data plane, from `t0` (the records' clock starts at `start`).
pub(super) fn build(
    spec: &DataPlaneSpec,
    seats: Vec<HostSetup>,
    t0: Instant,
    start: DateTime<Utc>,
    seed: u64,
    keep_pairs: bool,
) -> std::io::Result<Box<DataPlane>> {
    let plane = DataPlane::new(
        spec,
        seats,
        t0,
        first_minute_end(start, t0),
        host_seed(seed, 0x1a4),
        keep_pairs,
    )
    .map_err(|e| std::io::Error::other(format!("the data plane's networks: {e}")))?;
    Ok(Box::new(plane))
}

/// When the minute of the records' clock that the run starts in ends (the start need not
/// be on a minute): the first of the per-minute bytes' boundaries.
fn first_minute_end(start: DateTime<Utc>, t0: Instant) -> Instant {
    let into = Duration::from_secs(start.timestamp().rem_euclid(60).unsigned_abs())
        + Duration::from_nanos(u64::from(start.timestamp_subsec_nanos()));
    t0 + (Duration::from_secs(60) - into)
}
