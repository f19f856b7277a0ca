//! `ikesim connect`: the simulated customer gateway (CGW) alone, on the wall clock, against
//! a real responder (strongSwan, libreswan, a router, `ikesim serve`). It initiates one
//! tunnel — IKEv2, or IKEv1 main mode + quick mode — and says what the CGW sees, one line
//! per event on stderr, then whether phase 1 and phase 2 came up.
//!
//! The configuration ([`config`]) is one CGW connection exactly as a scenario's
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
//! Ports work like `serve`'s: on our IKE port, every IKE datagram carries the non-ESP
//! marker (RFC 3948 §2.2) when neither port is 500; next to it the CGW has a NAT-T port
//! (4500 when the IKE port is 500, else one the OS picks), where it moves — and moves the
//! responder from 500 to 4500 — once NAT detection finds a NAT, and where every IKE datagram
//! is marked (ike_core::nat_t).
//!
//! This module drives the CGW; [`outcome`] follows the events to the verdict (told through
//! [`crate::narration`]); `guesswork` holds what the core does not report yet.

pub mod config;
mod guesswork;
pub mod outcome;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::nat_t::{IKE_PORT, NAT_T_PORT};
use ike_core::{Endpoint, NatTPorts, SaState};
use tokio::net::UdpSocket;

use crate::framing::{PortRole, Received};
use crate::spelling::ike_version_number_of;
pub use config::{
    addresses, parse_addr, ConnectConfig, ConnectOptions, Local, DEFAULT_LOCAL, DEFAULT_WAIT,
    TEMPLATE,
};
use guesswork::V1Guesses;
pub use outcome::Outcome;
use outcome::{verdict, Ending, Progress};

/// How long the CGW waits for the answer to its DELETE when it shuts down.
const DELETE_WAIT: Duration = Duration::from_secs(2);

const MAX_DATAGRAM: usize = 65_535;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The command line or the file do not make a usable run.
    #[error("{0}")]
    BadInput(String),
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
async fn bind_ports(
    local: SocketAddr,
) -> Result<Vec<(PortRole, SocketAddr, UdpSocket)>, ConnectError> {
    let bind = |addr: SocketAddr| async move {
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|e| ConnectError::BadInput(format!("cannot bind {addr}: {e}")))?;
        let addr = socket.local_addr()?;
        Ok::<_, ConnectError>((addr, socket))
    };
    let (ike, socket) = bind(local).await?;
    let mut ports = vec![(PortRole::Single, ike, socket)];
    if ike.port() != NAT_T_PORT {
        let port = if ike.port() == IKE_PORT {
            NAT_T_PORT
        } else {
            0
        };
        let (nat_t, socket) = bind(SocketAddr::new(ike.ip(), port)).await?;
        ports.push((PortRole::NatT, nat_t, socket));
    }
    Ok(ports)
}

