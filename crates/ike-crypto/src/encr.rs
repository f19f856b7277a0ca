//! Encryption algorithms (RFC 7296 §3.3.2 transform type 1) and their block-level modes.

use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{
    BlockCipher, BlockDecryptMut, BlockEncryptMut, BlockSizeUser, InnerIvInit, KeyInit,
};
use ike_wire::EncrId;

use crate::CryptoError;

/// AES block size, and the IV length of AES-CBC (RFC 3602 §3).
pub const AES_BLOCK: usize = 16;
/// Explicit IV of AES-GCM in IKEv2 and ESP (RFC 5282 §3.1, RFC 4106 §3.1).
pub(crate) const GCM_IV_LEN: usize = 8;
/// Salt appended to the AES-GCM key in the key material (RFC 5282 §7.1).
pub(crate) const GCM_SALT_LEN: usize = 4;
/// The ICV of AES-GCM with a 16 octet ICV (the only GCM ICV length offered here).
pub(crate) const GCM_TAG_LEN: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// AES-CBC (RFC 3602), paired with a separate integrity algorithm.
    Cbc,
    /// AES-GCM with a 16 octet ICV (RFC 4106, RFC 5282), an AEAD.
    Gcm16,
}

/// A negotiated encryption algorithm and its key length.
///
/// AES-CBC with 128/192/256-bit keys and AES-GCM-16 with 128/256-bit keys. AES needs the
/// Key Length attribute (RFC 7296 §3.3.5 / RFC 5282 §8); DES, 3DES, NULL and the other
/// ciphers are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encryption {
    id: EncrId,
    key_bits: u16,
    mode: Mode,
}

impl Encryption {
    /// Looks the cipher up by transform id and Key Length attribute (in bits).
    pub fn new(id: EncrId, key_bits: Option<u16>) -> Result<Encryption, CryptoError> {
        let (mode, allowed): (Mode, &[u16]) = match id {
            EncrId::AES_CBC => (Mode::Cbc, &[128, 192, 256]),
            // ring's AES-GCM comes in 128 and 256-bit keys only.
            EncrId::AES_GCM_16 => (Mode::Gcm16, &[128, 256]),
            _ => {
                return Err(CryptoError::Unsupported {
                    what: "encryption",
                    id: id.0,
                })
            }
        };
        match key_bits {
            Some(bits) if allowed.contains(&bits) => Ok(Encryption {
                id,
                key_bits: bits,
                mode,
            }),
            _ => Err(CryptoError::UnsupportedKeyLength { id: id.0, key_bits }),
        }
    }

    /// The transform id.
    pub fn id(&self) -> EncrId {
        self.id
    }

    /// The AES key length in bits (the Key Length attribute).
    pub fn key_bits(&self) -> u16 {
        self.key_bits
    }

    /// Whether the cipher also protects integrity, so no integrity transform is negotiated
    /// (RFC 5282 §8).
    pub fn is_aead(&self) -> bool {
        self.mode == Mode::Gcm16
    }

    /// Length of SK_e and of a CHILD SA's encryption key: the AES key, plus for GCM the
    /// 4-byte salt that follows it (RFC 5282 §7.1, RFC 4106 §8.1).
    pub fn key_material_len(&self) -> usize {
        let key = usize::from(self.key_bits / 8);
        match self.mode {
            Mode::Cbc => key,
            Mode::Gcm16 => key + GCM_SALT_LEN,
        }
    }

    /// Length of the IV sent in each Encrypted payload: 16 for CBC, 8 for GCM.
    pub fn iv_len(&self) -> usize {
        match self.mode {
            Mode::Cbc => AES_BLOCK,
            Mode::Gcm16 => GCM_IV_LEN,
        }
    }

    /// Length of the AEAD tag (the ICV), or 0 for a cipher without one.
    pub fn aead_icv_len(&self) -> usize {
        match self.mode {
            Mode::Cbc => 0,
            Mode::Gcm16 => GCM_TAG_LEN,
        }
    }

    /// The alignment the plaintext (payloads, padding and pad length) must reach.
    pub(crate) fn block_size(&self) -> usize {
        match self.mode {
            Mode::Cbc => AES_BLOCK,
            Mode::Gcm16 => 1,
        }
    }

