//! `ikesim`: simulate AWS Site-to-Site VPN tunnels that speak real IKE over loopback, and
//! print the AWS tunnel log records they produce. This file parses the command line,
//! sets up diagnostics and dispatches; each subcommand lives in `commands/`.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{bench, connect, explain, fleet, list, new_scenario, run, serve, Failure};

#[derive(Parser)]
#[command(
    name = "ikesim",
    version,
    about = "Simulate AWS Site-to-Site VPN tunnels speaking real IKE over loopback"
)]
struct Cli {
    /// More diagnostics on stderr (-v, -vv); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print the AWS tunnel log records (JSON lines on stdout).
    Run(run::RunArgs),
    /// Measure ikesim (handshakes, a tunnel over 30 days, a fleet, memory): each figure next
    /// to a baseline measured in the same run, and their ratio. See docs/performance.md.
    Bench(bench::BenchArgs),
    /// Simulated AWS tunnels waiting for a real customer gateway (strongSwan, libreswan, a
    /// router), on the wall clock; records stream to stdout as they happen. Ctrl-C stops.
    /// See docs/real-cgw.md.
    Serve(serve::ServeArgs),
    /// The simulated customer gateway against a real responder (strongSwan, libreswan, a
    /// router, `ikesim serve`), on the wall clock: initiate one tunnel and say what the CGW
    /// sees, one line per event on stderr. Exit status 0 when phase 1 and phase 2 came up, 1
    /// when the tunnel failed (the reason is printed), 2 on bad input. See docs/real-cgw.md.
    Connect(connect::ConnectArgs),
    /// Read AWS Site-to-Site VPN tunnel logs (files, directories, CloudWatch exports and
    /// subscription deliveries; `-` or nothing for stdin) and say what each tunnel did and
    /// why: every record in IKE terms, the tunnel's life, and what went wrong with its
    /// evidence, guide page and the scenario that reproduces it. Exit status 0 when the
    /// input was read, 2 when some of it could not be (reported with file:line).
    Explain(explain::ExplainArgs),
    /// Many VPN connections at once (two tunnels each), mostly healthy, some failing as
    /// real estates do, on the accelerated clock; records to the outputs `run` has, a
    /// summary on stderr. --shard I/K runs one of K slices. See docs/fleet.md.
    Fleet(fleet::FleetArgs),
    /// Write a commented scenario file to start from (NAME.toml in the current directory).
    NewScenario(new_scenario::NewScenarioArgs),
    /// List the built-in scenarios.
    List(list::ListArgs),
}

/// Diagnostics on stderr: `-v` levels, or RUST_LOG; colours only for a person at a terminal.
fn init_tracing(command: &Command, verbose: u8) {
    let level = match (command, verbose) {
        // `connect` exists to show what the CGW sees: its events are shown by default.
        (Command::Connect(_), 0) => "warn,sim::connect=info",
        (_, 0) => "warn",
        (_, 1) => "info",
        (_, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Never colours into a file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

/// After `serve` ended well: the signal that stopped it (exit status 130 or 143, as for
/// `run` and `fleet`), or none (`--print-config`). Serve's loop and our watcher hear the
/// same signal; the watcher gets a moment to note it.
fn stopped_by(stop: &sim::Stop) -> Result<(), Failure> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(100);
    while stop.signal().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    match stop.signal() {
        Some(signal) => Err(Failure::Interrupted(
            signal,
            format!("{}: stopped serving", signal.name()),
        )),
        None => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.command, cli.verbose);
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Serve(args) => {
            // serve ends well only on a signal: it says which in the exit status.
            let stop = sim::Stop::on_signals();
            serve::run(args).and_then(|()| stopped_by(&stop))
        }
        Command::Connect(args) => connect::run(args),
        Command::List(args) => list::run(args),
        Command::NewScenario(args) => new_scenario::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Fleet(args) => fleet::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Interrupted(signal, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(signal.exit_status())
        }
    }
}