/// Receives on whichever socket has a datagram first: (its index, (length, source)).
async fn recv_any(
    ports: &[(PortRole, SocketAddr, UdpSocket)],
    buf: &mut [u8],
) -> std::io::Result<(usize, (usize, SocketAddr))> {
    match ports {
        [(_, _, a)] => a.recv_from(buf).await.map(|got| (0, got)),
        [(_, _, a), (_, _, b), ..] => loop {
            // Readiness first, then the read, so no datagram is taken and then dropped.
            let got = tokio::select! {
                r = a.readable() => r.and_then(|()| a.try_recv_from(buf)).map(|got| (0, got)),
                r = b.readable() => r.and_then(|()| b.try_recv_from(buf)).map(|got| (1, got)),
            };
            match got {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        },
        [] => std::future::pending().await,
    }
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
    let local = ports[0].1;
    let endpoint_config = config.cgw.endpoint_config(&psk);
    let mut endpoint = Endpoint::new(endpoint_config, local, rand::random());
    if let Some((_, nat_t, _)) = ports.get(1) {
        endpoint.set_nat_t_ports(NatTPorts {
            local: Some(nat_t.port()),
            peer: None,
        });
    }
    let marker = PortRole::Single.uses_marker(local, peer);
    eprintln!(
        "ikesim connect: CGW {local} -> responder {peer}, IKEv{}{}{}",
        ike_version_number_of(config.cgw.ike_version),
        if marker {
            " (non-ESP marker: neither port is 500)"
        } else {
            ""
        },
        ports.get(1).map_or(String::new(), |(_, a, _)| format!(
            "; NAT-T port {}",
            a.port()
        ))
    );

    let t0 = Instant::now();
    let cgw = &config.cgw;
    let terminate_at = cgw.terminate_at.map(|d| t0 + d.0);
    let crash_at = cgw.crash_at.map(|d| t0 + d.0);
    // A CGW that is told to do something later stays until then.
    let stay = options.stay || terminate_at.is_some() || crash_at.is_some();
    let limit = options
        .duration
        .or((!stay).then_some(DEFAULT_WAIT))
        .map(|d| t0 + d);

    endpoint.initiate(t0, peer);
    if endpoint.poll_timeout().is_none() {
        return Err(ConnectError::BadInput(format!(
            "cannot start negotiating: none of ike_proposals can be offered in IKEv{} (IKEv1 has no AES-GCM for \
             phase 1)",
            ike_version_number_of(cgw.ike_version)
        )));
    }

    let mut progress = Progress::default();
    let mut guesses = V1Guesses::default();
    let mut shutdown = std::pin::pin!(crate::serve::shutdown_signal());
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut foreign = 0u64;
    let mut esp = 0u64;
    // Set once the run is ending: the deadline for the DELETE exchange.
    let mut closing: Option<Instant> = None;
    let mut reason_end: Option<String> = None;
    let mut crashed = false;
    let mut timed_out = false;
    // Whether anything at all came from the responder.
    let mut heard = false;
    // The phase states when the run decided to end (before our own DELETE).
    let mut states_at_end: Option<(SaState, SaState)> = None;

    loop {
        // Events first (they decide the outcome), then datagrams.
        while let Some(e) = endpoint.poll_event() {
            progress.event(&e);
        }
        while let Some(t) = endpoint.poll_transmit() {
            guesses.sent(endpoint.config().ike_version, &t.payload);
            let Some((role, _, socket)) = ports.iter().find(|(_, a, _)| *a == t.src) else {
                continue;
            };
            let datagram = role.frame(t.src, t.dst, t.payload);
            tracing::debug!(src = %t.src, dst = %t.dst, len = datagram.len(), "send");
            if let Err(e) = socket.send_to(&datagram, t.dst).await {
                tracing::warn!(dst = %t.dst, "send failed: {e}");
            }
        }
        let now = Instant::now();
        if let Some(at) = closing {
            // Shutting down: done once the DELETE exchange is over (IKEv2: answered; IKEv1
            // has no answer), or we waited long enough.
            if endpoint.poll_timeout().is_none() || now >= at {
                break;
            }
        } else {
            let end = if progress.failure.is_some() || (progress.up() && !stay) {
                Some(None)
            } else if endpoint.poll_timeout().is_none() {
                // Nothing is left to happen: abandoned, or down for good.
                Some(None)
            } else if crash_at.is_some_and(|t| now >= t) {
                crashed = true;
                Some(Some("crash_at reached: the CGW goes silent".to_owned()))
            } else if terminate_at.is_some_and(|t| now >= t) {
                Some(Some("terminate_at reached".to_owned()))
            } else if limit.is_some_and(|t| now >= t) {
                timed_out = true;
                Some(Some(match options.duration {
                    Some(d) => format!("--duration {} reached", crate::SimDuration(d)),
                    None => format!("no result within {}", crate::SimDuration(DEFAULT_WAIT)),
                }))
            } else {
                None
            };
            if let Some(why) = end {
                if let Some(why) = &why {
                    tracing::info!("{why}: ending");
                }
                reason_end = why;
                states_at_end = Some(endpoint.phase_states());
                if crashed {
                    break;
                }
                // A CGW shutting down deletes its IKE SA (the responder logs the DELETE).
                if endpoint.ike_sas().is_empty() {
                    break;
                }
                endpoint.delete_ike_sas(now);
                closing = Some(now + DELETE_WAIT);
                continue;
            }
        }

        let next = [
            endpoint.poll_timeout(),
            limit,
            terminate_at,
            crash_at,
            closing,
        ]
        .into_iter()
        .flatten()
        .min();
        let timer = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            signal = &mut shutdown, if closing.is_none() => {
                tracing::info!("{signal}: stopping");
                reason_end = Some(signal.to_owned());
                states_at_end = Some(endpoint.phase_states());
                if endpoint.ike_sas().is_empty() {
                    break;
                }
                endpoint.delete_ike_sas(Instant::now());
                closing = Some(Instant::now() + DELETE_WAIT);
            }
            got = recv_any(&ports, &mut buf) => {
                let (port, (n, from)) = match got {
                    Ok(x) => x,
                    Err(e) => {
                        // E.g. ICMP port unreachable: the responder is not there (yet).
                        tracing::debug!("receive error: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if from.ip() != peer.ip() {
                    foreign += 1;
                    tracing::debug!(%from, "datagram from an address other than the responder's dropped");
                    continue;
                }
                heard = true;
                let data = &buf[..n];
                let (role, local, _) = &ports[port];
                let local = *local;
                match role.classify(local, from, data) {
                    Received::Ike(message) => {
                        tracing::debug!(%from, %local, len = message.len(), "receive");
                        if let Some(why) = guesses.handle(&mut endpoint, Instant::now(), local, from, message) {
                            progress.failed(why);
                        }
                    }
                    Received::Keepalive => tracing::trace!(%from, "NAT-keepalive"),
                    Received::UnmarkedIke => tracing::warn!(
                        %from,
                        "IKE message without the non-ESP marker dropped: when neither port is 500 every IKE \
                         datagram must start with four zero bytes (RFC 3948 §2.2)"
                    ),
                    Received::Esp => {
                        esp += 1;
                        tracing::debug!(%from, len = n, "ESP datagram (no ESP data plane here: counted)");
                    }
                }
            }
            () = timer => {
                let now = Instant::now();
                if endpoint.poll_timeout().is_some_and(|at| at <= now) {
                    endpoint.handle_timeout(now);
                }
            }
        }
    }
    // What the last datagrams said (the answer to our DELETE).
    while let Some(e) = endpoint.poll_event() {
        progress.event(&e);
    }
    tracing::debug!(stats = ?endpoint.stats(), esp, foreign, "counters");

    let end = Ending {
        reason: reason_end,
        timed_out,
        heard,
        states: states_at_end.unwrap_or_else(|| endpoint.phase_states()),
        stay,
        abandoned: cgw.abandon_after_ike_sa_init,
    };
    Ok(verdict(&progress, &end, peer))
}
