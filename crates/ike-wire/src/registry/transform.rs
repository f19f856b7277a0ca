//! Transform types and transform IDs (RFC 7296 §3.3.2, IANA IKEv2 Transform registries).

use super::registry;

registry! {
    /// Transform type: what a transform negotiates (RFC 7296 §3.3.2).
    pub struct TransformType(u8);
    prefix = "";
    /// Encryption algorithm.
    ENCR = 1,
    /// Pseudorandom function.
    PRF = 2,
    /// Integrity algorithm.
    INTEG = 3,
    /// Diffie-Hellman group (renamed "Key Exchange Method" by RFC 9370).
    DH = 4,
    /// Extended sequence numbers.
    ESN = 5,
}

registry! {
    /// Transform type 1 IDs: encryption algorithms (RFC 7296 §3.3.2, RFC 5282, RFC 7634).
    pub struct EncrId(u16);
    prefix = "ENCR_";
    /// ENCR_DES_IV64 (RFC 1827); obsolete.
    DES_IV64 = 1,
    /// ENCR_DES (RFC 2405); obsolete.
    DES = 2,
    /// ENCR_3DES (RFC 2451).
    TRIPLE_DES = 3 => "ENCR_3DES",
    /// ENCR_RC5 (RFC 2451).
    RC5 = 4,
    /// ENCR_IDEA (RFC 2451).
    IDEA = 5,
    /// ENCR_CAST (RFC 2451).
    CAST = 6,
    /// ENCR_BLOWFISH (RFC 2451).
    BLOWFISH = 7,
    /// ENCR_3IDEA (RFC 7296 §3.3.2).
    TRIPLE_IDEA = 8 => "ENCR_3IDEA",
    /// ENCR_DES_IV32 (RFC 7296 §3.3.2).
    DES_IV32 = 9,
    /// ENCR_NULL: no confidentiality, ESP only (RFC 2410).
    NULL = 11,
    /// ENCR_AES_CBC, with a Key Length attribute (RFC 3602).
    AES_CBC = 12,
    /// ENCR_AES_CTR (RFC 3686).
    AES_CTR = 13,
    /// ENCR_AES_CCM_8: AES-CCM with an 8-octet ICV (RFC 4309, RFC 5282).
    AES_CCM_8 = 14,
    /// ENCR_AES_CCM_12: AES-CCM with a 12-octet ICV (RFC 4309, RFC 5282).
    AES_CCM_12 = 15,
    /// ENCR_AES_CCM_16: AES-CCM with a 16-octet ICV (RFC 4309, RFC 5282).
    AES_CCM_16 = 16,
    /// ENCR_AES_GCM_8: AES-GCM with an 8-octet ICV (RFC 4106, RFC 5282).
    AES_GCM_8 = 18,
    /// ENCR_AES_GCM_12: AES-GCM with a 12-octet ICV (RFC 4106, RFC 5282).
    AES_GCM_12 = 19,
    /// ENCR_AES_GCM_16: AES-GCM with a 16-octet ICV, AWS's AES128-GCM-16/AES256-GCM-16 (RFC 4106,
    /// RFC 5282).
    AES_GCM_16 = 20,
    /// ENCR_NULL_AUTH_AES_GMAC: integrity only, ESP only (RFC 4543).
    NULL_AUTH_AES_GMAC = 21,
    /// ENCR_CAMELLIA_CBC (RFC 5529).
    CAMELLIA_CBC = 23,
    /// ENCR_CHACHA20_POLY1305 (RFC 7634).
    CHACHA20_POLY1305 = 28,
}

impl EncrId {
    /// Whether this is a combined-mode (AEAD) cipher, which takes no separate integrity
    /// transform in an IKE SA proposal (RFC 5282 §8, RFC 7296 §3.3.3).
    pub const fn is_aead(self) -> bool {
        matches!(self.0, 14..=16 | 18..=21 | 28)
    }
}

registry! {
    /// Transform type 2 IDs: pseudorandom functions (RFC 7296 §3.3.2, RFC 4868, RFC 4615).
    pub struct PrfId(u16);
    prefix = "PRF_";
    /// PRF_HMAC_MD5 (RFC 2104).
    HMAC_MD5 = 1,
    /// PRF_HMAC_SHA1 (RFC 2104).
    HMAC_SHA1 = 2,
    /// PRF_HMAC_TIGER (RFC 7296 §3.3.2).
    HMAC_TIGER = 3,
    /// PRF_AES128_XCBC (RFC 4434).
    AES128_XCBC = 4,
    /// PRF_HMAC_SHA2_256 (RFC 4868).
    HMAC_SHA2_256 = 5,
    /// PRF_HMAC_SHA2_384 (RFC 4868).
    HMAC_SHA2_384 = 6,
    /// PRF_HMAC_SHA2_512 (RFC 4868).
    HMAC_SHA2_512 = 7,
    /// PRF_AES128_CMAC (RFC 4615).
    AES128_CMAC = 8,
}

