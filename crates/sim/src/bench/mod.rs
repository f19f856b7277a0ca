//! `ikesim bench`: how fast the simulation runs, each figure next to a baseline measured
//! in the same run and their ratio — these machines are shared and noisy, so only
//! same-run ratios mean anything (docs/performance.md has the method and a run's table).
//!
//! - [`handshakes`]: full-stack establishments per second (both state machines, real
//!   loopback UDP, records made) on [`crate::estate`], against the same handshakes'
//!   crypto alone ([`floor::handshake_floor`]).
//! - [`tunnel`]: one tunnel × 30 days, steady and idle, against its DH floor (and for
//!   idle, the loopback round trips it made, [`floor::round_trip_floor`]).
//! - [`fleet_day`], [`fleet_scaling`]: an estate of two-tunnel connections (the seam
//!   [`fleet_connections`]), its records to files, and its cost as tunnels grow.
//! - [`memory_figures`]: resident memory per established tunnel, each size measured in a
//!   process of its own ([`memory_sample`]).
//! - [`seal_open`]: ESP seal + open of a 1,400-byte packet per suite against its crypto
//!   floor ([`floor::PacketFloor`]); [`traffic`]: one tunnel at 1,000 packets/s for an
//!   hour, twice with one seed, against ESP crypto + loopback UDP for as many packets.
//! - [`flood`]: `serve` under the floods of issue 14 ([`flood::flood_figures`]), and the
//!   flood generator itself ([`flood::flood`]).

use std::fmt;
use std::time::{Duration, Instant};

use ike_crypto::CryptoError;
use vpn_log::{PhaseState, TunnelRecord};

use crate::runner::RunError;

mod fleet;
pub mod flood;
pub mod floor;
mod handshakes;
mod memory;
mod seal_open;
mod traffic;
mod tunnel;

pub use fleet::{fleet_connections, fleet_day, fleet_scaling};
pub use handshakes::handshakes;
pub use memory::{memory_figures, memory_sample, MemorySample};
pub use seal_open::seal_open;
pub use traffic::traffic;
pub use tunnel::tunnel;

