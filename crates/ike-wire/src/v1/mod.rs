//! IKEv1 wire format: ISAKMP (RFC 2408) as IKE uses it (RFC 2409), with the IPsec DOI
//! (RFC 2407), NAT traversal (RFC 3947) and dead peer detection (RFC 3706). No IO, no
//! crypto: an encrypted body stays opaque ([`Body::Encrypted`]) and [`parse_payloads`]
//! reads it once the core has decrypted it.
//!
//! As for IKEv2, parsing never panics and a well-formed message re-encodes to the same
//! bytes, which the HASH payloads of RFC 2409 §5 rely on. Attributes reuse the crate's
//! [`Attribute`](crate::Attribute): ISAKMP data attributes (RFC 2408 §3.3) have the same
//! TV/TLV layout.
//!
//! ```
//! use ike_wire::v1::*;
//!
//! let transform = Transform::ike(1)
//!     .with(ike_attr::ENCRYPTION_ALGORITHM, ike_encr::AES_CBC.into())
//!     .with(ike_attr::KEY_LENGTH, 128)
//!     .with(ike_attr::HASH_ALGORITHM, ike_hash::SHA2_256.into())
//!     .with(ike_attr::AUTHENTICATION_METHOD, ike_auth::PRE_SHARED_KEY.into())
//!     .with(ike_attr::GROUP_DESCRIPTION, 14)
//!     .with(ike_attr::LIFE_TYPE, life_type::SECONDS.into())
//!     .with(ike_attr::LIFE_DURATION, 28_800);
//! let first = Message {
//!     header: Header { cky_i: 0x0102_0304_0506_0708, exchange: ExchangeType::MAIN_MODE, ..Header::default() },
//!     body: Body::Plain(vec![Payload::Sa(Sa::ipsec(vec![Proposal::isakmp(vec![transform])]))]),
//! };
//! let datagram = first.encode();
//! assert_eq!(ike_wire::ike_major_version(&datagram), Some(1));
//! assert_eq!(Message::parse(&datagram)?.encode(), datagram);
//! # Ok::<(), ike_wire::ParseError>(())
//! ```

mod chain;
mod header;
mod id;
mod message;
mod numbers;
mod payload;
mod registry;
mod sa;

pub use chain::{encode_header_for, encode_payloads, parse_payloads, payloads_after_first};
pub use header::{ike_major_version, Header, HEADER_LEN};
pub use id::Id;
pub use message::{Body, Message};
pub use numbers::{
    ah_transform, doi, encapsulation, esp_transform, group_type, id_type, ike_attr, ike_auth,
    ike_encr, ike_hash, ipsec_attr, ipsec_auth, life_type, protocol, KEY_IKE,
};
pub use payload::{Delete, Notification, Payload};
pub use registry::{ExchangeType, Flags, NotifyType, PayloadType};
pub use sa::{Proposal, Sa, Transform};

#[cfg(test)]
mod tests;
