//! Protocol registries (IANA "Internet Key Exchange Version 2 (IKEv2) Parameters").
//!
//! Each code point is a newtype over its wire integer rather than an enum, so a value this
//! crate has no name for still survives parse → encode unchanged and prints as e.g.
//! `ExchangeType(99)`. The registries live at the crate root because some of them (the
//! Diffie-Hellman groups above all) are shared with IKEv1.

mod notify;
mod transform;

pub use notify::NotifyType;
pub use transform::{DhGroup, EncrId, EsnId, IntegId, PrfId, TransformType};

/// The display name of one registry entry: an explicit name if given, else prefix + const.
macro_rules! registry_name {
    ($prefix:literal, $konst:ident) => {
        concat!($prefix, stringify!($konst))
    };
    ($prefix:literal, $konst:ident, $display:literal) => {
        $display
    };
}

/// Defines a registry newtype with named constants, `name()`, `Display`/`Debug` and
/// conversions to and from the wire integer.
macro_rules! registry {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($repr:ty);
        prefix = $prefix:literal;
        $( $(#[$cmeta:meta])* $konst:ident = $val:literal $(=> $display:literal)?, )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $repr);

        impl $name {
            $(
                $(#[$cmeta])*
                pub const $konst: Self = Self($val);
            )*

            /// The registry name of this code point (as the RFCs and IANA spell it), or
            /// `None` for a value this crate has no name for.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($crate::registry::registry_name!($prefix, $konst $(, $display)?)), )*
                    _ => None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self.name() {
                    Some(name) => f.pad(name),
                    None => f.pad(&format!(concat!(stringify!($name), "({})"), self.0)),
                }
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(self, f)
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

pub(crate) use registry;
pub(crate) use registry_name;

registry! {
    /// Exchange type of an IKE message (RFC 7296 §3.1).
    pub struct ExchangeType(u8);
    prefix = "";
    /// IKE_SA_INIT: negotiates the IKE SA's algorithms and exchanges nonces and Diffie-Hellman
    /// values (RFC 7296 §1.2).
    IKE_SA_INIT = 34,
    /// IKE_AUTH: authenticates the peers and sets up the first CHILD SA (RFC 7296 §1.2).
    IKE_AUTH = 35,
    /// CREATE_CHILD_SA: creates or rekeys a CHILD SA, or rekeys the IKE SA (RFC 7296 §1.3).
    CREATE_CHILD_SA = 36,
    /// INFORMATIONAL: notifications, deletes and liveness checks (RFC 7296 §1.4).
    INFORMATIONAL = 37,
    /// RFC 5723 session resumption.
    IKE_SESSION_RESUME = 38,
    /// RFC 9242 intermediate exchange.
    IKE_INTERMEDIATE = 43,
}

registry! {
    /// Payload type, as carried in every "Next Payload" field (RFC 7296 §3.2).
    pub struct PayloadType(u8);
    prefix = "";
    /// No next payload: ends a payload chain.
    NONE = 0,
    /// Security Association (RFC 7296 §3.3).
    SA = 33,
    /// Key Exchange (RFC 7296 §3.4).
    KE = 34,
    /// Identification - Initiator (RFC 7296 §3.5).
    IDI = 35 => "IDi",
    /// Identification - Responder (RFC 7296 §3.5).
    IDR = 36 => "IDr",
    /// Certificate (RFC 7296 §3.6).
    CERT = 37,
    /// Certificate Request (RFC 7296 §3.7).
    CERTREQ = 38,
    /// Authentication (RFC 7296 §3.8).
    AUTH = 39,
    /// Nonce, Ni or Nr (RFC 7296 §3.9).
    NONCE = 40,
    /// Notify (RFC 7296 §3.10).
    NOTIFY = 41,
    /// Delete (RFC 7296 §3.11).
    DELETE = 42,
    /// Vendor ID (RFC 7296 §3.12).
    VENDOR_ID = 43,
    /// Traffic Selector - Initiator (RFC 7296 §3.13).
    TSI = 44 => "TSi",
    /// Traffic Selector - Responder (RFC 7296 §3.13).
    TSR = 45 => "TSr",
    /// Encrypted and Authenticated (RFC 7296 §3.14).
    SK = 46,
    /// Configuration (RFC 7296 §3.15).
    CP = 47,
    /// Extensible Authentication (RFC 7296 §3.16).
    EAP = 48,
    /// Encrypted and Authenticated Fragment (RFC 7383 §2.5).
    SKF = 53,
}

registry! {
    /// Security protocol of a proposal, notification or delete (RFC 7296 §3.3.1).
    pub struct ProtocolId(u8);
    prefix = "";
    /// No protocol: a notification that concerns no SA and carries no SPI (RFC 7296 §3.10).
    NONE = 0,
    /// The IKE SA itself (RFC 7296 §3.3.1).
    IKE = 1,
    /// An AH CHILD SA (RFC 7296 §3.3.1, RFC 4302).
    AH = 2,
    /// An ESP CHILD SA (RFC 7296 §3.3.1, RFC 4303).
    ESP = 3,
}

registry! {
    /// Identification type (RFC 7296 §3.5).
    pub struct IdType(u8);
    prefix = "ID_";
    /// ID_IPV4_ADDR: one four-octet IPv4 address (RFC 7296 §3.5).
    IPV4_ADDR = 1,
    /// ID_FQDN: a fully-qualified domain name, no terminator (RFC 7296 §3.5).
    FQDN = 2,
    /// ID_RFC822_ADDR: an email address (RFC 7296 §3.5).
    RFC822_ADDR = 3,
    /// ID_IPV6_ADDR: one sixteen-octet IPv6 address (RFC 7296 §3.5).
    IPV6_ADDR = 5,
    /// ID_DER_ASN1_DN: a DER X.500 distinguished name (RFC 7296 §3.5).
    DER_ASN1_DN = 9,
    /// ID_DER_ASN1_GN: a DER X.509 GeneralName (RFC 7296 §3.5).
    DER_ASN1_GN = 10,
    /// ID_KEY_ID: opaque octets, e.g. vendor-specific (RFC 7296 §3.5).
    KEY_ID = 11,
    /// RFC 7619 NULL authentication.
    NULL = 13,
}

registry! {
    /// Authentication method of an AUTH payload (RFC 7296 §3.8, RFC 7427).
    pub struct AuthMethod(u8);
    prefix = "";
    /// RSA Digital Signature, PKCS #1 v1.5 (RFC 7296 §3.8).
    RSA_SIG = 1,
    /// Shared Key Message Integrity Code: the PSK authentication AWS uses (RFC 7296 §2.15, §3.8).
    SHARED_KEY_MIC = 2,
    /// DSS Digital Signature (RFC 7296 §3.8).
    DSS_SIG = 3,
    /// ECDSA with SHA-256 on P-256 (RFC 4754).
    ECDSA_256 = 9,
    /// ECDSA with SHA-384 on P-384 (RFC 4754).
    ECDSA_384 = 10,
    /// ECDSA with SHA-512 on P-521 (RFC 4754).
    ECDSA_521 = 11,
    /// RFC 7619.
    NULL_AUTH = 13,
    /// RFC 7427.
    DIGITAL_SIGNATURE = 14,
}

registry! {
    /// Traffic selector type (RFC 7296 §3.13.1).
    pub struct TsType(u8);
    prefix = "TS_";
    /// TS_IPV4_ADDR_RANGE: an IPv4 address range with protocol and ports (RFC 7296 §3.13.1).
    IPV4_ADDR_RANGE = 7,
    /// TS_IPV6_ADDR_RANGE: an IPv6 address range with protocol and ports (RFC 7296 §3.13.1).
    IPV6_ADDR_RANGE = 8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_print_their_rfc_name() {
        assert_eq!(ExchangeType::IKE_SA_INIT.to_string(), "IKE_SA_INIT");
        assert_eq!(format!("{:?}", ExchangeType(34)), "IKE_SA_INIT");
        assert_eq!(PayloadType::IDI.to_string(), "IDi");
        assert_eq!(IdType::FQDN.to_string(), "ID_FQDN");
        assert_eq!(TsType::IPV4_ADDR_RANGE.to_string(), "TS_IPV4_ADDR_RANGE");
        assert_eq!(ProtocolId::ESP.to_string(), "ESP");
    }

    #[test]
    fn unknown_values_print_type_and_number() {
        assert_eq!(ExchangeType(99).to_string(), "ExchangeType(99)");
        assert_eq!(format!("{:?}", PayloadType(200)), "PayloadType(200)");
        assert_eq!(ExchangeType(99).name(), None);
    }

    #[test]
    fn display_honours_width() {
        assert_eq!(format!("{:>8}", ProtocolId::ESP), "     ESP");
    }

    #[test]
    fn converts_to_and_from_wire_integer() {
        assert_eq!(ExchangeType::from(35), ExchangeType::IKE_AUTH);
        assert_eq!(u8::from(PayloadType::SK), 46);
    }
}
