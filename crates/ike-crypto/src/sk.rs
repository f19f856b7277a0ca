//! Protection of the Encrypted (SK) payload: RFC 7296 §3.14, RFC 5282 §3 and §5.1.
//!
//! The SK payload body is `IV | encrypted(payloads | padding | pad length) | ICV`. The
//! *prefix* is everything before the IV: the IKE header and the SK payload header, with
//! their final lengths. It is integrity-protected (CBC+HMAC) or the associated data (AEAD).

use ring::aead;

use crate::encr::{AesCbc, Encryption, AES_BLOCK, GCM_IV_LEN, GCM_SALT_LEN, GCM_TAG_LEN};
use crate::hash::{constant_time_eq, hmac_parts};
use crate::{CryptoError, Integrity};

/// Seals and opens SK payload bodies in one direction (SK_ei/SK_ai or SK_er/SK_ar).
#[derive(Clone)]
pub struct SkCipher {
    encryption: Encryption,
    integrity: Option<Integrity>,
    inner: Inner,
}

// The key schedules are boxed, each its own size: unboxed, every SA direction would take
// the largest variant's kilobyte or so whatever its cipher, and an estate keeps thousands.
#[derive(Clone)]
enum Inner {
    Gcm {
        key: Box<aead::LessSafeKey>,
        salt: [u8; GCM_SALT_LEN],
    },
    Cbc {
        aes: Box<AesCbc>,
        integrity: Integrity,
        mac_key: Box<ring::hmac::Key>,
    },
}

impl std::fmt::Debug for SkCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkCipher")
            .field("encryption", &self.encryption)
            .field("integrity", &self.integrity)
            .finish_non_exhaustive()
    }
}

impl SkCipher {
    /// Keys one direction. `sk_e` is [`Encryption::key_material_len`] bytes (for GCM the
    /// AES key followed by the 4-byte salt); `sk_a` is the integrity key, empty for AEAD.
    pub fn new(
        encryption: Encryption,
        integrity: Option<Integrity>,
        sk_e: &[u8],
        sk_a: &[u8],
    ) -> Result<SkCipher, CryptoError> {
        check_len("SK_e", encryption.key_material_len(), sk_e.len())?;
        let inner = match (encryption.is_aead(), integrity) {
            (true, None) => {
                check_len("SK_a", 0, sk_a.len())?;
                let (key, salt) = sk_e.split_at(encryption.aes_key_len());
                let algorithm = match key.len() {
                    16 => &aead::AES_128_GCM,
                    _ => &aead::AES_256_GCM,
                };
                let key = aead::UnboundKey::new(algorithm, key).map_err(|_| {
                    CryptoError::InvalidKeyLength {
                        what: "SK_e",
                        expected: encryption.key_material_len(),
                        actual: sk_e.len(),
                    }
                })?;
                let mut salt_bytes = [0u8; GCM_SALT_LEN];
                salt_bytes.copy_from_slice(salt);
                Inner::Gcm {
                    key: Box::new(aead::LessSafeKey::new(key)),
                    salt: salt_bytes,
                }
            }
            (false, Some(integrity)) => {
                check_len("SK_a", integrity.key_len(), sk_a.len())?;
                let aes = AesCbc::new(sk_e).ok_or(CryptoError::InvalidKeyLength {
                    what: "SK_e",
                    expected: encryption.key_material_len(),
                    actual: sk_e.len(),
                })?;
                Inner::Cbc {
                    aes: Box::new(aes),
                    integrity,
                    mac_key: Box::new(integrity.hash().key(sk_a)),
                }
            }
            (true, Some(_)) => {
                return Err(CryptoError::InvalidCombination {
                    reason: "an AEAD cipher takes no integrity algorithm",
                })
            }
            (false, None) => {
                return Err(CryptoError::InvalidCombination {
                    reason: "a non-AEAD cipher needs an integrity algorithm",
                })
            }
        };
        Ok(SkCipher {
            encryption,
            integrity,
            inner,
        })
    }

    /// The cipher.
    pub fn encryption(&self) -> Encryption {
        self.encryption
    }

    /// The integrity algorithm (`None` for AEAD).
    pub fn integrity(&self) -> Option<Integrity> {
        self.integrity
    }

    /// Length of the IV the caller passes to [`seal`](Self::seal).
    pub fn iv_len(&self) -> usize {
        self.encryption.iv_len()
    }

    /// Length of the ICV at the end of the body.
    pub fn icv_len(&self) -> usize {
        match &self.inner {
            Inner::Gcm { .. } => GCM_TAG_LEN,
            Inner::Cbc { integrity, .. } => integrity.icv_len(),
        }
    }

    /// Length of the body [`seal`](Self::seal) produces for `plaintext_len` bytes of inner
    /// payloads: IV + encrypted(payloads + padding + pad length) + ICV.
    pub fn body_len(&self, plaintext_len: usize) -> usize {
        self.iv_len() + padded_len(plaintext_len, self.encryption.block_size()) + self.icv_len()
    }

