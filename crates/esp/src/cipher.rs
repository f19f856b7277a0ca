//! The keyed transforms of one SA direction: how a packet is sealed and opened once its
//! sequence number is known. AES-GCM-16 per RFC 4106 (nonce = salt ‖ IV, the IV the
//! 64-bit sequence number, AAD = SPI ‖ [ESN high] ‖ seq low, §3.1 and §5); AES-CBC per
//! RFC 3602 with the ICV an HMAC over SPI ‖ seq ‖ IV ‖ ciphertext and, with ESN, the
//! high half of the sequence number that is not sent (RFC 4303 §2.2.1, §3.3.4).

use std::ops::Range;

use ike_crypto::AesCbc;
use ring::{aead, hmac};

use crate::suite::{padded_len, AES_BLOCK, GCM_IV_LEN, GCM_SALT_LEN};
use crate::{Drop, KeyError, SaSpec, Suite};

/// SPI and sequence number: the ESP header (RFC 4303 §2).
pub(crate) const HEADER_LEN: usize = 8;

/// One direction's keys.
pub(crate) struct Cipher {
    spi: u32,
    suite: Suite,
    esn: bool,
    keys: Keys,
}

// Boxed: a host keeps many SAs, and the variants' key schedules differ in size.
enum Keys {
    Gcm {
        key: Box<aead::LessSafeKey>,
        salt: [u8; GCM_SALT_LEN],
    },
    Cbc {
        aes: Box<AesCbc>,
        mac: Box<hmac::Key>,
    },
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("spi", &format_args!("{:08x}", self.spi))
            .field("suite", &self.suite)
            .field("esn", &self.esn)
            .finish_non_exhaustive()
    }
}

fn check_len(what: &'static str, expected: usize, actual: usize) -> Result<(), KeyError> {
    if expected == actual {
        Ok(())
    } else {
        Err(KeyError::WrongKeyLength {
            what,
            expected,
            actual,
        })
    }
}

impl Cipher {
    pub(crate) fn new(spec: &SaSpec) -> Result<Cipher, KeyError> {
        if spec.spi < 256 {
            return Err(KeyError::ReservedSpi(spec.spi));
        }
        let suite = spec.suite;
        let keys = match suite {
            Suite::AesGcm16 { key_bits } => {
                let algorithm = match key_bits {
                    128 => &aead::AES_128_GCM,
                    256 => &aead::AES_256_GCM,
                    _ => {
                        return Err(KeyError::UnsupportedKeyLength {
                            suite: "AES-GCM-16",
                            key_bits,
                        })
                    }
                };
                check_len(
                    "encryption key",
                    suite.encryption_key_len(),
                    spec.encryption_key.len(),
                )?;
                check_len("integrity key", 0, spec.integrity_key.len())?;
                let (key, salt) = spec.encryption_key.split_at(usize::from(key_bits / 8));
                let key = aead::UnboundKey::new(algorithm, key).map_err(|_| {
                    KeyError::UnsupportedKeyLength {
                        suite: "AES-GCM-16",
                        key_bits,
                    }
                })?;
                let mut salt_bytes = [0; GCM_SALT_LEN];
                salt_bytes.copy_from_slice(salt);
                Keys::Gcm {
                    key: Box::new(aead::LessSafeKey::new(key)),
                    salt: salt_bytes,
                }
            }
            Suite::AesCbc {
                key_bits,
                integrity,
            } => {
                if !matches!(key_bits, 128 | 192 | 256) {
                    return Err(KeyError::UnsupportedKeyLength {
                        suite: "AES-CBC",
                        key_bits,
                    });
                }
                check_len(
                    "encryption key",
                    suite.encryption_key_len(),
                    spec.encryption_key.len(),
                )?;
                check_len(
                    "integrity key",
                    integrity.key_len(),
                    spec.integrity_key.len(),
                )?;
                let aes =
                    AesCbc::new(&spec.encryption_key).ok_or(KeyError::UnsupportedKeyLength {
                        suite: "AES-CBC",
                        key_bits,
                    })?;
                Keys::Cbc {
                    aes: Box::new(aes),
                    mac: Box::new(hmac::Key::new(integrity.algorithm(), &spec.integrity_key)),
                }
            }
        };
        Ok(Cipher {
            spi: spec.spi,
            suite,
            esn: spec.esn,
            keys,
        })
    }

