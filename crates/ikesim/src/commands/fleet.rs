//! `ikesim fleet`: many VPN connections at once on the accelerated clock (the `fleet`
//! crate), their records to the outputs `run` has; a progress bar on a terminal and a
//! summary at the end (docs/fleet.md).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use delivery::placement::{self, Start};
use fleet::{FleetSink, FleetSpec, Mix, Shard};
use sim::SimDuration;
use vpn_log::{PhaseState, RecordSink, TunnelRecord};

use super::outputs::{OutputArgs, Outputs, TunnelLogging};
use super::{emit, parse_duration, Failure};

#[derive(clap::Args)]
pub struct FleetArgs {
    /// How many VPN connections the whole fleet has (two tunnels each; with --shard, this
    /// run makes its slice of them).
    #[arg(long, value_name = "N")]
    connections: usize,
    /// Simulated time to run, e.g. 2h, 1d, 30d.
    #[arg(long, value_parser = parse_duration)]
    duration: SimDuration,
    /// Every connection is made from the seed and its index: same seed, same files.
    #[arg(long, default_value = "1")]
    seed: u64,
    /// Profiles, weights and parameter ranges (TOML; docs/fleet.md), instead of the
    /// default mix.
    #[arg(long, value_name = "FILE")]
    mix: Option<PathBuf>,
    /// Run the I-th of K disjoint slices (0-based: 0/3, 1/3, 2/3 make the whole), e.g. a
    /// Kubernetes completion index or AWS_BATCH_JOB_ARRAY_INDEX.
    #[arg(long, value_name = "I/K", default_value = "0/1")]
    shard: Shard,
    /// Threads, each running its share of the connections (default: the machine's
    /// cores). The output is the same whatever the number.
    #[arg(long, value_name = "J")]
    jobs: Option<usize>,
    /// Write the summary as JSON into FILE too.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// Print connection N's scenario (0-based) and stop: `ikesim run` runs it alone with
    /// the records it has in the fleet.
    #[arg(long, value_name = "N")]
    scenario_of: Option<usize>,
    /// When the simulated clock starts: `now` or an RFC 3339 time (default
    /// 2026-01-01T00:00:00Z; with --cloudwatch, so that the run ends now).
    #[arg(long, value_name = "TIME")]
    start: Option<Start>,
    #[command(flatten)]
    outputs: OutputArgs,
}

/// The default clock origin, the scenarios' own default.
const DEFAULT_START: &str = "2026-01-01T00:00:00Z";

