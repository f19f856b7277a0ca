//! The SA shell: what an IKE SA needs from its endpoint whatever its version — the role,
//! the per-input context (`Ctx`: clock, RNG, outgoing datagrams, events, counters), the
//! datagram type and the timing rules. IKEv2 (`sa`) and IKEv1 (`v1`) both build on it and
//! on nothing of each other.

mod effect;
pub(crate) mod timer;
pub(crate) mod timing;

pub(crate) use effect::Effect;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::RngCore;
use rand_chacha::ChaCha20Rng;

use crate::config::{EndpointConfig, Lifetimes};
use crate::event::{DropReason, Event, IkeSaSecrets, Stats};
use crate::nat_t::{Arrival, NatTPorts};
use crate::trace::{digest, Plaintext, TimerKind, Trace, TraceSa};

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Our address to send from: the IKE port or the NAT-T port (RFC 3948 §2.2).
    pub src: SocketAddr,
    /// The peer's address.
    pub dst: SocketAddr,
    /// The IKE message, without the non-ESP marker the NAT-T port needs (the IO layer
    /// adds it, RFC 3948 §2.2).
    pub payload: Vec<u8>,
}

/// Pushes `item` with room for exactly the items held: an SA's CHILD SAs are one most of
/// the time, two during a rekey, where a `Vec` would make room for four — and an estate
/// keeps thousands of SAs.
pub(crate) fn push_exact<T>(v: &mut Vec<T>, item: T) {
    v.reserve_exact(1);
    v.push(item);
}

/// Compares a MAC the peer sent with the one we computed (IKEv2 AUTH, IKEv1 HASH_I,
/// HASH_R and quick mode's HASH(1)–(3)) in time that depends only on their lengths, so a
/// forger learns nothing from how fast a guess is refused.
pub(crate) fn same_mac(got: &[u8], expected: &[u8]) -> bool {
    if got.len() != expected.len() {
        return false;
    }
    let diff = got
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// An IKE SA's identity on the wire: its two SPIs (IKEv2, RFC 7296 §3.1) or cookies
/// (IKEv1, RFC 2408 §3.1), initiator's first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct IkeSaId {
    pub spi_i: u64,
    pub spi_r: u64,
}

impl From<IkeSaId> for TraceSa {
    fn from(id: IkeSaId) -> TraceSa {
        TraceSa {
            spi_i: id.spi_i,
            spi_r: id.spi_r,
        }
    }
}

/// An ESP SPI (RFC 4303 §2.1): ours names a CHILD SA's inbound direction, the peer's its
/// outbound one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Spi(pub u32);

impl Spi {
    /// The SPI as it goes on the wire (SA proposals, REKEY_SA, DELETE).
    pub fn to_be_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

/// An IKEv2 message id (RFC 7296 §2.2): each end numbers its requests from 0, and a
/// response carries the id of its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MessageId(pub u32);

impl MessageId {
    /// The id after this one (wrapping, though a real SA is rekeyed long before).
    pub fn next(self) -> MessageId {
        MessageId(self.0.wrapping_add(1))
    }
}

/// Which end of the IKE SA we are: the original initiator or responder (RFC 7296 §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We started this IKE SA: sent its IKE_SA_INIT, or the CREATE_CHILD_SA that rekeyed
    /// it into being (RFC 7296 §2.18), or IKEv1 main mode's first message.
    Initiator,
    /// The peer started it.
    Responder,
}

/// Everything an SA needs from its endpoint while it handles one input.
pub(crate) struct Ctx<'a> {
    pub now: Instant,
    pub config: &'a EndpointConfig,
    pub rng: &'a mut ChaCha20Rng,
    pub transmits: &'a mut VecDeque<Transmit>,
    pub events: &'a mut Vec<Event>,
    pub stats: &'a mut Stats,
    pub secrets: &'a mut Vec<IkeSaSecrets>,
    /// The timeline's trace, when `EndpointConfig::trace` is on (see `trace`).
    pub trace: &'a mut VecDeque<Trace>,
    /// What this input asks of other SAs, in order (see `effect`).
    pub effects: &'a mut Vec<Effect>,
    /// Where NAT-T moves an SA (see `nat_t`).
    pub nat_t: NatTPorts,
    /// Where the datagram being handled arrived and came from (`None` for timers).
    pub arrival: Option<Arrival>,
    /// The trace digest of the datagram being handled, when tracing (`None` otherwise).
    pub received: Option<u64>,
}

