//! The sending half of an ESP SA (RFC 4303 §3.3).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::cipher::Cipher;
use crate::suite::AES_BLOCK;
use crate::{KeyError, SaSpec, SealError, Suite};

/// An outbound ESP SA: seals payloads into ESP packets, each with the next sequence number.
pub struct Outbound {
    cipher: Cipher,
    /// The last sequence number used (0: none yet; RFC 4303 §3.3.3).
    seq: u64,
    /// Where AES-CBC IVs come from.
    ivs: ChaCha20Rng,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("cipher", &self.cipher)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Outbound {
    /// Keys the SA. `iv_seed` seeds the ChaCha stream the AES-CBC IVs come from (RFC 3602
    /// §3: unpredictable to an outsider; deterministic here so that a seed replays the
    /// same bytes); GCM ignores it, its IV being the sequence number (RFC 4106 §3.1).
    pub fn new(spec: &SaSpec, iv_seed: u64) -> Result<Outbound, KeyError> {
        Ok(Outbound {
            cipher: Cipher::new(spec)?,
            seq: 0,
            ivs: ChaCha20Rng::seed_from_u64(iv_seed),
        })
    }

    /// The SPI the packets carry.
    pub fn spi(&self) -> u32 {
        self.cipher.spi()
    }

    /// The suite.
    pub fn suite(&self) -> Suite {
        self.cipher.suite()
    }

    /// The last sequence number used (0 before the first packet).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Seals `payload` (for tunnel mode an IP packet; `next_header` 4 for IPv4, 41 for
    /// IPv6) with the next sequence number. `out` is cleared and filled with `SPI | Seq |
    /// IV | ciphertext(payload | padding | pad length | next header) | ICV`; its capacity
    /// is reused, so a caller that keeps it allocates nothing per packet. Returns the
    /// sequence number used; after the last one (2^32-1, or 2^64-1 with ESN) every call is
    /// [`SealError::SequenceExhausted`] and `out` is left empty.
    pub fn seal(
        &mut self,
        next_header: u8,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u64, SealError> {
        let last = if self.cipher.esn() {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        if self.seq >= last {
            out.clear();
            return Err(SealError::SequenceExhausted);
        }
        let seq = self.seq + 1;
        let mut iv = [0; AES_BLOCK];
        match self.cipher.suite() {
            // The IV is the sequence number: unique per key (RFC 4106 §3.1).
            Suite::AesGcm16 { .. } => iv[..8].copy_from_slice(&seq.to_be_bytes()),
            Suite::AesCbc { .. } => self.ivs.fill_bytes(&mut iv),
        }
        self.cipher.seal(seq, &iv, next_header, payload, out);
        self.seq = seq;
        Ok(seq)
    }

    /// Continues from sequence number `seq` (the next packet gets `seq + 1`): for tests of
    /// what happens near the end of the sequence space, which no run reaches.
    pub fn skip_to(&mut self, seq: u64) {
        self.seq = seq;
    }
}