    pub(crate) fn spi(&self) -> u32 {
        self.spi
    }

    pub(crate) fn suite(&self) -> Suite {
        self.suite
    }

    pub(crate) fn esn(&self) -> bool {
        self.esn
    }

    /// The smallest packet: header, IV, an empty payload's padded trailer, ICV.
    pub(crate) fn min_len(&self) -> usize {
        self.suite.sealed_len(0)
    }

    /// Seals `payload` as packet `seq` into `out` (cleared first) with `iv`, whose first
    /// [`Suite::iv_len`] bytes are used: for GCM the caller passes the sequence number
    /// (RFC 4106 §3.1), for CBC unpredictable bytes (RFC 3602 §3).
    pub(crate) fn seal(
        &self,
        seq: u64,
        iv: &[u8; AES_BLOCK],
        next_header: u8,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) {
        let align = self.suite.alignment();
        let ciphertext_len = padded_len(payload.len(), align);
        let pad = ciphertext_len - payload.len() - 2;
        out.clear();
        out.reserve(self.suite.sealed_len(payload.len()));
        out.extend_from_slice(&self.spi.to_be_bytes());
        // The low half only: the high half of an ESN is never sent (RFC 4303 §2.2.1).
        out.extend_from_slice(&seq.to_be_bytes()[4..]);
        match &self.keys {
            Keys::Gcm { key, salt } => {
                let mut gcm_iv = [0; GCM_IV_LEN];
                gcm_iv.copy_from_slice(&iv[..GCM_IV_LEN]);
                out.extend_from_slice(&gcm_iv);
                push_trailer(out, payload, pad, next_header);
                let (aad, aad_len) = self.gcm_aad(seq);
                let start = HEADER_LEN + GCM_IV_LEN;
                // ring refuses only more than GCM's 64 GiB per nonce: no packet is that
                // big, but should one be, nothing half-sealed goes out.
                match key.seal_in_place_separate_tag(
                    gcm_nonce(salt, &gcm_iv),
                    aead::Aad::from(&aad[..aad_len]),
                    &mut out[start..],
                ) {
                    Ok(tag) => out.extend_from_slice(tag.as_ref()),
                    Err(_) => out.clear(),
                }
            }
            Keys::Cbc { aes, mac } => {
                out.extend_from_slice(iv);
                push_trailer(out, payload, pad, next_header);
                aes.encrypt(iv, &mut out[HEADER_LEN + AES_BLOCK..]);
                let icv = self.cbc_icv(mac, out, seq);
                out.extend_from_slice(&icv);
            }
        }
    }

    /// Verifies the ICV of `packet`, sequence number `seq` (its full value), then decrypts
    /// it in place; returns where the plaintext (payload, padding, pad length, next
    /// header) is. The caller checked the length ([`min_len`](Self::min_len)) and the SPI.
    pub(crate) fn open(&self, packet: &mut [u8], seq: u64) -> Result<Range<usize>, Drop> {
        let plain = match &self.keys {
            Keys::Gcm { key, salt } => {
                let start = HEADER_LEN + GCM_IV_LEN;
                let mut iv = [0; GCM_IV_LEN];
                iv.copy_from_slice(&packet[HEADER_LEN..start]);
                let (aad, aad_len) = self.gcm_aad(seq);
                let len = key
                    .open_in_place(
                        gcm_nonce(salt, &iv),
                        aead::Aad::from(&aad[..aad_len]),
                        &mut packet[start..],
                    )
                    .map_err(|_| Drop::Integrity)?
                    .len();
                start..start + len
            }
            Keys::Cbc { aes, mac } => {
                let start = HEADER_LEN + AES_BLOCK;
                let end = packet.len() - self.suite.icv_len();
                // Structure first (RFC 4303 §3.4.4 leaves the order to the receiver; the
                // MAC could not make a partial block decryptable anyway).
                if !(end - start).is_multiple_of(AES_BLOCK) {
                    return Err(Drop::Malformed);
                }
                let icv = self.cbc_icv(mac, &packet[..end], seq);
                if !constant_time_eq(&icv, &packet[end..]) {
                    return Err(Drop::Integrity);
                }
                let mut iv = [0; AES_BLOCK];
                iv.copy_from_slice(&packet[HEADER_LEN..start]);
                aes.decrypt(&iv, &mut packet[start..end])
                    .ok_or(Drop::Malformed)?;
                start..end
            }
        };
        Ok(plain)
    }