/// Why a bench could not measure.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A run or an estate failed.
    #[error("{0}")]
    Run(#[from] RunError),
    /// A floor's computation failed.
    #[error("crypto floor: {0}")]
    Crypto(#[from] CryptoError),
    /// Sockets, files or the child process of the memory figure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A record file could not be written.
    #[error("{0}")]
    Sink(#[from] vpn_log::SinkError),
    /// A suite's proposal (a bench bug: they are constants).
    #[error("bench suite {0}")]
    Suite(String),
    /// A floor computed something inconsistent (its two peers disagree).
    #[error("the crypto floor's peers disagree: {0}")]
    Inconsistent(&'static str),
    /// A run did not do what the figure measures (e.g. tunnels that did not establish).
    #[error("{0}")]
    Unexpected(String),
}

/// How big the runs are: `Full` for the figures, `Quick` for the tests (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// The sizes: a few minutes in all.
    Full,
    /// Small versions of every figure (`ikesim bench --quick`).
    Quick,
}

/// What a ratio should be for the target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// The ratio should be at least this.
    AtLeast(f64),
    /// The ratio should be at most this.
    AtMost(f64),
    /// A bound on the figure itself (not its ratio), e.g. seconds of wall time.
    ValueBelow(f64),
}

/// One measured figure, its same-run baseline and their ratio.
#[derive(Clone, Debug)]
pub struct Figure {
    /// What was measured, e.g. `handshakes IKEv2 ECP-256 AES-GCM`.
    pub name: String,
    /// The figure.
    pub value: f64,
    /// Its unit, shared with the baseline (e.g. `handshakes/s`, `s`).
    pub unit: &'static str,
    /// What the baseline is, e.g. `crypto floor`.
    pub baseline_name: String,
    /// The baseline, in `unit`.
    pub baseline: f64,
    /// `value / baseline`.
    pub ratio: f64,
    /// The target, if it sets one.
    pub target: Option<Target>,
    /// How it was measured: sizes, counts, wall times.
    pub note: String,
}

impl Figure {
    /// A figure with its ratio computed.
    pub fn new(
        name: String,
        value: f64,
        unit: &'static str,
        baseline_name: &str,
        baseline: f64,
    ) -> Self {
        Figure {
            name,
            value,
            unit,
            baseline_name: baseline_name.to_owned(),
            baseline,
            ratio: value / baseline,
            target: None,
            note: String::new(),
        }
    }

    /// Whether the target is met (`None` without one).
    pub fn target_met(&self) -> Option<bool> {
        self.target.map(|t| match t {
            Target::AtLeast(bound) => self.ratio >= bound,
            Target::AtMost(bound) => self.ratio <= bound,
            Target::ValueBelow(bound) => self.value < bound,
        })
    }

    fn with_target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    fn with_note(mut self, note: String) -> Self {
        self.note = note;
        self
    }
}

/// A number with as many digits as it needs to be read: 8412, 61.3, 0.412.
fn number(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// `name: value unit | baseline what: value unit | ratio r (target …: met) | note`: one
/// line, split on ` | ` by whoever reads it.
impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} | baseline {}: {} {} | ratio {:.3}",
            self.name,
            number(self.value),
            self.unit,
            self.baseline_name,
            number(self.baseline),
            self.unit,
            self.ratio
        )?;
        if let (Some(target), Some(met)) = (self.target, self.target_met()) {
            let verdict = if met { "met" } else { "missed" };
            match target {
                Target::AtLeast(b) => write!(f, " (target ratio ≥ {b}: {verdict})")?,
                Target::AtMost(b) => write!(f, " (target ratio ≤ {b}: {verdict})")?,
                Target::ValueBelow(b) => write!(f, " (target < {b} {}: {verdict})", self.unit)?,
            }
        }
        if !self.note.is_empty() {
            write!(f, " | {}", self.note)?;
        }
        Ok(())
    }
}

/// Exchanges with a DH computation that a record reports: a new IKE SA (its
/// IKE_SA_INIT) or a rekey (with PFS for a CHILD SA, as AWS requires).
fn dh_exchanges_of(record: &TunnelRecord) -> u64 {
    let d = &record.details;
    u64::from(d.contains("Phase 1 IKE_SA established") || d.contains(" rekeyed"))
}

/// An estate sink that counts what the figures need: records, DH exchanges, tunnels
/// whose phase 2 is up.
#[derive(Default)]
struct Tally {
    records: u64,
    dh_exchanges: u64,
    /// The same, per connection (their groups may differ).
    dh_by_connection: Vec<u64>,
    /// Per connection, a bit per tunnel whose phase 2 is up.
    up: Vec<u8>,
    /// Tunnels whose phase 2 is up now.
    established: usize,
    /// The most tunnels up at once.
    most_established: usize,
}

impl Tally {
    fn new(connections: usize) -> Self {
        Tally {
            up: vec![0; connections],
            dh_by_connection: vec![0; connections],
            ..Tally::default()
        }
    }

    fn count(&mut self, connection: usize, tunnel: usize, record: &TunnelRecord) {
        self.records += 1;
        let dh = dh_exchanges_of(record);
        self.dh_exchanges += dh;
        if let Some(n) = self.dh_by_connection.get_mut(connection) {
            *n += dh;
        }
        let Some(bits) = self.up.get_mut(connection) else {
            return;
        };
        let bit = 1u8 << (tunnel % 8);
        let was = *bits & bit != 0;
        let is = matches!(
            record.ike_phase2_state,
            PhaseState::Established | PhaseState::Rekeying
        );
        match (was, is) {
            (false, true) => {
                *bits |= bit;
                self.established += 1;
                self.most_established = self.most_established.max(self.established);
            }
            (true, false) => {
                *bits &= !bit;
                self.established -= 1;
            }
            _ => {}
        }
    }
}

