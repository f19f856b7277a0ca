//! `ikesim serve`: simulated AWS tunnels waiting for a real customer gateway, on the wall
//! clock. Each tunnel is a host of the driver's loop facing a real peer
//! (`driver::run_facing_peers`): its sockets, the sans-IO [`Endpoint`] behind them,
//! and every AWS-side event turned into tunnel log records that are written as they happen.
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
mod dos;
mod minutes;
mod ports;
pub mod records;
mod report;
mod vpc;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ike_core::{Endpoint, Event, Trace, Transmit};
use vpn_log::RecordSink;

use crate::aws::options::{AwsPsk, StartupAction};
use crate::dataplane::{Arrival as EspArrival, FacingPlane};
use crate::driver::{self, Arrived, Check, Host, NotIke, Observer, ReceiveQueue};
use crate::network::Fate;
use crate::timeline::{Arrival, Collector, HostSpec, Lanes};
pub use config::{ConfigError, ServeConfig};
use minutes::Minutes;
use ports::{bind_hint, bind_ports};
use records::TunnelRecords;

/// What `serve` runs with, besides the configuration and where the records go.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// What joins the VPN connection id and the outside IP in stream names.
    pub stream_separator: vpn_log::StreamSeparator,
    /// `--timeline`: write the ladder diagram of everything served here when `serve`
    /// stops (a signal, or a failure): the real CGW's messages as they arrived, decrypted
    /// by the AWS endpoint, and AWS's own.
    pub timeline: Option<PathBuf>,
}

