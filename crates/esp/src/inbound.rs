//! The receiving half of an ESP SA (RFC 4303 §3.4).

use std::ops::Range;

use crate::cipher::{strip_trailer, Cipher, HEADER_LEN};
use crate::{Drop, KeyError, ReplayWindow, SaSpec, Suite};

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
        Ok(Inbound {
            cipher: Cipher::new(spec)?,
            window: ReplayWindow::new(replay_window)?,
        })
    }

    /// The SPI it receives.
    pub fn spi(&self) -> u32 {
        self.cipher.spi()
    }

    /// The suite.
    pub fn suite(&self) -> Suite {
        self.cipher.suite()
    }

    /// Its anti-replay window.
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// Opens one ESP packet in place (RFC 4303 §3.4): length, SPI, the replay window, the
    /// ICV (before any decryption), decryption, then the padding. The window moves only
    /// for a packet whose ICV verified (RFC 4303 §3.4.3), even if its padding then proves
    /// bad. Allocates nothing. After a drop the packet's bytes may have changed (AES-GCM
    /// decrypts as it verifies): keep a copy to look at a refused packet again.
    pub fn open(&mut self, packet: &mut [u8]) -> Result<Opened, Drop> {
        let spi = spi_of(packet).ok_or(Drop::Truncated)?;
        if packet.len() < HEADER_LEN {
            return Err(Drop::Truncated);
        }
        if spi != self.cipher.spi() {
            return Err(Drop::UnknownSpi);
        }
        if packet.len() < self.cipher.min_len() {
            return Err(Drop::Truncated);
        }
        let low = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let seq = self
            .window
            .infer(low, self.cipher.esn())
            .ok_or(Drop::BeforeWindow)?;
        self.window.check(seq)?;
        let plain = self.cipher.open(packet, seq)?;
        self.window.accept(seq);
        let (next_header, payload) = strip_trailer(packet, plain)?;
        Ok(Opened {
            next_header,
            payload,
            seq,
        })
    }
}

impl Inbound {
    /// Moves the window as if packet `seq` had been received: for tests of what happens
    /// near the end of the 32-bit sequence space with ESN, which no run reaches.
    pub fn skip_to(&mut self, seq: u64) {
        if seq > self.window.top() {
            self.window.accept(seq);
        }
    }
}

/// The SPI of an ESP packet: its first four bytes (RFC 4303 §2.1); `None` if shorter.
pub fn spi_of(datagram: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = datagram.get(..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}