impl crate::estate::EstateSink for Tally {
    fn record(
        &mut self,
        connection: usize,
        tunnel: usize,
        _stream: &str,
        record: &TunnelRecord,
    ) -> std::io::Result<()> {
        self.count(connection, tunnel, record);
        Ok(())
    }
}

/// `n` as a float, for rates (exact below 2^53).
#[allow(clippy::cast_precision_loss)]
fn float(n: u64) -> f64 {
    n as f64
}

/// The usize as u64 (lossless on every platform Rust supports).
fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A scenario of `tunnels` tunnels whose CGW speaks `ike_version` with these proposals,
/// healthy and with steady traffic in the traffic model (`traffic_flows = false`: these
/// figures are IKE's and the records'; the data plane's are `bench esp`'s), on ikesim's
/// default loopback addresses.
fn connection(
    ike_version: u8,
    ike: &str,
    esp: &str,
    tunnels: usize,
) -> Result<crate::Scenario, BenchError> {
    use std::fmt::Write as _;
    let mut text = String::from(
        "description = \"bench\"\ntraffic_flows = false\n\
         [vpn_connection]\nid = \"vpn-0b000000000000000\"\n\
         [cgw]\noutside_ip = \"127.0.2.1\"\n",
    );
    for t in 1..=tunnels {
        let _ = write!(
            text,
            "[[tunnel]]\noutside_ip = \"127.0.1.{t}\"\n[tunnel.aws]\n\
             pre_shared_key = \"ikesim.bench_psk_{t}\"\n[tunnel.cgw]\nike_version = {ike_version}\n\
             ike_proposals = [\"{ike}\"]\nesp_proposals = [\"{esp}\"]\n"
        );
    }
    crate::Scenario::parse(&text, "bench", "bench").map_err(|e| BenchError::Suite(e.to_string()))
}

/// `n` copies of `base`, each its own VPN connection (`vpn-` + 17 hex digits) and seed.
fn copies(base: &crate::Scenario, n: usize, seed: u64) -> Vec<crate::Scenario> {
    (0..wide(n))
        .map(|i| {
            let mut s = base.clone();
            s.seed = seed.wrapping_add(i);
            s.vpn_connection.id = format!("vpn-{:017x}", 0x0b00_0000_0000_0000_u64 + i);
            s.name = format!("bench-{i}");
            s
        })
        .collect()
}

/// The estate options of a bench: the scenarios' start, `duration`, no progress calls
/// unless asked.
fn estate_options(
    duration: std::time::Duration,
    progress_every: u64,
) -> crate::estate::EstateOptions {
    crate::estate::EstateOptions {
        start: chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
        duration,
        stream_separator: vpn_log::StreamSeparator::default(),
        progress_every,
        stop: None,
    }
}

/// The calling thread's time on a CPU, in nanoseconds: the first field of
/// /proc/thread-self/schedstat (the scheduler's `sum_exec_runtime`, proc(5)). `None`
/// where the kernel does not provide it.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    (ns > 0).then_some(ns)
}

/// Measures a stretch of work on this thread both ways: wall time, and time on a CPU.
/// Six builders share this machine's two cores, so a thread waits for a core a good part
/// of the time (a third, measured while writing this); the figures and their floors are
/// single-threaded, so their on-CPU times compare the work itself, whoever else runs.
#[derive(Clone, Copy, Debug)]
struct Stopwatch {
    wall: Instant,
    cpu_ns: Option<u64>,
}

/// What a [`Stopwatch`] measured.
#[derive(Clone, Copy, Debug)]
struct Lap {
    /// Wall time.
    wall: Duration,
    /// Time on a CPU (the wall time where the kernel does not say, or for a stretch too
    /// short to tell).
    cpu: Duration,
}

impl Stopwatch {
    fn start() -> Self {
        Stopwatch {
            cpu_ns: thread_cpu_ns(),
            wall: Instant::now(),
        }
    }

    /// The kernel updates a running thread's CPU time at its scheduler ticks (a few
    /// milliseconds apart), so a stretch shorter than [`Stopwatch::SHORTEST`] is timed by
    /// the wall clock alone (only `--quick`'s are).
    const SHORTEST: Duration = Duration::from_millis(100);

