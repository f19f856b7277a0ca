//! Running a fleet's connections on `--jobs` threads, each an estate over its share
//! ([`sim::estate::run_estate`]), all on one simulated clock origin, and handing their
//! records on in one order that does not depend on the number of threads.
//!
//! Each estate's records come in time order (it always steps its earliest cell). The
//! calling thread merges the estates' streams: a record is handed on once every estate
//! has gone past its time (each estate reports how far its clock got), and records of the
//! same millisecond are ordered by connection, then as their connection made them. Every
//! estate sends through a bounded channel and the merge reads from the one furthest
//! behind, so a fast estate waits instead of piling up records in memory.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sim::estate::{EstateOptions, EstateSink};
use sim::Scenario;
use vpn_log::TunnelRecord;

use crate::FleetError;

/// Where a fleet's records go.
pub trait FleetSink {
    /// Connection `position` (an index into the connections run) wrote `record` to
    /// `stream` of its tunnel `tunnel`. Records come in time order across the fleet.
    fn record(
        &mut self,
        position: usize,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> std::io::Result<()>;

    /// Every record up to `simulated` after the origin has been handed over.
    fn progress(&mut self, _simulated: Duration) {}
}

/// What a fleet run did, connection by connection.
#[derive(Clone, Debug, Default)]
pub struct FleetReport {
    /// Steps the estates took in all.
    pub steps: u64,
    /// Each connection's endpoints' counters, in the order the connections were given
    /// (AWS tunnel 1, CGW for tunnel 1, …).
    pub stats: Vec<Vec<(String, ike_core::Stats)>>,
    /// [`EstateOptions::stop`] ended the run early: the simulated times (since the origin)
    /// the estates had reached, earliest and latest. Every stream is whole records, in
    /// time order, up to where its estate stopped.
    pub stopped_at: Option<(Duration, Duration)>,
    /// The connections' data-plane counters, summed.
    pub data_plane: crate::DataPlaneTotals,
}

/// A record on its way to the merge, ordered by (time, connection, sequence).
struct Item {
    time: DateTime<Utc>,
    position: usize,
    seq: u64,
    tunnel: usize,
    stream: String,
    record: TunnelRecord,
}

impl Item {
    fn key(&self) -> (DateTime<Utc>, usize, u64) {
        (self.time, self.position, self.seq)
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

enum Msg {
    /// Records, and how far the estate's clock has got: every later record is at this
    /// time or after.
    Batch(Vec<Item>, DateTime<Utc>),
    /// The estate ended.
    Done(Result<(sim::estate::EstateReport, usize), FleetError>),
}

/// Records in a batch before it is sent.
const BATCH: usize = 1024;
/// Batches an estate may have in flight.
const IN_FLIGHT: usize = 16;

/// An estate's sink: records into batches for the merge.
struct Forward {
    tx: SyncSender<Msg>,
    /// This estate's first connection's position (its connections are consecutive).
    first: usize,
    start: DateTime<Utc>,
    batch: Vec<Item>,
    seq: Vec<u64>,
    sent_mark: DateTime<Utc>,
}

impl Forward {
    fn send(&mut self, mark: DateTime<Utc>) -> std::io::Result<()> {
        let items = std::mem::take(&mut self.batch);
        self.sent_mark = mark;
        self.tx
            .send(Msg::Batch(items, mark))
            .map_err(|_| std::io::Error::other("the fleet stopped"))
    }
}

impl EstateSink for Forward {
    fn record(
        &mut self,
        connection: usize,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> std::io::Result<()> {
        let seq = &mut self.seq[connection];
        *seq += 1;
        self.batch.push(Item {
            time: record.time,
            position: self.first + connection,
            seq: *seq,
            tunnel,
            stream: stream.to_owned(),
            record: record.clone(),
        });
        if self.batch.len() >= BATCH {
            self.send(record.time)?;
        }
        Ok(())
    }

    fn progress(&mut self, simulated: Duration) {
        let mark = self.start + chrono::Duration::from_std(simulated).unwrap_or_default();
        if mark > self.sent_mark || !self.batch.is_empty() {
            // A failed send means the merge is gone; the next record's send says so.
            let _ = self.send(mark);
        }
    }
}

/// Runs `connections` (a fleet's, or a shard's, as scenarios: [`crate::Connection::scenario`]) on `jobs` threads, each an estate over a consecutive share, from `options.start`
/// for `options.duration`, handing every record to `sink` in an order independent of
/// `jobs` (module documentation).
/// The scenarios are taken by value: each is dropped as soon as its estate has built it.
pub fn run(
    connections: Vec<Scenario>,
    options: &EstateOptions,
    jobs: usize,
    sink: &mut dyn FleetSink,
) -> Result<FleetReport, FleetError> {
    let total = connections.len();
    let jobs = jobs.clamp(1, total.max(1));
    let size = total.div_ceil(jobs).max(1);
    std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(jobs);
        let mut connections = connections.into_iter();
        for j in 0..jobs {
            let part: Vec<Scenario> = connections.by_ref().take(size).collect();
            if part.is_empty() {
                break;
            }
            let (tx, rx) = sync_channel(IN_FLIGHT);
            receivers.push(rx);
            scope.spawn(move || estate(part, j * size, options, tx));
        }
        merge(&receivers, options.start, total, sink)
    })
}

fn estate(scenarios: Vec<Scenario>, first: usize, options: &EstateOptions, tx: SyncSender<Msg>) {
    let mut forward = Forward {
        tx: tx.clone(),
        first,
        start: options.start,
        batch: Vec::new(),
        seq: vec![0; scenarios.len()],
        sent_mark: options.start,
    };
    let result = sim::estate::run_estate(scenarios, options, &mut forward);
    // A stopped estate's records end where it stopped; the mark can still say the end.
    let end = options.start + chrono::Duration::from_std(options.duration).unwrap_or_default();
    let flushed = forward.send(end);
    let done = match (result, flushed) {
        (Ok(report), Ok(())) => Ok((report, first)),
        (Err(e), _) => Err(FleetError::Run(e.to_string())),
        (_, Err(e)) => Err(FleetError::Run(e.to_string())),
    };
    let _ = tx.send(Msg::Done(done));
}

fn merge(
    receivers: &[Receiver<Msg>],
    start: DateTime<Utc>,
    connections: usize,
    sink: &mut dyn FleetSink,
) -> Result<FleetReport, FleetError> {
    // Each estate's mark: how far its clock got (None once it is done).
    let mut marks: Vec<Option<DateTime<Utc>>> = vec![Some(start); receivers.len()];
    let mut heap: BinaryHeap<Reverse<Item>> = BinaryHeap::new();
    let mut report = FleetReport {
        steps: 0,
        stats: vec![Vec::new(); connections],
        stopped_at: None,
        data_plane: crate::DataPlaneTotals::default(),
    };
    let hand = |heap: &mut BinaryHeap<Reverse<Item>>,
                floor: Option<DateTime<Utc>>,
                sink: &mut dyn FleetSink|
     -> Result<(), FleetError> {
        while let Some(Reverse(top)) = heap.peek() {
            if floor.is_some_and(|f| top.time >= f) {
                break;
            }
            let Some(Reverse(item)) = heap.pop() else {
                break;
            };
            sink.record(item.position, item.tunnel, &item.stream, &item.record)
                .map_err(|e| FleetError::Output(e.to_string()))?;
        }
        Ok(())
    };
    loop {
        let behind = marks
            .iter()
            .enumerate()
            .filter_map(|(j, m)| m.map(|m| (m, j)))
            .min();
        let Some((_, j)) = behind else {
            break;
        };
        match receivers[j].recv() {
            Ok(Msg::Batch(items, mark)) => {
                heap.extend(items.into_iter().map(Reverse));
                marks[j] = Some(mark);
            }
            Ok(Msg::Done(result)) => {
                marks[j] = None;
                let (estate, first) = result?;
                report.steps += estate.steps;
                if let Some(at) = estate.stopped_at {
                    let (lo, hi) = report.stopped_at.get_or_insert((at, at));
                    (*lo, *hi) = ((*lo).min(at), (*hi).max(at));
                }
                for d in estate.data_plane.iter().flatten() {
                    report.data_plane.add(d);
                }
                for (i, stats) in estate.stats.into_iter().enumerate() {
                    report.stats[first + i] = stats;
                }
            }
            Err(_) => {
                return Err(FleetError::Run(
                    "an estate's thread ended without a word (it panicked)".into(),
                ))
            }
        }
        let floor = marks.iter().flatten().min().copied();
        hand(&mut heap, floor, sink)?;
        if let Some(f) = floor {
            sink.progress((f - start).to_std().unwrap_or_default());
        }
    }
    hand(&mut heap, None, sink)?;
    Ok(report)
}
