//! `ikesim serve`: simulated AWS tunnels for a real customer gateway.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::outputs::{OutputArgs, Outputs, TunnelLogging};
use super::{check_timeline, emit, Failure};

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
    /// The customer gateway's address (overrides the file's `[cgw] outside_ip`). AWS
    /// answers only this address and logs only its records: datagrams from any other are
    /// dropped and counted. Without it, any address is answered and each tunnel's log is
    /// that of the first address that authenticates (its earlier records are written then;
    /// records of sources that never authenticate, such as a CGW with a wrong pre-shared
    /// key or a flood of spoofed IKE_SA_INITs, are not written, only counted).
    #[arg(long, value_name = "IP")]
    cgw: Option<IpAddr>,
    /// Pre-shared key of every tunnel (default: the file's, or 32 random characters,
    /// printed at start, as AWS generates).
    #[arg(long, value_name = "KEY")]
    psk: Option<String>,
    /// Print a commented configuration with AWS's defaults and exit.
    #[arg(long)]
    print_config: bool,
    /// Write the ladder diagram of what was served to FILE.html when serve stops: the
    /// CGW's messages as they arrived, decrypted, AWS's answers, timers and records.
    #[arg(long, value_name = "FILE.html")]
    timeline: Option<PathBuf>,
    #[command(flatten)]
    outputs: OutputArgs,
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    sim::serve::config::parse_listen(s)
}

pub fn run(args: ServeArgs) -> Result<(), Failure> {
    if args.print_config {
        return emit(sim::serve::config::TEMPLATE.trim_end());
    }
    check_timeline(args.timeline.as_deref())?;
    let mut config = match &args.config {
        Some(path) => sim::serve::ServeConfig::from_file(path)
            .map_err(|e| Failure::BadInput(e.to_string()))?,
        None => sim::serve::ServeConfig::default(),
    };
    config
        .apply_overrides(args.listen, args.psk.as_deref())
        .map_err(Failure::BadInput)?;
    if let Some(ip) = args.cgw {
        config.set_cgw(ip).map_err(Failure::BadInput)?;
    }
    for (i, t) in config.tunnel.iter().enumerate() {
        let addr = t.listen.get_ref().0;
        if !addr.ip().is_loopback() {
            let who = config.cgw.outside_ip.map_or(
                "any address that reaches it (pass --cgw IP to answer only the customer gateway)"
                    .to_owned(),
                |ip| format!("the customer gateway {ip} only"),
            );
            eprintln!(
                "ikesim serve: warning: tunnel {} listens on {addr}, outside loopback: it faces a \
                 real network and answers IKE (IKE_SA_INIT, main mode) from {who}",
                i + 1
            );
        }
    }
    let tunnels = config
        .tunnel
        .iter()
        .map(|t| {
            TunnelLogging::new(
                &config.vpn_connection_id,
                t.listen.get_ref().0.ip(),
                t.log_options(),
            )
        })
        .collect();
    let mut outputs = Outputs::new(&args.outputs, tunnels, chrono::Utc::now())?;
    let options = sim::serve::ServeOptions {
        stream_separator: args.outputs.stream_separator(),
        timeline: args.timeline,
    };
    let served = sim::serve::serve(&config, &options, &mut outputs)
        .map_err(|e| Failure::Runtime(e.to_string()));
    // What was written is delivered even when serving failed.
    let finished = outputs.finish(chrono::Utc::now());
    served.and(finished)
}
