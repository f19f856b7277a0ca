//! An estate's figures: 1,000 connections × 1 day with every record written to files
//! (one per log stream, as `run --out` names them), and the same estate at 100, 1,000 and
//! 10,000 connections over a shorter time, to show the cost is linear in tunnels ×
//! simulated time.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use ike_wire::DhGroup;
use vpn_log::{Format, Schema, Sink, TunnelRecord};

use super::floor::{dh_floor, per_second};
use super::{
    connection, copies, estate_options, float, wide, BenchError, Figure, Size, Stopwatch, Tally,
};
use crate::estate::{run_estate, EstateSink};
use crate::scenario::Scenario;

/// What makes the `n` connections of [`fleet_day`] (`ikesim bench` passes the fleet's
/// default mix: the `fleet` crate sits above this one), and says what they are.
pub type MakeConnections<'a> = &'a dyn Fn(usize) -> Result<(Vec<Scenario>, String), BenchError>;

/// The connections of the scaling and memory figures: every one a plain healthy one — two
/// tunnels, IKEv2 `aes128gcm16-prfsha256-ecp256` with PFS (ECP-256) at rekey, steady
/// traffic — each its own VPN connection id and seed (`seed`, `seed + 1`, …), so that
/// every tunnel comes up and the figures measure tunnels, not failures.
pub fn fleet_connections(n: usize, seed: u64) -> Result<Vec<Scenario>, BenchError> {
    let base = connection(2, "aes128gcm16-prfsha256-ecp256", "aes128gcm16-ecp256", 2)?;
    Ok(copies(&base, n, seed))
}

/// The DH group a connection's exchanges use, for the floor: its first tunnel's CGW's
/// first IKE proposal's (ECP-256 if it names none; a rekey's PFS group is usually the
/// same).
fn dh_group_of(scenario: &Scenario) -> DhGroup {
    scenario
        .tunnel
        .first()
        .and_then(|t| t.cgw.ike_proposals.first())
        .and_then(|p| p.1.dh.first().copied())
        .unwrap_or(DhGroup::ECP_256)
}

/// Counts, writes each record to its stream's file, and keeps it for the write-only
/// baseline.
struct ToFiles {
    tally: Tally,
    sink: Sink,
    streams: HashMap<String, u32>,
    kept: Vec<(u32, TunnelRecord)>,
}

