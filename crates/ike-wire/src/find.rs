//! Finders over a list of payloads: "the first payload of a kind" questions that every
//! exchange handler asks, for a message and for decrypted SK contents alike.

use crate::{
    Auth, Delete, Encrypted, EncryptedFragment, Identification, KeyExchange, Message, Notify,
    NotifyType, Payload, Proposal, TrafficSelector, UnknownPayload,
};

/// Lookups over payloads in message order. Implemented for `[Payload]` (so also for the
/// `Vec<Payload>` that [`parse_payloads`](crate::parse_payloads) returns) and [`Message`].
pub trait PayloadsExt {
    /// The payloads to search.
    fn payload_list(&self) -> &[Payload];

    /// The first Notify of type `ty`.
    fn notify(&self, ty: NotifyType) -> Option<&Notify> {
        self.notifies().find(|n| n.ty == ty)
    }

    /// Every Notify payload.
    fn notifies(&self) -> impl Iterator<Item = &Notify> {
        self.payload_list().iter().filter_map(|p| match p {
            Payload::Notify(n) => Some(n),
            _ => None,
        })
    }

    /// The first error Notify (type below 16384, RFC 7296 §3.10.1).
    fn error_notify(&self) -> Option<&Notify> {
        self.notifies().find(|n| n.ty.is_error())
    }

    /// The proposals of the first SA payload.
    fn sa(&self) -> Option<&[Proposal]> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::Sa(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    /// The first KE payload.
    fn ke(&self) -> Option<&KeyExchange> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::Ke(k) => Some(k),
            _ => None,
        })
    }

    /// The data of the first Nonce payload.
    fn nonce(&self) -> Option<&[u8]> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::Nonce(n) => Some(n.as_slice()),
            _ => None,
        })
    }

    /// The first IDi payload.
    fn id_i(&self) -> Option<&Identification> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::IdI(id) => Some(id),
            _ => None,
        })
    }

    /// The first IDr payload.
    fn id_r(&self) -> Option<&Identification> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::IdR(id) => Some(id),
            _ => None,
        })
    }

    /// The first AUTH payload.
    fn auth(&self) -> Option<&Auth> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::Auth(a) => Some(a),
            _ => None,
        })
    }

    /// The selectors of the first TSi payload.
    fn ts_i(&self) -> Option<&[TrafficSelector]> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::TsI(ts) => Some(ts.as_slice()),
            _ => None,
        })
    }

    /// The selectors of the first TSr payload.
    fn ts_r(&self) -> Option<&[TrafficSelector]> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::TsR(ts) => Some(ts.as_slice()),
            _ => None,
        })
    }

    /// Every Delete payload.
    fn deletes(&self) -> impl Iterator<Item = &Delete> {
        self.payload_list().iter().filter_map(|p| match p {
            Payload::Delete(d) => Some(d),
            _ => None,
        })
    }

    /// The data of every Vendor ID payload.
    fn vendor_ids(&self) -> impl Iterator<Item = &[u8]> {
        self.payload_list().iter().filter_map(|p| match p {
            Payload::VendorId(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    /// The SK payload.
    fn encrypted(&self) -> Option<&Encrypted> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::Encrypted(e) => Some(e),
            _ => None,
        })
    }

    /// The SKF payload.
    fn encrypted_fragment(&self) -> Option<&EncryptedFragment> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::EncryptedFragment(f) => Some(f),
            _ => None,
        })
    }

    /// The first undecoded payload marked critical: the one to answer with
    /// UNSUPPORTED_CRITICAL_PAYLOAD (RFC 7296 §2.5, §3.2).
    fn unsupported_critical(&self) -> Option<&UnknownPayload> {
        self.payload_list().iter().find_map(|p| match p {
            Payload::Unknown(u) if u.critical => Some(u),
            _ => None,
        })
    }
}

impl PayloadsExt for [Payload] {
    fn payload_list(&self) -> &[Payload] {
        self
    }
}

impl PayloadsExt for Vec<Payload> {
    fn payload_list(&self) -> &[Payload] {
        self
    }
}

impl PayloadsExt for Message {
    fn payload_list(&self) -> &[Payload] {
        &self.payloads
    }
}
