//! `ikesim connect`: the simulated customer gateway (CGW) alone, on the wall clock, against
//! a real responder (strongSwan, libreswan, a router, `ikesim serve`). It initiates one
//! tunnel — IKEv2, or IKEv1 main mode + quick mode — and says what the CGW sees, one line
//! per event on stderr, then whether phase 1 and phase 2 came up.
//!
//! The configuration (`config.rs`) is one CGW connection exactly as a scenario's
//! `[tunnel.cgw]` table spells it (the same keys, defaults and checks:
//! [`crate::scenario::CgwConnection`]), plus `local`, our address:
//!
//! ```toml
//! local = "127.0.2.1"              # loopback only in a file; --local names any address
//! ike_version = 2
//! pre_shared_key = "…"             # required: there is no AWS tunnel to take it from
//! ike_proposals = ["aes128-sha256-modp2048"]
//! esp_proposals = ["aes128-sha256-modp2048"]
//! ```
//!
//! With a `[[flow]]` (and maybe `[onprem]`, as in a scenario) the CGW carries traffic:
//! its simulated on-premises hosts send the flows through the tunnel to the hosts behind
//! the responder and answer what comes back (`traffic.rs`); the run lasts until the flows
//! are over, and ends with their counters (docs/real-cgw.md).
//!
//! Ports work like `serve`'s: on our IKE port, every IKE datagram carries the non-ESP
//! marker (RFC 3948 §2.2) when neither port is 500; next to it the CGW has a NAT-T port
//! (4500 when the IKE port is 500, else one the OS picks), where it moves — and moves the
//! responder from 500 to 4500 — once NAT detection finds a NAT, and where every IKE datagram
//! is marked (ike_core::nat_t).
//!
//! This module sets the CGW up; `cgw` is its side of the driver's loop (shared with `run`
//! and `serve`: `driver::run_facing_peers`) and decides when the run ends;
//! `outcome` follows the events to the verdict (told through `narration`). What IKEv1's
//! initiator cannot prove — an unprotected error notify, an answer to main mode 5 that does
//! not decrypt — the core reports as events too (`UnauthenticatedNotify`,
//! `Message5AnswerUndecryptable`), so nothing here reads datagrams.

mod cgw;
mod config;
mod outcome;
mod traffic;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ike_core::nat_t::{IKE_PORT, NAT_T_PORT};
use ike_core::Endpoint;
use tokio::net::UdpSocket;

use crate::dataplane::DataPlaneReport;
use crate::driver::{self, Host, Port};
use crate::framing::PortRole;
use crate::spelling::ike_version_number_of;
use cgw::{Cgw, Deadlines};
use config::{addresses, DEFAULT_WAIT};
pub use config::{parse_addr, ConnectConfig, ConnectOptions, Local};
use outcome::verdict;
pub use outcome::Outcome;
use traffic::{losses, Traffic};

/// Why `connect` could not run (a tunnel that failed is an [`Outcome`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The command line or the file do not make a usable run.
    #[error("{0}")]
    BadInput(String),
    /// A socket could not be bound or used.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs the CGW: binds, initiates and drives the tunnel on the wall clock.
pub fn connect(config: &ConnectConfig, options: &ConnectOptions) -> Result<Outcome, ConnectError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(connect_async(config, options))
}

/// The CGW's sockets: its IKE port, and a NAT-T port next to it (4500 when the IKE port is
/// 500, else one the OS picks) unless the IKE port is 4500 itself.
async fn bind_ports(local: SocketAddr) -> Result<Vec<Port>, ConnectError> {
    let bind = |addr: SocketAddr, role: PortRole| async move {
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|e| ConnectError::BadInput(format!("cannot bind {addr}: {e}")))?;
        let addr = socket.local_addr()?;
        Ok::<_, ConnectError>(Port {
            role,
            socket: Arc::new(socket),
            addr,
        })
    };
    let ike = bind(local, PortRole::Single).await?;
    let ike_port = ike.addr.port();
    let ip = ike.addr.ip();
    let mut ports = vec![ike];
    if ike_port != NAT_T_PORT {
        let port = if ike_port == IKE_PORT { NAT_T_PORT } else { 0 };
        ports.push(bind(SocketAddr::new(ip, port), PortRole::NatT).await?);
    }
    Ok(ports)
}

