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
    /// PROTO_ISAKMP: the phase 1 SA itself (RFC 2407 §4.4.1).
    pub const ISAKMP: u8 = 1;
    /// PROTO_IPSEC_AH: an AH SA negotiated in quick mode (RFC 2407 §4.4.1).
    pub const IPSEC_AH: u8 = 2;
    /// PROTO_IPSEC_ESP: an ESP SA negotiated in quick mode (RFC 2407 §4.4.1).
    pub const IPSEC_ESP: u8 = 3;
    /// PROTO_IPCOMP: an IP compression SA (RFC 2407 §4.4.1).
    pub const IPCOMP: u8 = 4;
}

/// The only ISAKMP (phase 1) transform ID: IKE itself (RFC 2407 §4.4.2).
pub const KEY_IKE: u8 = 1;

/// Phase 1 attribute classes (RFC 2409 Appendix A). Classes marked V in the RFC may use
/// the TV form when the value fits in 16 bits.
pub mod ike_attr {
    /// Encryption Algorithm, basic; values in [`ike_encr`](super::ike_encr) (RFC 2409 App. A).
    pub const ENCRYPTION_ALGORITHM: u16 = 1;
    /// Hash Algorithm, basic; values in [`ike_hash`](super::ike_hash) (RFC 2409 App. A).
    pub const HASH_ALGORITHM: u16 = 2;
    /// Authentication Method, basic; values in [`ike_auth`](super::ike_auth) (RFC 2409 App. A).
    pub const AUTHENTICATION_METHOD: u16 = 3;
    /// Group Description, basic: the Diffie-Hellman group number (RFC 2409 App. A).
    pub const GROUP_DESCRIPTION: u16 = 4;
    /// Group Type, basic; values in [`group_type`](super::group_type), only for private groups
    /// (RFC 2409 App. A).
    pub const GROUP_TYPE: u16 = 5;
    /// Group Prime/Irreducible Polynomial, variable (RFC 2409 App. A).
    pub const GROUP_PRIME: u16 = 6;
    /// Group Generator One, variable (RFC 2409 App. A).
    pub const GROUP_GENERATOR_ONE: u16 = 7;
    /// Group Generator Two, variable (RFC 2409 App. A).
    pub const GROUP_GENERATOR_TWO: u16 = 8;
    /// Group Curve A, variable (RFC 2409 App. A).
    pub const GROUP_CURVE_A: u16 = 9;
    /// Group Curve B, variable (RFC 2409 App. A).
    pub const GROUP_CURVE_B: u16 = 10;
    /// Life Type, basic; values in [`life_type`](super::life_type); the next Life Duration counts
    /// in it (RFC 2409 App. A).
    pub const LIFE_TYPE: u16 = 11;
    /// Life Duration, variable, in the units of the preceding Life Type (RFC 2409 App. A).
    pub const LIFE_DURATION: u16 = 12;
    /// PRF, basic; no values are defined, the HMAC of the hash is used (RFC 2409 App. A).
    pub const PRF: u16 = 13;
    /// Key Length in bits, basic, for variable-length ciphers such as AES (RFC 2409 App. A).
    pub const KEY_LENGTH: u16 = 14;
    /// Field Size in bits, basic (RFC 2409 App. A).
    pub const FIELD_SIZE: u16 = 15;
    /// Group Order, variable (RFC 2409 App. A).
    pub const GROUP_ORDER: u16 = 16;
}

/// Phase 1 encryption algorithms (RFC 2409 App. A; AES RFC 3602, Camellia RFC 4312).
pub mod ike_encr {
    /// DES-CBC (RFC 2409 App. A).
    pub const DES_CBC: u16 = 1;
    /// IDEA-CBC (RFC 2409 App. A).
    pub const IDEA: u16 = 2;
    /// Blowfish-CBC (RFC 2409 App. A).
    pub const BLOWFISH: u16 = 3;
    /// RC5-R16-B64-CBC (RFC 2409 App. A).
    pub const RC5: u16 = 4;
    /// 3DES-CBC (RFC 2409 App. A).
    pub const TRIPLE_DES_CBC: u16 = 5;
    /// CAST-CBC (RFC 2409 App. A).
    pub const CAST: u16 = 6;
    /// AES-CBC, with a Key Length attribute (RFC 3602).
    pub const AES_CBC: u16 = 7;
    /// Camellia-CBC (RFC 4312).
    pub const CAMELLIA_CBC: u16 = 8;
}

