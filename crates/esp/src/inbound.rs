//! The receiving half of an ESP SA (RFC 4303 §3.4).

use std::ops::Range;

use crate::cipher::Cipher;
use crate::{Drop, KeyError, ReplayWindow, SaSpec};

/// What [`Inbound::open`] found in a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The next header: 4 for an IPv4 packet, 41 for IPv6, 59 for a dummy packet (RFC 4303
    /// §2.6).
    pub next_header: u8,
    /// Where the decrypted payload is in the packet given to `open`.
    pub payload: Range<usize>,
    /// The packet's full sequence number (with ESN, the inferred high half included).
    pub seq: u64,
}

/// An inbound ESP SA: checks, authenticates and decrypts packets in place.
pub struct Inbound {
    cipher: Cipher,
    window: ReplayWindow,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("cipher", &self.cipher)
            .field("window", &self.window)
            .finish()
    }
}

impl Inbound {
    /// Keys the SA with an anti-replay window of `replay_window` packets (0: off).
    pub fn new(spec: &SaSpec, replay_window: u32) -> Result<Inbound, KeyError> {
        let _ = (spec, replay_window);
        unimplemented!("API first: opening comes in the next commit")
    }

    /// The SPI it receives.
    pub fn spi(&self) -> u32 {
        self.cipher.spi()
    }

    /// Its anti-replay window.
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// Opens one ESP packet in place (RFC 4303 §3.4): length, SPI, the replay window, the
    /// ICV (before any decryption), then decryption and the padding check. The window
    /// moves only for a packet whose ICV verified. Allocates nothing.
    pub fn open(&mut self, packet: &mut [u8]) -> Result<Opened, Drop> {
        let _ = packet;
        unimplemented!("API first: opening comes in the next commit")
    }
}

/// The SPI of an ESP packet: its first four bytes (RFC 4303 §2.1); `None` if shorter.
pub fn spi_of(datagram: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = datagram.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}
