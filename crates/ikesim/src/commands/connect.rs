//! `ikesim connect`: the simulated customer gateway against a real responder.

use std::net::IpAddr;
use std::path::PathBuf;

use sim::connect::{ConnectError, ConnectOptions, Outcome};
use sim::SimDuration;

use super::{parse_duration, Failure};

#[derive(clap::Args)]
pub struct ConnectArgs {
    /// The CGW connection (TOML): the keys of a scenario's [tunnel.cgw], plus `local`
    /// (our address; loopback only in the file).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The responder's address; without a port 500 (4500 when our own port is 4500).
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    peer: (IpAddr, Option<u16>),
    /// Our address (and port; default: the OS picks one), replacing the file's `local`.
    /// Only an address given here may be outside loopback.
    #[arg(long, value_name = "ADDR", value_parser = parse_addr)]
    local: Option<(IpAddr, Option<u16>)>,
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
}

fn parse_addr(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    sim::connect::parse_addr(s)
}

pub fn run(args: ConnectArgs) -> Result<(), Failure> {
    let options = ConnectOptions {
        peer: args.peer,
        local: args.local,
        psk: args.psk,
        duration: args.duration.map(|d| d.0),
        stay: args.stay,
    };
    let config = sim::connect::ConnectConfig::from_file(&args.config)
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    if options.psk.as_deref() == Some("") {
        return Err(Failure::BadInput(
            "--psk: the pre-shared key is empty".into(),
        ));
    }
    match sim::connect::connect(&config, &options) {
        Ok(Outcome::Up) => {
            eprintln!("ikesim connect: tunnel up: phase 1 and phase 2 established");
            Ok(())
        }
        Ok(Outcome::Failed(why)) => Err(Failure::Runtime(format!("tunnel failed: {why}"))),
        Err(ConnectError::BadInput(msg)) => Err(Failure::BadInput(msg)),
        Err(e) => Err(Failure::Runtime(e.to_string())),
    }
}