    pub(crate) fn aes_key_len(&self) -> usize {
        usize::from(self.key_bits / 8)
    }
}

/// AES-CBC with no padding: the caller pads (RFC 7296 §3.14 padding is IKE's own, RFC
/// 4303 §2.4 ESP's). The block code of IKE's SK payloads and of ESP (the `esp` crate).
#[derive(Clone)]
pub enum AesCbc {
    /// AES with a 128-bit key.
    Aes128(aes::Aes128),
    /// AES with a 192-bit key.
    Aes192(aes::Aes192),
    /// AES with a 256-bit key.
    Aes256(aes::Aes256),
}

impl AesCbc {
    /// A key of 16, 24 or 32 bytes.
    pub fn new(key: &[u8]) -> Option<AesCbc> {
        Some(match key.len() {
            16 => AesCbc::Aes128(aes::Aes128::new_from_slice(key).ok()?),
            24 => AesCbc::Aes192(aes::Aes192::new_from_slice(key).ok()?),
            32 => AesCbc::Aes256(aes::Aes256::new_from_slice(key).ok()?),
            _ => return None,
        })
    }

    /// Encrypts whole blocks in place.
    ///
    /// # Panics
    /// If `buf` is not a whole number of blocks (callers pad first).
    pub fn encrypt(&self, iv: &[u8; AES_BLOCK], buf: &mut [u8]) {
        assert_eq!(buf.len() % AES_BLOCK, 0, "CBC input must be whole blocks");
        match self {
            AesCbc::Aes128(c) => cbc_encrypt(c, iv, buf),
            AesCbc::Aes192(c) => cbc_encrypt(c, iv, buf),
            AesCbc::Aes256(c) => cbc_encrypt(c, iv, buf),
        }
    }

    /// Decrypts whole blocks in place; `None` if `buf` is not a whole number of blocks.
    pub fn decrypt(&self, iv: &[u8; AES_BLOCK], buf: &mut [u8]) -> Option<()> {
        if !buf.len().is_multiple_of(AES_BLOCK) {
            return None;
        }
        match self {
            AesCbc::Aes128(c) => cbc_decrypt(c, iv, buf),
            AesCbc::Aes192(c) => cbc_decrypt(c, iv, buf),
            AesCbc::Aes256(c) => cbc_decrypt(c, iv, buf),
        }
        Some(())
    }
}

impl std::fmt::Debug for AesCbc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bits = match self {
            AesCbc::Aes128(_) => 128,
            AesCbc::Aes192(_) => 192,
            AesCbc::Aes256(_) => 256,
        };
        write!(f, "AesCbc({bits})")
    }
}

fn cbc_encrypt<C>(cipher: &C, iv: &[u8; AES_BLOCK], buf: &mut [u8])
where
    C: BlockEncryptMut + BlockCipher + BlockSizeUser<BlockSize = U16> + Clone,
{
    let mut enc = cbc::Encryptor::<C>::inner_iv_init(cipher.clone(), iv.into());
    for block in buf.chunks_exact_mut(AES_BLOCK) {
        enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
    }
}

