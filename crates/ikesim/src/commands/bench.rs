//! `ikesim bench`: the accelerated driver's speed against the same run's DH floor.

use sim::{Scenario, SimDuration};

use super::{emit, parse_duration, Failure};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Scenario to run (built-in name or file).
    #[arg(default_value = "ikev2-happy")]
    scenario: String,
    /// Simulated time to run.
    #[arg(long, default_value = "30d", value_parser = parse_duration)]
    duration: SimDuration,
    /// Repeat the measurement this many times (report each run).
    #[arg(long, default_value_t = 3)]
    runs: u32,
}

pub fn run(args: BenchArgs) -> Result<(), Failure> {
    let BenchArgs {
        scenario: name,
        duration,
        runs,
    } = args;
    let scenario = Scenario::load(&name).map_err(|e| Failure::BadInput(e.to_string()))?;
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; run `cargo run --release -- bench` for meaningful numbers");
    }
    emit(&format!(
        "scenario {name}, {duration} simulated, {runs} runs"
    ))?;
    for i in 1..=runs.max(1) {
        let r = sim::bench::bench(&scenario, duration.0)
            .map_err(|e| Failure::Runtime(e.to_string()))?;
        emit(&format!(
            "run {i}: wall {:.3} s, {:.0} simulated s per wall s, {} records; \
             DH floor ({} x {}) {:.3} s, wall/floor {:.2}",
            r.wall.as_secs_f64(),
            r.simulated_per_wall_second(),
            r.records,
            r.dh_exchanges,
            r.dh_group,
            r.floor.as_secs_f64(),
            r.over_floor()
        ))?;
    }
    Ok(())
}
