//! Network conditions, applied at a host's egress the way netem applies them on an
//! interface (DESIGN.md, "Network conditions without false NAT"): the driver asks the
//! sending host's [`Egress`] what becomes of each datagram — dropped, or delivered at some
//! time, perhaps twice — and then sends it for real from the host's own socket, so it still
//! arrives from its true source address. In accelerated mode a delayed datagram is one more
//! deadline in the [`Path`] queue.
//!
//! The conditions, in the order they are applied to a datagram:
//! 1. **blackhole** windows: the path is down, everything is dropped;
//! 2. **mtu**: a datagram whose IP packet (IPv4 20 / IPv6 40 + UDP 8 + payload) is larger
//!    is dropped (nothing fragments it);
//! 3. **burst loss**: a datagram starts a burst with probability `burst_loss`; the burst
//!    drops it and the `burst_length - 1` datagrams after it (a fixed-length simplification
//!    of Gilbert–Elliott: bursts are exactly `burst_length` long);
//! 4. **loss**: each remaining datagram is dropped with probability `loss`;
//! 5. **delay**: `delay` plus jitter drawn from `U(-jitter, +jitter)` or `N(0, jitter)`,
//!    never below zero (jitter alone can reorder, as with netem);
//! 6. **reorder**: with probability `reorder` a datagram is held back `reorder_delay` longer,
//!    so the ones sent after it overtake it;
//! 7. **duplicate**: with probability `duplicate` a copy is delivered right after it.
//!
//! Every draw comes from the host's own ChaCha stream, seeded from the scenario seed, and
//! a condition that is off draws nothing: the same seed drops the same datagrams.

pub mod nat;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Deserialize;

pub use nat::Nat;

/// How jitter spreads a datagram's delay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JitterDistribution {
    /// Uniform over `delay ± jitter` (netem's default).
    #[default]
    Uniform,
    /// Normal around `delay` with standard deviation `jitter`.
    Normal,
}

/// One direction's conditions, resolved: probabilities are in 0–1 (checked when the
/// scenario is read), durations absolute.
#[derive(Clone, Debug, PartialEq)]
pub struct Conditions {
    /// Fixed one-way delay (the scenario's `latency` plus the direction's `delay`).
    pub delay: Duration,
    pub jitter: Duration,
    pub distribution: JitterDistribution,
    pub loss: f64,
    pub burst_loss: f64,
    /// Datagrams dropped by one burst (at least 1).
    pub burst_length: u32,
    pub duplicate: f64,
    pub reorder: f64,
    pub reorder_delay: Duration,
    /// Largest IP packet the path carries.
    pub mtu: Option<u32>,
    /// Windows `[from, to)`, counted from the start, in which the path is down.
    pub blackholes: Vec<(Duration, Duration)>,
}

impl Conditions {
    /// Whether a datagram leaves as it was sent, at once: nothing to decide, nothing to
    /// draw (the driver then keeps no egress for the host — an estate has thousands).
    pub fn is_clear(&self) -> bool {
        *self == Conditions::delay(Duration::ZERO)
    }

    /// A clean path with a fixed one-way delay.
    pub fn delay(delay: Duration) -> Conditions {
        Conditions {
            delay,
            jitter: Duration::ZERO,
            distribution: JitterDistribution::Uniform,
            loss: 0.0,
            burst_loss: 0.0,
            burst_length: 1,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            mtu: None,
            blackholes: Vec::new(),
        }
    }
}

/// Why the path dropped a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    Blackhole,
    TooBig,
    Burst,
    Loss,
}

/// What becomes of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Dropped(DropReason),
    /// Delivered at `at`; `copy` is when a duplicate arrives.
    Delivered {
        at: Instant,
        copy: Option<Instant>,
    },
}

/// What a host's egress did, for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EgressStats {
    pub sent: u64,
    pub blackholed: u64,
    pub too_big: u64,
    pub burst_lost: u64,
    pub lost: u64,
    pub reordered: u64,
    pub duplicated: u64,
}

