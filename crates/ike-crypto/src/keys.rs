//! IKE SA and CHILD SA key derivation (RFC 7296 §2.14, §2.17, §2.18).

use crate::{Encryption, Integrity, Prf};

/// The transforms of an IKE SA that the key schedule depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeSuite {
    /// The cipher protecting SK payloads.
    pub encryption: Encryption,
    /// The integrity algorithm; `None` with an AEAD cipher.
    pub integrity: Option<Integrity>,
    /// The PRF of prf+ and AUTH.
    pub prf: Prf,
}

/// The seven secrets of an IKE SA (RFC 7296 §2.14). `Debug` shows only their lengths.
#[derive(Clone, PartialEq, Eq)]
pub struct IkeSaKeys {
    /// Derives CHILD SA keys and the next SKEYSEED on rekey.
    pub sk_d: Vec<u8>,
    /// Integrity key, initiator to responder (empty with AEAD).
    pub sk_ai: Vec<u8>,
    /// Integrity key, responder to initiator (empty with AEAD).
    pub sk_ar: Vec<u8>,
    /// Encryption key material, initiator to responder (GCM: key then salt).
    pub sk_ei: Vec<u8>,
    /// Encryption key material, responder to initiator.
    pub sk_er: Vec<u8>,
    /// Keys the initiator's MACedIDForI in AUTH.
    pub sk_pi: Vec<u8>,
    /// Keys the responder's MACedIDForR in AUTH.
    pub sk_pr: Vec<u8>,
}

impl std::fmt::Debug for IkeSaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = |k: &Vec<u8>| format!("<{} bytes>", k.len());
        f.debug_struct("IkeSaKeys")
            .field("sk_d", &format_args!("{}", len(&self.sk_d)))
            .field("sk_ai", &format_args!("{}", len(&self.sk_ai)))
            .field("sk_ar", &format_args!("{}", len(&self.sk_ar)))
            .field("sk_ei", &format_args!("{}", len(&self.sk_ei)))
            .field("sk_er", &format_args!("{}", len(&self.sk_er)))
            .field("sk_pi", &format_args!("{}", len(&self.sk_pi)))
            .field("sk_pr", &format_args!("{}", len(&self.sk_pr)))
            .finish()
    }
}

impl IkeSuite {
    /// `{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr |
    /// SPIi | SPIr)` (RFC 7296 §2.14). SK_d and SK_p are as long as the PRF output, SK_a
    /// is the integrity key length, SK_e the encryption key material length.
    pub fn derive(
        &self,
        skeyseed: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: u64,
        spi_r: u64,
    ) -> IkeSaKeys {
        let prf_len = self.prf.output_len();
        let integ_len = self.integrity.map_or(0, |i| i.key_len());
        let encr_len = self.encryption.key_material_len();
        let total = 3 * prf_len + 2 * integ_len + 2 * encr_len;
        let seed = [ni, nr, &spi_i.to_be_bytes(), &spi_r.to_be_bytes()].concat();
        let keymat = self.prf.plus(skeyseed, &seed, total);
        let mut rest = keymat.as_slice();
        let mut take = |n: usize| {
            let (key, tail) = rest.split_at(n);
            rest = tail;
            key.to_vec()
        };
        IkeSaKeys {
            sk_d: take(prf_len),
            sk_ai: take(integ_len),
            sk_ar: take(integ_len),
            sk_ei: take(encr_len),
            sk_er: take(encr_len),
            sk_pi: take(prf_len),
            sk_pr: take(prf_len),
        }
    }
}

/// `SKEYSEED = prf(Ni | Nr, g^ir)` for a new IKE SA (RFC 7296 §2.14). The nonces are the
/// Nonce payload bodies; `g_ir` is
/// [`KeyExchange::shared_secret`](crate::KeyExchange::shared_secret).
pub fn skeyseed(prf: &Prf, ni: &[u8], nr: &[u8], g_ir: &[u8]) -> Vec<u8> {
    let key = [ni, nr].concat();
    prf.compute(&key, g_ir)
}