fn cbc_decrypt<C>(cipher: &C, iv: &[u8; AES_BLOCK], buf: &mut [u8])
where
    C: BlockDecryptMut + BlockCipher + BlockSizeUser<BlockSize = U16> + Clone,
{
    let mut dec = cbc::Decryptor::<C>::inner_iv_init(cipher.clone(), iv.into());
    // All the blocks at once: CBC decryption runs several blocks in parallel.
    let (blocks, _tail) = InOutBuf::from(buf).into_chunks::<U16>();
    dec.decrypt_blocks_inout_mut(blocks);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    #[test]
    fn lookup_and_lengths() {
        let cbc = Encryption::new(EncrId::AES_CBC, Some(192)).unwrap();
        assert_eq!(
            (cbc.key_bits(), cbc.key_material_len(), cbc.iv_len()),
            (192, 24, 16)
        );
        assert!(!cbc.is_aead());
        assert_eq!(cbc.aead_icv_len(), 0);
        let gcm = Encryption::new(EncrId::AES_GCM_16, Some(256)).unwrap();
        assert_eq!(
            (gcm.key_bits(), gcm.key_material_len(), gcm.iv_len()),
            (256, 36, 8)
        );
        assert!(gcm.is_aead());
        assert_eq!(gcm.aead_icv_len(), 16);
        assert_eq!(gcm.id(), EncrId::AES_GCM_16);
        let gcm128 = Encryption::new(EncrId::AES_GCM_16, Some(128)).unwrap();
        assert_eq!(gcm128.key_material_len(), 20);
    }

    #[test]
    fn aes_needs_a_valid_key_length() {
        for (id, bits) in [
            (EncrId::AES_CBC, None),
            (EncrId::AES_CBC, Some(64)),
            (EncrId::AES_CBC, Some(512)),
            (EncrId::AES_GCM_16, None),
            (EncrId::AES_GCM_16, Some(192)),
        ] {
            assert_eq!(
                Encryption::new(id, bits),
                Err(CryptoError::UnsupportedKeyLength {
                    id: id.0,
                    key_bits: bits
                })
            );
        }
    }

    #[test]
    fn refuses_weak_and_unimplemented_ciphers() {
        for id in [
            EncrId::DES,
            EncrId::TRIPLE_DES,
            EncrId::NULL,
            EncrId::AES_CTR,
            EncrId::AES_GCM_8,
            EncrId::AES_GCM_12,
            EncrId::CHACHA20_POLY1305,
            EncrId(0),
            EncrId(1000),
        ] {
            assert_eq!(
                Encryption::new(id, Some(128)),
                Err(CryptoError::Unsupported {
                    what: "encryption",
                    id: id.0
                })
            );
        }
    }

    fn cbc_round_trip(key: &str, iv: &str, plain: &str, cipher: &str) {
        let aes = AesCbc::new(&h(key)).unwrap();
        let iv: [u8; 16] = h(iv).try_into().unwrap();
        let mut buf = h(plain);
        aes.encrypt(&iv, &mut buf);
        assert_eq!(buf, h(cipher));
        aes.decrypt(&iv, &mut buf).unwrap();
        assert_eq!(buf, h(plain));
    }

    /// RFC 3602 §4, cases 1–4 (AES-128).
    #[test]
    fn aes128_cbc_rfc3602() {
        cbc_round_trip(
            "06a9214036b8a15b512e03d534120006",
            "3dafba429d9eb430b422da802c9fac41",
            &hex::encode(b"Single block msg"),
            "e353779c1079aeb82708942dbe77181a",
        );
        cbc_round_trip(
            "c286696d887c9aa0611bbb3e2025a45a",
            "562e17996d093d28ddb3ba695a2e6f58",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1",
        );
        cbc_round_trip(
            "6c3ea0477630ce21a2ce334aa746c2cd",
            "c782dc4c098c66cbd9cd27d825682c81",
            &hex::encode(b"This is a 48-byte message (exactly 3 AES blocks)"),
            "d0a02b3836451753d493665d33f0e886\
             2dea54cdb293abc7506939276772f8d5\
             021c19216bad525c8579695d83ba2684",
        );
        cbc_round_trip(
            "56e47a38c5598974bc46903dba290349",
            "8ce82eefbea0da3c44699ed7db51b7d9",
            "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
             c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
            "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e\
             35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55",
        );
    }

    /// NIST SP 800-38A F.2.3 and F.2.5 (first two blocks): AES-192 and AES-256 CBC.
    #[test]
    fn aes192_and_aes256_cbc_sp800_38a() {
        let iv = "000102030405060708090a0b0c0d0e0f";
        let plain = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51";
        cbc_round_trip(
            "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
            iv,
            plain,
            "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a",
        );
        cbc_round_trip(
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            iv,
            plain,
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d",
        );
    }

    #[test]
    fn cbc_rejects_partial_blocks_and_bad_keys() {
        let aes = AesCbc::new(&[0u8; 16]).unwrap();
        assert!(aes.decrypt(&[0; 16], &mut [0u8; 15]).is_none());
        assert!(AesCbc::new(&[0u8; 20]).is_none());
        assert_eq!(
            format!("{:?}", AesCbc::new(&[0u8; 32]).unwrap()),
            "AesCbc(256)"
        );
    }
}