/// Why `serve` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A tunnel's `listen` address could not be bound; the message hints at the usual
    /// causes.
    #[error("cannot listen on {addr}: {source}{}", bind_hint(.addr, .source))]
    Bind {
        /// The address from the file or `--listen`.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// Records could not be written (stdout or `--out`).
    #[error(transparent)]
    Output(#[from] vpn_log::SinkError),
    /// Any other I/O failure of the runtime or the sockets.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The timeline page could not be written.
    #[error("cannot write the timeline to {}: {source} (is the directory there and writable?)", .path.display())]
    Timeline {
        /// `--timeline`'s path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One AWS tunnel's records and counters (the driver has its sockets and endpoint, as
/// host `index`).
struct Tunnel {
    index: usize,
    /// AWS's view of the endpoint's SAs, and which records are written (records.rs).
    records: TunnelRecords,
    /// Datagrams dropped because they did not come from the expected CGW.
    foreign: u64,
    /// ESP datagrams that authenticated and counted as hearing from the CGW
    /// (`Endpoint::esp_arrived`).
    esp: u64,
    /// ESP datagrams that did not: dropped by the SA database (unknown SPI, replayed,
    /// integrity, …), or not from that SA's peer.
    esp_not_live: u64,
    /// The CHILD SAs' ESP, opened and sealed for the simulated VPC
    /// (dataplane/facing.rs).
    plane: FacingPlane,
    /// The bytes carried this minute, for the sink's `data`.
    minutes: Minutes,
    /// The plane's byte counters already counted into `minutes`.
    counted: (u64, u64),
    /// What the receive queues went through (reported when the loop ends).
    queue: ReceiveQueue,
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

/// The AWS side of `serve`: what the loop reports becomes records, ESP a sign of life.
struct Aws<'s> {
    tunnels: Vec<Tunnel>,
    sink: &'s mut dyn RecordSink,
    clock: Clock,
    /// The customer gateway AWS answers (`None`: any).
    cgw: Option<IpAddr>,
    /// The first failure to write records: it ends the run.
    failed: Option<ServeError>,
    timeline: Option<Collector>,
}

impl Observer for Aws<'_> {
    /// Writes the records for one event, and flushes them: they are written as they happen.
    fn event(&mut self, host: usize, now: Instant, event: Event) {
        let Some(t) = self.tunnels.get_mut(host) else {
            return;
        };
        let told = crate::narration::narrate(&event, "the CGW");
        tracing::info!(tunnel = t.index + 1, peer = %event.peer, "AWS: {}", told.line);
        let out = t.records.observe(now, self.clock.utc(now), &event);
        if let Some(ip) = out.chosen {
            // What decides the tunnel's log: said once, whatever the verbosity.
            eprintln!(
                "ikesim serve: tunnel {}: customer gateway is {ip} (first to authenticate); pass \
                 --cgw to fix it",
                t.index + 1
            );
        }
        let stream = &t.records.stream;
        if let Some(c) = &mut self.timeline {
            for (at, record) in &out.records {
                c.record(host, *at, stream, record);
            }
        }
        let mut written = Ok(());
        for (_, record) in &out.records {
            written = written.and_then(|()| self.sink.write(t.index, stream, record));
        }
        if let Err(e) = written.and_then(|()| self.sink.flush()) {
            self.failed.get_or_insert(e.into());
        }
    }

    fn admit(&mut self, host: usize, from: SocketAddr) -> bool {
        if self.cgw.is_none_or(|ip| ip == from.ip()) {
            return true;
        }
        if let Some(t) = self.tunnels.get_mut(host) {
            if t.foreign == 0 {
                tracing::warn!(tunnel = t.index + 1, %from, "datagram from an address other than the customer gateway's dropped (further ones: debug)");
            } else {
                tracing::debug!(tunnel = t.index + 1, %from, "datagram from a foreign address dropped");
            }
            t.foreign += 1;
        }
        false
    }

    fn handle(&mut self, host: usize, endpoint: &mut Endpoint, at: Arrived, message: &[u8]) {
        if let Some(c) = &mut self.timeline {
            c.arrived(host, at, Arrival::Ike(message));
        }
        let (now, local, from) = at;
        endpoint.handle(now, local, from, message);
    }

    fn sending(&mut self, host: usize, t: &Transmit) {
        if let Some(c) = &mut self.timeline {
            c.sending(host, t);
        }
    }

    fn egress(&mut self, host: usize, now: Instant, t: &Transmit, fate: &Fate) {
        if let Some(c) = &mut self.timeline {
            c.egress(host, now, t, fate);
        }
    }

    fn trace(&mut self, host: usize, now: Instant, trace: Trace) {
        if let Some(c) = &mut self.timeline {
            c.trace(host, now, trace);
        }
    }

    /// ESP is opened with the tunnel's CHILD SAs (dataplane/facing.rs) and its inner packet handed to
    /// the simulated VPC, whose answers go back at once. Only a packet that authenticated
    /// shows the CGW is alive (`Endpoint::esp_arrived`: also on one of its SAs, from that
    /// SA's peer): a datagram anyone can send must not keep a dead CGW alive.
    fn esp(&mut self, host: usize, endpoint: &mut Endpoint, at: Arrived, datagram: &[u8]) {
        let len = datagram.len();
        if let Some(c) = &mut self.timeline {
            c.arrived(host, at, Arrival::Other("ESP", len));
        }
        let Some(t) = self.tunnels.get_mut(host) else {
            return;
        };
        let (now, _, from) = at;
        let tunnel = t.index + 1;
        // What the endpoint installed since the loop last looked (the first ESP of a CHILD
        // SA can follow its IKE_AUTH in the same batch of arrivals).
        while let Some(change) = endpoint.poll_ipsec() {
            t.plane.apply(tunnel, change);
        }
        match t.plane.arrived(tunnel, now, datagram) {
            EspArrival::Opened { spi_in, inner } => {
                if endpoint.esp_arrived(now, from, spi_in) {
                    t.esp += 1;
                    tracing::trace!(tunnel, %from, len, inner, "ESP opened");
                } else {
                    t.esp_not_live += 1;
                    tracing::debug!(tunnel, %from, len, "ESP authenticated but not from its CHILD SA's peer: not a sign of life");
                }
            }
            EspArrival::Dropped(reason) => {
                t.esp_not_live += 1;
                tracing::debug!(tunnel, %from, len, %reason, "ESP datagram dropped");
            }
        }
        self.carried(host, now);
    }

    fn receive_queue(&mut self, host: usize, queue: ReceiveQueue) {
        if let Some(t) = self.tunnels.get_mut(host) {
            t.queue = queue;
        }
    }

    /// NAT-keepalives are ignored; unmarked IKE is warned about once.
    fn not_ike(&mut self, host: usize, _endpoint: &mut Endpoint, at: Arrived, what: NotIke) {
        if let Some(c) = &mut self.timeline {
            let shown = match what {
                NotIke::Keepalive => Arrival::Other("NAT-keepalive", 1),
                NotIke::Esp { len } => Arrival::Other("ESP", len),
                NotIke::UnmarkedIke => Arrival::Other("IKE without the non-ESP marker", 0),
            };
            c.arrived(host, at, shown);
        }
        let Some(t) = self.tunnels.get_mut(host) else {
            return;
        };
        let (_, _, from) = at;
        match what {
            NotIke::Keepalive => tracing::trace!(tunnel = t.index + 1, %from, "NAT-keepalive"),
            NotIke::UnmarkedIke => {
                if !t.unmarked_warned {
                    tracing::warn!(
                        tunnel = t.index + 1,
                        %from,
                        "IKE message without the non-ESP marker dropped: when neither port is 500 every IKE \
                         datagram must start with four zero bytes (RFC 3948 §2.2); use port 500 on the CGW's \
                         side or a CGW that adds the marker"
                    );
                    t.unmarked_warned = true;
                }
            }
            // Handled by `esp` above; here only if the driver reports it so.
            NotIke::Esp { len } => {
                t.esp_not_live += 1;
                tracing::debug!(tunnel = t.index + 1, %from, len, "ESP datagram");
            }
        }
    }

    /// Lets the sink publish what is due by now (metrics, period by period), and wakes the
    /// loop when it next wants to.
    /// Also applies the endpoints' CHILD SA changes to their data planes, lets the VPCs do
    /// what is due, and hands on each minute's bytes once it is over.
    fn check(&mut self, now: Instant, hosts: &mut [Host]) -> Check {
        for (host, h) in hosts.iter_mut().enumerate() {
            let Some(t) = self.tunnels.get_mut(host) else {
                continue;
            };
            while let Some(change) = h.endpoint.poll_ipsec() {
                t.plane.apply(t.index + 1, change);
            }
            t.plane.handle_timeout(t.index + 1, now);
            self.carried(host, now);
        }
        if self.failed.is_some() {
            return Check::Stop;
        }
        let utc = self.clock.utc(now);
        let at = |when: DateTime<Utc>| now + (when - utc).to_std().unwrap_or_default();
        let next = self
            .tunnels
            .iter()
            .flat_map(|t| [t.plane.poll_timeout(), t.minutes.end().map(at)])
            .flatten()
            .chain(self.sink.tick(utc).map(at))
            .min();
        Check::Continue(next)
    }

    fn signal(&mut self, _now: Instant, signal: &'static str, _hosts: &mut [Host]) -> bool {
        tracing::info!("{signal}: stopping");
        true
    }
}

impl Aws<'_> {
    /// Counts what tunnel `host`'s data plane carried since the last call into its minute,
    /// and hands the minute before to the sink once it is over.
    fn carried(&mut self, host: usize, now: Instant) {
        let utc = self.clock.utc(now);
        let Some(t) = self.tunnels.get_mut(host) else {
            return;
        };
        let c = t.plane.counters();
        let (received, sent) = (c.bytes_in - t.counted.0, c.bytes_out - t.counted.1);
        t.counted = (c.bytes_in, c.bytes_out);
        let over = if received + sent > 0 {
            t.minutes.add(utc, received, sent)
        } else {
            t.minutes.over(utc)
        };
        if let Some((end, bytes)) = over {
            if let Err(e) = self.sink.data(t.index, &t.records.stream, end, bytes) {
                self.failed.get_or_insert(e.into());
            }
        }
    }
}

/// Serves `config`'s tunnels until a signal (Ctrl-C, SIGTERM), writing their records to
/// `sink` as they happen (flushed after each event's records) and, with
/// `ServeOptions::timeline`, the timeline page however serving ended.
pub fn serve(
    config: &ServeConfig,
    options: &ServeOptions,
    sink: &mut dyn RecordSink,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (served, timeline) = runtime.block_on(serve_async(config, options, sink));
    let page = match (timeline, &options.timeline) {
        (Some(timeline), Some(path)) => {
            crate::timeline::write_page(path, &timeline).map_err(|source| ServeError::Timeline {
                path: path.clone(),
                source,
            })
        }
        _ => Ok(()),
    };
    served.and(page)
}

/// Serves until the end, and hands back the timeline when `options.timeline` asks for one
/// (whatever the result: a failure is part of the story).
pub(crate) async fn serve_async(
    config: &ServeConfig,
    options: &ServeOptions,
    sink: &mut dyn RecordSink,
) -> (Result<(), ServeError>, Option<timeline::Timeline>) {
    let mut timeline = None;
    let served = serve_tunnels(config, options, sink, &mut timeline).await;
    (served, timeline)
}

async fn serve_tunnels(
    config: &ServeConfig,
    options: &ServeOptions,
    sink: &mut dyn RecordSink,
    page: &mut Option<timeline::Timeline>,
) -> Result<(), ServeError> {
    let mut hosts = Vec::new();
    let mut tunnels = Vec::new();
    let vpc = config.vpc();
    for (index, t) in config.tunnel.iter().enumerate() {
        let addr = t.listen.get_ref().0;
        let ports = bind_ports(addr).await?;
        let local = ports[0].addr;
        let (psk, generated) = match &t.aws.pre_shared_key {
            Some(p) => (p.0.clone(), false),
            None => (AwsPsk::generate(&mut rand::thread_rng()).0, true),
        };
        let mut endpoint_config = t.aws.endpoint_config(&psk, local.ip());
        endpoint_config.trace = options.timeline.is_some();
        endpoint_config.data_plane = true;
        config.dos.apply(&mut endpoint_config.dos);
        let endpoint = Endpoint::new(endpoint_config, local, rand::random());
        let also = ports
            .get(1)
            .map_or(String::new(), |p| format!(" and {} (NAT-T)", p.addr));
        let records = TunnelRecords::new(
            &config.vpn_connection_id,
            local.ip(),
            options.stream_separator,
            config.cgw.outside_ip,
        );
        let to = sink.open(index, &records.stream)?;
        let psk_note = if generated {
            format!(", pre-shared key {psk} (generated)")
        } else {
            String::new()
        };
        // What the user needs to point a CGW here: not a diagnostic, so not via tracing.
        eprintln!(
            "ikesim serve: tunnel {} listening on {local}{also} (log stream {} -> {to}){psk_note}",
            index + 1,
            records.stream
        );
        let sockets = ports.iter().map(|p| (p.addr, p.socket.clone())).collect();
        let replay_window = t.aws.replay_window_size.0;
        let side = crate::scenario::flows::Side::Vpc;
        let (start, seed) = (Instant::now(), rand::random());
        let plane = FacingPlane::new(vpc.site(), side, replay_window, sockets, start, seed)
            .map_err(|e| std::io::Error::other(format!("the simulated VPC: {e}")))?;
        hosts.push(Host::facing_real_peer(endpoint, ports));
        tunnels.push(Tunnel {
            index,
            records,
            foreign: 0,
            esp: 0,
            esp_not_live: 0,
            plane,
            minutes: Minutes::default(),
            counted: (0, 0),
            queue: ReceiveQueue::default(),
            unmarked_warned: false,
        });
    }

    let hosts_list: Vec<String> = vpc.hosts.iter().map(ToString::to_string).collect();
    eprintln!(
        "ikesim serve: VPC {} behind the tunnels: {} answer ping and UDP echo (port 7)",
        vpc.cidr,
        hosts_list.join(", ")
    );
    let clock = Clock {
        t0: Instant::now(),
        start: Utc::now(),
    };
    for (h, tc) in hosts.iter_mut().zip(&config.tunnel) {
        if tc.aws.startup_action == StartupAction::Start {
            if let Some(ip) = config.cgw.outside_ip {
                h.endpoint
                    .initiate(clock.t0, SocketAddr::new(ip, config.cgw.port));
            }
        }
    }
    let timeline = options.timeline.as_ref().map(|_| {
        let specs: Vec<HostSpec> = hosts
            .iter()
            .enumerate()
            .map(|(host, h)| HostSpec {
                host,
                addrs: h.addrs().collect(),
                tunnel: host,
                aws: true,
            })
            .collect();
        Collector::new(clock.t0, Lanes::new(&specs, None))
    });
    let title = format!(
        "ikesim serve {}",
        hosts
            .iter()
            .map(|h| h.addr().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let origin = clock.start;
    let mut aws = Aws {
        tunnels,
        sink,
        clock,
        cgw: config.cgw.outside_ip,
        failed: None,
        timeline,
    };
    let ran = driver::run_facing_peers(&mut hosts, &mut aws).await;
    *page = aws.timeline.take().map(|c| c.finish(title, origin));
    for (t, h) in aws.tunnels.iter_mut().zip(&hosts) {
        t.records.finish();
        if let Some((end, bytes)) = t.minutes.finish() {
            if let Err(e) = aws.sink.data(t.index, &t.records.stream, end, bytes) {
                aws.failed.get_or_insert(e.into());
            }
        }
        t.report(h);
    }
    let flushed = aws.sink.flush().map_err(ServeError::from);
    std::io::stdout().flush()?;
    let result = match aws.failed.take() {
        Some(e) => Err(e),
        None => ran.map_err(ServeError::from),
    };
    result.and(flushed)
}
