//! ESP as a density band (issue 15 §3): per tunnel and direction, time cut into buckets,
//! each counting the inner packets delivered, lost on the path and dropped, by reason. A
//! band never holds more than [`MAX_BUCKETS`] buckets: when a packet falls past the last
//! one, the buckets merge into wider ones (each width of [`WIDTHS_US`] divides the next),
//! so a run's band costs the same memory at 10 packets a second as at 10 000, for an hour
//! as for a year. One arrow per ESP packet would be millions of arrows.

use serde::Serialize;

/// At most this many buckets per band.
pub const MAX_BUCKETS: usize = 360;

/// The bucket widths, narrowest first; past the last, the width doubles. Each divides the
/// next, so buckets merge whole into wider ones.
pub const WIDTHS_US: [u64; 15] = [
    100_000,        // 100 ms
    200_000,        // 200 ms
    1_000_000,      // 1 s
    2_000_000,      // 2 s
    10_000_000,     // 10 s
    20_000_000,     // 20 s
    60_000_000,     // 1 min
    120_000_000,    // 2 min
    600_000_000,    // 10 min
    1_200_000_000,  // 20 min
    3_600_000_000,  // 1 h
    7_200_000_000,  // 2 h
    21_600_000_000, // 6 h
    43_200_000_000, // 12 h
    86_400_000_000, // 1 day
];

/// The next wider bucket width after `width_us`.
fn wider(width_us: u64) -> u64 {
    WIDTHS_US
        .iter()
        .copied()
        .find(|&w| w > width_us)
        .unwrap_or(width_us.saturating_mul(2))
}

/// The narrowest bucket width that covers `span_us` in at most [`MAX_BUCKETS`] buckets.
#[must_use]
pub fn width_for(span_us: u64) -> u64 {
    let mut w = WIDTHS_US[0];
    while span_us / w >= MAX_BUCKETS as u64 {
        w = wider(w);
    }
    w
}

/// Which way the packets went through the tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Sealed by the AWS endpoint, opened by the CGW.
    VpcToOnprem,
    /// Sealed by the CGW, opened by the AWS endpoint.
    OnpremToVpc,
}

impl Direction {
    /// `VPC → on-premises`, `on-premises → VPC`.
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Direction::VpcToOnprem => "VPC → on-premises",
            Direction::OnpremToVpc => "on-premises → VPC",
        }
    }
}

/// What became of one inner packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketFate<'a> {
    /// Opened (authentic, in the window, inside the selectors) and handed to the host behind.
    Delivered,
    /// The path lost its ESP datagram (`loss`, `blackhole`, `MTU`, …).
    Lost(&'a str),
    /// A tunnel end dropped it (`replayed`, `integrity`, `unknown_spi`, `mtu_drop`,
    /// `no_tunnel`, …).
    Dropped(&'a str),
}

/// One bucket's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EspBucket {
    /// Packets delivered.
    pub delivered: u64,
    /// Packets the path lost, by reason.
    pub lost: Vec<(String, u64)>,
    /// Packets dropped, by reason.
    pub dropped: Vec<(String, u64)>,
}

fn add_to(counts: &mut Vec<(String, u64)>, reason: &str, n: u64) {
    match counts.iter_mut().find(|(r, _)| r == reason) {
        Some((_, c)) => *c += n,
        None => counts.push((reason.to_owned(), n)),
    }
}

impl EspBucket {
    fn add(&mut self, fate: PacketFate<'_>) {
        match fate {
            PacketFate::Delivered => self.delivered += 1,
            PacketFate::Lost(r) => add_to(&mut self.lost, r, 1),
            PacketFate::Dropped(r) => add_to(&mut self.dropped, r, 1),
        }
    }

    /// Adds `other`'s counts to this bucket's.
    pub fn merge(&mut self, other: &EspBucket) {
        self.delivered += other.delivered;
        for (r, n) in &other.lost {
            add_to(&mut self.lost, r, *n);
        }
        for (r, n) in &other.dropped {
            add_to(&mut self.dropped, r, *n);
        }
    }

    /// Packets lost, every reason together.
    #[must_use]
    pub fn lost_total(&self) -> u64 {
        self.lost.iter().map(|(_, n)| n).sum()
    }

    /// Packets dropped, every reason together.
    #[must_use]
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().map(|(_, n)| n).sum()
    }

    /// Nothing counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.delivered == 0 && self.lost.is_empty() && self.dropped.is_empty()
    }
}

/// One tunnel's packets in one direction over time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EspBand {
    /// The tunnel (0-based).
    pub tunnel: usize,
    /// Which way.
    pub direction: Direction,
    /// Each bucket's width; bucket `i` covers `[i·width, (i+1)·width)` µs since the origin.
    pub bucket_us: u64,
    /// The buckets from time zero (at most [`MAX_BUCKETS`]).
    pub buckets: Vec<EspBucket>,
}

