//! IKEv2 payloads (RFC 7296 §3.2–§3.14, RFC 7383 §2.5) and their bodies.

mod id;

pub use id::Identification;

use crate::codec::{patch_len16, sat_u16, sat_u8, Reader};
use crate::proposal::{encode_sa, parse_sa};
use crate::ts::{encode_ts_payload, parse_ts_payload};
use crate::{
    AuthMethod, DhGroup, NotifyType, ParseError, PayloadType, Proposal, ProtocolId, TrafficSelector,
};

/// The Critical bit of the generic payload header (RFC 7296 §3.2).
const CRITICAL: u8 = 0x80;

/// Key Exchange payload body: the sender's Diffie-Hellman public value (RFC 7296 §3.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyExchange {
    /// Diffie-Hellman Group Num: the group of `data`, answered with INVALID_KE_PAYLOAD if
    /// not the one selected (RFC 7296 §3.4).
    pub group: DhGroup,
    /// Key Exchange Data: the public value, in the group's encoding (RFC 7296 §3.4).
    pub data: Vec<u8>,
}

/// Authentication payload body (RFC 7296 §3.8).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Auth {
    /// Auth Method: how `data` was computed.
    pub method: AuthMethod,
    /// Authentication Data: for a PSK, `prf(prf(Shared Secret, "Key Pad for IKEv2"),
    /// <signed octets>)` (RFC 7296 §2.15).
    pub data: Vec<u8>,
}

/// Notify payload body: an error or status report (RFC 7296 §3.10).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Notify {
    /// The SA the notification is about; NONE (or IKE) when it is about the IKE SA.
    pub protocol: ProtocolId,
    /// SPI of that SA; empty for the IKE SA.
    pub spi: Vec<u8>,
    /// What is reported: below 16384 an error, from 16384 a status (RFC 7296 §3.10.1).
    pub ty: NotifyType,
    /// Notification Data, whose meaning depends on the type (RFC 7296 §3.10.1).
    pub data: Vec<u8>,
}

impl Notify {
    /// A notification about the IKE SA (protocol NONE, no SPI), the usual case.
    pub fn new(ty: NotifyType, data: Vec<u8>) -> Self {
        Notify {
            protocol: ProtocolId::NONE,
            spi: Vec::new(),
            ty,
            data,
        }
    }
}

/// Delete payload body: SAs the sender has removed (RFC 7296 §3.11).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Delete {
    /// Protocol ID of the deleted SAs: IKE, AH or ESP.
    pub protocol: ProtocolId,
    /// Size of each SPI: 0 for the IKE SA (which the message's header names), 4 for
    /// AH/ESP. Every entry of `spis` has this length.
    pub spi_size: u8,
    /// The SPIs of the deleted SAs, as the sender expects them in inbound packets (RFC 7296
    /// §3.11).
    pub spis: Vec<Vec<u8>>,
}

impl Delete {
    /// Deletes the IKE SA the message belongs to (and with it every Child SA).
    pub fn ike() -> Self {
        Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: Vec::new(),
        }
    }

    /// Deletes ESP Child SAs by their inbound SPIs (RFC 7296 §1.4.1).
    pub fn esp(spis: impl IntoIterator<Item = u32>) -> Self {
        Delete {
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: spis.into_iter().map(|s| s.to_be_bytes().to_vec()).collect(),
        }
    }
}

/// Encrypted and Authenticated payload (RFC 7296 §3.14). The body stays opaque here:
/// decrypting it is ike-crypto's job, parsing the plaintext [`parse_payloads`]'s.
///
/// [`parse_payloads`]: crate::parse_payloads
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Encrypted {
    /// Type of the first payload inside (the SK header's Next Payload field).
    pub first_inner: PayloadType,
    /// IV | ciphertext | ICV.
    pub data: Vec<u8>,
}

/// Encrypted and Authenticated Fragment payload (RFC 7383 §2.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EncryptedFragment {
    /// 1-based fragment number.
    pub number: u16,
    /// Total Fragments of the original message (RFC 7383 §2.5).
    pub total: u16,
    /// Type of the first inner payload in fragment 1; NONE in the others.
    pub first_inner: PayloadType,
    /// IV | ciphertext | ICV.
    pub data: Vec<u8>,
}

/// A payload of a type this crate does not decode (CERT, CP, EAP, unknown types). The
/// core must reject an unknown one marked critical with UNSUPPORTED_CRITICAL_PAYLOAD and
/// skip the others (RFC 7296 §2.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownPayload {
    /// The payload type announced in the preceding Next Payload field.
    pub ty: PayloadType,
    /// The Critical bit of the generic payload header (RFC 7296 §3.2).
    pub critical: bool,
    /// The payload body after the 4-byte generic header, kept verbatim.
    pub body: Vec<u8>,
}

