//! Pseudorandom functions and prf+ (RFC 7296 §2.13, §3.3.2).

use ike_wire::PrfId;

use crate::hash::{hmac_parts, HashAlg};
use crate::CryptoError;

/// A negotiated IKEv2 PRF (transform type 2).
///
/// Only the HMAC PRFs are implemented (RFC 2104, RFC 4868 §2.1.2); HMAC-MD5 and
/// AES-XCBC/CMAC are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prf {
    id: PrfId,
    hash: HashAlg,
}

impl Prf {
    /// Looks the PRF up by its transform id.
    pub fn new(id: PrfId) -> Result<Prf, CryptoError> {
        let hash = match id {
            PrfId::HMAC_SHA1 => HashAlg::Sha1,
            PrfId::HMAC_SHA2_256 => HashAlg::Sha256,
            PrfId::HMAC_SHA2_384 => HashAlg::Sha384,
            PrfId::HMAC_SHA2_512 => HashAlg::Sha512,
            _ => {
                return Err(CryptoError::Unsupported {
                    what: "PRF",
                    id: id.0,
                })
            }
        };
        Ok(Prf { id, hash })
    }

    /// HMAC with `hash`: IKEv1's PRF when no PRF attribute is negotiated (RFC 2409 §4).
    pub(crate) fn hmac(hash: HashAlg) -> Prf {
        let id = match hash {
            HashAlg::Sha1 => PrfId::HMAC_SHA1,
            HashAlg::Sha256 => PrfId::HMAC_SHA2_256,
            HashAlg::Sha384 => PrfId::HMAC_SHA2_384,
            HashAlg::Sha512 => PrfId::HMAC_SHA2_512,
        };
        Prf { id, hash }
    }

    /// The transform id.
    pub fn id(&self) -> PrfId {
        self.id
    }

    /// Output length in bytes; also the length of SK_d, SK_pi and SK_pr (RFC 7296 §2.14).
    pub fn output_len(&self) -> usize {
        self.hash.output_len()
    }

    /// `prf(key, data)`. HMAC takes keys of any length.
    pub fn compute(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        self.compute_parts(key, &[data])
    }

    /// `prf(key, parts[0] | parts[1] | …)`, without building the concatenation.
    pub fn compute_parts(&self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        hmac_parts(&self.hash.key(key), parts).as_ref().to_vec()
    }

