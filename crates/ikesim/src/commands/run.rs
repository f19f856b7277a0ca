//! `ikesim run`: a scenario on the accelerated (or wall) clock, its records to a sink.

use std::path::PathBuf;

use sim::{Clock, RunOptions, Scenario, SimDuration};
use vpn_log::{Format, Schema, Sink};

use super::{parse_duration, parse_format, parse_schema, Failure};

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
    /// Record format: json (AWS's default LogOutputFormat) or text.
    #[arg(long, default_value = "json", value_parser = parse_format)]
    format: Format,
    /// Record schema: current (7 keys, epoch ms) or 2022 (6 keys, epoch seconds).
    #[arg(long, default_value = "current", value_parser = parse_schema)]
    schema: Schema,
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
    /// Write one file per log stream into DIR (<vpn-connection-id>_<outside-ip>.jsonl, .log
    /// with --format text; as CloudWatch Logs names the streams) instead of stdout.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let options = RunOptions {
        seed: args.seed,
        duration: args.duration.map(|d| d.0),
        clock: if args.realtime {
            Clock::Realtime
        } else {
            Clock::Accelerated
        },
        pcap: args.pcap,
        keys: args.keys,
    };
    let scenario = Scenario::load(&args.scenario).map_err(|e| Failure::BadInput(e.to_string()))?;
    let output = sim::run(&scenario, &options).map_err(|e| Failure::Runtime(e.to_string()))?;
    for (host, stats) in &output.stats {
        tracing::info!(host, ?stats, "counters");
    }
    let mut sink = match &args.out {
        Some(dir) => Sink::directory(dir, args.format, args.schema),
        None => Ok(Sink::stdout(args.format, args.schema)),
    }
    .map_err(|e| Failure::Runtime(e.to_string()))?;
    let written = (|| {
        for tunnel in &output.tunnels {
            sink.open(&tunnel.stream)?;
        }
        for (tunnel, record) in &output.records {
            sink.write(&output.tunnels[*tunnel].stream, record)?;
        }
        sink.flush()
    })();
    match written {
        // `ikesim run | head`: the reader has what it wanted.
        Err(e) if e.is_broken_pipe() => Ok(()),
        Err(e) => Err(Failure::Runtime(e.to_string())),
        Ok(()) => Ok(()),
    }
}
