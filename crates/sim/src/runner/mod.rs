//! Scenario → simulated hosts → driver → AWS log records: `build` makes a connection (on
//! its own sockets or a pool's, `sockets`), `run` drives it, the `Recorder` (`recorder`)
//! turns what the AWS endpoints report into records, and `streaming` hands them to the
//! command's sink as they are made (`run_streaming`), until the end or a [`Stop`] (`stop`).

mod build;
mod plane;
mod recorder;
mod sockets;
mod stop;
mod streaming;

pub(crate) use build::{build, Connection};
pub(crate) use recorder::Recorder;
pub use sockets::SocketPool;
pub(crate) use sockets::Sockets;
pub use stop::{Signal, Stop};

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use vpn_log::{RecordSink, SinkError, TunnelRecord};

use crate::aws::TunnelLog;
use crate::capture::{wireshark_key_line, KeyFiles};
use crate::dataplane::{DataPlane, DataPlaneReport};
use crate::driver::{self, Clock, Host};
use crate::scenario::Scenario;

/// How to run a scenario (command-line overrides and outputs).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// `--seed`: replaces the scenario's `seed` (same seed, same records).
    pub seed: Option<u64>,
    /// `--duration`: replaces the scenario's `duration`, in simulated time.
    pub duration: Option<Duration>,
    /// Accelerated (the default: the clock jumps to the next deadline) or the wall clock
    /// (`--realtime`), as DESIGN.md's driver section says.
    pub clock: Clock,
    /// Write every datagram to this pcap file.
    pub pcap: Option<PathBuf>,
    /// Write the IKE SA keys as Wireshark's `ikev2_decryption_table` and
    /// `ikev1_decryption_table` into this directory.
    pub keys: Option<PathBuf>,
    /// `--start`: replaces the scenario's `start`, the UTC time of the simulated clock's
    /// origin.
    pub start: Option<DateTime<Utc>>,
    /// What joins the VPN connection id and the outside IP in stream names.
    pub stream_separator: vpn_log::StreamSeparator,
    /// `--timeline`: collect the run's ladder diagram ([`RunOutput::timeline`]). It turns
    /// on the endpoints' trace (`ike_core::EndpointConfig::trace`), which changes nothing
    /// they send or log.
    pub timeline: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            duration: None,
            clock: Clock::Accelerated,
            pcap: None,
            keys: None,
            start: None,
            stream_separator: vpn_log::StreamSeparator::default(),
            timeline: false,
        }
    }
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A loopback socket or the runtime failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// `--pcap FILE` or `--keys DIR` cannot be created: found before the simulation
    /// starts ([`RunError::is_bad_input`]).
    #[error("cannot write {what} to {}: {source} (is the directory there and writable?)", .path.display())]
    Unusable {
        /// The option: `--pcap` or `--keys`.
        what: &'static str,
        /// The path it was given.
        path: PathBuf,
        /// Why it cannot be created.
        source: std::io::Error,
    },
    /// Writing the capture or the keys failed during or at the end of the run.
    #[error("writing {what} to {} failed: {source}", .path.display())]
    Capture {
        /// The option: `--pcap` or `--keys`.
        what: &'static str,
        /// The path it was given.
        path: PathBuf,
        /// The write's error.
        source: std::io::Error,
    },
    /// The records could not be written where they go (stdout, `--out`, …).
    #[error(transparent)]
    Output(#[from] SinkError),
}

impl RunError {
    /// Whether the run failed on what the user asked for (an unusable output path) rather
    /// than while running: exit status 2, not 1.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, RunError::Unusable { .. })
    }
}

/// What a run produced.
pub struct RunOutput {
    /// One log per AWS tunnel (its stream; its records went to the sink).
    pub tunnels: Vec<TunnelLog>,
    /// Every record in the order written, with the index of its tunnel ([`run`]; empty
    /// after [`run_streaming`], whose sink had them).
    pub records: Vec<(usize, TunnelRecord)>,
    /// The signal that ended the run early (every record made until then was written).
    pub stopped: Option<Signal>,
    /// The endpoints' counters (AWS tunnel 1, CGW for tunnel 1, …).
    pub stats: Vec<(String, ike_core::Stats)>,
    /// The ladder diagram, when [`RunOptions::timeline`] asked for it (write it with
    /// [`crate::timeline::write_page`]).
    pub timeline: Option<timeline::Timeline>,
    /// The data plane's counters (per SA, per flow), when the scenario has flows.
    pub data_plane: Option<DataPlaneReport>,
}

/// Runs a scenario to the end and returns its records.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunOutput, RunError> {
    let mut kept = Kept(Vec::new());
    let mut output = run_streaming(scenario, options, &mut kept, None)?;
    output.records = kept.0;
    Ok(output)
}

