//! `ikesim bench [WHAT]`: every figure of issue 13 §5 with its same-run baseline and their
//! ratio (sim::bench measures; docs/performance.md explains the method and records a run),
//! and `ikesim bench flood`, issue 14's flood table.

use std::process::Command;

use sim::bench::floor::HandshakeSuite;
use sim::bench::{BenchError, Figure, MemorySample, Size};
use sim::scenario::Traffic;

use super::{emit, Failure};

/// Which figures to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    /// Everything below, in this order.
    All,
    /// Full-stack handshakes per second against their crypto floor, per suite.
    Handshakes,
    /// One tunnel × 30 days, steady and idle, against its DH (and round-trip) floor.
    Tunnel,
    /// 1,000 connections × 1 day with records to files, and 100/1,000/10,000 connections.
    Fleet,
    /// ESP seal + open per suite against its crypto floor; one tunnel at 1,000 packets/s
    /// for an hour (twice, same seed: the counters must agree) against ESP crypto +
    /// loopback UDP.
    Esp,
    /// Resident memory per established tunnel at 1k and 10k tunnels (a process each).
    Memory,
    /// `ikesim serve` (a child process) under floods of spoofed IKE_SA_INITs: half-open
    /// SAs, memory, answer rate, COOKIEs, a killed CGW's DPD time-out, a CGW's
    /// establishment, CPU per MODP-8192 request. Not part of `all`: it takes minutes of
    /// wall clock (issue 14).
    Flood,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum, default_value = "all")]
    what: What,
    /// Small versions of every figure (seconds, for tests): the ratios are still
    /// measured, the sizes are not the issue's.
    #[arg(long)]
    quick: bool,
    /// Internal: measure memory for this many tunnels in this process and print one
    /// `memory-sample` line (what `bench memory` runs each size in).
    #[arg(long, hide = true, value_name = "TUNNELS")]
    memory_child: Option<usize>,
}

pub fn run(args: BenchArgs) -> Result<(), Failure> {
    let runtime = |e: BenchError| Failure::Runtime(e.to_string());
    if let Some(tunnels) = args.memory_child {
        let sample = sim::bench::memory_sample(tunnels).map_err(runtime)?;
        return emit(&sample.to_line());
    }
    let size = if args.quick { Size::Quick } else { Size::Full };
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; run `cargo run --release -- bench` for meaningful numbers");
    }
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let how = if args.what == What::Flood {
        "ikesim serve and ikesim connect run as child processes: times are wall-clock, CPU and \
         memory from /proc"
    } else {
        "times and rates are the measuring thread's time on a CPU (whoever else shares the \
         cores), wall times are in the notes"
    };
    emit(&format!(
        "ikesim bench ({}, {cores} cores): each figure | its baseline, measured in the same \
         run | their ratio; {how}",
        if args.quick { "quick" } else { "full" }
    ))?;
    let show = |figure: &Figure| emit(&figure.to_string());
    let all = args.what == What::All;
    if all || args.what == What::Handshakes {
        for suite in HandshakeSuite::ALL {
            show(&sim::bench::handshakes(suite, size).map_err(runtime)?)?;
        }
    }
    if all || args.what == What::Tunnel {
        for traffic in [Traffic::Steady, Traffic::Idle] {
            show(&sim::bench::tunnel(traffic, size).map_err(runtime)?)?;
        }
    }
    if all || args.what == What::Fleet {
        let dir = std::env::temp_dir().join(format!("ikesim-bench-{}", std::process::id()));
        let day = sim::bench::fleet_day(size, &dir, &default_mix);
        // The record files are the run's by-product, not its output.
        let _ = std::fs::remove_dir_all(&dir);
        for figure in day.map_err(runtime)? {
            show(&figure)?;
        }
        for figure in sim::bench::fleet_scaling(size).map_err(runtime)? {
            show(&figure)?;
        }
    }
    if all || args.what == What::Esp {
        for figure in sim::bench::seal_open(size).map_err(runtime)? {
            show(&figure)?;
        }
        show(&sim::bench::traffic(size).map_err(runtime)?)?;
    }
    if args.what == What::Flood {
        let exe = std::env::current_exe().map_err(|e| Failure::Runtime(e.to_string()))?;
        let dir = sim::bench::flood::scratch_dir();
        let figures = sim::bench::flood::flood_figures(size, &exe, &dir);
        // Configs, record files and stderr of the children: by-products, not output.
        let _ = std::fs::remove_dir_all(&dir);
        for figure in figures.map_err(runtime)? {
            show(&figure)?;
        }
    }
    if all || args.what == What::Memory {
        for figure in sim::bench::memory_figures(size, &mut child_sample).map_err(runtime)? {
            show(&figure)?;
        }
    }
    Ok(())
}

/// `n` connections of `ikesim fleet`'s default mix (seed 1), for the fleet figure.
fn default_mix(n: usize) -> Result<(Vec<sim::Scenario>, String), BenchError> {
    let spec = fleet::FleetSpec {
        connections: n,
        duration: std::time::Duration::from_secs(86_400),
        seed: 1,
        mix: fleet::Mix::default(),
        shard: fleet::Shard::default(),
        start: chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
    };
    let scenarios = spec
        .members()
        .map(|i| spec.connection(i).scenario())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BenchError::Unexpected(e.to_string()))?;
    Ok((
        scenarios,
        "ikesim fleet's default mix, seed 1 (docs/fleet.md)".to_owned(),
    ))
}

/// Runs `ikesim bench --memory-child N` (this binary) and reads its sample.
fn child_sample(tunnels: usize) -> Result<MemorySample, BenchError> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .args(["bench", "--memory-child", &tunnels.to_string()])
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(BenchError::Unexpected(format!(
            "the memory process for {tunnels} tunnels failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    stdout.lines().find_map(MemorySample::parse).ok_or_else(|| {
        BenchError::Unexpected(format!(
            "the memory process for {tunnels} tunnels printed no sample: {}",
            stdout.trim()
        ))
    })
}
