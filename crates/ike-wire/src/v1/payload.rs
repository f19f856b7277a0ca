//! ISAKMP payloads (RFC 2408 §3.4–§3.16, RFC 3947 §3.2/§5.2) and their bodies.

use crate::codec::{sat_u16, sat_u8, Reader};
use crate::ParseError;

use super::{doi, protocol, Id, NotifyType, PayloadType, Sa};

/// A notification payload (RFC 2408 §3.14).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Notification {
    /// Domain of Interpretation: a [`doi`](super::doi) value, IPSEC for IKE (RFC 2408 §3.14).
    pub doi: u32,
    /// A [`protocol`](super::protocol) ID: ISAKMP for the ISAKMP SA, ESP/AH for an IPsec SA.
    pub protocol: u8,
    /// Empty, a 4-byte IPsec SPI, or CKY-I | CKY-R (16 bytes) for the ISAKMP SA.
    pub spi: Vec<u8>,
    /// Notify Message Type: what is reported (RFC 2408 §3.14.1).
    pub ty: NotifyType,
    /// Notification Data, whose meaning depends on the type.
    pub data: Vec<u8>,
}

impl Notification {
    /// An IPsec DOI notification.
    pub fn new(ty: NotifyType, protocol: u8, spi: Vec<u8>, data: Vec<u8>) -> Self {
        Notification {
            doi: doi::IPSEC,
            protocol,
            spi,
            ty,
            data,
        }
    }

    /// R-U-THERE (RFC 3706 §5.1): about the ISAKMP SA, SPI = CKY-I | CKY-R, data = the
    /// 4-byte sequence number.
    pub fn r_u_there(cky_i: u64, cky_r: u64, sequence: u32) -> Self {
        Notification::dpd(NotifyType::R_U_THERE, cky_i, cky_r, sequence)
    }

    /// R-U-THERE-ACK (RFC 3706 §5.1), echoing the request's sequence number.
    pub fn r_u_there_ack(cky_i: u64, cky_r: u64, sequence: u32) -> Self {
        Notification::dpd(NotifyType::R_U_THERE_ACK, cky_i, cky_r, sequence)
    }

    /// INITIAL-CONTACT (RFC 2407 §4.6.3.3): about the new ISAKMP SA (SPI = CKY-I | CKY-R);
    /// every other SA with the sender is stale.
    pub fn initial_contact(cky_i: u64, cky_r: u64) -> Self {
        Notification::new(
            NotifyType::INITIAL_CONTACT,
            protocol::ISAKMP,
            cookies(cky_i, cky_r),
            Vec::new(),
        )
    }

    fn dpd(ty: NotifyType, cky_i: u64, cky_r: u64, sequence: u32) -> Self {
        Notification::new(
            ty,
            protocol::ISAKMP,
            cookies(cky_i, cky_r),
            sequence.to_be_bytes().to_vec(),
        )
    }

    /// The sequence number of an R-U-THERE / R-U-THERE-ACK with 4 bytes of data.
    pub fn dpd_sequence(&self) -> Option<u32> {
        if !self.ty.is_dpd() {
            return None;
        }
        <[u8; 4]>::try_from(self.data.as_slice())
            .ok()
            .map(u32::from_be_bytes)
    }

    /// The cookies of a 16-byte ISAKMP SA SPI.
    pub fn cookies(&self) -> Option<(u64, u64)> {
        split_cookies(&self.spi)
    }
}

/// A delete payload (RFC 2408 §3.15).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Delete {
    /// Domain of Interpretation: a [`doi`](super::doi) value, IPSEC for IKE (RFC 2408 §3.15).
    pub doi: u32,
    /// A [`protocol`](super::protocol) ID: the kind of the deleted SAs.
    pub protocol: u8,
    /// 16 for the ISAKMP SA (CKY-I | CKY-R), 4 for ESP/AH. Every entry of `spis` must have
    /// this length.
    pub spi_size: u8,
    /// The SPIs of the deleted SAs, as the sender receives on them.
    pub spis: Vec<Vec<u8>>,
}

impl Delete {
    /// Deletes the ISAKMP SA named by its cookies (RFC 2408 §3.15).
    pub fn isakmp(cky_i: u64, cky_r: u64) -> Self {
        Delete {
            doi: doi::IPSEC,
            protocol: protocol::ISAKMP,
            spi_size: 16,
            spis: vec![cookies(cky_i, cky_r)],
        }
    }