/// `SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)` for an IKE SA rekeyed with
/// CREATE_CHILD_SA (RFC 7296 §2.18). The nonces are those of the rekey exchange.
pub fn rekey_skeyseed(prf: &Prf, sk_d_old: &[u8], g_ir: &[u8], ni: &[u8], nr: &[u8]) -> Vec<u8> {
    prf.compute_parts(sk_d_old, &[g_ir, ni, nr])
}

/// `KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr)` for a CHILD SA (RFC 7296 §2.17); `g_ir`
/// only when the CREATE_CHILD_SA exchange carried KE payloads (PFS). Split it with
/// [`ChildSaKeys::split`].
pub fn child_keymat(
    prf: &Prf,
    sk_d: &[u8],
    g_ir: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    len: usize,
) -> Vec<u8> {
    let seed = [g_ir.unwrap_or_default(), ni, nr].concat();
    prf.plus(sk_d, &seed, len)
}

/// Key material for one direction of a CHILD SA: the encryption key (with the GCM salt)
/// and then the integrity key (RFC 7296 §2.17). Twice this is the KEYMAT length.
pub fn child_sa_key_len(encryption: &Encryption, integrity: Option<&Integrity>) -> usize {
    encryption.key_material_len() + integrity.map_or(0, |i| i.key_len())
}

/// The four keys of a CHILD SA (an ESP SA pair). `Debug` shows only their lengths.
#[derive(Clone, PartialEq, Eq)]
pub struct ChildSaKeys {
    /// Encryption key material of the initiator-to-responder SA (GCM: key then salt).
    pub encr_i: Vec<u8>,
    /// Integrity key of the initiator-to-responder SA (empty with AEAD).
    pub integ_i: Vec<u8>,
    /// Encryption key material of the responder-to-initiator SA.
    pub encr_r: Vec<u8>,
    /// Integrity key of the responder-to-initiator SA.
    pub integ_r: Vec<u8>,
}

impl ChildSaKeys {
    /// Splits KEYMAT: initiator-to-responder keys first, each direction encryption key
    /// then integrity key (RFC 7296 §2.17). `None` if `keymat` is shorter than
    /// 2 × [`child_sa_key_len`].
    pub fn split(
        keymat: &[u8],
        encryption: &Encryption,
        integrity: Option<&Integrity>,
    ) -> Option<ChildSaKeys> {
        let encr_len = encryption.key_material_len();
        let integ_len = integrity.map_or(0, |i| i.key_len());
        let mut rest = keymat;
        let mut take = |n: usize| {
            let key = rest.get(..n)?;
            rest = &rest[n..];
            Some(key.to_vec())
        };
        Some(ChildSaKeys {
            encr_i: take(encr_len)?,
            integ_i: take(integ_len)?,
            encr_r: take(encr_len)?,
            integ_r: take(integ_len)?,
        })
    }
}