registry! {
    /// Transform type 3 IDs: integrity algorithms (RFC 7296 §3.3.2, RFC 4868).
    pub struct IntegId(u16);
    prefix = "AUTH_";
    /// NONE: no separate integrity, as with an AEAD cipher (RFC 7296 §3.3.2, RFC 5282 §8).
    NONE = 0 => "NONE",
    /// AUTH_HMAC_MD5_96 (RFC 2403).
    HMAC_MD5_96 = 1,
    /// AUTH_HMAC_SHA1_96 (RFC 2404).
    HMAC_SHA1_96 = 2,
    /// AUTH_DES_MAC (RFC 7296 §3.3.2).
    DES_MAC = 3,
    /// AUTH_KPDK_MD5 (RFC 1826).
    KPDK_MD5 = 4,
    /// AUTH_AES_XCBC_96 (RFC 3566).
    AES_XCBC_96 = 5,
    /// AUTH_HMAC_MD5_128 (RFC 4595).
    HMAC_MD5_128 = 6,
    /// AUTH_HMAC_SHA1_160 (RFC 4595).
    HMAC_SHA1_160 = 7,
    /// AUTH_AES_CMAC_96 (RFC 4494).
    AES_CMAC_96 = 8,
    /// AUTH_AES_128_GMAC (RFC 4543).
    AES_128_GMAC = 9,
    /// AUTH_AES_192_GMAC (RFC 4543).
    AES_192_GMAC = 10,
    /// AUTH_AES_256_GMAC (RFC 4543).
    AES_256_GMAC = 11,
    /// AUTH_HMAC_SHA2_256_128: HMAC-SHA-256 truncated to 128 bits (RFC 4868).
    HMAC_SHA2_256_128 = 12,
    /// AUTH_HMAC_SHA2_384_192: HMAC-SHA-384 truncated to 192 bits (RFC 4868).
    HMAC_SHA2_384_192 = 13,
    /// AUTH_HMAC_SHA2_512_256: HMAC-SHA-512 truncated to 256 bits (RFC 4868).
    HMAC_SHA2_512_256 = 14,
}

registry! {
    /// Transform type 4 IDs: Diffie-Hellman groups (RFC 7296 §3.3.2, RFC 3526, RFC 5903,
    /// RFC 5114, RFC 8031). The same numbers name the groups in IKEv1 (RFC 2409 and
    /// successors), hence the neutral name.
    pub struct DhGroup(u16);
    prefix = "";
    /// NONE: no Diffie-Hellman, e.g. a CHILD SA without PFS (RFC 7296 §3.3.2).
    NONE = 0,
    /// 768-bit MODP group, the First Oakley Group (RFC 2409 §6.1).
    MODP_768 = 1,
    /// 1024-bit MODP group, the Second Oakley Group (RFC 2409 §6.2).
    MODP_1024 = 2,
    /// 1536-bit MODP group (RFC 3526 §2).
    MODP_1536 = 5,
    /// 2048-bit MODP group (RFC 3526 §3).
    MODP_2048 = 14,
    /// 3072-bit MODP group (RFC 3526 §4).
    MODP_3072 = 15,
    /// 4096-bit MODP group (RFC 3526 §5).
    MODP_4096 = 16,
    /// 6144-bit MODP group (RFC 3526 §6).
    MODP_6144 = 17,
    /// 8192-bit MODP group (RFC 3526 §7).
    MODP_8192 = 18,
    /// 256-bit random ECP group, NIST P-256 (RFC 5903).
    ECP_256 = 19,
    /// 384-bit random ECP group, NIST P-384 (RFC 5903).
    ECP_384 = 20,
    /// 521-bit random ECP group, NIST P-521 (RFC 5903).
    ECP_521 = 21,
    /// 1024-bit MODP group with a 160-bit prime order subgroup (RFC 5114 §2.1).
    MODP_1024_160 = 22,
    /// 2048-bit MODP group with a 224-bit prime order subgroup (RFC 5114 §2.2).
    MODP_2048_224 = 23,
    /// 2048-bit MODP group with a 256-bit prime order subgroup (RFC 5114 §2.3).
    MODP_2048_256 = 24,
    /// 192-bit random ECP group, NIST P-192 (RFC 5114).
    ECP_192 = 25,
    /// 224-bit random ECP group, NIST P-224 (RFC 5114).
    ECP_224 = 26,
    /// Curve25519 (RFC 8031).
    CURVE25519 = 31,
    /// Curve448 (RFC 8031).
    CURVE448 = 32,
}

registry! {
    /// Transform type 5 IDs: extended sequence numbers (RFC 7296 §3.3.2).
    pub struct EsnId(u16);
    prefix = "";
    /// No Extended Sequence Numbers: 32-bit ESP sequence numbers (RFC 7296 §3.3.2).
    NO = 0 => "NO_ESN",
    /// Extended Sequence Numbers: 64-bit ESP sequence numbers (RFC 7296 §3.3.2, RFC 4303 §2.2.1).
    YES = 1 => "ESN",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_iana_spelling() {
        assert_eq!(EncrId::AES_GCM_16.to_string(), "ENCR_AES_GCM_16");
        assert_eq!(EncrId::TRIPLE_DES.to_string(), "ENCR_3DES");
        assert_eq!(PrfId::HMAC_SHA2_256.to_string(), "PRF_HMAC_SHA2_256");
        assert_eq!(
            IntegId::HMAC_SHA2_256_128.to_string(),
            "AUTH_HMAC_SHA2_256_128"
        );
        assert_eq!(IntegId::NONE.to_string(), "NONE");
        assert_eq!(DhGroup::MODP_2048.to_string(), "MODP_2048");
        assert_eq!(DhGroup(14), DhGroup::MODP_2048);
        assert_eq!(EsnId::NO.to_string(), "NO_ESN");
        assert_eq!(TransformType::DH.to_string(), "DH");
        assert_eq!(EncrId(999).to_string(), "EncrId(999)");
    }

    #[test]
    fn aead_ciphers() {
        assert!(EncrId::AES_GCM_16.is_aead());
        assert!(EncrId::AES_CCM_8.is_aead());
        assert!(EncrId::CHACHA20_POLY1305.is_aead());
        assert!(!EncrId::AES_CBC.is_aead());
        assert!(!EncrId::AES_CTR.is_aead());
    }
}