pub fn run(args: FleetArgs) -> Result<(), Failure> {
    let bad = |m: String| Failure::BadInput(m);
    let mix = match &args.mix {
        Some(path) => Mix::load(path).map_err(|e| bad(e.to_string()))?,
        None => Mix::default(),
    };
    if args.connections == 0 {
        return Err(bad("--connections must be 1 or more".into()));
    }
    let duration = args.duration.0;
    let default_start = DEFAULT_START
        .parse()
        .map_err(|e| Failure::Runtime(format!("{e}")))?;
    let start = placement::place(
        args.start,
        default_start,
        duration,
        chrono::Utc::now(),
        args.outputs.cloudwatch(),
    )
    .map_err(|e| bad(e.to_string()))?;
    let spec = FleetSpec {
        connections: args.connections,
        duration,
        seed: args.seed,
        mix,
        shard: args.shard,
        start,
    };
    if let Some(n) = args.scenario_of {
        if n >= spec.connections {
            return Err(bad(format!(
                "--scenario-of {n}: the fleet has connections 0 to {}",
                spec.connections - 1
            )));
        }
        return emit(spec.connection(n).text.trim_end());
    }
    let wall = Instant::now();
    let members: Vec<fleet::Connection> = spec.members().map(|i| spec.connection(i)).collect();
    let scenarios = members
        .iter()
        .map(|c| c.scenario().map_err(|e| Failure::Runtime(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    // The scenario texts are not needed any more: a fleet of 20,000 keeps 30 MB less.
    let profiles: Vec<&'static str> = members.iter().map(|c| c.profile).collect();
    drop(members);
    let separator = args.outputs.stream_separator();
    let mut tunnels = Vec::with_capacity(scenarios.len() * 2);
    let mut streams = Vec::with_capacity(scenarios.len() * 2);
    for s in &scenarios {
        for t in &s.tunnel {
            tunnels.push(TunnelLogging::new(
                &s.vpn_connection.id,
                t.outside_ip.0,
                t.log_options(),
            ));
            streams.push(vpn_log::stream_name(
                &s.vpn_connection.id,
                t.outside_ip.0,
                separator,
            ));
        }
    }
    let mut outputs = Outputs::for_many(&args.outputs, tunnels, start)?;
    for (i, stream) in streams.iter().enumerate() {
        outputs
            .open(i, stream)
            .map_err(|e| Failure::Runtime(e.to_string()))?;
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let mut out = Out {
        outputs,
        up: vec![false; streams.len()],
        tunnels_up: 0,
        by_message: BTreeMap::new(),
        records: 0,
        bar: progress_bar(duration),
        wall,
        duration,
    };
    let stop = sim::Stop::on_signals();
    let options = sim::estate::EstateOptions {
        start,
        duration,
        stream_separator: separator,
        progress_every: 4096,
        stop: Some(stop.flag()),
    };
    let report = fleet::run(scenarios, &options, jobs.max(1), &mut out)
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    if let Some(bar) = &out.bar {
        bar.finish_and_clear();
    }
    let end = start + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
    let Out {
        outputs,
        tunnels_up,
        by_message,
        records,
        ..
    } = out;
    outputs.finish(end)?;
    let summary = Summary {
        spec: &spec,
        profiles: &profiles,
        jobs: jobs.max(1),
        tunnels: streams.len(),
        tunnels_up,
        records,
        by_message,
        report,
        wall: wall.elapsed(),
        peak_rss: peak_rss(),
    };
    eprint!("{}", summary.text());
    if let Some(path) = &args.summary_json {
        std::fs::write(path, format!("{}\n", summary.json())).map_err(|e| {
            Failure::Runtime(format!(
                "cannot write the summary to {}: {e}",
                path.display()
            ))
        })?;
    }
    match summary.report.stopped_at {
        Some((from, to)) => {
            let whole = |d: Duration| SimDuration(Duration::from_secs(d.as_secs()));
            let signal = stop.signal().unwrap_or(sim::Signal::Interrupt);
            Err(Failure::Interrupted(
                signal,
                format!(
                    "interrupted at {} to {} simulated (each thread's clock): every record made \
                 up to there is written whole",
                    whole(from),
                    whole(to)
                ),
            ))
        }
        None => Ok(()),
    }
}

fn progress_bar(duration: Duration) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(duration.as_secs().max(1));
    let style =
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:20}] {msg} ETA {eta}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The fleet's sink: every record to the outputs, counted for the bar and the summary.
struct Out {
    outputs: Outputs,
    /// Each tunnel's phase 2 is up (established or rekeying), as its last record says.
    up: Vec<bool>,
    tunnels_up: usize,
    by_message: BTreeMap<&'static str, u64>,
    records: u64,
    bar: Option<indicatif::ProgressBar>,
    wall: Instant,
    duration: Duration,
}

impl FleetSink for Out {
    fn record(
        &mut self,
        position: usize,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> std::io::Result<()> {
        let i = position * 2 + tunnel;
        self.outputs
            .write(i, stream, record)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.records += 1;
        let id = vpn_log::lookup(&record.details).map_or("other", |e| e.id);
        *self.by_message.entry(id).or_default() += 1;
        let up = matches!(
            record.ike_phase2_state,
            PhaseState::Established | PhaseState::Rekeying
        );
        if let Some(was) = self.up.get_mut(i) {
            if *was != up {
                *was = up;
                if up {
                    self.tunnels_up += 1;
                } else {
                    self.tunnels_up -= 1;
                }
            }
        }
        Ok(())
    }

    fn progress(&mut self, simulated: Duration) {
        let Some(bar) = &self.bar else {
            return;
        };
        let secs = self.wall.elapsed().as_secs_f64().max(1e-3);
        bar.set_position(simulated.as_secs().min(self.duration.as_secs()));
        bar.set_message(format!(
            "{}/{} · tunnels {} up {} down · {} records {:.0}/s",
            SimDuration(Duration::from_secs(simulated.as_secs())),
            SimDuration(self.duration),
            self.tunnels_up,
            self.up.len() - self.tunnels_up,
            self.records,
            f64_of(self.records) / secs,
        ));
    }
}

fn f64_of(n: u64) -> f64 {
    // Counts stay far below 2^53: exact.
    n.to_string().parse().unwrap_or(0.0)
}

/// The peak resident memory (`VmHWM` in /proc/self/status), in bytes, where there is one.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Summary<'a> {
    spec: &'a FleetSpec,
    /// Each connection's profile.
    profiles: &'a [&'static str],
    jobs: usize,
    tunnels: usize,
    tunnels_up: usize,
    records: u64,
    by_message: BTreeMap<&'static str, u64>,
    report: fleet::FleetReport,
    wall: Duration,
    peak_rss: Option<u64>,
}

impl Summary<'_> {
    fn count(&self, id: &str) -> u64 {
        self.by_message.get(id).copied().unwrap_or(0)
    }

    /// Phase 1 SAs that came up (IKE SAs established, rekeys not counted).
    fn handshakes(&self) -> u64 {
        self.count("ikesim-ike-sa-established")
    }

    /// Phase 1 and phase 2 rekeys that completed.
    fn rekeys(&self) -> (u64, u64) {
        (
            self.count("ikesim-ike-sa-rekeyed"),
            self.count("ikesim-child-sa-rekeyed"),
        )
    }

    fn profiles(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for p in self.profiles {
            *m.entry(*p).or_default() += 1;
        }
        m
    }

    fn retransmits(&self) -> u64 {
        self.report
            .stats
            .iter()
            .flatten()
            .map(|(_, s)| s.retransmits)
            .sum()
    }

    fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let (ike, child) = self.rekeys();
        let _ = writeln!(
            s,
            "fleet: {} connections (shard {} of {}, seed {}), {} tunnels, {} simulated, \
             {} jobs",
            self.profiles.len(),
            self.spec.shard,
            self.spec.connections,
            self.spec.seed,
            self.tunnels,
            SimDuration(self.spec.duration),
            self.jobs
        );
        let _ = writeln!(
            s,
            "  tunnels: {} up at the end, {} down",
            self.tunnels_up,
            self.tunnels - self.tunnels_up
        );
        let _ = writeln!(
            s,
            "  handshakes: {} phase 1 SAs established; rekeys: {ike} phase 1, {child} phase 2; \
             {} retransmissions",
            self.handshakes(),
            self.retransmits()
        );
        let profiles: Vec<String> = self
            .profiles()
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        let _ = writeln!(s, "  profiles: {}", profiles.join(", "));
        let d = &self.report.data_plane;
        if d.connections > 0 {
            let _ = writeln!(
                s,
                "  data plane: {} connections with flows; AWS side {} SAs, {} packets in ({} bytes), \
                 {} out ({} bytes); CGWs {} packets in, {} out; drops: replay {}, integrity {}, \
                 selectors {}, mtu {}, SA database {}; flows {} sent, {} answered",
                d.connections,
                d.aws.sas,
                d.aws.counters.packets_in,
                d.aws.counters.bytes_in,
                d.aws.counters.packets_out,
                d.aws.counters.bytes_out,
                d.cgw.counters.packets_in,
                d.cgw.counters.packets_out,
                d.aws.counters.replay_drops + d.cgw.counters.replay_drops,
                d.aws.counters.integrity_failures + d.cgw.counters.integrity_failures,
                d.aws.counters.selector_mismatches + d.cgw.counters.selector_mismatches,
                d.aws.mtu_drops,
                d.aws.sad_drops + d.cgw.sad_drops,
                d.flow_sent,
                d.flow_answered
            );
        }
        let _ = writeln!(s, "  records: {}", self.records);
        let mut by: Vec<(&&str, &u64)> = self.by_message.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (id, n) in by {
            let _ = writeln!(s, "    {n:>10}  {id}");
        }
        let secs = self.wall.as_secs_f64();
        let _ = writeln!(
            s,
            "  wall time: {secs:.1} s ({:.0} records/s); peak memory: {}",
            f64_of(self.records) / secs.max(1e-3),
            self.peak_rss.map_or("unknown".to_owned(), |b| format!(
                "{:.1} MiB",
                f64_of(b) / 1_048_576.0
            )),
        );
        s
    }

    fn json(&self) -> serde_json::Value {
        let (ike, child) = self.rekeys();
        serde_json::json!({
            "connections": self.profiles.len(),
            "fleet_connections": self.spec.connections,
            "shard": self.spec.shard.to_string(),
            "seed": self.spec.seed,
            "jobs": self.jobs,
            "tunnels": self.tunnels,
            "tunnels_up": self.tunnels_up,
            "tunnels_down": self.tunnels - self.tunnels_up,
            "simulated_seconds": self.spec.duration.as_secs(),
            "start": self.spec.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "handshakes": self.handshakes(),
            "rekeys": { "phase1": ike, "phase2": child },
            "retransmits": self.retransmits(),
            "records": self.records,
            "records_by_message": self.by_message,
            "profiles": self.profiles(),
            "steps": self.report.steps,
            "wall_seconds": self.wall.as_secs_f64(),
            "peak_rss_bytes": self.peak_rss,
            "data_plane": data_plane_json(&self.report.data_plane),
            "interrupted_at_seconds": self.report.stopped_at.map(|(from, to)| {
                [from.as_secs_f64(), to.as_secs_f64()]
            }),
        })
    }
}

/// The summary's `data_plane`: the connections' per-SA counters summed, per side.
fn data_plane_json(d: &fleet::DataPlaneTotals) -> serde_json::Value {
    let side = |t: &fleet::data_plane::SideTotals| {
        serde_json::json!({
            "sas": t.sas,
            "packets_in": t.counters.packets_in,
            "bytes_in": t.counters.bytes_in,
            "packets_out": t.counters.packets_out,
            "bytes_out": t.counters.bytes_out,
            "replay_drops": t.counters.replay_drops,
            "integrity_failures": t.counters.integrity_failures,
            "selector_mismatches": t.counters.selector_mismatches,
            "mtu_drops": t.mtu_drops,
            "fragmented": t.fragmented,
            "sad_drops": t.sad_drops,
        })
    };
    serde_json::json!({
        "connections": d.connections,
        "aws": side(&d.aws),
        "cgw": side(&d.cgw),
        "flow_sent": d.flow_sent,
        "flow_answered": d.flow_answered,
        "no_tunnel": d.no_tunnel,
    })
}
