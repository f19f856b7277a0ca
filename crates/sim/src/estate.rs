//! An estate: many connections run at once on one accelerated clock — the engine under
//! `ikesim fleet` and the benchmarks' full-stack figures.
//!
//! # Design
//! Each connection is a scenario ([`Scenario`], built by whoever makes the estate: the
//! fleet draws them from profiles) built as `run` builds it (`runner::build`) into a
//! [`Cell`]: its hosts, its network (conditions, a NAT) and its recorder. The estate keeps
//! the cells in a heap by their next deadline and always steps the earliest, so simulated
//! time moves forward for the whole estate together: at any moment every connection is
//! where it would be at that time, and all of them are in memory at once.
//!
//! Connections never talk to each other, so a cell's run is exactly its `ikesim run`
//! (same seed, same records): an estate's output is the union of its connections' runs,
//! which is what makes shards (disjoint sets of connections) add up to the whole.
//!
//! # Sockets
//! Every datagram still goes over real loopback UDP, but the cells share their hosts'
//! sockets ([`SocketPool`]): the `k`-th host on an address uses the same two sockets in
//! every cell. A cell's hosts have distinct addresses and a datagram sent in a step is
//! received in that step, so no cell can see another's — and an estate of ten thousand
//! tunnels needs a few sockets (plus those of the NATs it simulates), well under the
//! open-file limit, where a socket pair per host would need forty thousand.
//!
//! # Flow
//! socket → driver (a cell's step) → core → events → the AWS view (the cell's recorder)
//! → records, handed to the [`EstateSink`] after every step, in time order per stream.

use std::borrow::Borrow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use vpn_log::TunnelRecord;

use crate::driver::{Cell, Shared};
pub use crate::runner::SocketPool;
use crate::runner::{build, Connection, Recorder, RunError, RunOptions, Sockets};
use crate::scenario::Scenario;

/// How an estate runs: the clock and the stream names, the same for every connection.
#[derive(Clone, Debug)]
pub struct EstateOptions {
    /// The UTC time of the simulated clock's origin (every connection's `start`).
    pub start: DateTime<Utc>,
    /// Simulated time to run (every connection's `duration`).
    pub duration: Duration,
    /// What joins the VPN connection id and the outside IP in stream names.
    pub stream_separator: vpn_log::StreamSeparator,
    /// Call [`EstateSink::progress`] after this many steps (0: never).
    pub progress_every: u64,
    /// Set (e.g. by a Ctrl-C handler) to end the run early, between two steps: every
    /// record made so far has been handed to the sink, none is cut short
    /// ([`EstateReport::stopped_at`] says when).
    pub stop: Option<Arc<AtomicBool>>,
}

/// Where an estate's records go, as they are made.
pub trait EstateSink {
    /// Connection `connection`'s tunnel `tunnel` (indices into the estate's connections
    /// and the scenario's tunnels) wrote `record` to `stream`. Records come in time order
    /// within each stream, and a stream's records all come from one connection.
    fn record(
        &mut self,
        connection: usize,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> std::io::Result<()>;

    /// The estate's clock reached `simulated` after the origin (every
    /// [`EstateOptions::progress_every`] steps).
    fn progress(&mut self, _simulated: Duration) {}
}

/// What an estate run did.
#[derive(Clone, Debug, Default)]
pub struct EstateReport {
    /// Steps taken (one cell brought to one deadline).
    pub steps: u64,
    /// Each connection's endpoints' counters, in connection order (AWS tunnel 1, CGW for
    /// tunnel 1, …: the host names of `run`).
    pub stats: Vec<Vec<(String, ike_core::Stats)>>,
    /// Each connection's data-plane counters (`RunOutput::data_plane`), in connection
    /// order; `None` for a connection without flows.
    pub data_plane: Vec<Option<crate::dataplane::DataPlaneReport>>,
    /// The simulated time (since the origin) at which [`EstateOptions::stop`] ended the run
    /// early; `None`: it ran to the end.
    pub stopped_at: Option<Duration>,
}

/// Runs every connection in `scenarios` at once from `options.start` for
/// `options.duration`, handing their records to `sink`. Their own `start` and `duration`
/// are replaced by the options'; their seeds are their own. Connections are numbered in
/// the order given; owned scenarios are dropped as soon as their cell is built.
pub fn run_estate<S: Borrow<Scenario>>(
    scenarios: impl IntoIterator<Item = S>,
    options: &EstateOptions,
    sink: &mut dyn EstateSink,
) -> Result<EstateReport, RunError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(scenarios, options, sink))
}

struct Member {
    cell: Cell<Recorder>,
    names: Vec<String>,
}

async fn run_async<S: Borrow<Scenario>>(
    scenarios: impl IntoIterator<Item = S>,
    options: &EstateOptions,
    sink: &mut dyn EstateSink,
) -> Result<EstateReport, RunError> {
    let run_options = RunOptions {
        duration: Some(options.duration),
        start: Some(options.start),
        stream_separator: options.stream_separator,
        ..RunOptions::default()
    };
    let mut pool = SocketPool::default();
    let t0 = Instant::now();
    let scenarios = scenarios.into_iter();
    let mut members = Vec::with_capacity(scenarios.size_hint().0);
    for scenario in scenarios {
        let scenario = scenario.borrow();
        pool.next_cell();
        let Connection {
            hosts,
            net,
            schedule,
            recorder,
            names,
            duration,
            ..
        } = build(scenario, &run_options, t0, Sockets::Pool(&mut pool)).await?;
        let cell = Cell::new(hosts, net, recorder, t0, duration, schedule);
        members.push(Member { cell, names });
    }
    let mut shared = Shared::default();
    let mut heap = BinaryHeap::with_capacity(members.len());
    let mut report = EstateReport::default();
    for (i, m) in members.iter_mut().enumerate() {
        if let Some(next) = m.cell.start(t0, &mut shared).await? {
            heap.push(Reverse((next, i)));
        }
        hand_over(i, &mut m.cell.observer, sink)?;
    }
    let stopping = || {
        options
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    };
    while let Some(Reverse((now, i))) = heap.pop() {
        if stopping() {
            report.stopped_at = Some(now.saturating_duration_since(t0));
            break;
        }
        let m = &mut members[i];
        if let Some(next) = m.cell.step(now, &mut shared).await? {
            heap.push(Reverse((next, i)));
        }
        hand_over(i, &mut m.cell.observer, sink)?;
        report.steps += 1;
        if options.progress_every > 0 && report.steps % options.progress_every == 0 {
            sink.progress(now.saturating_duration_since(t0));
        }
    }
    sink.progress(report.stopped_at.unwrap_or(options.duration));
    report.stats = members
        .iter()
        .map(|m| {
            m.names
                .iter()
                .cloned()
                .zip(m.cell.hosts.iter().map(|h| h.endpoint.stats()))
                .collect()
        })
        .collect();
    report.data_plane = members
        .iter()
        .map(|m| m.cell.net.plane.as_ref().map(|p| p.report(&m.names)))
        .collect();
    Ok(report)
}

/// Hands connection `connection`'s new records to the sink, and forgets them.
fn hand_over(
    connection: usize,
    recorder: &mut Recorder,
    sink: &mut dyn EstateSink,
) -> std::io::Result<()> {
    for (tunnel, record) in recorder.records.drain(..) {
        sink.record(
            connection,
            tunnel,
            &recorder.tunnels[tunnel].stream,
            &record,
        )?;
    }
    for log in &mut recorder.tunnels {
        log.records.clear();
    }
    Ok(())
}
