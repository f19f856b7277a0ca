//! An opt-in trace of what only the core knows: the plaintext of the protected messages it
//! seals and opens, and the timers that fire. It exists for the timeline (issue 12): a
//! ladder diagram that shows every datagram decrypted, since the simulator holds the keys
//! (as Wireshark does with a key table), and the timers that caused them.
//!
//! # Design
//! - Off by default ([`crate::EndpointConfig::trace`]): every site checks the flag before
//!   it clones anything, so a run without a timeline pays one branch per message.
//! - Drained like the secrets ([`crate::Endpoint::poll_trace`]), oldest first, after every
//!   input; nothing is kept once drained.
//! - Keyed by the datagram, not by an SA: a [`Trace::Sealed`] or [`Trace::Opened`] carries
//!   the [`digest`] of the IKE message's bytes — as the core handed it out (`Transmit`'s
//!   payload, before the non-ESP marker), or as it was handed in (`Endpoint::handle`'s
//!   data). The IO layer digests the bytes it sees and finds the contents; a retransmission
//!   (the same bytes again, RFC 7296 §2.1) has the same digest and no second entry.
//!   A digest, not the bytes: a 30-day run seals a message every few seconds.
//! - Plain messages (IKE_SA_INIT, main mode 1–4) are not traced: anyone can parse them.
//! - A message that fails to open (a key nobody here shares, RFC 7296 §2.21.1) leaves no
//!   entry: its contents stay unknown.

use ike_wire::Payload;

/// Which IKE SA a trace entry concerns: its SPIs (IKEv1: cookies), initiator's first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceSa {
    /// The initiator's SPI (IKEv1: cookie).
    pub spi_i: u64,
    /// The responder's SPI (IKEv1: cookie).
    pub spi_r: u64,
}

/// A protected message's contents, in the version's own payload types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plaintext {
    /// The payloads inside an IKEv2 SK payload (RFC 7296 §3.14), in order.
    V2(Vec<Payload>),
    /// The payloads of an encrypted IKEv1 message (RFC 2408 §3.1, E flag), in order.
    V1(Vec<ike_wire::v1::Payload>),
}

/// A timer that fired (see `shell::timer`), in words the timeline shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerKind {
    /// Resend the outstanding request, or give up on it (RFC 7296 §2.1, §2.4).
    Retransmit,
    /// A responder's IKE SA was never authenticated: forgotten.
    HalfOpen,
    /// The IKE SA's lifetime ended (RFC 7296 §2.8).
    ExpireIke,
    /// The IKE SA's rekey time came (RFC 7296 §2.8).
    RekeyIke,
    /// On-demand dead peer detection probes (RFC 7296 §2.4, RFC 3706).
    Dpd,
    /// A CHILD SA's rekey time came (RFC 7296 §2.8).
    RekeyChild,
    /// A CHILD SA's lifetime ended (RFC 7296 §2.8).
    ExpireChild,
    /// A trap policy caught traffic for a CHILD SA the peer had deleted
    /// (`CloseAction::Trap`).
    Reacquire,
}

impl TimerKind {
    /// The timer's name as the timeline shows it.
    pub fn name(self) -> &'static str {
        match self {
            TimerKind::Retransmit => "retransmit",
            TimerKind::HalfOpen => "half-open",
            TimerKind::ExpireIke => "IKE SA expiry",
            TimerKind::RekeyIke => "IKE SA rekey",
            TimerKind::Dpd => "DPD",
            TimerKind::RekeyChild => "CHILD SA rekey",
            TimerKind::ExpireChild => "CHILD SA expiry",
            TimerKind::Reacquire => "trap policy",
        }
    }
}

/// One protocol fact for the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trace {
    /// We protected a message: the datagram whose [`digest`] is `datagram` carries
    /// `plaintext`.
    Sealed {
        /// The digest of the datagram as handed out.
        datagram: u64,
        /// Its IKE SA.
        sa: TraceSa,
        /// What was encrypted.
        plaintext: Plaintext,
    },
    /// We opened (verified and decrypted) a message whose bytes have digest `datagram`.
    Opened {
        /// The digest of the datagram as handed in.
        datagram: u64,
        /// Its IKE SA.
        sa: TraceSa,
        /// What was inside.
        plaintext: Plaintext,
    },
    /// A timer fired.
    Timer {
        /// Which.
        timer: TimerKind,
        /// The IKE SA it belongs to.
        sa: TraceSa,
        /// The CHILD SA (our inbound SPI), for a CHILD SA's timer.
        child: Option<u32>,
    },
}

/// The digest that keys a datagram in the trace: 64-bit FNV-1a over its bytes. Not
/// cryptographic (nobody is adversarial here): it only has to tell apart the handful of
/// datagrams in flight at once, and both sides must compute it the same way.
pub fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_tells_bytes_apart_and_is_stable() {
        assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
        // FNV-1a's published test vector for "a".
        assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(digest(&[0, 1]), digest(&[1, 0]));
    }
}