/// Phase 1 hash algorithms (RFC 2409 App. A; SHA-2 RFC 4868 §4).
pub mod ike_hash {
    /// MD5 (RFC 2409 App. A).
    pub const MD5: u16 = 1;
    /// SHA-1 (RFC 2409 App. A).
    pub const SHA: u16 = 2;
    /// Tiger (RFC 2409 App. A).
    pub const TIGER: u16 = 3;
    /// SHA2-256 (IANA IPsec registry, RFC 4868).
    pub const SHA2_256: u16 = 4;
    /// SHA2-384 (IANA IPsec registry, RFC 4868).
    pub const SHA2_384: u16 = 5;
    /// SHA2-512 (IANA IPsec registry, RFC 4868).
    pub const SHA2_512: u16 = 6;
}

/// Phase 1 authentication methods (RFC 2409 App. A; ECDSA RFC 4754; XAUTH from
/// draft-ietf-ipsec-isakmp-xauth).
pub mod ike_auth {
    /// Pre-shared key (RFC 2409 §5.4), what AWS tunnels use.
    pub const PRE_SHARED_KEY: u16 = 1;
    /// DSS signatures (RFC 2409 §5.1).
    pub const DSS: u16 = 2;
    /// RSA signatures (RFC 2409 §5.1).
    pub const RSA_SIG: u16 = 3;
    /// Encryption with RSA (RFC 2409 §5.2).
    pub const RSA_ENCRYPTION: u16 = 4;
    /// Revised encryption with RSA (RFC 2409 §5.3).
    pub const RSA_REVISED_ENCRYPTION: u16 = 5;
    /// ECDSA with SHA-256 on P-256 (RFC 4754).
    pub const ECDSA_SHA256_P256: u16 = 9;
    /// ECDSA with SHA-384 on P-384 (RFC 4754).
    pub const ECDSA_SHA384_P384: u16 = 10;
    /// ECDSA with SHA-512 on P-521 (RFC 4754).
    pub const ECDSA_SHA512_P521: u16 = 11;
    /// XAUTHInitPreShared: pre-shared key plus XAUTH of the initiator (XAUTH draft).
    pub const XAUTH_INIT_PSK: u16 = 65001;
    /// XAUTHRespPreShared: pre-shared key plus XAUTH of the responder (XAUTH draft).
    pub const XAUTH_RESP_PSK: u16 = 65002;
    /// XAUTHInitDSS (XAUTH draft).
    pub const XAUTH_INIT_DSS: u16 = 65003;
    /// XAUTHRespDSS (XAUTH draft).
    pub const XAUTH_RESP_DSS: u16 = 65004;
    /// XAUTHInitRSA (XAUTH draft).
    pub const XAUTH_INIT_RSA: u16 = 65005;
    /// XAUTHRespRSA (XAUTH draft).
    pub const XAUTH_RESP_RSA: u16 = 65006;
}

/// Phase 1 group types (RFC 2409 App. A).
pub mod group_type {
    /// MODP: modular exponentiation group (RFC 2409 App. A).
    pub const MODP: u16 = 1;
    /// ECP: elliptic curve group over GF(p) (RFC 2409 App. A).
    pub const ECP: u16 = 2;
    /// EC2N: elliptic curve group over GF(2^N) (RFC 2409 App. A).
    pub const EC2N: u16 = 3;
}

/// Life types, the same values in phase 1 (RFC 2409 App. A) and phase 2 (RFC 2407 §4.5).
pub mod life_type {
    /// Lifetime in seconds (RFC 2409 App. A, RFC 2407 §4.5).
    pub const SECONDS: u16 = 1;
    /// Lifetime in kilobytes of protected traffic (RFC 2409 App. A, RFC 2407 §4.5).
    pub const KILOBYTES: u16 = 2;
}

