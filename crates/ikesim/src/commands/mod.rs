//! One module per subcommand: its arguments (clap) and what it does. `main` parses and
//! dispatches; every command returns a [`Failure`] that `main` turns into the exit status.

use std::io::Write;

use sim::SimDuration;
use vpn_log::{Format, Schema};

pub mod bench;
pub mod connect;
pub mod explain;
pub mod fleet;
pub mod list;
pub mod new_scenario;
pub mod outputs;
pub mod run;
pub mod serve;

/// Exit status: 0 when the scenario ran (whatever the tunnel did), 2 on bad input, 1 when
/// the simulation itself could not run (`connect`: when the tunnel failed).
pub enum Failure {
    BadInput(String),
    Runtime(String),
    /// A signal ended the command early, after it wrote what it had: exit status 128 + the
    /// signal's number, as the shell reports it (130 for SIGINT, 143 for SIGTERM).
    Interrupted(sim::Signal, String),
}

impl Failure {
    /// How a failed run reads: an unusable `--pcap` / `--keys` path is bad input (found
    /// before the simulation started), anything else a runtime failure.
    pub fn of_run(e: &sim::RunError) -> Failure {
        if e.is_bad_input() {
            Failure::BadInput(e.to_string())
        } else {
            Failure::Runtime(e.to_string())
        }
    }
}

/// Writes one line to stdout. A closed pipe (`ikesim list | head`) ends the output
/// quietly, as it does for any Unix tool; other write errors are failures.
pub fn emit(line: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::Runtime(format!("writing to stdout: {e}"))),
        Ok(()) => Ok(()),
    }
}

/// `--timeline FILE.html` of `run` and `serve`: checked before the run, not after it, so
/// that a long run (or serve) does not end in an unwritable path.
pub fn check_timeline(path: Option<&std::path::Path>) -> Result<(), Failure> {
    let Some(path) = path else {
        return Ok(());
    };
    sim::timeline::check_page_path(path).map_err(|e| {
        Failure::BadInput(format!(
            "cannot write the timeline to {}: {e} (is the directory there and writable?)",
            path.display()
        ))
    })
}

pub fn parse_duration(s: &str) -> Result<SimDuration, String> {
    s.parse()
}

pub fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: vpn_log::RecordError| e.to_string())
}

pub fn parse_schema(s: &str) -> Result<Schema, String> {
    s.parse().map_err(|e: vpn_log::RecordError| e.to_string())
}