impl EstateSink for ToFiles {
    fn record(
        &mut self,
        connection: usize,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> std::io::Result<()> {
        self.tally.count(connection, tunnel, record);
        self.sink
            .write(stream, record)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let next = u32::try_from(self.streams.len()).unwrap_or(u32::MAX);
        let id = *self.streams.entry(stream.to_owned()).or_insert(next);
        self.kept.push((id, record.clone()));
        Ok(())
    }
}

/// 1,000 connections (made by `make`) × 1 day (10 × 2 h with [`Size::Quick`]), records
/// to files in `dir/run` (JSON lines, the current schema), then the same records written
/// again to `dir/again` with nothing else to do. Two figures: the run's CPU time against
/// the DH floor of its exchanges, each connection's in its own group (and its wall time
/// against the 60 s), and records per CPU second to files against writing alone.
pub fn fleet_day(size: Size, dir: &Path, make: MakeConnections) -> Result<Vec<Figure>, BenchError> {
    let (n, duration, label) = match size {
        Size::Full => (1000, Duration::from_secs(86_400), "1 day"),
        Size::Quick => (10, Duration::from_secs(7200), "2 h"),
    };
    let (scenarios, what) = make(n)?;
    let groups: Vec<DhGroup> = scenarios.iter().map(dh_group_of).collect();
    let mut files = ToFiles {
        tally: Tally::new(n),
        sink: Sink::directory(&dir.join("run"), Format::Json, Schema::Current)?,
        streams: HashMap::new(),
        kept: Vec::new(),
    };
    let watch = Stopwatch::start();
    run_estate(scenarios, &estate_options(duration, 0), &mut files)?;
    files.sink.flush()?;
    let lap = watch.lap();
    let ToFiles {
        tally,
        sink,
        streams,
        kept,
    } = files;
    drop(sink);
    let tunnels = 2 * n;
    if tally.most_established == 0 {
        return Err(BenchError::Unexpected("fleet: no tunnel came up".into()));
    }
    // The floor: each group's exchanges, back to back.
    let mut by_group: Vec<(DhGroup, usize)> = Vec::new();
    for (group, count) in groups.iter().zip(&tally.dh_by_connection) {
        let count = usize::try_from(*count).unwrap_or(0);
        match by_group.iter_mut().find(|(g, _)| g == group) {
            Some((_, n)) => *n += count,
            None => by_group.push((*group, count)),
        }
    }
    let mut dh_cpu = Duration::ZERO;
    let mut dh_notes = Vec::with_capacity(by_group.len());
    for (group, count) in &by_group {
        let floor = dh_floor(*group, *count)?;
        dh_cpu += floor.cpu;
        dh_notes.push(format!("{count} {group}"));
    }
    let mut names = vec![String::new(); streams.len()];
    for (name, id) in streams {
        if let Some(slot) = names.get_mut(id as usize) {
            *slot = name;
        }
    }
    let mut again = Sink::directory(&dir.join("again"), Format::Json, Schema::Current)?;
    let written = Stopwatch::start();
    for (id, record) in &kept {
        again.write(&names[*id as usize], record)?;
    }
    again.flush()?;
    let write_only = written.lap();
    drop(again);
    let records = wide(kept.len());
    // The target is on wall time, whoever else shares the cores.
    let verdict = match size {
        Size::Full if lap.wall.as_secs() < 60 => "; target < 60 s wall: met",
        Size::Full => "; target < 60 s wall: missed",
        Size::Quick => "",
    };
    let day = Figure::new(
        format!("fleet {n} connections x {label}"),
        lap.cpu.as_secs_f64(),
        "s",
        "DH floor",
        dh_cpu.as_secs_f64(),
    )
    .with_note(format!(
        "run {lap}{verdict}; {tunnels} tunnels ({} up at most at once), {records} records \
         to {} files, DH exchanges {}; connections: {what}",
        tally.most_established,
        names.len(),
        dh_notes.join(", ")
    ));
    let to_files = Figure::new(
        "records/s to files".to_owned(),
        per_second(records, lap.cpu),
        "records/s",
        "the same records rendered and written alone",
        per_second(records, write_only.cpu),
    )
    .with_note(format!(
        "{records} records: {:.0} per wall s in the run; written alone in {write_only}",
        per_second(records, lap.wall)
    ));
    Ok(vec![day, to_files])
}

/// The fleet's connections at three sizes over the same simulated time (1 h; 10 min with
/// [`Size::Quick`]): tunnel-hours simulated per CPU second (and per wall second in the
/// note), each row against the smallest. Ratios near 1 mean the cost is linear in tunnels × time.
pub fn fleet_scaling(size: Size) -> Result<Vec<Figure>, BenchError> {
    let (sizes, duration) = match size {
        Size::Full => ([100, 1000, 10_000], Duration::from_secs(3600)),
        Size::Quick => ([2, 4, 8], Duration::from_secs(600)),
    };
    let hours = duration.as_secs_f64() / 3600.0;
    let mut rows = Vec::with_capacity(sizes.len());
    let mut smallest = None;
    for n in sizes {
        let scenarios = fleet_connections(n, 1)?;
        let mut tally = Tally::new(n);
        let watch = Stopwatch::start();
        run_estate(scenarios, &estate_options(duration, 0), &mut tally)?;
        let lap = watch.lap();
        let tunnels = 2 * n;
        if tally.most_established < tunnels {
            return Err(BenchError::Unexpected(format!(
                "fleet scaling: {} of {tunnels} tunnels established",
                tally.most_established
            )));
        }
        let tunnel_hours = float(wide(tunnels)) * hours;
        let rate = tunnel_hours / lap.cpu.as_secs_f64().max(1e-9);
        let baseline = *smallest.get_or_insert(rate);
        rows.push(
            Figure::new(
                format!(
                    "fleet scaling {n} connections x {}",
                    crate::SimDuration(duration)
                ),
                rate,
                "tunnel-hours/s",
                &format!("{} connections", sizes[0]),
                baseline,
            )
            .with_note(format!(
                "{tunnels} tunnels in {lap}: {:.0} tunnel-hours per wall s; {} records",
                tunnel_hours / lap.wall.as_secs_f64().max(1e-9),
                tally.records
            )),
        );
    }
    Ok(rows)
}
