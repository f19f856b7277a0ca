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
    IKE_SA_INIT = 34,
    IKE_AUTH = 35,
    CREATE_CHILD_SA = 36,
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
    SA = 33,
    KE = 34,
    IDI = 35 => "IDi",
    IDR = 36 => "IDr",
    CERT = 37,
    CERTREQ = 38,
    AUTH = 39,
    NONCE = 40,
    NOTIFY = 41,
    DELETE = 42,
    VENDOR_ID = 43,
    TSI = 44 => "TSi",
    TSR = 45 => "TSr",
    /// Encrypted and Authenticated (RFC 7296 §3.14).
    SK = 46,
    CP = 47,
    EAP = 48,
    /// Encrypted and Authenticated Fragment (RFC 7383 §2.5).
    SKF = 53,
}

registry! {
    /// Security protocol of a proposal, notification or delete (RFC 7296 §3.3.1).
    pub struct ProtocolId(u8);
    prefix = "";
    NONE = 0,
    IKE = 1,
    AH = 2,
    ESP = 3,
}

registry! {
    /// Identification type (RFC 7296 §3.5).
    pub struct IdType(u8);
    prefix = "ID_";
    IPV4_ADDR = 1,
    FQDN = 2,
    RFC822_ADDR = 3,
    IPV6_ADDR = 5,
    DER_ASN1_DN = 9,
    DER_ASN1_GN = 10,
    KEY_ID = 11,
    /// RFC 7619 NULL authentication.
    NULL = 13,
}

registry! {
    /// Authentication method of an AUTH payload (RFC 7296 §3.8, RFC 7427).
    pub struct AuthMethod(u8);
    prefix = "";
    RSA_SIG = 1,
    SHARED_KEY_MIC = 2,
    DSS_SIG = 3,
    ECDSA_256 = 9,
    ECDSA_384 = 10,
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
    IPV4_ADDR_RANGE = 7,
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
