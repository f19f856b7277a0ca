//! `ikesim serve`: simulated AWS tunnels waiting for a real customer gateway, on the wall
//! clock. One UDP socket per tunnel, the sans-IO [`Endpoint`] behind it, and every AWS-side
//! event turned into tunnel log records that are written as they happen.
//!
//! A real peer needs two things the simulated CGW does not:
//! - **The non-ESP marker** (RFC 3948 §2.2). When neither side uses port 500, IKE shares
//!   the port with UDP-encapsulated ESP and every IKE datagram starts with four zero bytes;
//!   strongSwan treats an unmarked one as ESP. So the socket behaves like a NAT-T socket:
//!   the marker is stripped on receive and added on send, and an unmarked datagram is ESP.
//! - **Floating ports.** A CGW behind a NAT (or strongSwan with `kernel-libipsec`, which
//!   forces UDP encapsulation and fakes one) moves to its NAT-T port from IKE_AUTH on. The
//!   core answers each request where it came from (an authenticated message from a new
//!   address updates the IKE SA's peer address, RFC 7296 §2.23).

pub mod config;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ike_core::{Endpoint, Event};
use rand::Rng;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use vpn_log::{Format, Schema};

use crate::aws::options::StartupAction;
use crate::aws::TunnelLog;
use crate::framing::{PortRole, Received};
pub use config::{ConfigError, ServeConfig};

/// Largest datagram we read.
const MAX_DATAGRAM: usize = 65_535;

/// What `serve` runs with, besides the configuration.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Record format and schema.
    pub format: Format,
    pub schema: Schema,
    /// Write one file per log stream here (`<stream>.jsonl`, or `.log` for text) instead of
    /// writing every record to stdout.
    pub out: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot write records to {what}: {source}")]
    Output { what: String, source: std::io::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One AWS tunnel: socket, endpoint, log and where its records go.
struct Tunnel {
    index: usize,
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    endpoint: Endpoint,
    log: TunnelLog,
    /// `None`: stdout.
    file: Option<(PathBuf, BufWriter<File>)>,
    /// Datagrams dropped because they did not come from the expected CGW.
    foreign: u64,
    esp: u64,
    unmarked_warned: bool,
}

/// The wall clock as record time: `start` is the UTC time of `t0`.
struct Clock {
    t0: Instant,
    start: DateTime<Utc>,
}

impl Clock {
    fn utc(&self, now: Instant) -> DateTime<Utc> {
        let since = chrono::Duration::from_std(now.saturating_duration_since(self.t0)).unwrap_or(chrono::Duration::MAX);
        self.start + since
    }
}

impl Tunnel {
    /// Writes the records for the endpoint's events and sends its datagrams.
    async fn pump(&mut self, clock: &Clock, now: Instant, options: &ServeOptions) -> Result<(), ServeError> {
        while let Some(event) = self.endpoint.poll_event() {
            self.write_records(clock.utc(now), &event, options)?;
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            let datagram = PortRole::Single.frame(t.src, t.dst, &t.payload);
            tracing::debug!(tunnel = self.index + 1, dst = %t.dst, len = datagram.len(), "send");
            // A peer that went away (or a route that does not exist) must not stop the
            // tunnel: the core retransmits and times out like AWS would.
            if let Err(e) = self.socket.send_to(&datagram, t.dst).await {
                tracing::warn!(tunnel = self.index + 1, dst = %t.dst, "send failed: {e}");
            }
        }
        Ok(())
    }

    fn write_records(&mut self, time: DateTime<Utc>, event: &Event, options: &ServeOptions) -> Result<(), ServeError> {
        tracing::info!(tunnel = self.index + 1, peer = %event.peer, kind = ?event.kind, "AWS event");
        self.log.record(time, event);
        for record in self.log.records.drain(..) {
            let line = record.render(options.format, options.schema);
            let result = match &mut self.file {
                Some((_, f)) => writeln!(f, "{line}").and_then(|()| f.flush()),
                None => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{line}").and_then(|()| out.flush())
                }
            };
            result.map_err(|source| ServeError::Output {
                what: self.file.as_ref().map_or_else(|| "stdout".into(), |(p, _)| p.display().to_string()),
                source,
            })?;
        }
        Ok(())
    }

    /// A datagram from `from`: IKE goes to the endpoint; ESP shows the peer is alive;
    /// NAT-keepalives are ignored.
    fn receive(&mut self, now: Instant, from: SocketAddr, data: &[u8], cgw: Option<std::net::IpAddr>) {
        if cgw.is_some_and(|ip| ip != from.ip()) {
            if self.foreign == 0 {
                tracing::warn!(tunnel = self.index + 1, %from, "datagram from an address other than the customer gateway's dropped (further ones: debug)");
            } else {
                tracing::debug!(tunnel = self.index + 1, %from, "datagram from a foreign address dropped");
            }
            self.foreign += 1;
            return;
        }
        match PortRole::Single.classify(self.local, from, data) {
            Received::Ike(message) => {
                tracing::debug!(tunnel = self.index + 1, %from, len = message.len(), "receive");
                self.endpoint.handle(now, self.local, from, message);
            }
            Received::Keepalive => tracing::trace!(tunnel = self.index + 1, %from, "NAT-keepalive"),
            Received::UnmarkedIke => {
                if !self.unmarked_warned {
                    tracing::warn!(
                        tunnel = self.index + 1,
                        %from,
                        "IKE message without the non-ESP marker dropped: when neither port is 500 every IKE \
                         datagram must start with four zero bytes (RFC 3948 §2.2); use port 500 on the CGW's \
                         side or a CGW that adds the marker"
                    );
                    self.unmarked_warned = true;
                }
            }
            Received::Esp => {
                // No ESP data plane here: the datagram is counted, and (like traffic
                // reaching AWS) it stands for hearing from the peer, so on-demand DPD stays
                // quiet while it flows (DESIGN.md, "Traffic and DPD").
                self.esp += 1;
                tracing::debug!(tunnel = self.index + 1, %from, len = data.len(), "ESP datagram (not IKE: no non-ESP marker)");
                self.endpoint.set_peer_traffic(now, true);
                self.endpoint.set_peer_traffic(now, false);
            }
        }
    }
}

