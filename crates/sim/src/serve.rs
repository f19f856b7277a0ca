//! `ikesim serve`: simulated AWS tunnels waiting for a real customer gateway, on the wall
//! clock. One UDP socket per tunnel, the sans-IO [`Endpoint`] behind it, and every AWS-side
//! event turned into tunnel log records that are written as they happen.
//!
//! Ports, as a real AWS endpoint has them:
//! - **Listening on port 500** (`listen = "…:500"`), a tunnel listens on 4500 as well, like
//!   AWS: a CGW starts on 500 and, once NAT detection found a NAT (or always, for strongSwan
//!   with `kernel-libipsec`, which forces UDP encapsulation by faking one), moves to 4500
//!   for IKE_AUTH / main mode 5 and everything after (ike_core::nat_t). The 4500 socket
//!   carries the non-ESP marker (RFC 3948 §2.2) on every IKE datagram.
//! - **On any other port** the tunnel has that one socket, framed the way real peers frame
//!   it: when neither side is on port 500 IKE shares the port with UDP-encapsulated ESP and
//!   every IKE datagram starts with four zero bytes (strongSwan treats an unmarked one as
//!   ESP); a CGW on 500 talks plain IKE. A CGW that moves its own port is answered there.
//!
//! Either way the core answers each request where it came from (an authenticated setup
//! message from a new port moves the SA there; after setup a CGW behind a NAT is followed,
//! RFC 7296 §2.23, RFC 3947 §5).

pub mod config;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ike_core::nat_t::{IKE_PORT, NAT_T_PORT};
use ike_core::{Endpoint, Event, NatTPorts};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use vpn_log::{Format, Schema, Sink};

use crate::aws::options::{AwsPsk, StartupAction};
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
    /// Write one file per log stream here ([`vpn_log::stream_file`]: `<stream>.jsonl`, or
    /// `.log` for text) instead of writing every record to stdout.
    pub out: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}{}", bind_hint(.addr, .source))]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Output(#[from] vpn_log::SinkError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One of a tunnel's sockets.
struct Port {
    role: PortRole,
    socket: Arc<UdpSocket>,
    addr: SocketAddr,
}

/// One AWS tunnel: sockets, endpoint, log and where its records go.
struct Tunnel {
    index: usize,
    /// The listen socket, and the NAT-T socket when it listens on 500.
    ports: Vec<Port>,
    endpoint: Endpoint,
    log: TunnelLog,
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
        let since = chrono::Duration::from_std(now.saturating_duration_since(self.t0))
            .unwrap_or(chrono::Duration::MAX);
        self.start + since
    }
}

impl Tunnel {
    /// Writes the records for the endpoint's events and sends its datagrams.
    async fn pump(
        &mut self,
        clock: &Clock,
        now: Instant,
        sink: &mut Sink,
    ) -> Result<(), ServeError> {
        while let Some(event) = self.endpoint.poll_event() {
            self.write_records(clock.utc(now), &event, sink)?;
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            let Some(port) = self.ports.iter().find(|p| p.addr == t.src) else {
                tracing::warn!(tunnel = self.index + 1, src = %t.src, "datagram from an address we do not have: dropped");
                continue;
            };
            let datagram = port.role.frame(t.src, t.dst, t.payload);
            tracing::debug!(tunnel = self.index + 1, src = %t.src, dst = %t.dst, len = datagram.len(), "send");
            // A peer that went away (or a route that does not exist) must not stop the
            // tunnel: the core retransmits and times out like AWS would.
            if let Err(e) = port.socket.send_to(&datagram, t.dst).await {
                tracing::warn!(tunnel = self.index + 1, dst = %t.dst, "send failed: {e}");
            }
        }
        Ok(())
    }

    /// Writes the records for one event, and flushes them: they are written as they happen.
    fn write_records(
        &mut self,
        time: DateTime<Utc>,
        event: &Event,
        sink: &mut Sink,
    ) -> Result<(), ServeError> {
        let told = crate::narration::narrate(event, "the CGW");
        tracing::info!(tunnel = self.index + 1, peer = %event.peer, "AWS: {}", told.line);
        self.log.record(time, event);
        for record in self.log.records.drain(..) {
            sink.write(&self.log.stream, &record)?;
        }
        sink.flush()?;
        Ok(())
    }

    /// A datagram from `from` at port `port`: IKE goes to the endpoint; ESP shows the peer
    /// is alive; NAT-keepalives are ignored.
    fn receive(
        &mut self,
        now: Instant,
        port: usize,
        from: SocketAddr,
        data: &[u8],
        cgw: Option<std::net::IpAddr>,
    ) {
        if cgw.is_some_and(|ip| ip != from.ip()) {
            if self.foreign == 0 {
                tracing::warn!(tunnel = self.index + 1, %from, "datagram from an address other than the customer gateway's dropped (further ones: debug)");
            } else {
                tracing::debug!(tunnel = self.index + 1, %from, "datagram from a foreign address dropped");
            }
            self.foreign += 1;
            return;
        }
        let Some(Port {
            role, addr: local, ..
        }) = self.ports.get(port)
        else {
            return;
        };
        match role.classify(*local, from, data) {
            Received::Ike(message) => {
                tracing::debug!(tunnel = self.index + 1, %from, %local, len = message.len(), "receive");
                self.endpoint.handle(now, *local, from, message);
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
                crate::traffic::heard_from_peer(&mut self.endpoint, now);
            }
        }
    }
}

