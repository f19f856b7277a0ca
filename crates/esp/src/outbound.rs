//! The sending half of an ESP SA (RFC 4303 §3.3).

use crate::cipher::Cipher;
use crate::{KeyError, SaSpec, SealError};

/// An outbound ESP SA: seals payloads into ESP packets, each with the next sequence number.
pub struct Outbound {
    cipher: Cipher,
    /// The last sequence number used (0: none yet; RFC 4303 §3.3.3).
    seq: u64,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("cipher", &self.cipher)
            .field("seq", &self.seq)
            .finish()
    }
}

impl Outbound {
    /// Keys the SA. `iv_seed` seeds the ChaCha stream the AES-CBC IVs come from (RFC 3602
    /// §3: unpredictable to an outsider; deterministic here so that a seed replays the
    /// same bytes); GCM ignores it, its IV being the sequence number.
    pub fn new(spec: &SaSpec, iv_seed: u64) -> Result<Outbound, KeyError> {
        let _ = (spec, iv_seed);
        unimplemented!("API first: sealing comes in the next commit")
    }

    /// The SPI the packets carry.
    pub fn spi(&self) -> u32 {
        self.cipher.spi()
    }

    /// The last sequence number used (0 before the first packet).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Seals `payload` (for tunnel mode an IP packet; `next_header` 4 for IPv4, 41 for
    /// IPv6) with the next sequence number. `out` is cleared and filled with `SPI | Seq |
    /// IV | ciphertext(payload | padding | pad length | next header) | ICV`; its capacity
    /// is reused, so a caller that keeps it allocates nothing per packet. Returns the
    /// sequence number used.
    pub fn seal(
        &mut self,
        next_header: u8,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u64, SealError> {
        let _ = (next_header, payload, out);
        unimplemented!("API first: sealing comes in the next commit")
    }
}