/// ESP transform IDs (RFC 2407 §4.4.4; AES RFC 3602/3686, CCM RFC 4309, GCM RFC 4106,
/// GMAC RFC 4543).
pub mod esp_transform {
    /// ESP_DES_IV64 (RFC 2407 §4.4.4).
    pub const DES_IV64: u8 = 1;
    /// ESP_DES (RFC 2407 §4.4.4).
    pub const DES: u8 = 2;
    /// ESP_3DES (RFC 2407 §4.4.4).
    pub const TRIPLE_DES: u8 = 3;
    /// ESP_RC5 (RFC 2407 §4.4.4).
    pub const RC5: u8 = 4;
    /// ESP_IDEA (RFC 2407 §4.4.4).
    pub const IDEA: u8 = 5;
    /// ESP_CAST (RFC 2407 §4.4.4).
    pub const CAST: u8 = 6;
    /// ESP_BLOWFISH (RFC 2407 §4.4.4).
    pub const BLOWFISH: u8 = 7;
    /// ESP_3IDEA (RFC 2407 §4.4.4).
    pub const TRIPLE_IDEA: u8 = 8;
    /// ESP_DES_IV32 (RFC 2407 §4.4.4).
    pub const DES_IV32: u8 = 9;
    /// ESP_RC4 (RFC 2407 §4.4.4).
    pub const RC4: u8 = 10;
    /// ESP_NULL: no encryption (RFC 2407 §4.4.4).
    pub const NULL: u8 = 11;
    /// ESP_AES-CBC, with a Key Length attribute (RFC 3602).
    pub const AES_CBC: u8 = 12;
    /// ESP_AES-CTR (RFC 3686).
    pub const AES_CTR: u8 = 13;
    /// ESP_AES-CCM with an 8-octet ICV (RFC 4309).
    pub const AES_CCM_8: u8 = 14;
    /// ESP_AES-CCM with a 12-octet ICV (RFC 4309).
    pub const AES_CCM_12: u8 = 15;
    /// ESP_AES-CCM with a 16-octet ICV (RFC 4309).
    pub const AES_CCM_16: u8 = 16;
    /// ESP_AES-GCM with an 8-octet ICV (RFC 4106).
    pub const AES_GCM_8: u8 = 18;
    /// ESP_AES-GCM with a 12-octet ICV (RFC 4106).
    pub const AES_GCM_12: u8 = 19;
    /// ESP_AES-GCM with a 16-octet ICV (RFC 4106).
    pub const AES_GCM_16: u8 = 20;
    /// ESP_NULL_AUTH_AES-GMAC: integrity only (RFC 4543).
    pub const NULL_AUTH_AES_GMAC: u8 = 23;
}

/// AH transform IDs (RFC 2407 §4.4.3, RFC 4868).
pub mod ah_transform {
    /// AH_MD5 (RFC 2407 §4.4.3).
    pub const MD5: u8 = 2;
    /// AH_SHA (RFC 2407 §4.4.3).
    pub const SHA: u8 = 3;
    /// AH_DES (RFC 2407 §4.4.3).
    pub const DES: u8 = 4;
    /// AH_SHA2-256 (RFC 4868).
    pub const SHA2_256: u8 = 5;
    /// AH_SHA2-384 (RFC 4868).
    pub const SHA2_384: u8 = 6;
    /// AH_SHA2-512 (RFC 4868).
    pub const SHA2_512: u8 = 7;
}

/// Phase 2 attribute classes of the IPsec DOI (RFC 2407 §4.5; ESN RFC 4304).
pub mod ipsec_attr {
    /// SA Life Type; values in [`life_type`](super::life_type) (RFC 2407 §4.5).
    pub const SA_LIFE_TYPE: u16 = 1;
    /// SA Life Duration, in the units of the preceding SA Life Type (RFC 2407 §4.5).
    pub const SA_LIFE_DURATION: u16 = 2;
    /// The PFS group of a quick mode (RFC 2407 §4.5).
    pub const GROUP_DESCRIPTION: u16 = 3;
    /// Encapsulation Mode; values in [`encapsulation`](super::encapsulation) (RFC 2407 §4.5).
    pub const ENCAPSULATION_MODE: u16 = 4;
    /// Authentication Algorithm of an ESP or AH SA; values in [`ipsec_auth`](super::ipsec_auth)
    /// (RFC 2407 §4.5).
    pub const AUTHENTICATION_ALGORITHM: u16 = 5;
    /// Key Length in bits, for variable-length ciphers such as AES (RFC 2407 §4.5).
    pub const KEY_LENGTH: u16 = 6;
    /// Key Rounds (RFC 2407 §4.5).
    pub const KEY_ROUNDS: u16 = 7;
    /// Compress Dictionary Size, for IPCOMP (RFC 2407 §4.5).
    pub const COMPRESS_DICTIONARY_SIZE: u16 = 8;
    /// Compress Private Algorithm, for IPCOMP (RFC 2407 §4.5).
    pub const COMPRESS_PRIVATE_ALGORITHM: u16 = 9;
    /// Extended (64-bit) Sequence Number (RFC 4304).
    pub const EXTENDED_SEQUENCE_NUMBER: u16 = 11;
}