/// One host's egress: its conditions, its random stream and its burst state.
pub struct Egress {
    conditions: Conditions,
    start: Instant,
    rng: ChaCha20Rng,
    /// Datagrams the current loss burst will still drop.
    burst_left: u32,
    pub stats: EgressStats,
}

impl Egress {
    /// `start` is the scenario's time zero (blackhole windows count from it); `seed` fixes
    /// every draw. The stream is separate from the endpoints' (which use stream 0).
    pub fn new(conditions: Conditions, start: Instant, seed: u64) -> Egress {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Egress {
            conditions,
            start,
            rng,
            burst_left: 0,
            stats: EgressStats::default(),
        }
    }

    /// Whether the path is down at `now`.
    pub fn blackholed(&self, now: Instant) -> bool {
        let since = now.saturating_duration_since(self.start);
        self.conditions
            .blackholes
            .iter()
            .any(|&(from, to)| from <= since && since < to)
    }

    /// Decides the fate of a datagram sent at `now` whose IP packet is `packet_len` bytes.
    pub fn send(&mut self, now: Instant, packet_len: usize) -> Fate {
        let c = &self.conditions;
        let fate = if self.blackholed(now) {
            Fate::Dropped(DropReason::Blackhole)
        } else if c.mtu.is_some_and(|mtu| packet_len > mtu as usize) {
            Fate::Dropped(DropReason::TooBig)
        } else if self.burst_left > 0 {
            self.burst_left -= 1;
            Fate::Dropped(DropReason::Burst)
        } else if c.burst_loss > 0.0 && self.rng.gen_bool(c.burst_loss.min(1.0)) {
            self.burst_left = c.burst_length.saturating_sub(1);
            Fate::Dropped(DropReason::Burst)
        } else if c.loss > 0.0 && self.rng.gen_bool(c.loss.min(1.0)) {
            Fate::Dropped(DropReason::Loss)
        } else {
            let mut delay = self.jittered();
            let c = &self.conditions;
            if c.reorder > 0.0 && self.rng.gen_bool(c.reorder.min(1.0)) {
                delay += c.reorder_delay;
                self.stats.reordered += 1;
            }
            let at = now + delay;
            let c = &self.conditions;
            let copy = (c.duplicate > 0.0 && self.rng.gen_bool(c.duplicate.min(1.0))).then_some(at);
            if copy.is_some() {
                self.stats.duplicated += 1;
            }
            Fate::Delivered { at, copy }
        };
        match fate {
            Fate::Delivered { .. } => self.stats.sent += 1,
            Fate::Dropped(DropReason::Blackhole) => self.stats.blackholed += 1,
            Fate::Dropped(DropReason::TooBig) => self.stats.too_big += 1,
            Fate::Dropped(DropReason::Burst) => self.stats.burst_lost += 1,
            Fate::Dropped(DropReason::Loss) => self.stats.lost += 1,
        }
        fate
    }