/// Runs a scenario, handing each record to `sink` as it is made: every tunnel's stream is
/// opened (in tunnel order) before the first record, records come in the order [`run`]
/// returns them, and `sink` is flushed at the end — after each event's records too on
/// the wall clock. The run ends early when `stop` is asked for (on the wall clock also on
/// Ctrl-C or SIGTERM itself), or when `sink` fails; the pcap and key files are closed
/// whole either way.
pub fn run_streaming(
    scenario: &Scenario,
    options: &RunOptions,
    sink: &mut dyn RecordSink,
    stop: Option<&Stop>,
) -> Result<RunOutput, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(scenario, options, sink, stop))
}

/// [`run`]'s sink: every record kept, in order.
struct Kept(Vec<(usize, TunnelRecord)>);

impl RecordSink for Kept {
    fn open(&mut self, _tunnel: usize, _stream: &str) -> Result<String, SinkError> {
        Ok("memory".to_owned())
    }

    fn write(
        &mut self,
        tunnel: usize,
        _stream: &str,
        record: &TunnelRecord,
    ) -> Result<(), SinkError> {
        self.0.push((tunnel, record.clone()));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

async fn run_async(
    scenario: &Scenario,
    options: &RunOptions,
    sink: &mut dyn RecordSink,
    stop: Option<&Stop>,
) -> Result<RunOutput, RunError> {
    let keys = match &options.keys {
        Some(dir) => Some(KeyFiles::create(dir).map_err(|source| RunError::Unusable {
            what: "--keys",
            path: dir.clone(),
            source,
        })?),
        None => None,
    };
    let t0 = Instant::now();
    let Connection {
        mut hosts,
        mut net,
        schedule,
        mut recorder,
        names,
        seed,
        duration,
    } = build(scenario, options, t0, Sockets::Own).await?;
    for (i, log) in recorder.tunnels.iter().enumerate() {
        sink.open(i, &log.stream)?;
    }
    let mut streaming = streaming::Streaming {
        recorder: &mut recorder,
        sink,
        stop,
        flush_each: options.clock == Clock::Realtime,
        failed: None,
        stopped: None,
    };
    let driven = driver::run(
        &mut hosts,
        &mut net,
        options.clock,
        t0,
        duration,
        schedule,
        &mut streaming,
    )
    .await;
    // The minutes of bytes still open are over with the run.
    if let Some(plane) = net.plane.as_mut() {
        for (host, end, bytes) in plane.last_minutes() {
            driver::Observer::data(&mut streaming, host, end, bytes);
        }
    }
    let streaming::Streaming {
        failed,
        stopped,
        sink,
        ..
    } = streaming;
    // What was made is written and the captures closed whatever ended the run.
    let flushed = sink.flush();
    let pcap_path = || options.pcap.clone().unwrap_or_default();
    let captured = match (recorder.pcap_error.take(), recorder.pcap.take()) {
        (Some(source), _) => Err(source),
        (None, Some(p)) => p.finish(),
        (None, None) => Ok(()),
    }
    .map_err(|source| RunError::Capture {
        what: "--pcap",
        path: pcap_path(),
        source,
    });
    let keyed = match (keys, &options.keys) {
        (Some(keys), Some(dir)) => {
            write_keys(keys, &mut hosts, net.plane.as_deref()).map_err(|source| RunError::Capture {
                what: "--keys",
                path: dir.clone(),
                source,
            })
        }
        _ => Ok(()),
    };
    driven?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    flushed?;
    captured?;
    keyed?;
    let stats = names
        .iter()
        .cloned()
        .zip(hosts.iter().map(|h| h.endpoint.stats()))
        .collect();
    let title = format!("ikesim run {} --seed {seed}", scenario.name);
    let timeline = recorder
        .timeline
        .take()
        .map(|c| c.finish(title, recorder.start));
    let data_plane = net.plane.as_ref().map(|p| p.report(&names));
    Ok(RunOutput {
        tunnels: recorder.tunnels,
        records: Vec::new(),
        stopped,
        stats,
        timeline,
        data_plane,
    })
}

/// Every IKE SA's keys the endpoints exported, once each, into Wireshark's tables.
fn write_keys(
    mut keys: KeyFiles,
    hosts: &mut [Host],
    plane: Option<&DataPlane>,
) -> std::io::Result<()> {
    // The ESP SAs as they are on the wire (`esp_sa`: the outer addresses).
    for pair in plane.into_iter().flat_map(DataPlane::installed_pairs) {
        keys.write_esp_sa(pair, pair.local.ip(), pair.remote.ip())?;
    }
    let mut seen = HashSet::new();
    for h in hosts.iter_mut() {
        while let Some(s) = h.endpoint.poll_secrets() {
            let Some(line) = wireshark_key_line(&s).filter(|_| seen.insert((s.spi_i, s.spi_r)))
            else {
                continue;
            };
            keys.write(&s, &line)?;
        }
    }
    keys.finish()
}
