//! `ikesim run`: a scenario on the accelerated (or wall) clock, its records to the
//! outputs (stdout or files, envelopes, metrics, CloudWatch).

use std::path::PathBuf;

use delivery::placement::{self, Start};
use sim::{Clock, RunOptions, Scenario, SimDuration};

use super::outputs::{write_counters, OutputArgs, Outputs, TunnelLogging};
use super::{check_timeline, parse_duration, Failure};

#[derive(clap::Args)]
pub struct RunArgs {
    /// A built-in scenario name (see `ikesim list`) or a scenario file.
    scenario: String,
    /// Seed for SPIs, nonces and every other random choice (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Simulated time to run, e.g. 90s, 1h30m, 30d (default: the scenario's).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<SimDuration>,
    /// When the simulated clock starts: `now` or an RFC 3339 time (default: the
    /// scenario's start, 2026-01-01T00:00:00Z unless it says otherwise; with
    /// --cloudwatch, so that the run ends now).
    #[arg(long, value_name = "TIME")]
    start: Option<Start>,
    /// Run on the wall clock instead of the accelerated virtual clock.
    #[arg(long)]
    realtime: bool,
    /// Write every datagram to a pcap file (raw IP + UDP).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Write the IKE SA keys into DIR as Wireshark's ikev2_decryption_table and
    /// ikev1_decryption_table (e.g. DIR = ~/.config/wireshark), to decrypt the pcap.
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// Write the run's ladder diagram to FILE.html: every datagram decoded and decrypted,
    /// losses, retransmissions, timers and the AWS records (one self-contained page).
    #[arg(long, value_name = "FILE.html")]
    timeline: Option<PathBuf>,
    /// Write the data plane's counters (per host, per SA, per flow: what -v prints) to
    /// FILE.json, for `ikesim explain --counters` (the simulator's own: AWS publishes none).
    #[arg(long, value_name = "FILE.json")]
    counters: Option<PathBuf>,
    /// Keep `traffic` as the model instead of packets (what `traffic_flows = false` does in
    /// the file): no ESP, each side simply hears its peer or not. For long runs, where a
    /// ping each way every 2 s is most of the cost (docs/data-plane.md). Not with `[[flow]]`s.
    #[arg(long)]
    traffic_model: bool,
    #[command(flatten)]
    outputs: OutputArgs,
}

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let mut scenario =
        Scenario::load(&args.scenario).map_err(|e| Failure::BadInput(e.to_string()))?;
    if args.traffic_model {
        if !scenario.flow.is_empty() {
            return Err(Failure::BadInput(format!(
                "--traffic-model: {} has [[flow]]s of its own, and no `traffic` to model; \
                 run it without --traffic-model",
                args.scenario
            )));
        }
        scenario.traffic_flows = Some(false);
    }
    check_timeline(args.timeline.as_deref())?;
    let duration = args.duration.map_or(scenario.duration.0, |d| d.0);
    let cloudwatch = args.outputs.cloudwatch();
    // On the wall clock the records happen now: a pushed run starts now.
    let start = match args.start {
        None if args.realtime && cloudwatch => Some(Start::Now),
        other => other,
    };
    let start = placement::place(
        start,
        scenario.start.0,
        duration,
        chrono::Utc::now(),
        cloudwatch,
    )
    .map_err(|e| Failure::BadInput(e.to_string()))?;
    let tunnels = scenario
        .tunnel
        .iter()
        .map(|t| TunnelLogging::new(&scenario.vpn_connection.id, t.outside_ip.0, t.log_options()))
        .collect();
    let mut outputs = Outputs::new(&args.outputs, tunnels, start)?;
    let options = RunOptions {
        seed: args.seed,
        duration: Some(duration),
        clock: if args.realtime {
            Clock::Realtime
        } else {
            Clock::Accelerated
        },
        pcap: args.pcap,
        keys: args.keys,
        start: Some(start),
        stream_separator: args.outputs.stream_separator(),
        timeline: args.timeline.is_some(),
    };
    // Ctrl-C and SIGTERM end the run between two steps (on the wall clock, at once): what
    // was made is written whole, the captures closed, and the exit status says which.
    let stop = sim::Stop::on_signals();
    let ran = sim::run_streaming(&scenario, &options, &mut outputs, Some(&stop));
    let mut output = match ran {
        Ok(output) => output,
        // The reader of stdout went away (`run | head`) and nothing else wants the records:
        // the end of the output, quietly, as for any Unix tool.
        Err(sim::RunError::Output(e)) if e.is_broken_pipe() => return Ok(()),
        Err(e) => {
            // What was written is delivered (envelopes, CloudWatch) even when the run failed.
            let _ = outputs.finish(start);
            return Err(Failure::of_run(&e));
        }
    };
    if let (Some(path), Some(timeline)) = (&args.timeline, output.timeline.take()) {
        sim::timeline::write_page(path, &timeline).map_err(|e| {
            Failure::Runtime(format!(
                "cannot write the timeline to {}: {e} (is the directory there and writable?)",
                path.display()
            ))
        })?;
    }
    for (host, stats) in &output.stats {
        tracing::info!(host, ?stats, "counters");
    }
    // The data plane's counters (per host, per SA, per flow), one line each.
    for line in output.data_plane.iter().flat_map(|d| d.lines()) {
        tracing::info!("{line}");
    }
    if let Some(path) = &args.counters {
        let streams: Vec<&str> = output.tunnels.iter().map(|t| t.stream.as_str()).collect();
        write_counters(path, &streams, output.data_plane.as_ref())?;
    }
    let end = start + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
    outputs.finish(end)?;
    match output.stopped {
        Some(signal) => Err(Failure::Interrupted(
            signal,
            format!(
                "{}: stopped; every record made until then is written whole",
                signal.name()
            ),
        )),
        None => Ok(()),
    }
}