/// One IKEv2 payload, decoded as far as the wire format goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Payload {
    /// Security Association: the proposals, in preference order (RFC 7296 §3.3).
    Sa(Vec<Proposal>),
    /// Key Exchange (RFC 7296 §3.4).
    Ke(KeyExchange),
    /// Identification of the initiator, IDi (RFC 7296 §3.5).
    IdI(Identification),
    /// Identification of the responder, IDr (RFC 7296 §3.5).
    IdR(Identification),
    /// Authentication (RFC 7296 §3.8).
    Auth(Auth),
    /// Nonce Data, 16 to 256 bytes (RFC 7296 §3.9).
    Nonce(Vec<u8>),
    /// Notify (RFC 7296 §3.10).
    Notify(Notify),
    /// Delete (RFC 7296 §3.11).
    Delete(Delete),
    /// Vendor ID, the opaque identifier bytes (RFC 7296 §3.12).
    VendorId(Vec<u8>),
    /// Traffic selectors of the initiator, TSi (RFC 7296 §3.13).
    TsI(Vec<TrafficSelector>),
    /// Traffic selectors of the responder, TSr (RFC 7296 §3.13).
    TsR(Vec<TrafficSelector>),
    /// Encrypted and Authenticated, SK (RFC 7296 §3.14).
    Encrypted(Encrypted),
    /// Encrypted and Authenticated Fragment, SKF (RFC 7383 §2.5).
    EncryptedFragment(EncryptedFragment),
    /// Any payload type not decoded above, kept verbatim.
    Unknown(UnknownPayload),
}

impl Payload {
    /// The type that announces this payload in the preceding Next Payload field.
    pub fn payload_type(&self) -> PayloadType {
        match self {
            Payload::Sa(_) => PayloadType::SA,
            Payload::Ke(_) => PayloadType::KE,
            Payload::IdI(_) => PayloadType::IDI,
            Payload::IdR(_) => PayloadType::IDR,
            Payload::Auth(_) => PayloadType::AUTH,
            Payload::Nonce(_) => PayloadType::NONCE,
            Payload::Notify(_) => PayloadType::NOTIFY,
            Payload::Delete(_) => PayloadType::DELETE,
            Payload::VendorId(_) => PayloadType::VENDOR_ID,
            Payload::TsI(_) => PayloadType::TSI,
            Payload::TsR(_) => PayloadType::TSR,
            Payload::Encrypted(_) => PayloadType::SK,
            Payload::EncryptedFragment(_) => PayloadType::SKF,
            Payload::Unknown(u) => u.ty,
        }
    }

    /// Whether this payload ends the chain (SK or SKF): its Next Payload field names the
    /// first inner payload instead.
    pub fn is_encrypted(&self) -> bool {
        matches!(self, Payload::Encrypted(_) | Payload::EncryptedFragment(_))
    }
}

/// Decodes one payload body. `next` is the generic header's Next Payload field, which
/// for SK/SKF is the first inner payload's type.
pub(crate) fn parse_payload(
    ty: PayloadType,
    next: PayloadType,
    critical: bool,
    mut r: Reader<'_>,
) -> Result<Payload, ParseError> {
    Ok(match ty {
        PayloadType::SA => Payload::Sa(parse_sa(r)?),
        PayloadType::KE => {
            let [g0, g1, _, _] = r.array("KE payload header")?;
            Payload::Ke(KeyExchange {
                group: DhGroup(u16::from_be_bytes([g0, g1])),
                data: r.rest().to_vec(),
            })
        }
        PayloadType::IDI => Payload::IdI(Identification::parse(r, "IDi payload header")?),
        PayloadType::IDR => Payload::IdR(Identification::parse(r, "IDr payload header")?),
        PayloadType::AUTH => {
            let [method, _, _, _] = r.array("AUTH payload header")?;
            Payload::Auth(Auth {
                method: AuthMethod(method),
                data: r.rest().to_vec(),
            })
        }
        PayloadType::NONCE => Payload::Nonce(r.rest().to_vec()),
        PayloadType::NOTIFY => Payload::Notify(parse_notify(r)?),
        PayloadType::DELETE => Payload::Delete(parse_delete(r)?),
        PayloadType::VENDOR_ID => Payload::VendorId(r.rest().to_vec()),
        PayloadType::TSI => Payload::TsI(parse_ts_payload(r)?),
        PayloadType::TSR => Payload::TsR(parse_ts_payload(r)?),
        PayloadType::SK => Payload::Encrypted(Encrypted {
            first_inner: next,
            data: r.rest().to_vec(),
        }),
        PayloadType::SKF => {
            let [n0, n1, t0, t1] = r.array("SKF payload header")?;
            Payload::EncryptedFragment(EncryptedFragment {
                number: u16::from_be_bytes([n0, n1]),
                total: u16::from_be_bytes([t0, t1]),
                first_inner: next,
                data: r.rest().to_vec(),
            })
        }
        _ => Payload::Unknown(UnknownPayload {
            ty,
            critical,
            body: r.rest().to_vec(),
        }),
    })
}

