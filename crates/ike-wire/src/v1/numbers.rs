//! Code points that only ever appear as transform IDs or data attribute values. They are
//! plain constants rather than newtypes because `Transform::id` and attribute values are
//! raw integers whose registry depends on the protocol and attribute class around them.
//! Diffie-Hellman group numbers are the shared [`DhGroup`](crate::DhGroup) values.

/// Domain of Interpretation (RFC 2408 §3.4, RFC 2407 §4.2).
pub mod doi {
    /// The generic ISAKMP DOI (RFC 2408 §3.4).
    pub const ISAKMP: u32 = 0;
    /// The Internet IP Security DOI (RFC 2407 §4.2).
    pub const IPSEC: u32 = 1;
    /// Situation bit: the SA is identified by identities alone (RFC 2407 §4.2.1).
    pub const SIT_IDENTITY_ONLY: u32 = 1;
    /// Situation bit: labelled secrecy (RFC 2407 §4.2.2); not supported by this codec.
    pub const SIT_SECRECY: u32 = 2;
    /// Situation bit: labelled integrity (RFC 2407 §4.2.3); not supported by this codec.
    pub const SIT_INTEGRITY: u32 = 4;
}

/// Protocol IDs of the IPsec DOI (RFC 2407 §4.4.1).
pub mod protocol {
    pub const ISAKMP: u8 = 1;
    pub const IPSEC_AH: u8 = 2;
    pub const IPSEC_ESP: u8 = 3;
    pub const IPCOMP: u8 = 4;
}

/// The only ISAKMP (phase 1) transform ID: IKE itself (RFC 2407 §4.4.2).
pub const KEY_IKE: u8 = 1;

/// Phase 1 attribute classes (RFC 2409 Appendix A). Classes marked V in the RFC may use
/// the TV form when the value fits in 16 bits.
pub mod ike_attr {
    pub const ENCRYPTION_ALGORITHM: u16 = 1;
    pub const HASH_ALGORITHM: u16 = 2;
    pub const AUTHENTICATION_METHOD: u16 = 3;
    pub const GROUP_DESCRIPTION: u16 = 4;
    pub const GROUP_TYPE: u16 = 5;
    pub const GROUP_PRIME: u16 = 6;
    pub const GROUP_GENERATOR_ONE: u16 = 7;
    pub const GROUP_GENERATOR_TWO: u16 = 8;
    pub const GROUP_CURVE_A: u16 = 9;
    pub const GROUP_CURVE_B: u16 = 10;
    pub const LIFE_TYPE: u16 = 11;
    pub const LIFE_DURATION: u16 = 12;
    pub const PRF: u16 = 13;
    pub const KEY_LENGTH: u16 = 14;
    pub const FIELD_SIZE: u16 = 15;
    pub const GROUP_ORDER: u16 = 16;
}

/// Phase 1 encryption algorithms (RFC 2409 App. A; AES RFC 3602, Camellia RFC 4312).
pub mod ike_encr {
    pub const DES_CBC: u16 = 1;
    pub const IDEA: u16 = 2;
    pub const BLOWFISH: u16 = 3;
    pub const RC5: u16 = 4;
    pub const TRIPLE_DES_CBC: u16 = 5;
    pub const CAST: u16 = 6;
    pub const AES_CBC: u16 = 7;
    pub const CAMELLIA_CBC: u16 = 8;
}

/// Phase 1 hash algorithms (RFC 2409 App. A; SHA-2 RFC 4868 §4).
pub mod ike_hash {
    pub const MD5: u16 = 1;
    pub const SHA: u16 = 2;
    pub const TIGER: u16 = 3;
    pub const SHA2_256: u16 = 4;
    pub const SHA2_384: u16 = 5;
    pub const SHA2_512: u16 = 6;
}

/// Phase 1 authentication methods (RFC 2409 App. A; ECDSA RFC 4754; XAUTH from
/// draft-ietf-ipsec-isakmp-xauth).
pub mod ike_auth {
    pub const PRE_SHARED_KEY: u16 = 1;
    pub const DSS: u16 = 2;
    pub const RSA_SIG: u16 = 3;
    pub const RSA_ENCRYPTION: u16 = 4;
    pub const RSA_REVISED_ENCRYPTION: u16 = 5;
    pub const ECDSA_SHA256_P256: u16 = 9;
    pub const ECDSA_SHA384_P384: u16 = 10;
    pub const ECDSA_SHA512_P521: u16 = 11;
    pub const XAUTH_INIT_PSK: u16 = 65001;
    pub const XAUTH_RESP_PSK: u16 = 65002;
    pub const XAUTH_INIT_DSS: u16 = 65003;
    pub const XAUTH_RESP_DSS: u16 = 65004;
    pub const XAUTH_INIT_RSA: u16 = 65005;
    pub const XAUTH_RESP_RSA: u16 = 65006;
}

