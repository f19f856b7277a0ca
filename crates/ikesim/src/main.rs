//! `ikesim`: simulate AWS Site-to-Site VPN tunnels that speak real IKE over loopback, and
//! print the AWS tunnel log records they produce.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim::{Clock, RunOptions, Scenario, SimDuration};
use vpn_log::{Format, Schema, Sink};

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
    Run {
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
    },
    /// Measure the accelerated driver: simulated seconds per wall second, and wall time
    /// against the run's unavoidable DH computations measured in the same run.
    Bench {
        /// Scenario to run (built-in name or file).
        #[arg(default_value = "ikev2-happy")]
        scenario: String,
        /// Simulated time to run.
        #[arg(long, default_value = "30d", value_parser = parse_duration)]
        duration: SimDuration,
        /// Repeat the measurement this many times (report each run).
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Simulated AWS tunnels waiting for a real customer gateway (strongSwan, libreswan, a
    /// router), on the wall clock; records stream to stdout as they happen. Ctrl-C stops.
    /// See docs/real-cgw.md.
    Serve {
        /// Tunnel configuration (TOML; `--print-config` writes one to start from). Without
        /// it: one tunnel with AWS's default options on 127.0.1.1:4500.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Address (and port, default 4500) of the first tunnel. Only an address given here
        /// may be outside loopback.
        #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
        listen: Option<std::net::SocketAddr>,
        /// Pre-shared key of every tunnel (default: the file's, or 32 random characters,
        /// printed at start, as AWS generates).
        #[arg(long, value_name = "KEY")]
        psk: Option<String>,
        /// Print a commented configuration with AWS's defaults and exit.
        #[arg(long)]
        print_config: bool,
        /// Write one file per log stream into DIR (<vpn-connection-id>_<outside-ip>.jsonl, .log
        /// with --format text) instead of stdout.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Record format: json (AWS's default LogOutputFormat) or text.
        #[arg(long, default_value = "json", value_parser = parse_format)]
        format: Format,
        /// Record schema: current (7 keys, epoch ms) or 2022 (6 keys, epoch seconds).
        #[arg(long, default_value = "current", value_parser = parse_schema)]
        schema: Schema,
    },
    /// The simulated customer gateway against a real responder (strongSwan, libreswan, a
    /// router, `ikesim serve`), on the wall clock: initiate one tunnel and say what the CGW
    /// sees, one line per event on stderr. Exit status 0 when phase 1 and phase 2 came up, 1
    /// when the tunnel failed (the reason is printed), 2 on bad input. See docs/real-cgw.md.
    Connect {
        /// The CGW connection (TOML): the keys of a scenario's [tunnel.cgw], plus `local`
        /// (our address; loopback only in the file).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The responder's address; without a port 500 (4500 when our own port is 4500).
        #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
        peer: (std::net::IpAddr, Option<u16>),
        /// Our address (and port; default: the OS picks one), replacing the file's `local`.
        /// Only an address given here may be outside loopback.
        #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
        local: Option<(std::net::IpAddr, Option<u16>)>,
        /// Pre-shared key, replacing the file's.
        #[arg(long, value_name = "KEY")]
        psk: Option<String>,
        /// The longest the run may last, e.g. 30s, 5m (default: 60 s, or until Ctrl-C with
        /// --stay). Without --stay the run ends as soon as the tunnel is up or has failed.
        #[arg(long, value_parser = parse_duration)]
        duration: Option<SimDuration>,
        /// Keep the tunnel up (answering DPD, rekeying) until Ctrl-C or --duration; the CGW
        /// then deletes its IKE SA.
        #[arg(long)]
        stay: bool,
    },
    /// Write a commented scenario file to start from (NAME.toml in the current directory).
    NewScenario {
        /// Name of the scenario; the file is NAME.toml unless NAME ends in .toml.
        name: String,
    },
    /// List the built-in scenarios.
    List {
        /// One JSON object per scenario.
        #[arg(long)]
        json: bool,
    },
}

fn parse_duration(s: &str) -> Result<SimDuration, String> {
    s.parse()
}

fn parse_listen(s: &str) -> Result<std::net::SocketAddr, String> {
    sim::serve::config::parse_listen(s)
}

fn parse_addr(s: &str) -> Result<(std::net::IpAddr, Option<u16>), String> {
    sim::connect::parse_addr(s)
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: vpn_log::RecordError| e.to_string())
}

fn parse_schema(s: &str) -> Result<Schema, String> {
    s.parse().map_err(|e: vpn_log::RecordError| e.to_string())
}