impl EspBand {
    /// An empty band, with the narrowest buckets.
    #[must_use]
    pub fn new(tunnel: usize, direction: Direction) -> EspBand {
        EspBand {
            tunnel,
            direction,
            bucket_us: WIDTHS_US[0],
            buckets: Vec::new(),
        }
    }

    /// Counts one packet at `at_us`, widening the buckets if it falls past the last one
    /// a band may have.
    pub fn count(&mut self, at_us: u64, fate: PacketFate<'_>) {
        while at_us / self.bucket_us >= MAX_BUCKETS as u64 {
            self.widen(wider(self.bucket_us));
        }
        let i = usize::try_from(at_us / self.bucket_us).unwrap_or(MAX_BUCKETS - 1);
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, EspBucket::default());
        }
        self.buckets[i].add(fate);
    }

    /// Merges the buckets into ones `width_us` wide (a width of [`WIDTHS_US`] or past it,
    /// not narrower than the band's own; a narrower one is ignored).
    pub fn widen(&mut self, width_us: u64) {
        if width_us <= self.bucket_us || !width_us.is_multiple_of(self.bucket_us) {
            return;
        }
        let ratio = usize::try_from(width_us / self.bucket_us).unwrap_or(usize::MAX);
        self.buckets = self
            .buckets
            .chunks(ratio)
            .map(|chunk| {
                let mut b = EspBucket::default();
                for c in chunk {
                    b.merge(c);
                }
                b
            })
            .collect();
        self.bucket_us = width_us;
    }

    /// The whole band's counts.
    #[must_use]
    pub fn totals(&self) -> EspBucket {
        let mut t = EspBucket::default();
        for b in &self.buckets {
            t.merge(b);
        }
        t
    }

    /// Where its last bucket ends, µs since the origin.
    #[must_use]
    pub fn end_us(&self) -> u64 {
        self.bucket_us.saturating_mul(self.buckets.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_divide_each_other() {
        for pair in WIDTHS_US.windows(2) {
            assert_eq!(pair[1] % pair[0], 0, "{pair:?}");
        }
    }

    #[test]
    fn a_year_of_packets_stays_within_the_bound() {
        let mut band = EspBand::new(0, Direction::OnpremToVpc);
        let year_us = 365 * 86_400_000_000u64;
        // A packet every 10 simulated seconds for a year, a replay drop every hour.
        let mut at = 0;
        let mut n = 0u64;
        while at < year_us {
            band.count(at, PacketFate::Delivered);
            if at % 3_600_000_000 == 0 {
                band.count(at, PacketFate::Dropped("replayed"));
            }
            n += 1;
            at += 10_000_000;
            assert!(band.buckets.len() <= MAX_BUCKETS);
        }
        let t = band.totals();
        assert_eq!(t.delivered, n);
        assert_eq!(t.dropped, vec![("replayed".to_owned(), 365 * 24)]);
        assert!(band.bucket_us >= year_us / MAX_BUCKETS as u64);
        assert_eq!(band.bucket_us, width_for(year_us));
    }

    #[test]
    fn buckets_count_by_time_and_reason() {
        let mut band = EspBand::new(1, Direction::VpcToOnprem);
        band.count(50_000, PacketFate::Delivered);
        band.count(150_000, PacketFate::Lost("loss"));
        band.count(160_000, PacketFate::Dropped("mtu_drop"));
        band.count(170_000, PacketFate::Dropped("mtu_drop"));
        assert_eq!(band.buckets.len(), 2);
        assert_eq!(band.buckets[0].delivered, 1);
        assert_eq!(band.buckets[1].lost_total(), 1);
        assert_eq!(band.buckets[1].dropped, vec![("mtu_drop".to_owned(), 2)]);
        // Widened to 1 s: one bucket with everything.
        band.widen(1_000_000);
        assert_eq!(band.buckets.len(), 1);
        assert_eq!(band.buckets[0].delivered, 1);
        assert_eq!(band.buckets[0].dropped_total(), 2);
        // Never narrower.
        band.widen(100_000);
        assert_eq!(band.bucket_us, 1_000_000);
    }

    #[test]
    fn the_width_follows_the_span() {
        assert_eq!(width_for(0), 100_000);
        assert_eq!(width_for(35_999_999), 100_000);
        assert_eq!(width_for(36_000_000), 200_000);
        // An hour: 20 s buckets, 180 of them.
        assert_eq!(width_for(3_600_000_000), 20_000_000);
    }
}