/// What to do about a port that cannot be bound.
fn bind_hint(addr: &SocketAddr, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => format!(
            " (ports below 1024 need root or CAP_NET_BIND_SERVICE; listening on {} also takes {NAT_T_PORT}; \
             or listen on 4500 alone, e.g. --listen {}:4500)",
            IKE_PORT,
            addr.ip()
        ),
        std::io::ErrorKind::AddrInUse => {
            " (another program has it: a running charon or ikesim serve? `ss -ulpn` shows who)".to_owned()
        }
        _ => String::new(),
    }
}

/// Binds a tunnel's sockets: `addr`, and on port 500 also 4500 (NAT-T), as AWS listens.
async fn bind_ports(addr: SocketAddr) -> Result<Vec<Port>, ServeError> {
    let mut wanted = vec![(addr, PortRole::Single)];
    if addr.port() == IKE_PORT {
        wanted.push((SocketAddr::new(addr.ip(), NAT_T_PORT), PortRole::NatT));
    }
    let mut ports = Vec::new();
    for (addr, role) in wanted {
        let socket = UdpSocket::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let addr = socket.local_addr()?;
        ports.push(Port {
            role,
            socket: Arc::new(socket),
            addr,
        });
    }
    Ok(ports)
}

/// Serves the configured tunnels until Ctrl-C (or SIGTERM), then flushes and returns.
pub fn serve(config: &ServeConfig, options: &ServeOptions) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve_async(config, options))
}

async fn serve_async(config: &ServeConfig, options: &ServeOptions) -> Result<(), ServeError> {
    let mut sink = match &options.out {
        Some(dir) => Sink::directory(dir, options.format, options.schema)?,
        None => Sink::stdout(options.format, options.schema),
    };
    let mut tunnels = Vec::new();
    for (index, t) in config.tunnel.iter().enumerate() {
        let addr = t.listen.get_ref().0;
        let ports = bind_ports(addr).await?;
        let local = ports[0].addr;
        let (psk, generated) = match &t.aws.pre_shared_key {
            Some(p) => (p.0.clone(), false),
            None => (AwsPsk::generate(&mut rand::thread_rng()).0, true),
        };
        let endpoint_config = t.aws.endpoint_config(&psk, local.ip());
        let mut endpoint = Endpoint::new(endpoint_config, local, rand::random());
        if let Some(nat_t) = ports.get(1) {
            endpoint.set_nat_t_ports(NatTPorts {
                local: Some(nat_t.addr.port()),
                peer: None,
            });
        }
        let also = ports
            .get(1)
            .map_or(String::new(), |p| format!(" and {} (NAT-T)", p.addr));
        let log = TunnelLog::new(&config.vpn_connection_id, local.ip());
        let to = sink.open(&log.stream)?;
        let psk_note = if generated {
            format!(", pre-shared key {psk} (generated)")
        } else {
            String::new()
        };
        // What the user needs to point a CGW here: not a diagnostic, so not via tracing.
        eprintln!(
            "ikesim serve: tunnel {} listening on {local}{also} (log stream {} -> {to}){psk_note}",
            index + 1,
            log.stream
        );
        tunnels.push(Tunnel {
            index,
            ports,
            endpoint,
            log,
            foreign: 0,
            esp: 0,
            unmarked_warned: false,
        });
    }

    let clock = Clock {
        t0: Instant::now(),
        start: Utc::now(),
    };
    let (tx, mut rx) = mpsc::channel::<(usize, usize, SocketAddr, Vec<u8>)>(1024);
    let mut readers = Vec::new();
    for t in &tunnels {
        for (port, p) in t.ports.iter().enumerate() {
            let (socket, tx, index) = (p.socket.clone(), tx.clone(), t.index);
            readers.push(tokio::spawn(async move {
                let mut buf = vec![0u8; MAX_DATAGRAM];
                loop {
                    match socket.recv_from(&mut buf).await {
                        Ok((n, from)) => {
                            if tx
                                .send((index, port, from, buf[..n].to_vec()))
                                .await
                                .is_err()
                            {
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
    }
    drop(tx);

    for (t, tc) in tunnels.iter_mut().zip(&config.tunnel) {
        if tc.aws.startup_action == StartupAction::Start {
            if let Some(ip) = config.cgw.outside_ip {
                t.endpoint
                    .initiate(clock.t0, SocketAddr::new(ip, config.cgw.port));
            }
        }
    }

    let mut shutdown = std::pin::pin!(shutdown_signal());
    let result = loop {
        let now = Instant::now();
        let mut failed = None;
        for t in tunnels.iter_mut() {
            if let Err(e) = t.pump(&clock, now, &mut sink).await {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            break Err(e);
        }
        let next = tunnels
            .iter()
            .filter_map(|t| t.endpoint.poll_timeout())
            .min();
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
                let Some((index, port, from, data)) = got else { break Ok(()) };
                tunnels[index].receive(Instant::now(), port, from, &data, config.cgw.outside_ip);
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
    for t in &tunnels {
        tracing::info!(tunnel = t.index + 1, stats = ?t.endpoint.stats(), esp = t.esp, foreign = t.foreign, "counters");
    }
    let flushed = sink.flush().map_err(ServeError::from);
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
