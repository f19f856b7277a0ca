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
    DES_IV64 = 1,
    DES = 2,
    TRIPLE_DES = 3 => "ENCR_3DES",
    RC5 = 4,
    IDEA = 5,
    CAST = 6,
    BLOWFISH = 7,
    TRIPLE_IDEA = 8 => "ENCR_3IDEA",
    DES_IV32 = 9,
    NULL = 11,
    AES_CBC = 12,
    AES_CTR = 13,
    AES_CCM_8 = 14,
    AES_CCM_12 = 15,
    AES_CCM_16 = 16,
    AES_GCM_8 = 18,
    AES_GCM_12 = 19,
    AES_GCM_16 = 20,
    NULL_AUTH_AES_GMAC = 21,
    CAMELLIA_CBC = 23,
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
    HMAC_MD5 = 1,
    HMAC_SHA1 = 2,
    HMAC_TIGER = 3,
    AES128_XCBC = 4,
    HMAC_SHA2_256 = 5,
    HMAC_SHA2_384 = 6,
    HMAC_SHA2_512 = 7,
    AES128_CMAC = 8,
}

registry! {
    /// Transform type 3 IDs: integrity algorithms (RFC 7296 §3.3.2, RFC 4868).
    pub struct IntegId(u16);
    prefix = "AUTH_";
    NONE = 0 => "NONE",
    HMAC_MD5_96 = 1,
    HMAC_SHA1_96 = 2,
    DES_MAC = 3,
    KPDK_MD5 = 4,
    AES_XCBC_96 = 5,
    HMAC_MD5_128 = 6,
    HMAC_SHA1_160 = 7,
    AES_CMAC_96 = 8,
    AES_128_GMAC = 9,
    AES_192_GMAC = 10,
    AES_256_GMAC = 11,
    HMAC_SHA2_256_128 = 12,
    HMAC_SHA2_384_192 = 13,
    HMAC_SHA2_512_256 = 14,
}

registry! {
    /// Transform type 4 IDs: Diffie-Hellman groups (RFC 7296 §3.3.2, RFC 3526, RFC 5903,
    /// RFC 5114, RFC 8031). The same numbers name the groups in IKEv1 (RFC 2409 and
    /// successors), hence the neutral name.
    pub struct DhGroup(u16);
    prefix = "";
    NONE = 0,
    MODP_768 = 1,
    MODP_1024 = 2,
    MODP_1536 = 5,
    MODP_2048 = 14,
    MODP_3072 = 15,
    MODP_4096 = 16,
    MODP_6144 = 17,
    MODP_8192 = 18,
    ECP_256 = 19,
    ECP_384 = 20,
    ECP_521 = 21,
    MODP_1024_160 = 22,
    MODP_2048_224 = 23,
    MODP_2048_256 = 24,
    ECP_192 = 25,
    ECP_224 = 26,
    CURVE25519 = 31,
    CURVE448 = 32,
}

registry! {
    /// Transform type 5 IDs: extended sequence numbers (RFC 7296 §3.3.2).
    pub struct EsnId(u16);
    prefix = "";
    NO = 0 => "NO_ESN",
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