async fn connect_async(
    config: &ConnectConfig,
    options: &ConnectOptions,
) -> Result<Outcome, ConnectError> {
    let (local, peer) = addresses(config, options).map_err(ConnectError::BadInput)?;
    let psk = match (&options.psk, &config.cgw.pre_shared_key) {
        (Some(p), _) | (None, Some(p)) => p.clone(),
        (None, None) => {
            return Err(ConnectError::BadInput(
                "no pre-shared key: set pre_shared_key in the file or give --psk".into(),
            ))
        }
    };
    if psk.is_empty() {
        return Err(ConnectError::BadInput("the pre-shared key is empty".into()));
    }
    let ports = bind_ports(local).await?;
    let local = ports[0].addr;
    let nat_t = ports.get(1).map(|p| p.addr.port());
    // `--psk` replaces the file's key (CgwConnection::endpoint_config would prefer the file's).
    let mut connection = config.cgw.clone();
    connection.pre_shared_key = Some(psk.clone());
    let mut endpoint_config = connection.endpoint_config(&psk);
    let spec = config.data_plane();
    endpoint_config.data_plane = spec.is_some();
    let sockets = ports.iter().map(|p| (p.addr, p.socket.clone())).collect();
    let traffic = spec
        .map(|s| Traffic::new(&s, connection.replay_window, sockets, rand::random()))
        .transpose()
        .map_err(|e| ConnectError::BadInput(format!("the on-premises network: {e}")))?;
    let endpoint = Endpoint::new(endpoint_config, local, rand::random());
    let mut host = Host::facing_real_peer(endpoint, ports);
    let marker = PortRole::Single.uses_marker(local, peer);
    eprintln!(
        "ikesim connect: CGW {local} -> responder {peer}, IKEv{}{}{}",
        ike_version_number_of(config.cgw.ike_version),
        if marker {
            " (non-ESP marker: neither port is 500)"
        } else {
            ""
        },
        nat_t.map_or(String::new(), |p| format!("; NAT-T port {p}"))
    );

    let t0 = Instant::now();
    let cgw = &config.cgw;
    let mut run = Cgw::new(
        peer,
        Deadlines {
            t0,
            duration: options.duration,
            terminate_at: cgw.terminate_at.map(|d| d.0),
            crash_at: cgw.crash_at.map(|d| d.0),
            stay: options.stay,
        },
        traffic,
    );
    host.endpoint.initiate(t0, peer);
    if host.endpoint.poll_timeout().is_none() {
        return Err(ConnectError::BadInput(format!(
            "cannot start negotiating: none of ike_proposals can be offered in IKEv{} (IKEv1 has no AES-GCM for \
             phase 1)",
            ike_version_number_of(cgw.ike_version)
        )));
    }

    let mut hosts = [host];
    driver::run_facing_peers(&mut hosts, &mut run).await?;
    let [mut host] = hosts;
    // What the last datagrams said (the answer to our DELETE).
    while let Some(e) = host.endpoint.poll_event() {
        run.progress.event(&e);
    }
    tracing::debug!(stats = ?host.endpoint.stats(), esp = run.esp, foreign = run.foreign, "counters");
    let report = run.traffic.as_mut().map(|t| {
        t.ipsec(Instant::now(), &mut host.endpoint);
        (t.report(), t.esp_dropped)
    });
    // The data plane's counters (per host, per SA, per flow), one line each, as `run -v`.
    if let Some((report, esp_dropped)) = &report {
        for line in report.iter().flat_map(DataPlaneReport::lines) {
            tracing::info!("{line}");
        }
        tracing::info!("esp_dropped={esp_dropped}");
    }
    let (progress, end) = run.ending(&host.endpoint, cgw.abandon_after_ike_sa_init);
    let outcome = verdict(&progress, &end, peer);
    // The tunnel came up: the flows tell whether it carried their traffic.
    let lost = report.and_then(|(r, _)| r.as_ref().and_then(losses));
    Ok(match (outcome, lost) {
        (Outcome::Up, Some(lost)) => Outcome::Failed(format!("the tunnel came up, but {lost}")),
        (outcome, _) => outcome,
    })
}