    /// Encrypts and protects `plaintext` (the inner payloads), returning `IV | ciphertext |
    /// ICV`, [`body_len`](Self::body_len) bytes. `prefix` must already carry the final
    /// message and payload lengths. Padding is zeros, as short as alignment allows.
    ///
    /// # Panics
    /// If `iv` is not [`iv_len`](Self::iv_len) bytes (a caller bug).
    pub fn seal(&self, prefix: &[u8], plaintext: &[u8], iv: &[u8]) -> Vec<u8> {
        assert_eq!(iv.len(), self.iv_len(), "SK payload IV length");
        let block = self.encryption.block_size();
        let total = padded_len(plaintext.len(), block);
        let pad = total - plaintext.len() - 1;
        let mut body = Vec::with_capacity(self.body_len(plaintext.len()));
        body.extend_from_slice(iv);
        body.extend_from_slice(plaintext);
        body.resize(iv.len() + plaintext.len() + pad, 0);
        // `pad` < block size <= 16, so it fits the Pad Length octet.
        body.push(pad as u8);
        match &self.inner {
            Inner::Gcm { key, salt } => {
                let nonce = gcm_nonce(salt, iv);
                let tag = key
                    .seal_in_place_separate_tag(
                        nonce,
                        aead::Aad::from(prefix),
                        &mut body[GCM_IV_LEN..],
                    )
                    .expect("an IKE message is far below the AES-GCM length limit");
                body.extend_from_slice(tag.as_ref());
            }
            Inner::Cbc {
                aes,
                integrity,
                mac_key,
            } => {
                let mut iv_block = [0u8; AES_BLOCK];
                iv_block.copy_from_slice(iv);
                aes.encrypt(&iv_block, &mut body[AES_BLOCK..]);
                let tag = hmac_parts(mac_key, &[prefix, &body]);
                body.extend_from_slice(&tag.as_ref()[..integrity.icv_len()]);
            }
        }
        body
    }

    /// Checks the ICV, decrypts and strips the padding, returning the inner payloads.
    /// Any padding content is accepted (RFC 7296 §3.14).
    pub fn open(&self, prefix: &[u8], body: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let min = self.body_len(0);
        if body.len() < min {
            return Err(CryptoError::Truncated {
                len: body.len(),
                min,
            });
        }
        let mut plain = match &self.inner {
            Inner::Gcm { key, salt } => {
                let (iv, sealed) = body.split_at(GCM_IV_LEN);
                let nonce = gcm_nonce(salt, iv);
                let mut buf = sealed.to_vec();
                let len = key
                    .open_in_place(nonce, aead::Aad::from(prefix), &mut buf)
                    .map_err(|_| CryptoError::IntegrityCheckFailed)?
                    .len();
                buf.truncate(len);
                buf
            }
            Inner::Cbc {
                aes,
                integrity,
                mac_key,
            } => {
                let (protected, icv) = body.split_at(body.len() - integrity.icv_len());
                let tag = hmac_parts(mac_key, &[prefix, protected]);
                if !constant_time_eq(&tag.as_ref()[..integrity.icv_len()], icv) {
                    return Err(CryptoError::IntegrityCheckFailed);
                }
                let (iv, ciphertext) = protected.split_at(AES_BLOCK);
                let mut iv_block = [0u8; AES_BLOCK];
                iv_block.copy_from_slice(iv);
                let mut buf = ciphertext.to_vec();
                aes.decrypt(&iv_block, &mut buf)
                    .ok_or(CryptoError::DecryptionFailed)?;
                buf
            }
        };
        let pad_len = usize::from(*plain.last().ok_or(CryptoError::BadPadding)?);
        let payloads_len = plain
            .len()
            .checked_sub(pad_len + 1)
            .ok_or(CryptoError::BadPadding)?;
        plain.truncate(payloads_len);
        Ok(plain)
    }
}

fn check_len(what: &'static str, expected: usize, actual: usize) -> Result<(), CryptoError> {
    if expected == actual {
        Ok(())
    } else {
        Err(CryptoError::InvalidKeyLength {
            what,
            expected,
            actual,
        })
    }
}

/// Payloads + padding + the pad length octet, rounded up to `block`.
fn padded_len(plaintext_len: usize, block: usize) -> usize {
    (plaintext_len + 1).div_ceil(block) * block
}

/// RFC 5282 §4: nonce = salt (from the key material) | explicit IV.
fn gcm_nonce(salt: &[u8; GCM_SALT_LEN], iv: &[u8]) -> aead::Nonce {
    let mut nonce = [0u8; aead::NONCE_LEN];
    nonce[..GCM_SALT_LEN].copy_from_slice(salt);
    nonce[GCM_SALT_LEN..].copy_from_slice(iv);
    aead::Nonce::assume_unique_for_key(nonce)
}

#[cfg(test)]
#[path = "sk_tests.rs"]
mod tests;