impl Ctx<'_> {
    /// Counts a negotiation that failed because the peer is incompatible
    /// (`Stats::incompatible`); CHILD SA failures are counted where they are published.
    pub fn incompatible(&mut self, kind: crate::failure::PeerIncompatible) {
        self.stats.incompatible.count(&kind);
    }

    /// Counts a negotiation the peer broke (`Stats::misbehaved`).
    pub fn misbehaved(&mut self, kind: crate::failure::PeerMisbehaved) {
        self.stats.misbehaved.count(&kind);
    }

    pub fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.rng.fill_bytes(&mut v);
        v
    }

    /// A fresh non-zero IKE SPI.
    pub fn ike_spi(&mut self) -> u64 {
        loop {
            let spi = self.rng.next_u64();
            if spi != 0 {
                return spi;
            }
        }
    }

    /// A fresh ESP SPI outside the reserved range 0–255 (RFC 4303 §2.1).
    pub fn esp_spi(&mut self) -> Spi {
        loop {
            let spi = self.rng.next_u32();
            if spi > 255 {
                return Spi(spi);
            }
        }
    }

    /// When an SA set up now should be rekeyed and when it expires: rekey at
    /// `lifetime - margin - random(0 ..= margin × fuzz)` (AWS's and strongSwan's rule).
    pub fn lifetime(&mut self, lifetime: Duration) -> (Option<Instant>, Instant) {
        let Lifetimes {
            margin,
            fuzz_percent,
            rekey,
            ..
        } = self.config.lifetimes;
        // A lifetime negotiated below our margin (IKEv1 takes the shorter one) still
        // leaves the SA some life before its rekey: the margin is at most half of it, and
        // the rekey comes no sooner than a tenth of the way in.
        let margin = margin.min(lifetime / 2);
        let window = margin.mul_f64(f64::from(fuzz_percent.min(100)) / 100.0);
        let fuzz = window.mul_f64(self.rng.next_u32() as f64 / f64::from(u32::MAX));
        let offset = lifetime
            .saturating_sub(margin)
            .saturating_sub(fuzz)
            .max(lifetime / 10);
        let rekey_at = rekey.then(|| self.now + offset);
        (rekey_at, self.now + lifetime)
    }

    /// Drops the message being handled for `reason`: counted, and said in the
    /// diagnostics with `what` happened.
    pub fn drop_message(&mut self, reason: DropReason, what: &str) {
        self.stats.drops.count(reason);
        tracing::debug!(?reason, "message dropped: {what}");
    }

    /// Traces the plaintext of a message we protected into `datagram` (when tracing is
    /// on; `plaintext` is built only then).
    pub fn trace_sealed(
        &mut self,
        sa: IkeSaId,
        datagram: &[u8],
        plaintext: impl FnOnce() -> Plaintext,
    ) {
        if self.config.trace {
            self.trace.push_back(Trace::Sealed {
                datagram: digest(datagram),
                sa: sa.into(),
                plaintext: plaintext(),
            });
        }
    }

    /// Traces the plaintext of the message being handled, which we opened.
    pub fn trace_opened(&mut self, sa: IkeSaId, plaintext: impl FnOnce() -> Plaintext) {
        if let Some(datagram) = self.received.filter(|_| self.config.trace) {
            self.trace.push_back(Trace::Opened {
                datagram,
                sa: sa.into(),
                plaintext: plaintext(),
            });
        }
    }

    /// Traces a timer that fired.
    pub fn trace_timer(&mut self, timer: TimerKind, sa: IkeSaId, child: Option<Spi>) {
        if self.config.trace {
            self.trace.push_back(Trace::Timer {
                timer,
                sa: sa.into(),
                child: child.map(|s| s.0),
            });
        }
    }

    pub fn send(&mut self, src: SocketAddr, dst: SocketAddr, payload: Vec<u8>) {
        self.stats.datagrams_out += 1;
        self.transmits.push_back(Transmit { src, dst, payload });
    }
}
