//! IKEv1 payload encryption: the phase 1 cipher, AES-CBC with IKEv1's zero padding, and
//! the IV chain (RFC 2409 §5.3, App. B; RFC 3602).

use super::Hash;
use crate::encr::{AesCbc, AES_BLOCK};
use crate::CryptoError;

/// Encryption Algorithm attribute value of AES-CBC (RFC 2409 App. A class 1, RFC 3602).
const AES_CBC: u16 = 7;

/// The phase 1 encryption algorithm: the Encryption Algorithm attribute (class 1) with its
/// Key Length attribute (class 14) (RFC 2409 App. A).
///
/// Only AES-CBC (7) with a 128, 192 or 256-bit key: the Key Length attribute is required
/// because AES has more than one (RFC 3602 §5.3). DES (1), 3DES (5) and the other
/// ciphers are refused on purpose: AWS does not offer them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phase1Encryption {
    key_bits: u16,
}

impl Phase1Encryption {
    /// Looks the cipher up by attribute values. An unknown or refused cipher is
    /// [`CryptoError::Unsupported`]; AES without a valid key length is
    /// [`CryptoError::UnsupportedKeyLength`] (with `id` 7, the IKEv1 value).
    pub fn from_attributes(
        encryption: u16,
        key_length: Option<u16>,
    ) -> Result<Phase1Encryption, CryptoError> {
        if encryption != AES_CBC {
            return Err(CryptoError::Unsupported {
                what: "IKEv1 encryption",
                id: encryption,
            });
        }
        match key_length {
            Some(bits @ (128 | 192 | 256)) => Ok(Phase1Encryption { key_bits: bits }),
            _ => Err(CryptoError::UnsupportedKeyLength {
                id: AES_CBC,
                key_bits: key_length,
            }),
        }
    }

    /// The Encryption Algorithm attribute value (7, AES-CBC).
    pub fn attribute(&self) -> u16 {
        AES_CBC
    }

    /// The Key Length attribute value, in bits.
    pub fn key_bits(&self) -> u16 {
        self.key_bits
    }

    /// The cipher key length in bytes: `enc_key_len` of [`phase1_keys`](super::phase1_keys).
    pub fn key_len(&self) -> usize {
        usize::from(self.key_bits / 8)
    }

    /// The cipher's block length: the IV length of [`phase1_iv`] and [`phase2_iv`].
    pub fn block_len(&self) -> usize {
        Cbc::BLOCK
    }
}

/// IKEv1 payload encryption (RFC 2409 §5.3, App. B): AES-CBC over the payload chain after
/// the ISAKMP header, zero padded to the block size. There is no integrity check: a wrong
/// key or IV shows up as garbage that the payload parser rejects (or as a HASH payload
/// that does not verify).
#[derive(Clone, Debug)]
pub struct Cbc {
    aes: AesCbc,
}

impl Cbc {
    /// The AES block length, and so the length of every IV.
    pub const BLOCK: usize = AES_BLOCK;

    /// AES-128, AES-192 or AES-256, chosen by the key length (16, 24 or 32 bytes).
    pub fn new(key: &[u8]) -> Result<Cbc, CryptoError> {
        match AesCbc::new(key) {
            Some(aes) => Ok(Cbc { aes }),
            None => Err(CryptoError::InvalidKeyLength {
                what: "IKEv1 AES-CBC key (16, 24 or 32 bytes)",
                expected: [16, 24, 32]
                    .into_iter()
                    .find(|&n| n >= key.len())
                    .unwrap_or(32),
                actual: key.len(),
            }),
        }
    }

    /// Encrypts `plaintext` (the payload chain) after padding it with zero octets to a
    /// whole number of blocks, at least one (App. B). The ISAKMP header's length counts
    /// the padding.
    ///
    /// # Panics
    /// If `iv` is not [`Cbc::BLOCK`] bytes long: IVs are ours ([`phase1_iv`],
    /// [`phase2_iv`], [`last_block`]), never the peer's.
    pub fn encrypt(&self, iv: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let iv: &[u8; AES_BLOCK] = iv
            .try_into()
            .expect("IKEv1 CBC IV must be one AES block (16 bytes)");
        let padded_len = plaintext.len().div_ceil(AES_BLOCK).max(1) * AES_BLOCK;
        let mut buf = Vec::with_capacity(padded_len);
        buf.extend_from_slice(plaintext);
        buf.resize(padded_len, 0);
        self.aes.encrypt(iv, &mut buf);
        buf
    }

    /// Decrypts a received message body. The result keeps the padding: the payload
    /// lengths say where the chain ends.
    ///
    /// A body that is empty or not a whole number of blocks is
    /// [`CryptoError::DecryptionFailed`]; an IV that is not one block (a caller bug) is
    /// [`CryptoError::InvalidKeyLength`].
    pub fn decrypt(&self, iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let iv: &[u8; AES_BLOCK] = iv.try_into().map_err(|_| CryptoError::InvalidKeyLength {
            what: "IKEv1 CBC IV",
            expected: AES_BLOCK,
            actual: iv.len(),
        })?;
        if ciphertext.is_empty() {
            return Err(CryptoError::DecryptionFailed);
        }
        let mut buf = ciphertext.to_vec();
        self.aes
            .decrypt(iv, &mut buf)
            .ok_or(CryptoError::DecryptionFailed)?;
        Ok(buf)
    }
}

/// The IV of the message after `ciphertext`, in either direction: its last ciphertext
/// block (App. B). Keep the IV per exchange: phase 1 chains from main mode 5 to 6, and
/// each quick mode or informational exchange chains from its own [`phase2_iv`].
///
/// A ciphertext shorter than a block (one [`Cbc::decrypt`] would refuse) is returned whole.
pub fn last_block(ciphertext: &[u8]) -> Vec<u8> {
    ciphertext[ciphertext.len().saturating_sub(Cbc::BLOCK)..].to_vec()
}

/// The IV of the first encrypted phase 1 message (main mode 5): `hash(g^xi | g^xr)`
/// truncated to `block_len` (App. B). `g_xi`/`g_xr` are the KE payload bodies.
///
/// # Panics
/// If `block_len` exceeds the hash output (never with AES's 16 and the hashes offered).
pub fn phase1_iv(hash: Hash, g_xi: &[u8], g_xr: &[u8], block_len: usize) -> Vec<u8> {
    truncated_iv(hash.digest_parts(&[g_xi, g_xr]), block_len)
}

/// The IV of the first message of a quick mode or informational exchange:
/// `hash(last phase 1 CBC output block | M-ID)` truncated to `block_len` (App. B).
/// `last_phase1_block` is the last ciphertext block of the last phase 1 message (main
/// mode 6), whichever side sent it.
///
/// # Panics
/// If `block_len` exceeds the hash output.
pub fn phase2_iv(
    hash: Hash,
    last_phase1_block: &[u8],
    message_id: u32,
    block_len: usize,
) -> Vec<u8> {
    truncated_iv(
        hash.digest_parts(&[last_phase1_block, &message_id.to_be_bytes()]),
        block_len,
    )
}

fn truncated_iv(mut digest: Vec<u8>, block_len: usize) -> Vec<u8> {
    assert!(
        block_len <= digest.len(),
        "IV of {block_len} bytes from a {}-byte hash",
        digest.len()
    );
    digest.truncate(block_len);
    digest
}