/// Exit status: 0 when the scenario ran (whatever the tunnel did), 2 on bad input, 1 when
/// the simulation itself could not run (`connect`: when the tunnel failed).
enum Failure {
    BadInput(String),
    Runtime(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // `connect` exists to show what the CGW sees: its events are shown by default.
    let level = match (&cli.command, cli.verbose) {
        (Command::Connect { .. }, 0) => "warn,sim::connect=info",
        _ => level,
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only for a person at a terminal, never into a file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();

    let result = match cli.command {
        Command::Run {
            scenario,
            seed,
            duration,
            format,
            schema,
            realtime,
            pcap,
            keys,
            out,
        } => {
            let clock = if realtime {
                Clock::Realtime
            } else {
                Clock::Accelerated
            };
            let options = RunOptions {
                seed,
                duration: duration.map(|d| d.0),
                clock,
                pcap,
                keys,
            };
            run(&scenario, &options, format, schema, out.as_deref())
        }
        Command::Serve {
            config,
            listen,
            psk,
            print_config,
            out,
            format,
            schema,
        } => {
            if print_config {
                emit(sim::serve::config::TEMPLATE.trim_end())
            } else {
                let options = sim::serve::ServeOptions {
                    format,
                    schema,
                    out,
                };
                serve(config, listen, psk.as_deref(), &options)
            }
        }
        Command::Connect {
            config,
            peer,
            local,
            psk,
            duration,
            stay,
        } => {
            let options = sim::connect::ConnectOptions {
                peer,
                local,
                psk,
                duration: duration.map(|d| d.0),
                stay,
            };
            connect(&config, &options)
        }
        Command::List { json } => list(json),
        Command::NewScenario { name } => new_scenario(&name),
        Command::Bench {
            scenario,
            duration,
            runs,
        } => bench(&scenario, duration, runs),
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
    }
}

fn run(
    name: &str,
    options: &RunOptions,
    format: Format,
    schema: Schema,
    out_dir: Option<&std::path::Path>,
) -> Result<(), Failure> {
    let scenario = Scenario::load(name).map_err(|e| Failure::BadInput(e.to_string()))?;
    let output = sim::run(&scenario, options).map_err(|e| Failure::Runtime(e.to_string()))?;
    for (host, stats) in &output.stats {
        tracing::info!(host, ?stats, "counters");
    }
    let mut sink = match out_dir {
        Some(dir) => Sink::directory(dir, format, schema),
        None => Ok(Sink::stdout(format, schema)),
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

fn serve(
    config: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    psk: Option<&str>,
    options: &sim::serve::ServeOptions,
) -> Result<(), Failure> {
    let mut config = match config {
        Some(path) => sim::serve::ServeConfig::from_file(&path)
            .map_err(|e| Failure::BadInput(e.to_string()))?,
        None => sim::serve::ServeConfig::default(),
    };
    config
        .apply_overrides(listen, psk)
        .map_err(Failure::BadInput)?;
    sim::serve::serve(&config, options).map_err(|e| Failure::Runtime(e.to_string()))
}

fn connect(path: &std::path::Path, options: &sim::connect::ConnectOptions) -> Result<(), Failure> {
    let config = sim::connect::ConnectConfig::from_file(path)
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    if let Some(psk) = &options.psk {
        if psk.is_empty() {
            return Err(Failure::BadInput(
                "--psk: the pre-shared key is empty".into(),
            ));
        }
    }
    match sim::connect::connect(&config, options) {
        Ok(sim::connect::Outcome::Up) => {
            eprintln!("ikesim connect: tunnel up: phase 1 and phase 2 established");
            Ok(())
        }
        Ok(sim::connect::Outcome::Failed(why)) => {
            Err(Failure::Runtime(format!("tunnel failed: {why}")))
        }
        Err(sim::connect::ConnectError::BadInput(msg)) => Err(Failure::BadInput(msg)),
        Err(e) => Err(Failure::Runtime(e.to_string())),
    }
}

fn bench(name: &str, duration: SimDuration, runs: u32) -> Result<(), Failure> {
    let scenario = Scenario::load(name).map_err(|e| Failure::BadInput(e.to_string()))?;
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

/// Writes one line to stdout. A closed pipe (`ikesim list | head`) ends the output
/// quietly, as it does for any Unix tool; other write errors are failures.
fn emit(line: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::Runtime(format!("writing to stdout: {e}"))),
        Ok(()) => Ok(()),
    }
}

fn new_scenario(name: &str) -> Result<(), Failure> {
    let path = if name.ends_with(".toml") {
        PathBuf::from(name)
    } else {
        PathBuf::from(format!("{name}.toml"))
    };
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure::BadInput(format!(
                "{} exists already: pick another name or remove it",
                path.display()
            )))
        }
        Err(e) => {
            return Err(Failure::BadInput(format!(
                "cannot create {}: {e}",
                path.display()
            )))
        }
    };
    file.write_all(sim::scenario::TEMPLATE.as_bytes())
        .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?;
    eprintln!(
        "wrote {}: edit it, then `ikesim run {}`",
        path.display(),
        path.display()
    );
    Ok(())
}

fn list(json: bool) -> Result<(), Failure> {
    let width = sim::builtin::all()
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, text) in sim::builtin::all() {
        let scenario = Scenario::parse(text, name, name)
            .map_err(|e| Failure::Runtime(format!("built-in scenario {e}")))?;
        if json {
            let messages: Vec<&str> = scenario
                .produces
                .iter()
                .filter_map(|id| vpn_log::by_id(id))
                .map(|e| e.template)
                .collect();
            let value = serde_json::json!({
                "name": name,
                "ike_version": scenario.tunnel.first().map_or(2, |t| t.cgw.ike_version),
                "description": scenario.description,
                "messages": messages,
            });
            emit(&value.to_string())?;
        } else {
            emit(&format!("{name:<width$}  {}", scenario.description))?;
        }
    }
    Ok(())
}
