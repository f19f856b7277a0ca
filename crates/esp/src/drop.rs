//! Why a packet was dropped, and why a seal failed.

/// Why a packet was not sealed or not delivered. Every drop has one reason, and the SA
/// database counts each ([`Drops`](crate::Drops)). Not `std::ops::Drop`: name it
/// `esp::Drop` where both are in scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum Drop {
    /// Shorter than the smallest packet of the SA's suite (or than an ESP header).
    #[error("truncated ESP packet")]
    Truncated,
    /// No inbound SA has the packet's SPI (RFC 4303 §3.4.2): never installed, or removed.
    #[error("unknown SPI")]
    UnknownSpi,
    /// The sequence number was already received (RFC 4303 §3.4.3).
    #[error("replayed sequence number")]
    Replayed,
    /// The sequence number is left of the anti-replay window (RFC 4303 §3.4.3).
    #[error("sequence number before the replay window")]
    BeforeWindow,
    /// The ICV did not verify (RFC 4303 §3.4.4).
    #[error("integrity check failed")]
    Integrity,
    /// Authentic but malformed: bad padding or pad length (RFC 4303 §2.4), a ciphertext not
    /// a whole number of blocks, or an inner packet that is not the IPv4/IPv6 packet the
    /// next header says.
    #[error("malformed ESP packet")]
    Malformed,
    /// The inner packet does not match the SA's traffic selectors (RFC 4301 §5.2 step 4).
    #[error("inner packet outside the SA's traffic selectors")]
    SelectorMismatch,
    /// Outbound: no installed SA's selectors hold the packet (RFC 4301 §5.1).
    #[error("no SA for the packet")]
    NoSa,
    /// Outbound: the SA's sequence number space is used up (RFC 4303 §3.3.3): it must be
    /// rekeyed, never cycled.
    #[error("sequence numbers exhausted")]
    SequenceExhausted,
}

impl Drop {
    /// Every reason, in the order [`Drops`](crate::Drops) lists them.
    pub const ALL: [Drop; 9] = [
        Drop::Truncated,
        Drop::UnknownSpi,
        Drop::Replayed,
        Drop::BeforeWindow,
        Drop::Integrity,
        Drop::Malformed,
        Drop::SelectorMismatch,
        Drop::NoSa,
        Drop::SequenceExhausted,
    ];

    /// A short name for counters and logs (`unknown_spi`, `replayed`, …).
    pub fn name(self) -> &'static str {
        match self {
            Drop::Truncated => "truncated",
            Drop::UnknownSpi => "unknown_spi",
            Drop::Replayed => "replayed",
            Drop::BeforeWindow => "before_window",
            Drop::Integrity => "integrity",
            Drop::Malformed => "malformed",
            Drop::SelectorMismatch => "selector_mismatch",
            Drop::NoSa => "no_sa",
            Drop::SequenceExhausted => "sequence_exhausted",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Why [`Outbound::seal`](crate::Outbound::seal) made no packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The last sequence number was used: 2^32-1 without ESN, 2^64-1 with (RFC 4303
    /// §3.3.3: the counter never cycles; the SA must be rekeyed).
    #[error("ESP sequence numbers exhausted; the SA must be rekeyed")]
    SequenceExhausted,
}

impl From<SealError> for Drop {
    fn from(e: SealError) -> Drop {
        match e {
            SealError::SequenceExhausted => Drop::SequenceExhausted,
        }
    }
}