/// The file a log stream is written to under `--out`.
pub fn stream_file(dir: &std::path::Path, stream: &str, format: Format) -> PathBuf {
    let ext = match format {
        Format::Json => "jsonl",
        Format::Text => "log",
    };
    dir.join(format!("{stream}.{ext}"))
}

/// AWS's generated PSK: 32 letters and digits, not starting with `0`.
fn generated_psk() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let mut psk = String::new();
    while psk.len() < 32 {
        let c = ALNUM[rng.gen_range(0..ALNUM.len())] as char;
        if !(psk.is_empty() && c == '0') {
            psk.push(c);
        }
    }
    psk
}

/// Serves the configured tunnels until Ctrl-C (or SIGTERM), then flushes and returns.
pub fn serve(config: &ServeConfig, options: &ServeOptions) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(serve_async(config, options))
}

async fn serve_async(config: &ServeConfig, options: &ServeOptions) -> Result<(), ServeError> {
    if let Some(dir) = &options.out {
        std::fs::create_dir_all(dir)
            .map_err(|source| ServeError::Output { what: dir.display().to_string(), source })?;
    }
    let mut tunnels = Vec::new();
    for (index, t) in config.tunnel.iter().enumerate() {
        let addr = t.listen.get_ref().0;
        let socket = UdpSocket::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
        let local = socket.local_addr()?;
        let (psk, generated) = match &t.aws.pre_shared_key {
            Some(p) => (p.0.clone(), false),
            None => (generated_psk(), true),
        };
        let endpoint_config = t.aws.endpoint_config(&psk, local.ip());
        let endpoint = Endpoint::new(endpoint_config, local, rand::random());
        let log = TunnelLog::new(&config.vpn_connection_id, local.ip());
        let file = match &options.out {
            Some(dir) => {
                let path = stream_file(dir, &log.stream, options.format);
                let f = File::create(&path)
                    .map_err(|source| ServeError::Output { what: path.display().to_string(), source })?;
                Some((path, BufWriter::new(f)))
            }
            None => None,
        };
        let psk_note = if generated { format!(", pre-shared key {psk} (generated)") } else { String::new() };
        let to = file.as_ref().map_or_else(|| "stdout".to_owned(), |(p, _)| p.display().to_string());
        // What the user needs to point a CGW here: not a diagnostic, so not via tracing.
        eprintln!(
            "ikesim serve: tunnel {} listening on {local} (log stream {} -> {to}){psk_note}",
            index + 1,
            log.stream
        );
        tunnels.push(Tunnel {
            index,
            socket: Arc::new(socket),
            local,
            endpoint,
            log,
            file,
            foreign: 0,
            esp: 0,
            unmarked_warned: false,
        });
    }

    let clock = Clock { t0: Instant::now(), start: Utc::now() };
    let (tx, mut rx) = mpsc::channel::<(usize, SocketAddr, Vec<u8>)>(1024);
    let mut readers = Vec::new();
    for t in &tunnels {
        let (socket, tx, index) = (t.socket.clone(), tx.clone(), t.index);
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            loop {
                match socket.recv_from(&mut buf).await {
                    Ok((n, from)) => {
                        if tx.send((index, from, buf[..n].to_vec())).await.is_err() {
                            break;
                        }
                    }
                    // E.g. an ICMP error reported on the socket: not the end of the tunnel.
                    Err(e) => {
                        tracing::debug!(tunnel = index + 1, "receive error: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        }));
    }
    drop(tx);

    for (t, tc) in tunnels.iter_mut().zip(&config.tunnel) {
        if tc.aws.startup_action == StartupAction::Start {
            if let Some(ip) = config.cgw.outside_ip {
                t.endpoint.initiate(clock.t0, SocketAddr::new(ip, config.cgw.port));
            }
        }
    }

    let mut shutdown = std::pin::pin!(shutdown_signal());
    let result = loop {
        let now = Instant::now();
        let mut failed = None;
        for t in tunnels.iter_mut() {
            if let Err(e) = t.pump(&clock, now, options).await {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            break Err(e);
        }
        let next = tunnels.iter().filter_map(|t| t.endpoint.poll_timeout()).min();
        let timer = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            signal = &mut shutdown => {
                tracing::info!("{signal}: stopping");
                break Ok(());
            }
            got = rx.recv() => {
                let Some((index, from, data)) = got else { break Ok(()) };
                tunnels[index].receive(Instant::now(), from, &data, config.cgw.outside_ip);
            }
            () = timer => {
                let now = Instant::now();
                for t in tunnels.iter_mut() {
                    if t.endpoint.poll_timeout().is_some_and(|at| at <= now) {
                        t.endpoint.handle_timeout(now);
                    }
                }
            }
        }
    };
    for r in readers {
        r.abort();
    }
    let mut flushed = Ok(());
    for t in tunnels.iter_mut() {
        tracing::info!(tunnel = t.index + 1, stats = ?t.endpoint.stats(), esp = t.esp, foreign = t.foreign, "counters");
        if let Some((path, f)) = &mut t.file {
            if let Err(source) = f.flush() {
                flushed = Err(ServeError::Output { what: path.display().to_string(), source });
            }
        }
    }
    std::io::stdout().flush()?;
    result.and(flushed)
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one; says which.
pub(crate) async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return "interrupt",
                _ = term.recv() => return "terminate",
            }
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => "interrupt",
        // No signal handling at all: serve until killed.
        Err(_) => std::future::pending().await,
    }
}
