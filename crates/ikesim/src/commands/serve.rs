//! `ikesim serve`: simulated AWS tunnels for a real customer gateway.

use std::net::SocketAddr;
use std::path::PathBuf;

use vpn_log::{Format, Schema};

use super::{emit, parse_format, parse_schema, Failure};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Tunnel configuration (TOML; `--print-config` writes one to start from). Without
    /// it: one tunnel with AWS's default options on 127.0.1.1:4500.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address (and port, default 4500) of the first tunnel. Only an address given here
    /// may be outside loopback.
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    listen: Option<SocketAddr>,
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
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    sim::serve::config::parse_listen(s)
}

pub fn run(args: ServeArgs) -> Result<(), Failure> {
    if args.print_config {
        return emit(sim::serve::config::TEMPLATE.trim_end());
    }
    let options = sim::serve::ServeOptions {
        format: args.format,
        schema: args.schema,
        out: args.out,
    };
    let mut config = match &args.config {
        Some(path) => sim::serve::ServeConfig::from_file(path)
            .map_err(|e| Failure::BadInput(e.to_string()))?,
        None => sim::serve::ServeConfig::default(),
    };
    config
        .apply_overrides(args.listen, args.psk.as_deref())
        .map_err(Failure::BadInput)?;
    sim::serve::serve(&config, &options).map_err(|e| Failure::Runtime(e.to_string()))
}