    /// Deletes ESP SAs by the SPIs the sender receives on (RFC 2408 §3.15).
    pub fn esp(spis: impl IntoIterator<Item = u32>) -> Self {
        Delete {
            doi: doi::IPSEC,
            protocol: protocol::IPSEC_ESP,
            spi_size: 4,
            spis: spis.into_iter().map(|s| s.to_be_bytes().to_vec()).collect(),
        }
    }

    /// The SPIs as numbers, when they are 4 bytes each.
    pub fn spis_u32(&self) -> impl Iterator<Item = u32> + '_ {
        self.spis.iter().filter_map(|s| {
            <[u8; 4]>::try_from(s.as_slice())
                .ok()
                .map(u32::from_be_bytes)
        })
    }

    /// The cookies of an ISAKMP SA delete (16-byte SPI).
    pub fn cookies(&self) -> Option<(u64, u64)> {
        self.spis.first().and_then(|s| split_cookies(s))
    }
}

/// CKY-I | CKY-R, the 16-byte "SPI" of an ISAKMP SA (RFC 2408 §2.4).
fn cookies(cky_i: u64, cky_r: u64) -> Vec<u8> {
    let mut spi = cky_i.to_be_bytes().to_vec();
    spi.extend_from_slice(&cky_r.to_be_bytes());
    spi
}

fn split_cookies(spi: &[u8]) -> Option<(u64, u64)> {
    let spi = <[u8; 16]>::try_from(spi).ok()?;
    let (i, r) = spi.split_at(8);
    Some((
        u64::from_be_bytes(i.try_into().ok()?),
        u64::from_be_bytes(r.try_into().ok()?),
    ))
}

/// One ISAKMP payload, decoded as far as the wire format goes. Payloads IKE carries as
/// opaque bytes (KE, HASH, nonce, vendor ID, NAT-D, NAT-OA) are their bodies.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Payload {
    /// Security Association (RFC 2408 §3.4).
    Sa(Sa),
    /// Key Exchange Data: the Diffie-Hellman public value (RFC 2408 §3.7).
    Ke(Vec<u8>),
    /// Identification (RFC 2408 §3.8, RFC 2407 §4.6.2).
    Id(Id),
    /// Hash Data: HASH_I, HASH_R or a quick mode / informational HASH (RFC 2409 §5).
    Hash(Vec<u8>),
    /// Nonce Data (RFC 2408 §3.13).
    Nonce(Vec<u8>),
    /// Notification (RFC 2408 §3.14).
    Notification(Notification),
    /// Delete (RFC 2408 §3.15).
    Delete(Delete),
    /// Vendor ID: the opaque identifier bytes, e.g. DPD's (RFC 2408 §3.16, RFC 3706 §5.1).
    VendorId(Vec<u8>),
    /// NAT-D (RFC 3947 §3.2): parsed from type 20 and the draft's 130, encoded as 20.
    NatD(Vec<u8>),
    /// NAT-OA (RFC 3947 §5.2), type 21. The draft's 131 stays [`Payload::Unknown`] so that
    /// a quick mode HASH over it still matches the re-encoded bytes.
    NatOa(Vec<u8>),
    /// Any other type (CERT, CR, SIG, FRAGMENT, …). `ty` must not be NONE, PROPOSAL or
    /// TRANSFORM: those cannot head a payload.
    Unknown {
        /// The type announced in the preceding Next Payload field.
        ty: PayloadType,
        /// The payload body after the 4-byte generic header, kept verbatim.
        body: Vec<u8>,
    },
}

impl Payload {
    /// The type that announces this payload in the preceding Next Payload field.
    pub fn payload_type(&self) -> PayloadType {
        match self {
            Payload::Sa(_) => PayloadType::SA,
            Payload::Ke(_) => PayloadType::KE,
            Payload::Id(_) => PayloadType::ID,
            Payload::Hash(_) => PayloadType::HASH,
            Payload::Nonce(_) => PayloadType::NONCE,
            Payload::Notification(_) => PayloadType::NOTIFICATION,
            Payload::Delete(_) => PayloadType::DELETE,
            Payload::VendorId(_) => PayloadType::VENDOR_ID,
            Payload::NatD(_) => PayloadType::NAT_D,
            Payload::NatOa(_) => PayloadType::NAT_OA,
            Payload::Unknown { ty, .. } => *ty,
        }
    }