impl std::fmt::Debug for ChildSaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSaKeys")
            .field("encr_i", &format_args!("<{} bytes>", self.encr_i.len()))
            .field("integ_i", &format_args!("<{} bytes>", self.integ_i.len()))
            .field("encr_r", &format_args!("<{} bytes>", self.encr_r.len()))
            .field("integ_r", &format_args!("<{} bytes>", self.integ_r.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike_wire::{EncrId, IntegId, PrfId};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    // Fixed inputs; the expected values were computed independently with Python's
    // hmac/hashlib straight from RFC 7296 §2.13–2.18.
    fn ni() -> Vec<u8> {
        h(&"c0ffee00".repeat(8))
    }
    fn nr() -> Vec<u8> {
        h(&"0badcafe".repeat(6))
    }
    fn g_ir() -> Vec<u8> {
        (1..=64).collect()
    }
    const SPI_I: u64 = 0x0123_4567_89ab_cdef;
    const SPI_R: u64 = 0xfedc_ba98_7654_3210;

    fn prf(id: PrfId) -> Prf {
        Prf::new(id).unwrap()
    }

    #[test]
    fn ike_sa_keys_sha256_gcm256() {
        let suite = IkeSuite {
            encryption: Encryption::new(EncrId::AES_GCM_16, Some(256)).unwrap(),
            integrity: None,
            prf: prf(PrfId::HMAC_SHA2_256),
        };
        let seed = skeyseed(&suite.prf, &ni(), &nr(), &g_ir());
        assert_eq!(
            seed,
            h("c762da9e6dbefa99f3d5b0971a515da012f7059b09fbd654dccaea5d10a4e911")
        );
        let keys = suite.derive(&seed, &ni(), &nr(), SPI_I, SPI_R);
        assert_eq!(
            keys.sk_d,
            h("9908346c5a10a2561c449c48b7cc51fe75dfbd007b71e8bbc48ecd068dc1db36")
        );
        assert!(keys.sk_ai.is_empty() && keys.sk_ar.is_empty());
        assert_eq!(
            keys.sk_ei,
            h("4a664c45783e676244360f66227ee13b2803a600090900ba3afcf6c111f2facfd078ced5")
        );
        assert_eq!(
            keys.sk_er,
            h("7c9918e7752ffa58feb58d60bb48656a98d4edce7c5f7ffdfb4508930bf6e45117870187")
        );
        assert_eq!(
            keys.sk_pi,
            h("e9ac7fdbc93f90c312d51ab77e79316f40eaa66e429426ac6c96fd5ac67f69e2")
        );
        assert_eq!(
            keys.sk_pr,
            h("3669a131142c079b93122b6989cee742d5a9751520ff4320097aae8051cc1bce")
        );
    }

    #[test]
    fn ike_sa_keys_sha1_cbc128() {
        let suite = IkeSuite {
            encryption: Encryption::new(EncrId::AES_CBC, Some(128)).unwrap(),
            integrity: Some(Integrity::new(IntegId::HMAC_SHA1_96).unwrap()),
            prf: prf(PrfId::HMAC_SHA1),
        };
        let seed = skeyseed(&suite.prf, &ni(), &nr(), &g_ir());
        assert_eq!(seed, h("94747a280322f071577b82381a8a2ccc8904ac36"));
        let keys = suite.derive(&seed, &ni(), &nr(), SPI_I, SPI_R);
        let expected = [
            (&keys.sk_d, "e697b50f10a5a52dfd20105977dfc7109cb90007"),
            (&keys.sk_ai, "604f0c555c0a8bd89b58b4c59caf969f740bdf1f"),
            (&keys.sk_ar, "b1d9645873d69e4bcdfc0db511cc0be4fa0c9919"),
            (&keys.sk_ei, "8a2a9b0d4a3f067ed099486e0244adf0"),
            (&keys.sk_er, "c5d2a239657d11139343608ae45b315c"),
            (&keys.sk_pi, "d34b2ca32d80a3c18e5251b68eb6ddf48798cdf7"),
            (&keys.sk_pr, "8afc6ea69897b4e03185c28c61d42c076359c12b"),
        ];
        for (got, want) in expected {
            assert_eq!(*got, h(want));
        }
    }

    /// The derived keys are exactly what SkCipher::new needs, for every suite shape.
    #[test]
    fn derived_keys_key_sk_ciphers() {
        let suites = [
            (EncrId::AES_GCM_16, 128, None),
            (EncrId::AES_CBC, 256, Some(IntegId::HMAC_SHA2_512_256)),
        ];
        for (encr, bits, integ) in suites {
            let suite = IkeSuite {
                encryption: Encryption::new(encr, Some(bits)).unwrap(),
                integrity: integ.map(|i| Integrity::new(i).unwrap()),
                prf: prf(PrfId::HMAC_SHA2_384),
            };
            let keys = suite.derive(b"seed", &ni(), &nr(), SPI_I, SPI_R);
            assert_eq!(keys.sk_d.len(), 48);
            assert_eq!(keys.sk_pr.len(), 48);
            let i =
                crate::SkCipher::new(suite.encryption, suite.integrity, &keys.sk_ei, &keys.sk_ai);
            let r =
                crate::SkCipher::new(suite.encryption, suite.integrity, &keys.sk_er, &keys.sk_ar);
            assert!(i.is_ok() && r.is_ok());
        }
    }

    #[test]
    fn rekey_skeyseed_known_answer() {
        let p = prf(PrfId::HMAC_SHA2_256);
        assert_eq!(
            rekey_skeyseed(&p, &[0x5d; 32], &g_ir(), &ni(), &nr()),
            h("7945b903239a1e04b9c627171705f5b5442bb6bdba7756488f2d5fdfb244d3a3")
        );
    }

    #[test]
    fn child_keymat_without_and_with_pfs() {
        let p = prf(PrfId::HMAC_SHA2_256);
        let sk_d = [0x5d; 32];
        let cbc = Encryption::new(EncrId::AES_CBC, Some(256)).unwrap();
        let sha = Integrity::new(IntegId::HMAC_SHA2_256_128).unwrap();
        let len = 2 * child_sa_key_len(&cbc, Some(&sha));
        assert_eq!(len, 128);
        let keymat = child_keymat(&p, &sk_d, None, &ni(), &nr(), len);
        let expected = h(
            "4bed13477a8b8a7aaf766941141394f0469f9a59d930c7cf875aa43bfa527b40\
             5a59e6d24f79e9365662be2990d58963bed1af37d16482c2b08c7562e959dbda\
             69b848db7987024e89e022931fa99a8f19434778c832c479dd2f0938a677d3ce\
             cb5df0eb5484ca65c1a87a95d41e6b42c033dccd015a4de95a7b0a2584429522",
        );
        assert_eq!(keymat, expected);
        let keys = ChildSaKeys::split(&keymat, &cbc, Some(&sha)).unwrap();
        assert_eq!(keys.encr_i, expected[..32]);
        assert_eq!(keys.integ_i, expected[32..64]);
        assert_eq!(keys.encr_r, expected[64..96]);
        assert_eq!(keys.integ_r, expected[96..]);

        let gcm = Encryption::new(EncrId::AES_GCM_16, Some(128)).unwrap();
        let len = 2 * child_sa_key_len(&gcm, None);
        assert_eq!(len, 40);
        let keymat = child_keymat(&p, &sk_d, Some(&g_ir()), &ni(), &nr(), len);
        assert_eq!(
            keymat,
            h(
                "d16f90a93316ca1ecfd72fb92b26be28bc1023cfc41631c45393db3ac1a497a1\
               15a339c4fccad150"
            )
        );
        let keys = ChildSaKeys::split(&keymat, &gcm, None).unwrap();
        assert_eq!((keys.encr_i.len(), keys.integ_i.len()), (20, 0));
        assert_eq!(keys.encr_r, keymat[20..]);
        assert!(ChildSaKeys::split(&keymat[..39], &gcm, None).is_none());
    }

    #[test]
    fn debug_shows_lengths_not_keys() {
        let keys = IkeSaKeys {
            sk_d: vec![0xab; 32],
            sk_ai: vec![],
            sk_ar: vec![],
            sk_ei: vec![0xab; 20],
            sk_er: vec![0xab; 20],
            sk_pi: vec![0xab; 32],
            sk_pr: vec![0xab; 32],
        };
        let s = format!("{keys:?}");
        assert!(s.contains("sk_d: <32 bytes>"), "{s}");
        assert!(s.contains("sk_ai: <0 bytes>"), "{s}");
        assert!(
            !s.contains("171") && !s.to_lowercase().contains("ab,"),
            "{s}"
        );
        let child = ChildSaKeys {
            encr_i: vec![0xab; 20],
            integ_i: vec![],
            encr_r: vec![0xab; 20],
            integ_r: vec![],
        };
        let s = format!("{child:?}");
        assert!(
            s.contains("encr_r: <20 bytes>") && !s.contains("171"),
            "{s}"
        );
    }
}
