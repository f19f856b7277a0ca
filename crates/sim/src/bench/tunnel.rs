//! One tunnel for 30 simulated days (`ikev2-happy`, ECP-384: the crypto-heavy baseline)
//! with steady or idle traffic, against its floors: the DH computations of every exchange
//! with a KE payload (IKE_SA_INIT and every rekey), and for idle traffic also the
//! loopback round trips of its liveness checks (AWS probes every 10 s, DESIGN.md "Traffic
//! and DPD"), both measured in the same run.

use std::time::Duration;

use ike_wire::DhGroup;

use super::floor::{dh_floor, round_trip_floor};
use super::{dh_exchanges_of, BenchError, Figure, Size, Stopwatch, Target};
use crate::runner::{run, RunOptions};
use crate::scenario::{Scenario, Traffic};

/// A datagram's size in the round-trip floor: an IKEv2 INFORMATIONAL with an empty SK
/// payload (a DPD) is 80 bytes with AES-GCM-256.
const DPD_DATAGRAM: usize = 80;

/// Runs the tunnel for 30 days (2 with [`Size::Quick`]) and measures its floors.
pub fn tunnel(traffic: Traffic, size: Size) -> Result<Figure, BenchError> {
    let mut scenario =
        Scenario::load("ikev2-happy").map_err(|e| BenchError::Suite(e.to_string()))?;
    scenario.traffic = traffic;
    // The model, not pings: the figure is IKE's cost against its DH floor (30 days of
    // pings would be the data plane's cost, which `bench esp` measures).
    scenario.traffic_flows = Some(false);
    let days = match size {
        Size::Full => 30,
        Size::Quick => 2,
    };
    let options = RunOptions {
        duration: Some(Duration::from_secs(days * 86_400)),
        ..RunOptions::default()
    };
    let watch = Stopwatch::start();
    let output = run(&scenario, &options)?;
    let lap = watch.lap();
    let exchanges: u64 = output.records.iter().map(|(_, r)| dh_exchanges_of(r)).sum();
    let group = scenario
        .tunnel
        .first()
        .and_then(|t| t.cgw.ike_proposals.first())
        .and_then(|p| p.1.dh.first().copied())
        .unwrap_or(DhGroup::ECP_256);
    let count = usize::try_from(exchanges).unwrap_or(usize::MAX);
    let dh = dh_floor(group, count)?;
    let datagrams: u64 = output.stats.iter().map(|(_, s)| s.datagrams_out).sum();
    let round_trips = usize::try_from(datagrams / 2).unwrap_or(usize::MAX);
    let (which, floor, target, rtt_note) = match traffic {
        Traffic::Steady => ("steady", dh, Target::AtMost(1.2), String::new()),
        Traffic::Idle => {
            let rtt = round_trip_floor(round_trips, DPD_DATAGRAM)?;
            let note = format!(" + {round_trips} loopback round trips {rtt}");
            ("idle", dh + rtt, Target::AtMost(2.0), note)
        }
    };
    let baseline = match traffic {
        Traffic::Steady => "DH floor",
        Traffic::Idle => "DH + round-trip floor",
    };
    Ok(Figure::new(
        format!("tunnel x {days} days {which}"),
        lap.cpu.as_secs_f64(),
        "s",
        baseline,
        floor.cpu.as_secs_f64(),
    )
    .with_target(target)
    .with_note(format!(
        "run {lap}, {} records, {datagrams} datagrams, {:.0} simulated s per wall s; \
         floor: {exchanges} DH exchanges ({group}) {dh}{rtt_note}",
        output.records.len(),
        options.duration.unwrap_or_default().as_secs_f64() / lap.wall.as_secs_f64().max(1e-9),
    )))
}
