//! IKEv2 wire format (RFC 7296): the IKE header, payloads and protocol registries,
//! parsed from and serialized to bytes. No IO, no crypto: an SK payload's body stays
//! opaque here, and [`parse_payloads`] reads its plaintext once ike-crypto has opened it.
//!
//! Parsing never panics: every length is checked, and a malformed message yields a
//! [`ParseError`] that says what was wrong and at which offset. Encoding computes every
//! length and Next Payload field, so a parsed well-formed message re-encodes to the same
//! bytes.
//!
//! The registries sit at the crate root because IKEv1 (RFC 2409/2408) shares some of
//! them (the Diffie-Hellman groups); the IKEv2 message types sit at the root too, and the
//! IKEv1 (ISAKMP) codec is the [`v1`] module beside them. [`ike_major_version`] tells the
//! two apart on arrival.
//!
//! ```
//! use ike_wire::{ExchangeType, Flags, Header, Message, Notify, NotifyType, Payload};
//!
//! let request = Message {
//!     header: Header {
//!         spi_i: 0x1122_3344_5566_7788,
//!         major: 2,
//!         exchange: ExchangeType::INFORMATIONAL,
//!         flags: Flags::INITIATOR,
//!         ..Header::default()
//!     },
//!     payloads: vec![Payload::Notify(Notify::new(NotifyType::INITIAL_CONTACT, vec![]))],
//! };
//! let datagram = request.encode();
//! assert_eq!(datagram.len(), 28 + 8);
//! let parsed = Message::parse(&datagram)?;
//! assert!(parsed.notify(NotifyType::INITIAL_CONTACT).is_some());
//! # Ok::<(), ike_wire::ParseError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod chain;
mod codec;
mod error;
mod find;
mod header;
mod message;
mod payload;
mod proposal;
mod registry;
mod ts;
pub mod v1;

pub use chain::{encode_payloads, encode_sk_prefix, encode_skf_prefix, parse_payloads};
pub use error::ParseError;
pub use find::PayloadsExt;
pub use header::{Flags, Header, HEADER_LEN};
pub use message::Message;
pub use payload::{
    Auth, Delete, Encrypted, EncryptedFragment, Identification, KeyExchange, Notify, Payload,
    UnknownPayload,
};
pub use proposal::{Attribute, AttributeValue, Proposal, Transform};
pub use registry::{
    AuthMethod, DhGroup, EncrId, EsnId, ExchangeType, IdType, IntegId, NotifyType, PayloadType,
    PrfId, ProtocolId, TransformType, TsType,
};
pub use ts::TrafficSelector;
pub use v1::ike_major_version;