/// Phase 1 group types (RFC 2409 App. A).
pub mod group_type {
    pub const MODP: u16 = 1;
    pub const ECP: u16 = 2;
    pub const EC2N: u16 = 3;
}

/// Life types, the same values in phase 1 (RFC 2409 App. A) and phase 2 (RFC 2407 §4.5).
pub mod life_type {
    pub const SECONDS: u16 = 1;
    pub const KILOBYTES: u16 = 2;
}

/// ESP transform IDs (RFC 2407 §4.4.4; AES RFC 3602/3686, CCM RFC 4309, GCM RFC 4106,
/// GMAC RFC 4543).
pub mod esp_transform {
    pub const DES_IV64: u8 = 1;
    pub const DES: u8 = 2;
    pub const TRIPLE_DES: u8 = 3;
    pub const RC5: u8 = 4;
    pub const IDEA: u8 = 5;
    pub const CAST: u8 = 6;
    pub const BLOWFISH: u8 = 7;
    pub const TRIPLE_IDEA: u8 = 8;
    pub const DES_IV32: u8 = 9;
    pub const RC4: u8 = 10;
    pub const NULL: u8 = 11;
    pub const AES_CBC: u8 = 12;
    pub const AES_CTR: u8 = 13;
    pub const AES_CCM_8: u8 = 14;
    pub const AES_CCM_12: u8 = 15;
    pub const AES_CCM_16: u8 = 16;
    pub const AES_GCM_8: u8 = 18;
    pub const AES_GCM_12: u8 = 19;
    pub const AES_GCM_16: u8 = 20;
    pub const NULL_AUTH_AES_GMAC: u8 = 23;
}

/// AH transform IDs (RFC 2407 §4.4.3, RFC 4868).
pub mod ah_transform {
    pub const MD5: u8 = 2;
    pub const SHA: u8 = 3;
    pub const DES: u8 = 4;
    pub const SHA2_256: u8 = 5;
    pub const SHA2_384: u8 = 6;
    pub const SHA2_512: u8 = 7;
}

/// Phase 2 attribute classes of the IPsec DOI (RFC 2407 §4.5; ESN RFC 4304).
pub mod ipsec_attr {
    pub const SA_LIFE_TYPE: u16 = 1;
    pub const SA_LIFE_DURATION: u16 = 2;
    /// The PFS group of a quick mode (RFC 2407 §4.5).
    pub const GROUP_DESCRIPTION: u16 = 3;
    pub const ENCAPSULATION_MODE: u16 = 4;
    pub const AUTHENTICATION_ALGORITHM: u16 = 5;
    pub const KEY_LENGTH: u16 = 6;
    pub const KEY_ROUNDS: u16 = 7;
    pub const COMPRESS_DICTIONARY_SIZE: u16 = 8;
    pub const COMPRESS_PRIVATE_ALGORITHM: u16 = 9;
    pub const EXTENDED_SEQUENCE_NUMBER: u16 = 11;
}

/// Encapsulation modes (RFC 2407 §4.5; UDP encapsulation RFC 3947 §5.1, and the values of
/// draft-ietf-ipsec-nat-t-ike that older peers still send).
pub mod encapsulation {
    pub const TUNNEL: u16 = 1;
    pub const TRANSPORT: u16 = 2;
    pub const UDP_ENCAPSULATED_TUNNEL: u16 = 3;
    pub const UDP_ENCAPSULATED_TRANSPORT: u16 = 4;
    pub const UDP_ENCAPSULATED_TUNNEL_DRAFT: u16 = 61443;
    pub const UDP_ENCAPSULATED_TRANSPORT_DRAFT: u16 = 61444;
}

/// Phase 2 authentication algorithms (RFC 2407 §4.5; SHA-2 RFC 4868 §4).
pub mod ipsec_auth {
    pub const HMAC_MD5: u16 = 1;
    pub const HMAC_SHA: u16 = 2;
    pub const DES_MAC: u16 = 3;
    pub const KPDK: u16 = 4;
    pub const HMAC_SHA2_256: u16 = 5;
    pub const HMAC_SHA2_384: u16 = 6;
    pub const HMAC_SHA2_512: u16 = 7;
    pub const HMAC_RIPEMD: u16 = 8;
    pub const AES_XCBC_MAC: u16 = 9;
}

/// Identification types of the IPsec DOI (RFC 2407 §4.6.2.1).
pub mod id_type {
    pub const IPV4_ADDR: u8 = 1;
    pub const FQDN: u8 = 2;
    pub const USER_FQDN: u8 = 3;
    pub const IPV4_ADDR_SUBNET: u8 = 4;
    pub const IPV6_ADDR: u8 = 5;
    pub const IPV6_ADDR_SUBNET: u8 = 6;
    pub const IPV4_ADDR_RANGE: u8 = 7;
    pub const IPV6_ADDR_RANGE: u8 = 8;
    pub const DER_ASN1_DN: u8 = 9;
    pub const DER_ASN1_GN: u8 = 10;
    pub const KEY_ID: u8 = 11;
}