    /// AAD of RFC 4106 §5: SPI ‖ seq (8 bytes), or SPI ‖ ESN high ‖ ESN low (12).
    fn gcm_aad(&self, seq: u64) -> ([u8; 12], usize) {
        let mut aad = [0; 12];
        aad[..4].copy_from_slice(&self.spi.to_be_bytes());
        if self.esn {
            aad[4..].copy_from_slice(&seq.to_be_bytes());
            (aad, 12)
        } else {
            aad[4..8].copy_from_slice(&seq.to_be_bytes()[4..]);
            (aad, 8)
        }
    }

    /// The ICV: the HMAC over the packet so far and, with ESN, the unsent high half of the
    /// sequence number (RFC 4303 §2.2.1: appended for the computation only), truncated
    /// (RFC 2404 §2, RFC 4868 §2.3).
    fn cbc_icv(&self, mac: &hmac::Key, packet: &[u8], seq: u64) -> Icv {
        let mut ctx = hmac::Context::with_key(mac);
        ctx.update(packet);
        if self.esn {
            ctx.update(&seq.to_be_bytes()[..4]);
        }
        Icv {
            tag: ctx.sign(),
            len: self.suite.icv_len(),
        }
    }
}

/// A truncated HMAC.
struct Icv {
    tag: hmac::Tag,
    len: usize,
}

impl std::ops::Deref for Icv {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.tag.as_ref()[..self.len]
    }
}

/// Payload, the padding 1, 2, 3, … (RFC 4303 §2.4's default), pad length, next header.
fn push_trailer(out: &mut Vec<u8>, payload: &[u8], pad: usize, next_header: u8) {
    out.extend_from_slice(payload);
    // `pad` < the alignment (at most 16), so each value fits a byte.
    out.extend((1..=pad).map(|i| i as u8));
    out.push(pad as u8);
    out.push(next_header);
}

/// Checks the pad length and the padding's 1, 2, 3, … of the decrypted `plain`; returns
/// the next header and where the payload is.
pub(crate) fn strip_trailer(
    packet: &[u8],
    plain: Range<usize>,
) -> Result<(u8, Range<usize>), Drop> {
    let bytes = &packet[plain.clone()];
    let [.., pad_len, next_header] = *bytes else {
        return Err(Drop::Malformed);
    };
    let pad_len = usize::from(pad_len);
    let payload_len = bytes
        .len()
        .checked_sub(pad_len + 2)
        .ok_or(Drop::Malformed)?;
    let padding = &bytes[payload_len..payload_len + pad_len];
    if padding.iter().zip(1u8..).any(|(&b, want)| b != want) {
        return Err(Drop::Malformed);
    }
    Ok((next_header, plain.start..plain.start + payload_len))
}

fn gcm_nonce(salt: &[u8; GCM_SALT_LEN], iv: &[u8; GCM_IV_LEN]) -> aead::Nonce {
    let mut nonce = [0; aead::NONCE_LEN];
    nonce[..GCM_SALT_LEN].copy_from_slice(salt);
    nonce[GCM_SALT_LEN..].copy_from_slice(iv);
    aead::Nonce::assume_unique_for_key(nonce)
}

/// Compares without an early exit: an ICV check must not tell how many bytes matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
#[path = "cipher_tests.rs"]
mod tests;