fn parse_notify(mut r: Reader<'_>) -> Result<Notify, ParseError> {
    let [protocol, spi_size, t0, t1] = r.array("Notify payload header")?;
    let spi = r.bytes(usize::from(spi_size), "Notify SPI")?.to_vec();
    Ok(Notify {
        protocol: ProtocolId(protocol),
        spi,
        ty: NotifyType(u16::from_be_bytes([t0, t1])),
        data: r.rest().to_vec(),
    })
}

fn parse_delete(mut r: Reader<'_>) -> Result<Delete, ParseError> {
    let start = r.offset();
    let [protocol, spi_size, n0, n1] = r.array("Delete payload header")?;
    let count = usize::from(u16::from_be_bytes([n0, n1]));
    let size = usize::from(spi_size);
    if size == 0 && count != 0 {
        return Err(ParseError::Invalid {
            what: "Delete payload SPI count (SPI size is 0)",
            offset: start,
        });
    }
    if r.remaining() != count * size {
        return Err(ParseError::BadLength {
            what: "Delete payload SPIs",
            offset: r.offset(),
            length: r.remaining(),
        });
    }
    let spis = (0..count)
        .map(|_| r.bytes(size, "Delete SPI").map(<[u8]>::to_vec))
        .collect::<Result<_, _>>()?;
    Ok(Delete {
        protocol: ProtocolId(protocol),
        spi_size,
        spis,
    })
}

/// Appends one payload: generic header (RFC 7296 §3.2) then body, length patched in.
/// `next` is the following payload's type; SK and SKF write their first inner type.
pub(crate) fn encode_payload(p: &Payload, next: PayloadType, out: &mut Vec<u8>) {
    let start = out.len();
    let (next, flags) = match p {
        Payload::Encrypted(e) => (e.first_inner, 0),
        Payload::EncryptedFragment(f) => (f.first_inner, 0),
        Payload::Unknown(u) if u.critical => (next, CRITICAL),
        _ => (next, 0),
    };
    out.extend_from_slice(&[next.0, flags, 0, 0]);
    match p {
        Payload::Sa(proposals) => encode_sa(proposals, out),
        Payload::Ke(ke) => {
            out.extend_from_slice(&ke.group.0.to_be_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&ke.data);
        }
        Payload::IdI(id) | Payload::IdR(id) => id.encode_into(out),
        Payload::Auth(auth) => {
            out.extend_from_slice(&[auth.method.0, 0, 0, 0]);
            out.extend_from_slice(&auth.data);
        }
        Payload::Nonce(data) | Payload::VendorId(data) => out.extend_from_slice(data),
        Payload::Notify(n) => {
            out.extend_from_slice(&[n.protocol.0, sat_u8(n.spi.len())]);
            out.extend_from_slice(&n.ty.0.to_be_bytes());
            out.extend_from_slice(&n.spi);
            out.extend_from_slice(&n.data);
        }
        Payload::Delete(d) => {
            out.extend_from_slice(&[d.protocol.0, d.spi_size]);
            out.extend_from_slice(&sat_u16(d.spis.len()).to_be_bytes());
            d.spis.iter().for_each(|spi| out.extend_from_slice(spi));
        }
        Payload::TsI(ts) | Payload::TsR(ts) => encode_ts_payload(ts, out),
        Payload::Encrypted(e) => out.extend_from_slice(&e.data),
        Payload::EncryptedFragment(f) => {
            out.extend_from_slice(&f.number.to_be_bytes());
            out.extend_from_slice(&f.total.to_be_bytes());
            out.extend_from_slice(&f.data);
        }
        Payload::Unknown(u) => out.extend_from_slice(&u.body),
    }
    patch_len16(out, start, 2);
}

#[cfg(test)]
mod tests;