    /// The delay plus jitter, never negative.
    fn jittered(&mut self) -> Duration {
        let c = &self.conditions;
        if c.jitter.is_zero() {
            return c.delay;
        }
        let offset = match c.distribution {
            JitterDistribution::Uniform => self.rng.gen_range(-1.0..=1.0),
            JitterDistribution::Normal => {
                // Box–Muller; 1 - u keeps ln away from zero.
                let (u1, u2): (f64, f64) = (self.rng.gen(), self.rng.gen());
                (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            }
        };
        let secs = c.delay.as_secs_f64() + offset * c.jitter.as_secs_f64();
        Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(c.delay)
    }
}

/// The size of the IP packet that carries `payload` over UDP from `to`'s family.
pub fn ip_packet_len(to: SocketAddr, payload: usize) -> usize {
    let ip_header = if to.is_ipv4() { 20 } else { 40 };
    ip_header + 8 + payload
}

/// Datagrams held until their delivery time, in (time, sequence) order: two due at the same
/// instant leave in the order they were held.
pub struct Path<T> {
    queue: BTreeMap<(Instant, u64), T>,
    seq: u64,
}

impl<T> Default for Path<T> {
    fn default() -> Self {
        Path {
            queue: BTreeMap::new(),
            seq: 0,
        }
    }
}

impl<T> Path<T> {
    pub fn hold(&mut self, at: Instant, item: T) {
        self.seq += 1;
        self.queue.insert((at, self.seq), item);
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.queue.keys().next().map(|k| k.0)
    }

    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        let entry = self.queue.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        let item = entry.remove();
        if self.queue.is_empty() {
            // An empty map keeps its node; an idle path (most of an estate's) keeps none.
            self.queue = BTreeMap::new();
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Sends `n` numbered datagrams of `len` bytes, one every `gap`, through `egress` and
    /// returns the numbers in the order they come out of the path.
    fn received(
        egress: &mut Egress,
        start: Instant,
        n: u32,
        gap: Duration,
        len: usize,
    ) -> Vec<u32> {
        let mut path = Path::default();
        for i in 0..n {
            let now = start + gap * i;
            if let Fate::Delivered { at, copy } = egress.send(now, len) {
                path.hold(at, i);
                if let Some(c) = copy {
                    path.hold(c, i);
                }
            }
        }
        let mut out = Vec::new();
        while let Some(i) = path.pop_due(start + Duration::from_secs(86_400)) {
            out.push(i);
        }
        out
    }

    fn with(f: impl FnOnce(&mut Conditions)) -> Conditions {
        let mut c = Conditions::delay(15 * MS);
        f(&mut c);
        c
    }

    #[test]
    fn a_clean_path_delivers_everything_in_order_after_its_delay() {
        let start = Instant::now();
        let mut e = Egress::new(Conditions::delay(15 * MS), start, 1);
        assert_eq!(
            e.send(start, 100),
            Fate::Delivered {
                at: start + 15 * MS,
                copy: None
            }
        );
        assert_eq!(
            received(&mut e, start, 50, MS, 100),
            (0..50).collect::<Vec<_>>()
        );
    }

    #[test]
    fn loss_drops_the_same_datagrams_for_the_same_seed() {
        let start = Instant::now();
        let c = with(|c| c.loss = 0.2);
        let a = received(&mut Egress::new(c.clone(), start, 7), start, 1000, MS, 100);
        let b = received(&mut Egress::new(c.clone(), start, 7), start, 1000, MS, 100);
        let other = received(&mut Egress::new(c, start, 8), start, 1000, MS, 100);
        assert_eq!(a, b);
        assert_ne!(a, other);
        let lost = 1000 - a.len();
        assert!((150..250).contains(&lost), "{lost} of 1000 lost at 20 %");
    }

    #[test]
    fn burst_loss_drops_runs_of_burst_length() {
        let start = Instant::now();
        let mut e = Egress::new(
            with(|c| {
                c.burst_loss = 0.05;
                c.burst_length = 4;
            }),
            start,
            3,
        );
        let got = received(&mut e, start, 2000, MS, 100);
        // Maximal runs of dropped datagrams: back-to-back bursts merge into a multiple of 4;
        // only a burst cut off by the end of the test may be shorter.
        let (mut runs, mut run) = (Vec::new(), 0);
        for i in 0..2000 {
            if got.binary_search(&i).is_err() {
                run += 1;
            } else if run > 0 {
                runs.push(run);
                run = 0;
            }
        }
        assert!(runs.len() > 20, "{runs:?}");
        assert!(runs.iter().all(|r| r % 4 == 0), "{runs:?}");
        assert_eq!(e.stats.burst_lost as usize, 2000 - got.len());
    }

    #[test]
    fn mtu_drops_packets_larger_than_the_path_carries() {
        let start = Instant::now();
        let mut e = Egress::new(with(|c| c.mtu = Some(1280)), start, 1);
        let to = "127.0.0.1:500".parse().unwrap();
        assert!(matches!(
            e.send(start, ip_packet_len(to, 1252)),
            Fate::Delivered { .. }
        ));
        assert_eq!(
            e.send(start, ip_packet_len(to, 1253)),
            Fate::Dropped(DropReason::TooBig)
        );
        assert_eq!(ip_packet_len("[::1]:500".parse().unwrap(), 1232), 1280);
    }

    #[test]
    fn blackhole_windows_drop_everything_inside_them_and_nothing_outside() {
        let start = Instant::now();
        let s = Duration::from_secs(1);
        let mut e = Egress::new(
            with(|c| c.blackholes = vec![(10 * s, 20 * s), (30 * s, 31 * s)]),
            start,
            1,
        );
        let got = received(&mut e, start, 40, s, 100);
        let expected: Vec<u32> = (0..40)
            .filter(|i| !(10..20).contains(i) && *i != 30)
            .collect();
        assert_eq!(got, expected);
        assert_eq!(e.stats.blackholed, 11);
        assert!(e.blackholed(start + 10 * s) && !e.blackholed(start + 20 * s));
    }

    #[test]
    fn duplicates_arrive_right_after_their_original() {
        let start = Instant::now();
        let mut e = Egress::new(with(|c| c.duplicate = 0.3), start, 5);
        let got = received(&mut e, start, 100, MS, 100);
        let copies = got.windows(2).filter(|w| w[0] == w[1]).count();
        assert_eq!(copies as u64, e.stats.duplicated);
        assert!(
            (15..45).contains(&copies),
            "{copies} duplicates of 100 at 30 %"
        );
        let mut dedup = got.clone();
        dedup.dedup();
        assert_eq!(
            dedup,
            (0..100).collect::<Vec<_>>(),
            "nothing else changes order"
        );
    }

    #[test]
    fn reordered_datagrams_are_overtaken_by_later_ones() {
        let start = Instant::now();
        let mut e = Egress::new(
            with(|c| {
                c.reorder = 0.25;
                c.reorder_delay = 35 * MS;
            }),
            start,
            9,
        );
        let got = received(&mut e, start, 200, 10 * MS, 100);
        assert_eq!(got.len(), 200, "reordering loses nothing");
        // A datagram held back 35 ms is overtaken by the (up to) three sent after it.
        let late: Vec<u32> = got
            .windows(2)
            .filter(|w| w[0] > w[1])
            .map(|w| w[0])
            .collect();
        assert!(!late.is_empty());
        assert!(late.len() as u64 <= e.stats.reordered);
        for w in got.windows(2) {
            assert!(
                w[0] < w[1] + 4,
                "{} overtook by more than three: {got:?}",
                w[0]
            );
        }
    }

    #[test]
    fn jitter_stays_within_its_bounds_and_is_seeded() {
        let start = Instant::now();
        let c = with(|c| {
            c.delay = 50 * MS;
            c.jitter = 10 * MS;
        });
        let times = |seed| {
            let mut e = Egress::new(c.clone(), start, seed);
            (0..200)
                .map(|_| match e.send(start, 100) {
                    Fate::Delivered { at, .. } => at - start,
                    Fate::Dropped(r) => panic!("dropped: {r:?}"),
                })
                .collect::<Vec<_>>()
        };
        let a = times(1);
        assert_eq!(a, times(1));
        assert!(a.iter().all(|d| (40 * MS..=60 * MS).contains(d)));
        assert!(a.iter().any(|d| *d < 45 * MS) && a.iter().any(|d| *d > 55 * MS));

        let normal = with(|c| {
            c.delay = 5 * MS;
            c.jitter = 10 * MS;
            c.distribution = JitterDistribution::Normal;
        });
        let mut e = Egress::new(normal, start, 2);
        for _ in 0..200 {
            assert!(
                matches!(e.send(start, 100), Fate::Delivered { at, .. } if at >= start),
                "never before it was sent"
            );
        }
    }
}
