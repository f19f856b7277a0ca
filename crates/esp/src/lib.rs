//! RFC 4303 ESP in tunnel mode for ikesim's data plane, sans-IO: no sockets, no clock.
//!
//! - [`Outbound`] / [`Inbound`]: one ESP SA each way, AES-GCM-16 (RFC 4106) or AES-CBC
//!   (RFC 3602) with HMAC-SHA1-96 (RFC 2404) or HMAC-SHA2 (RFC 4868); sequence numbers and
//!   ESN (RFC 4303 §2.2.1), padding and next header (§2.4), integrity checked before
//!   decryption (§3.4.4), anti-replay ([`ReplayWindow`], §3.4.3 with RFC 6479's bitmap).
//! - [`Sad`]: the SA database of one host — outbound by the inner packet against each
//!   pair's [`Selector`]s (newest pair first), inbound by SPI with the inner packet
//!   checked against them; old inbound SAs live on after a rekey until removed. Every drop
//!   has a reason ([`Drop`]) and a counter ([`Drops`], [`SaCounters`]).
//!
//! It knows nothing of IKE: `sim` maps ike-core's `EspSaPair` to a [`PairSpec`]. Sealing
//! writes into the caller's buffer and opening works in place, so the hot path allocates
//! nothing. Deterministic: AES-CBC IVs come from a ChaCha stream the caller seeds.

#![warn(missing_docs)]

mod cipher;
mod counters;
mod drop;
mod inbound;
mod inner;
mod outbound;
mod replay;
mod sad;
mod selector;
mod suite;

pub use counters::{Drops, SaCounters};
pub use drop::{Drop, SealError};
pub use inbound::{spi_of, Inbound, Opened};
pub use outbound::Outbound;
pub use replay::ReplayWindow;
pub use sad::{OpenedInner, PairSpec, Sad, Sealed};
pub use selector::Selector;
pub use suite::{Integrity, KeyError, SaSpec, Suite};

#[cfg(test)]
mod tests {
    use super::*;

    /// sim keeps a host's data plane in state that moves between tasks.
    #[test]
    fn state_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Sad>();
        check::<Outbound>();
        check::<Inbound>();
        check::<PairSpec>();
        check::<Drop>();
        check::<KeyError>();
    }
}