/// Encapsulation modes (RFC 2407 §4.5; UDP encapsulation RFC 3947 §5.1, and the values of
/// draft-ietf-ipsec-nat-t-ike that older peers still send).
pub mod encapsulation {
    /// Tunnel mode (RFC 2407 §4.5).
    pub const TUNNEL: u16 = 1;
    /// Transport mode (RFC 2407 §4.5).
    pub const TRANSPORT: u16 = 2;
    /// UDP-Encapsulated-Tunnel: tunnel mode behind a NAT (RFC 3947 §5.1).
    pub const UDP_ENCAPSULATED_TUNNEL: u16 = 3;
    /// UDP-Encapsulated-Transport: transport mode behind a NAT (RFC 3947 §5.1).
    pub const UDP_ENCAPSULATED_TRANSPORT: u16 = 4;
    /// UDP-Encapsulated-Tunnel as numbered by draft-ietf-ipsec-nat-t-ike.
    pub const UDP_ENCAPSULATED_TUNNEL_DRAFT: u16 = 61443;
    /// UDP-Encapsulated-Transport as numbered by draft-ietf-ipsec-nat-t-ike.
    pub const UDP_ENCAPSULATED_TRANSPORT_DRAFT: u16 = 61444;
}

/// Phase 2 authentication algorithms (RFC 2407 §4.5; SHA-2 RFC 4868 §4).
pub mod ipsec_auth {
    /// HMAC-MD5 (RFC 2407 §4.5, RFC 2403).
    pub const HMAC_MD5: u16 = 1;
    /// HMAC-SHA-1 (RFC 2407 §4.5, RFC 2404).
    pub const HMAC_SHA: u16 = 2;
    /// DES-MAC (RFC 2407 §4.5).
    pub const DES_MAC: u16 = 3;
    /// KPDK (RFC 2407 §4.5).
    pub const KPDK: u16 = 4;
    /// HMAC-SHA2-256, truncated to 128 bits (RFC 4868).
    pub const HMAC_SHA2_256: u16 = 5;
    /// HMAC-SHA2-384, truncated to 192 bits (RFC 4868).
    pub const HMAC_SHA2_384: u16 = 6;
    /// HMAC-SHA2-512, truncated to 256 bits (RFC 4868).
    pub const HMAC_SHA2_512: u16 = 7;
    /// HMAC-RIPEMD-160 (RFC 2857).
    pub const HMAC_RIPEMD: u16 = 8;
    /// AES-XCBC-MAC-96 (RFC 3566).
    pub const AES_XCBC_MAC: u16 = 9;
}

/// Identification types of the IPsec DOI (RFC 2407 §4.6.2.1).
pub mod id_type {
    /// ID_IPV4_ADDR: one IPv4 address (RFC 2407 §4.6.2.1).
    pub const IPV4_ADDR: u8 = 1;
    /// ID_FQDN: a fully-qualified domain name (RFC 2407 §4.6.2.1).
    pub const FQDN: u8 = 2;
    /// ID_USER_FQDN: a user@domain name (RFC 2407 §4.6.2.1).
    pub const USER_FQDN: u8 = 3;
    /// ID_IPV4_ADDR_SUBNET: address and mask, a quick mode client ID (RFC 2407 §4.6.2.1).
    pub const IPV4_ADDR_SUBNET: u8 = 4;
    /// ID_IPV6_ADDR: one IPv6 address (RFC 2407 §4.6.2.1).
    pub const IPV6_ADDR: u8 = 5;
    /// ID_IPV6_ADDR_SUBNET: address and mask (RFC 2407 §4.6.2.1).
    pub const IPV6_ADDR_SUBNET: u8 = 6;
    /// ID_IPV4_ADDR_RANGE: first and last address (RFC 2407 §4.6.2.1).
    pub const IPV4_ADDR_RANGE: u8 = 7;
    /// ID_IPV6_ADDR_RANGE: first and last address (RFC 2407 §4.6.2.1).
    pub const IPV6_ADDR_RANGE: u8 = 8;
    /// ID_DER_ASN1_DN: a DER X.500 distinguished name (RFC 2407 §4.6.2.1).
    pub const DER_ASN1_DN: u8 = 9;
    /// ID_DER_ASN1_GN: a DER X.500 general name (RFC 2407 §4.6.2.1).
    pub const DER_ASN1_GN: u8 = 10;
    /// ID_KEY_ID: opaque vendor-specific bytes (RFC 2407 §4.6.2.1).
    pub const KEY_ID: u8 = 11;
}