    fn lap(&self) -> Lap {
        let wall = self.wall.elapsed();
        let cpu = match (self.cpu_ns, thread_cpu_ns()) {
            (Some(a), Some(b)) if b >= a && wall >= Self::SHORTEST => Duration::from_nanos(b - a),
            _ => wall,
        };
        Lap { wall, cpu }
    }
}

impl std::ops::Add for Lap {
    type Output = Lap;
    fn add(self, other: Lap) -> Lap {
        Lap {
            wall: self.wall + other.wall,
            cpu: self.cpu + other.cpu,
        }
    }
}

impl fmt::Display for Lap {
    /// `1.234 s CPU (1.870 s wall)`, or `0.012 s wall` when it had to be.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cpu == self.wall {
            return write!(f, "{:.3} s wall", self.wall.as_secs_f64());
        }
        write!(
            f,
            "{:.3} s CPU ({:.3} s wall)",
            self.cpu.as_secs_f64(),
            self.wall.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(phase2: PhaseState, details: &str) -> TunnelRecord {
        TunnelRecord {
            time: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            dpd_enabled: true,
            nat_t_detected: false,
            ike_phase1_state: PhaseState::Established,
            ike_phase2_state: phase2,
            details: details.to_owned(),
        }
    }

    /// A tunnel counts as up from its phase 2's first establishment until it goes down
    /// (rekeying is still up), each tunnel of each connection on its own; the DH exchanges
    /// are the new IKE SAs and the rekeys.
    #[test]
    fn the_tally_follows_each_tunnels_phase_2_and_counts_dh_exchanges() {
        let mut t = Tally::new(2);
        let up = record(
            PhaseState::Established,
            "AWS tunnel Phase 1 IKE_SA established with cgw: 127.0.2.1, SPIs: 1_i 2_r",
        );
        t.count(0, 0, &up);
        t.count(0, 1, &up);
        t.count(1, 0, &up);
        assert_eq!((t.established, t.most_established), (3, 3));
        t.count(
            0,
            0,
            &record(PhaseState::Rekeying, "AWS tunnel is rekeying Phase 2"),
        );
        t.count(
            0,
            0,
            &record(
                PhaseState::Established,
                "AWS tunnel Phase 2 CHILD_SA rekeyed, new SPIs",
            ),
        );
        assert_eq!(t.established, 3);
        t.count(
            0,
            1,
            &record(PhaseState::Down, "AWS tunnel Phase 2 CHILD_SA deleted"),
        );
        assert_eq!((t.established, t.most_established), (2, 3));
        assert_eq!((t.records, t.dh_exchanges), (6, 4));
    }

    /// The fleet and handshake benches measure IKE and the records in the traffic model:
    /// pings would make them the data plane's figures (`bench esp` measures those).
    #[test]
    fn the_bench_connections_send_no_packets() {
        let c = connection(2, "aes256gcm16-prfsha256-ecp256", "aes256gcm16-ecp256", 2).unwrap();
        assert!(c.data_plane().is_none());
    }

    #[test]
    fn a_figure_is_one_line_with_its_baseline_ratio_and_verdict() {
        let f = Figure::new(
            "handshakes x".to_owned(),
            3920.4,
            "handshakes/s",
            "crypto floor",
            4895.0,
        )
        .with_target(Target::AtLeast(0.5))
        .with_note("n connections".to_owned());
        assert_eq!(
            f.to_string(),
            "handshakes x: 3920 handshakes/s | baseline crypto floor: 4895 handshakes/s | \
             ratio 0.801 (target ratio ≥ 0.5: met) | n connections"
        );
        let slow = Figure::new("m".to_owned(), 25.1, "KiB", "1000 tunnels", 27.6)
            .with_target(Target::ValueBelow(16.0));
        assert_eq!(slow.target_met(), Some(false));
        assert!(slow.to_string().contains("(target < 16 KiB: missed)"));
    }
}
