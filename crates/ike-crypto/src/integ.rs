//! Integrity algorithms (RFC 7296 §3.3.2 transform type 3): truncated HMACs.

use ike_wire::IntegId;

use crate::hash::{constant_time_eq, hmac_parts, HashAlg};
use crate::CryptoError;

/// A negotiated integrity algorithm: HMAC keyed with SK_a, truncated to the ICV length.
///
/// HMAC-SHA1-96 (RFC 2404) and the HMAC-SHA2 truncations of RFC 4868 §2.1:
/// SHA-256 to 128 bits, SHA-384 to 192, SHA-512 to 256; the key is as long as the digest.
/// HMAC-MD5-96 and AES-XCBC-96 are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Integrity {
    id: IntegId,
    hash: HashAlg,
    icv_len: usize,
}

impl Integrity {
    /// Looks the algorithm up by its transform id. `IntegId::NONE` is not an algorithm:
    /// AEAD suites use no `Integrity` at all.
    pub fn new(id: IntegId) -> Result<Integrity, CryptoError> {
        let (hash, icv_len) = match id {
            IntegId::HMAC_SHA1_96 => (HashAlg::Sha1, 12),
            IntegId::HMAC_SHA2_256_128 => (HashAlg::Sha256, 16),
            IntegId::HMAC_SHA2_384_192 => (HashAlg::Sha384, 24),
            IntegId::HMAC_SHA2_512_256 => (HashAlg::Sha512, 32),
            _ => {
                return Err(CryptoError::Unsupported {
                    what: "integrity",
                    id: id.0,
                })
            }
        };
        Ok(Integrity { id, hash, icv_len })
    }

    /// The transform id.
    pub fn id(&self) -> IntegId {
        self.id
    }

    /// Length of SK_ai / SK_ar (and of a CHILD SA's integrity keys).
    pub fn key_len(&self) -> usize {
        self.hash.output_len()
    }

    /// Length of the Integrity Checksum Data.
    pub fn icv_len(&self) -> usize {
        self.icv_len
    }

    /// The truncated ICV of `data`.
    pub fn sign(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        self.sign_parts(key, &[data])
    }

    /// Checks a received ICV in constant time. A wrong-length ICV never verifies.
    pub fn verify(&self, key: &[u8], data: &[u8], icv: &[u8]) -> bool {
        self.verify_parts(key, &[data], icv)
    }

    /// The truncated ICV over the concatenation of `parts`.
    pub fn sign_parts(&self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let tag = hmac_parts(&self.hash.key(key), parts);
        tag.as_ref()[..self.icv_len].to_vec()
    }

    /// [`verify`](Self::verify) over the concatenation of `parts`.
    pub fn verify_parts(&self, key: &[u8], parts: &[&[u8]], icv: &[u8]) -> bool {
        let expected = hmac_parts(&self.hash.key(key), parts);
        constant_time_eq(&expected.as_ref()[..self.icv_len], icv)
    }

    pub(crate) fn hash(&self) -> HashAlg {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    fn integ(id: IntegId) -> Integrity {
        Integrity::new(id).unwrap()
    }

    #[test]
    fn refuses_md5_xcbc_and_none() {
        for id in [
            IntegId::NONE,
            IntegId::HMAC_MD5_96,
            IntegId::AES_XCBC_96,
            IntegId(3),
            IntegId(999),
        ] {
            assert_eq!(
                Integrity::new(id),
                Err(CryptoError::Unsupported {
                    what: "integrity",
                    id: id.0
                })
            );
        }
    }

    /// RFC 4868 §2.1: key and ICV lengths.
    #[test]
    fn key_and_icv_lengths() {
        let lens = |id| {
            let i = integ(id);
            (i.key_len(), i.icv_len())
        };
        assert_eq!(lens(IntegId::HMAC_SHA1_96), (20, 12));
        assert_eq!(lens(IntegId::HMAC_SHA2_256_128), (32, 16));
        assert_eq!(lens(IntegId::HMAC_SHA2_384_192), (48, 24));
        assert_eq!(lens(IntegId::HMAC_SHA2_512_256), (64, 32));
    }

    /// RFC 4231 test case 2 truncated as RFC 4868 prescribes, and RFC 2202 test case 2
    /// truncated to 96 bits (RFC 2404).
    #[test]
    fn truncated_known_answers() {
        let (key, data) = (
            b"Jefe".as_slice(),
            b"what do ya want for nothing?".as_slice(),
        );
        let cases = [
            (IntegId::HMAC_SHA1_96, "effcdf6ae5eb2fa2d27416d5"),
            (
                IntegId::HMAC_SHA2_256_128,
                "5bdcc146bf60754e6a042426089575c7",
            ),
            (
                IntegId::HMAC_SHA2_384_192,
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47",
            ),
            (
                IntegId::HMAC_SHA2_512_256,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554",
            ),
        ];
        for (id, want) in cases {
            let i = integ(id);
            assert_eq!(i.sign(key, data), h(want), "{id:?}");
            assert!(i.verify(key, data, &h(want)));
        }
    }

    /// RFC 4231 test case 5 is itself a truncation test (128 bits).
    #[test]
    fn rfc4231_truncation_case() {
        let i = integ(IntegId::HMAC_SHA2_256_128);
        assert_eq!(
            i.sign(&[0x0c; 20], b"Test With Truncation"),
            h("a3b6167473100ee06e0c796c2955552b")
        );
    }

    #[test]
    fn verify_rejects_wrong_icvs() {
        let i = integ(IntegId::HMAC_SHA2_256_128);
        let key = [7u8; 32];
        let icv = i.sign(&key, b"message");
        assert!(i.verify(&key, b"message", &icv));
        assert!(!i.verify(&key, b"messagf", &icv));
        assert!(!i.verify(&[8u8; 32], b"message", &icv));
        assert!(!i.verify(&key, b"message", &icv[..15]));
        assert!(!i.verify(&key, b"message", &[icv.as_slice(), &[0]].concat()));
        for bit in 0..icv.len() * 8 {
            let mut bad = icv.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(!i.verify(&key, b"message", &bad));
        }
    }

    #[test]
    fn parts_equal_concatenation() {
        let i = integ(IntegId::HMAC_SHA1_96);
        let icv = i.sign_parts(b"k", &[b"ab", b"cd"]);
        assert_eq!(icv, i.sign(b"k", b"abcd"));
        assert!(i.verify_parts(b"k", &[b"a", b"bcd"], &icv));
    }
}
