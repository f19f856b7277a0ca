//! The ESP floor: what sealing and opening one packet cannot avoid, the cipher and MAC
//! work on the bytes ESP covers, with no header, sequence number, padding, replay window
//! or selector — ring's AES-GCM seal and open (RFC 4106: the payload and its 4-byte
//! aligned trailer, ESP's 8-byte AAD), or AES-CBC encrypt and decrypt (ike-crypto's
//! `AesCbc`, the block code esp itself uses) with ring's HMAC signed and verified over
//! header, IV and ciphertext (RFC 3602, RFC 4868).

use std::hint::black_box;

use esp::{Integrity, Suite};
use ike_crypto::AesCbc;
use ring::{aead, hmac};

use super::super::BenchError;

/// The ESP header: SPI and sequence number.
const HEADER: usize = 8;
/// An AES block: AES-CBC's IV.
const BLOCK: usize = 16;
/// AES-GCM's IV and ICV.
const GCM_IV: usize = 8;
const GCM_TAG: usize = 16;

/// One suite's crypto for packets of one size, keyed once: [`PacketFloor::packet`] seals
/// and opens one.
pub struct PacketFloor {
    keys: Keys,
    /// The bytes encrypted (payload + padding + pad length + next header).
    body: usize,
    buf: Vec<u8>,
    seq: u64,
}

// One per measurement: its size does not matter, an indirection in the loop would.
#[allow(clippy::large_enum_variant)]
enum Keys {
    Gcm(aead::LessSafeKey),
    Cbc {
        aes: AesCbc,
        mac: hmac::Key,
        icv: usize,
    },
}

impl PacketFloor {
    /// The floor of `suite` for inner packets of `inner` bytes.
    pub fn new(suite: Suite, inner: usize) -> Result<PacketFloor, BenchError> {
        let bad = || BenchError::Suite(format!("{suite:?}"));
        // The trailer's two bytes, padded to the suite's alignment (RFC 4303 §2.4).
        let body = (inner + 2).div_ceil(suite.alignment()) * suite.alignment();
        let (keys, len) = match suite {
            Suite::AesGcm16 { key_bits } => {
                let algorithm = match key_bits {
                    128 => &aead::AES_128_GCM,
                    256 => &aead::AES_256_GCM,
                    _ => return Err(bad()),
                };
                let key = vec![7; usize::from(key_bits / 8)];
                let key = aead::UnboundKey::new(algorithm, &key).map_err(|_| bad())?;
                (Keys::Gcm(aead::LessSafeKey::new(key)), body + GCM_TAG)
            }
            Suite::AesCbc {
                key_bits,
                integrity,
            } => {
                let aes = AesCbc::new(&vec![1; usize::from(key_bits / 8)]).ok_or_else(bad)?;
                let mac = hmac::Key::new(algorithm(integrity), &vec![3; integrity.key_len()]);
                let keys = Keys::Cbc {
                    aes,
                    mac,
                    icv: integrity.icv_len(),
                };
                (keys, HEADER + BLOCK + body)
            }
        };
        Ok(PacketFloor {
            keys,
            body,
            buf: vec![0x5a; len],
            seq: 0,
        })
    }

    /// Seals and opens one packet; `false` if the open failed (it never should: the
    /// floor's work is checked, not only done).
    pub fn packet(&mut self) -> bool {
        self.seq += 1;
        match &self.keys {
            Keys::Gcm(key) => {
                let nonce = || {
                    let mut n = [0; aead::NONCE_LEN];
                    n[aead::NONCE_LEN - GCM_IV..].copy_from_slice(&self.seq.to_be_bytes());
                    aead::Nonce::assume_unique_for_key(n)
                };
                let aad = [0u8; HEADER];
                let (body, tag_out) = self.buf.split_at_mut(self.body);
                let Ok(tag) = key.seal_in_place_separate_tag(nonce(), aead::Aad::from(aad), body)
                else {
                    return false;
                };
                tag_out.copy_from_slice(tag.as_ref());
                black_box(&mut self.buf);
                key.open_in_place(nonce(), aead::Aad::from(aad), &mut self.buf)
                    .is_ok()
            }
            Keys::Cbc { aes, mac, icv } => {
                let iv = [9u8; BLOCK];
                aes.encrypt(&iv, &mut self.buf[HEADER + BLOCK..]);
                let tag = hmac::sign(mac, &self.buf);
                black_box(&mut self.buf);
                let checked = hmac::sign(mac, &self.buf);
                let same = tag.as_ref()[..*icv] == checked.as_ref()[..*icv];
                same && aes.decrypt(&iv, &mut self.buf[HEADER + BLOCK..]).is_some()
            }
        }
    }
}

/// ring's HMAC for an ESP integrity algorithm.
fn algorithm(integrity: Integrity) -> hmac::Algorithm {
    match integrity {
        Integrity::HmacSha1_96 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        Integrity::HmacSha256_128 => hmac::HMAC_SHA256,
        Integrity::HmacSha384_192 => hmac::HMAC_SHA384,
        Integrity::HmacSha512_256 => hmac::HMAC_SHA512,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every suite's floor seals and opens (so it is the real work).
    #[test]
    fn the_floor_seals_and_opens_every_suite() {
        for suite in super::super::super::seal_open::SUITES.map(|(_, s)| s) {
            let mut floor = PacketFloor::new(suite, 1400).expect("keys");
            assert!(floor.packet() && floor.packet(), "{suite:?}");
        }
    }
}
