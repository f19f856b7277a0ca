//! What the SA database counts: per SA pair, and the drops per reason.

use crate::Drop;

/// The counters of one SA pair (one CHILD SA), kept by the [`Sad`](crate::Sad).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SaCounters {
    /// Packets received, authenticated and delivered.
    pub packets_in: u64,
    /// Their inner bytes after decryption (AWS's `TunnelDataIn`).
    pub bytes_in: u64,
    /// Packets sealed and sent.
    pub packets_out: u64,
    /// Their inner bytes before encryption (AWS's `TunnelDataOut`).
    pub bytes_out: u64,
    /// Packets refused by the anti-replay window (replayed or before the window).
    pub replay_drops: u64,
    /// Packets whose ICV did not verify.
    pub integrity_failures: u64,
    /// Authentic packets whose inner packet is outside the selectors.
    pub selector_mismatches: u64,
    /// Truncated packets, and authentic ones with bad padding or a bad inner packet.
    pub malformed: u64,
}

impl std::ops::AddAssign for SaCounters {
    /// Sums two pairs' counters (a host's SA pairs, a fleet's hosts).
    fn add_assign(&mut self, other: SaCounters) {
        self.packets_in += other.packets_in;
        self.bytes_in += other.bytes_in;
        self.packets_out += other.packets_out;
        self.bytes_out += other.bytes_out;
        self.replay_drops += other.replay_drops;
        self.integrity_failures += other.integrity_failures;
        self.selector_mismatches += other.selector_mismatches;
        self.malformed += other.malformed;
    }
}

/// The SA database's drops, per reason: every dropped packet is counted once here, and
/// also in its SA's [`SaCounters`] when it had one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    counts: [u64; Drop::ALL.len()],
}

impl Drops {
    /// Drops for one reason.
    pub fn get(&self, reason: Drop) -> u64 {
        self.counts[reason.index()]
    }

    /// Drops for every reason together.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Each reason with its count, in [`Drop::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Drop, u64)> + '_ {
        Drop::ALL.iter().map(|&d| (d, self.get(d)))
    }

    pub(crate) fn add(&mut self, reason: Drop) {
        self.counts[reason.index()] += 1;
    }
}