    /// `prf+(key, seed)` truncated to `len` bytes (RFC 7296 §2.13):
    /// `T1 = prf(K, S | 0x01)`, `Tn = prf(K, Tn-1 | S | n)`.
    ///
    /// # Panics
    /// If `len` needs more than 255 iterations (the counter is one octet); key schedules
    /// never ask for that much.
    pub fn plus(&self, key: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
        let out_len = self.output_len();
        assert!(
            len <= 255 * out_len,
            "prf+ can produce at most 255 blocks ({} bytes), {len} requested",
            255 * out_len
        );
        let key = self.hash.key(key);
        let mut out = Vec::with_capacity(len + out_len);
        let mut previous: Option<ring::hmac::Tag> = None;
        let mut counter: u8 = 1;
        while out.len() < len {
            let t_prev: &[u8] = previous.as_ref().map_or(&[], |t| t.as_ref());
            let t = hmac_parts(&key, &[t_prev, seed, &[counter]]);
            out.extend_from_slice(t.as_ref());
            previous = Some(t);
            counter = counter.wrapping_add(1);
        }
        out.truncate(len);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    fn prf(id: PrfId) -> Prf {
        Prf::new(id).unwrap()
    }

    #[test]
    fn refuses_md5_and_xcbc() {
        for id in [
            PrfId::HMAC_MD5,
            PrfId::AES128_XCBC,
            PrfId(3),
            PrfId(8),
            PrfId(999),
        ] {
            assert_eq!(
                Prf::new(id),
                Err(CryptoError::Unsupported {
                    what: "PRF",
                    id: id.0
                })
            );
        }
    }

    #[test]
    fn output_lengths() {
        assert_eq!(prf(PrfId::HMAC_SHA1).output_len(), 20);
        assert_eq!(prf(PrfId::HMAC_SHA2_256).output_len(), 32);
        assert_eq!(prf(PrfId::HMAC_SHA2_384).output_len(), 48);
        assert_eq!(prf(PrfId::HMAC_SHA2_512).output_len(), 64);
        assert_eq!(prf(PrfId::HMAC_SHA2_384).id(), PrfId::HMAC_SHA2_384);
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block size).
    #[test]
    fn hmac_sha2_rfc4231() {
        let cases: [(Vec<u8>, &[u8], [&str; 3]); 3] = [
            (
                vec![0x0b; 20],
                b"Hi There",
                [
                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                     faea9ea9076ede7f4af152e8b2fa9cb6",
                    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                     daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                ],
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?",
                [
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                     8e2240ca5e69e2c78b3239ecfab21649",
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                     9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                ],
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                [
                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                     0c2ef6ab4030fe8296248df163f44952",
                    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                     6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                ],
            ),
        ];
        for (key, data, expected) in &cases {
            for (id, want) in [
                PrfId::HMAC_SHA2_256,
                PrfId::HMAC_SHA2_384,
                PrfId::HMAC_SHA2_512,
            ]
            .into_iter()
            .zip(expected)
            {
                assert_eq!(prf(id).compute(key, data), h(want), "{id:?}");
            }
        }
    }

    /// RFC 2202 test cases 1, 2 and 6.
    #[test]
    fn hmac_sha1_rfc2202() {
        let p = prf(PrfId::HMAC_SHA1);
        assert_eq!(
            p.compute(&[0x0b; 20], b"Hi There"),
            h("b617318655057264e28bc0b6fb378c8ef146be00")
        );
        assert_eq!(
            p.compute(b"Jefe", b"what do ya want for nothing?"),
            h("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        );
        assert_eq!(
            p.compute(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            h("aa4ae5e15272d00e95705637ce8a3b55ed402112")
        );
    }

    #[test]
    fn compute_parts_equals_compute_of_concatenation() {
        let p = prf(PrfId::HMAC_SHA2_256);
        assert_eq!(
            p.compute_parts(b"Jefe", &[b"what do ya ", b"", b"want for nothing?"]),
            p.compute(b"Jefe", b"what do ya want for nothing?")
        );
    }

    /// prf+ rebuilt block by block from its definition in RFC 7296 §2.13.
    #[test]
    fn prf_plus_matches_its_definition() {
        let p = prf(PrfId::HMAC_SHA2_256);
        let (k, s) = (b"key".as_slice(), b"seed".as_slice());
        let t1 = p.compute(k, &[s, &[1]].concat());
        let t2 = p.compute(k, &[&t1[..], s, &[2]].concat());
        let t3 = p.compute(k, &[&t2[..], s, &[3]].concat());
        let expected = [t1, t2, t3].concat();
        assert_eq!(p.plus(k, s, 96), expected);
        assert_eq!(p.plus(k, s, 70), expected[..70]);
        assert_eq!(p.plus(k, s, 32), expected[..32]);
        assert_eq!(p.plus(k, s, 1), expected[..1]);
        assert!(p.plus(k, s, 0).is_empty());
    }

    /// prf+ with HMAC-SHA1, value computed independently (Python hmac module).
    #[test]
    fn prf_plus_known_answer() {
        let p = prf(PrfId::HMAC_SHA1);
        let out = p.plus(b"key", b"seed", 50);
        assert_eq!(
            out,
            h("0a4dd4d286ae93c5e1d24f24f3756216b533dd67\
               ad15d19cef25f483bcc5300fd5487404a2c50006\
               64d807a67dba048c69ac")
        );
    }

    #[test]
    fn prf_plus_reaches_255_blocks() {
        let p = prf(PrfId::HMAC_SHA1);
        assert_eq!(p.plus(b"k", b"s", 255 * 20).len(), 255 * 20);
    }

    #[test]
    #[should_panic(expected = "at most 255 blocks")]
    fn prf_plus_refuses_a_256th_block() {
        prf(PrfId::HMAC_SHA1).plus(b"k", b"s", 255 * 20 + 1);
    }
}