    /// The payload without its 4-byte generic header: what RFC 2409 §5 calls SAi_b and
    /// IDii_b when HASH_I / HASH_R cover an SA or ID payload.
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_body(&mut out);
        out
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Sa(sa) => sa.encode_into(out),
            Payload::Id(id) => id.encode_into(out),
            Payload::Notification(n) => {
                out.extend_from_slice(&n.doi.to_be_bytes());
                out.extend_from_slice(&[n.protocol, sat_u8(n.spi.len())]);
                out.extend_from_slice(&n.ty.0.to_be_bytes());
                out.extend_from_slice(&n.spi);
                out.extend_from_slice(&n.data);
            }
            Payload::Delete(d) => {
                out.extend_from_slice(&d.doi.to_be_bytes());
                out.extend_from_slice(&[d.protocol, d.spi_size]);
                out.extend_from_slice(&sat_u16(d.spis.len()).to_be_bytes());
                d.spis.iter().for_each(|spi| out.extend_from_slice(spi));
            }
            Payload::Ke(data)
            | Payload::Hash(data)
            | Payload::Nonce(data)
            | Payload::VendorId(data)
            | Payload::NatD(data)
            | Payload::NatOa(data)
            | Payload::Unknown { body: data, .. } => out.extend_from_slice(data),
        }
    }

    /// Decodes one payload body of type `ty`.
    pub(crate) fn parse(
        ty: PayloadType,
        offset: usize,
        mut r: Reader<'_>,
    ) -> Result<Payload, ParseError> {
        Ok(match ty {
            PayloadType::SA => Payload::Sa(Sa::parse(r)?),
            PayloadType::KE => Payload::Ke(r.rest().to_vec()),
            PayloadType::ID => Payload::Id(Id::parse(r)?),
            PayloadType::HASH => Payload::Hash(r.rest().to_vec()),
            PayloadType::NONCE => Payload::Nonce(r.rest().to_vec()),
            PayloadType::NOTIFICATION => Payload::Notification(parse_notification(r)?),
            PayloadType::DELETE => Payload::Delete(parse_delete(r)?),
            PayloadType::VENDOR_ID => Payload::VendorId(r.rest().to_vec()),
            PayloadType::NAT_D | PayloadType::NAT_D_DRAFT => Payload::NatD(r.rest().to_vec()),
            PayloadType::NAT_OA => Payload::NatOa(r.rest().to_vec()),
            PayloadType::PROPOSAL | PayloadType::TRANSFORM => {
                return Err(ParseError::Invalid {
                    what: "payload type (proposal/transform outside an SA)",
                    offset,
                })
            }
            _ => Payload::Unknown {
                ty,
                body: r.rest().to_vec(),
            },
        })
    }
}

fn parse_notification(mut r: Reader<'_>) -> Result<Notification, ParseError> {
    let doi = u32::from_be_bytes(r.array("notification DOI")?);
    let [protocol, spi_size, t0, t1] = r.array("notification header")?;
    let spi = r.bytes(usize::from(spi_size), "notification SPI")?.to_vec();
    Ok(Notification {
        doi,
        protocol,
        spi,
        ty: NotifyType(u16::from_be_bytes([t0, t1])),
        data: r.rest().to_vec(),
    })
}

fn parse_delete(mut r: Reader<'_>) -> Result<Delete, ParseError> {
    let start = r.offset();
    let doi = u32::from_be_bytes(r.array("delete DOI")?);
    let [protocol, spi_size, n0, n1] = r.array("delete header")?;
    let count = usize::from(u16::from_be_bytes([n0, n1]));
    let size = usize::from(spi_size);
    if size == 0 && count != 0 {
        return Err(ParseError::Invalid {
            what: "delete SPI count (SPI size is 0)",
            offset: start,
        });
    }
    if Some(r.remaining()) != count.checked_mul(size) {
        return Err(ParseError::BadLength {
            what: "delete SPIs",
            offset: r.offset(),
            length: r.remaining(),
        });
    }
    let spis = (0..count)
        .map(|_| r.bytes(size, "delete SPI").map(<[u8]>::to_vec))
        .collect::<Result<_, _>>()?;
    Ok(Delete {
        doi,
        protocol,
        spi_size,
        spis,
    })
}
