//! The SA payload body: proposals, transforms and transform attributes (RFC 7296 §3.3).

use crate::codec::{patch_len16, sat_u16, sat_u8, Reader};
use crate::{DhGroup, EncrId, EsnId, IntegId, ParseError, PrfId, ProtocolId, TransformType};

/// "Last Substruc" of a proposal that is followed by another (RFC 7296 §3.3.1).
const MORE_PROPOSALS: u8 = 2;
/// "Last Substruc" of a transform that is followed by another (RFC 7296 §3.3.2).
const MORE_TRANSFORMS: u8 = 3;
/// Attribute Format bit: set for the 2-byte TV form (RFC 7296 §3.3.5).
const AF_BIT: u16 = 0x8000;

/// A transform attribute (RFC 7296 §3.3.5). IKEv2 defines only Key Length (type 14), but
/// the TLV form is kept so any attribute survives a round trip.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// Attribute type without the AF bit (so below 0x8000).
    pub ty: u16,
    /// The value, in whichever form it arrived or is to be sent.
    pub value: AttributeValue,
}

/// The two attribute encodings, chosen on the wire by the AF bit (RFC 7296 §3.3.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AttributeValue {
    /// TV form (AF = 1): a 2-byte value in place of the length.
    Short(u16),
    /// TLV form (AF = 0): a 2-byte length, then the value.
    Long(Vec<u8>),
}

impl Attribute {
    /// Key Length in bits, for ciphers with a variable key size (RFC 7296 §3.3.5).
    pub const KEY_LENGTH: u16 = 14;
}

/// One algorithm choice inside a proposal (RFC 7296 §3.3.2). The ID is a raw `u16`
/// because its registry depends on `ty`; the typed constructors and accessors pick it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transform {
    /// Transform Type: what this transform negotiates (encryption, PRF, integrity, DH, ESN).
    pub ty: TransformType,
    /// Transform ID, in the registry of `ty` ([`EncrId`], [`PrfId`], [`IntegId`], [`DhGroup`],
    /// [`EsnId`]).
    pub id: u16,
    /// Transform attributes; in practice only Key Length (RFC 7296 §3.3.5).
    pub attributes: Vec<Attribute>,
}

impl Transform {
    /// A transform without attributes.
    pub fn new(ty: TransformType, id: u16) -> Self {
        Transform {
            ty,
            id,
            attributes: Vec::new(),
        }
    }

    /// A transform with a Key Length attribute, as AES requires (RFC 7296 §3.3.5).
    pub fn with_key_length(ty: TransformType, id: u16, bits: u16) -> Self {
        Transform {
            ty,
            id,
            attributes: vec![Attribute {
                ty: Attribute::KEY_LENGTH,
                value: AttributeValue::Short(bits),
            }],
        }
    }

    /// An encryption transform, with the key length if the cipher takes one.
    pub fn encr(id: EncrId, key_bits: Option<u16>) -> Self {
        match key_bits {
            Some(bits) => Transform::with_key_length(TransformType::ENCR, id.0, bits),
            None => Transform::new(TransformType::ENCR, id.0),
        }
    }

    /// A pseudorandom function transform.
    pub fn prf(id: PrfId) -> Self {
        Transform::new(TransformType::PRF, id.0)
    }

    /// An integrity transform.
    pub fn integ(id: IntegId) -> Self {
        Transform::new(TransformType::INTEG, id.0)
    }

    /// A Diffie-Hellman group transform.
    pub fn dh(group: DhGroup) -> Self {
        Transform::new(TransformType::DH, group.0)
    }

    /// An extended sequence numbers transform.
    pub fn esn(id: EsnId) -> Self {
        Transform::new(TransformType::ESN, id.0)
    }

    /// The Key Length attribute (type 14, TV form), if present.
    pub fn key_length(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a.value {
            AttributeValue::Short(bits) if a.ty == Attribute::KEY_LENGTH => Some(bits),
            _ => None,
        })
    }
}

/// One proposal of an SA payload: a protocol, its SPI and the acceptable transforms
/// (RFC 7296 §3.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Proposal number: 1 for the first, same or +1 for each next (RFC 7296 §3.3.1).
    pub number: u8,
    /// Protocol ID: the kind of SA proposed (IKE, AH or ESP).
    pub protocol: ProtocolId,
    /// Empty for an initial IKE SA negotiation, 8 bytes when rekeying one, 4 for AH/ESP.
    pub spi: Vec<u8>,
    /// The transforms: the responder picks one of each type (RFC 7296 §3.3).
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// The transforms of one type, in the order proposed.
    pub fn transforms_of(&self, ty: TransformType) -> impl Iterator<Item = &Transform> + '_ {
        self.transforms.iter().filter(move |t| t.ty == ty)
    }
}

/// Checks a "Last Substruc" value against whether another substructure follows.
fn check_last(
    last: u8,
    more_value: u8,
    more: bool,
    what: &'static str,
    offset: usize,
) -> Result<(), ParseError> {
    match (last, more) {
        (0, false) => Ok(()),
        (l, true) if l == more_value => Ok(()),
        _ => Err(ParseError::Invalid { what, offset }),
    }
}

/// Parses an SA payload body: proposals until the body ends.
pub(crate) fn parse_sa(mut r: Reader<'_>) -> Result<Vec<Proposal>, ParseError> {
    let mut proposals = Vec::new();
    while !r.is_empty() {
        let start = r.offset();
        let [last, _, l0, l1, number, protocol, spi_size, num_transforms] =
            r.array("proposal header")?;
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        let body_len =
            length
                .checked_sub(8 + usize::from(spi_size))
                .ok_or(ParseError::BadLength {
                    what: "proposal",
                    offset: start,
                    length,
                })?;
        let spi = r.bytes(usize::from(spi_size), "proposal SPI")?.to_vec();
        let body = r.sub(body_len, "proposal transforms")?;
        let transforms = parse_transforms(body, usize::from(num_transforms), start)?;
        check_last(
            last,
            MORE_PROPOSALS,
            !r.is_empty(),
            "proposal Last Substruc",
            start,
        )?;
        proposals.push(Proposal {
            number,
            protocol: ProtocolId(protocol),
            spi,
            transforms,
        });
    }
    Ok(proposals)
}

fn parse_transforms(
    mut r: Reader<'_>,
    declared: usize,
    proposal_offset: usize,
) -> Result<Vec<Transform>, ParseError> {
    let mut transforms = Vec::with_capacity(declared);
    while !r.is_empty() {
        let start = r.offset();
        let [last, _, l0, l1, ty, _, id0, id1] = r.array("transform header")?;
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        let attr_len = length.checked_sub(8).ok_or(ParseError::BadLength {
            what: "transform",
            offset: start,
            length,
        })?;
        let attributes = parse_attributes(r.sub(attr_len, "transform attributes")?)?;
        check_last(
            last,
            MORE_TRANSFORMS,
            !r.is_empty(),
            "transform Last Substruc",
            start,
        )?;
        transforms.push(Transform {
            ty: TransformType(ty),
            id: u16::from_be_bytes([id0, id1]),
            attributes,
        });
    }
    if transforms.len() != declared {
        return Err(ParseError::CountMismatch {
            what: "transforms in proposal",
            offset: proposal_offset,
            declared,
            found: transforms.len(),
        });
    }
    Ok(transforms)
}

/// Parses a run of transform attributes, TV or TLV by the AF bit (RFC 7296 §3.3.5; the
/// same encoding as ISAKMP's data attributes, RFC 2408 §3.3).
pub(crate) fn parse_attributes(mut r: Reader<'_>) -> Result<Vec<Attribute>, ParseError> {
    let mut attributes = Vec::new();
    while !r.is_empty() {
        let [t0, t1, v0, v1] = r.array("transform attribute")?;
        let ty = u16::from_be_bytes([t0, t1]);
        let second = u16::from_be_bytes([v0, v1]);
        let value = if ty & AF_BIT != 0 {
            AttributeValue::Short(second)
        } else {
            AttributeValue::Long(r.bytes(usize::from(second), "attribute value")?.to_vec())
        };
        attributes.push(Attribute {
            ty: ty & !AF_BIT,
            value,
        });
    }
    Ok(attributes)
}

/// Appends an SA payload body.
pub(crate) fn encode_sa(proposals: &[Proposal], out: &mut Vec<u8>) {
    for (i, p) in proposals.iter().enumerate() {
        let start = out.len();
        let last = if i + 1 == proposals.len() {
            0
        } else {
            MORE_PROPOSALS
        };
        out.extend_from_slice(&[
            last,
            0,
            0,
            0,
            p.number,
            p.protocol.0,
            sat_u8(p.spi.len()),
            sat_u8(p.transforms.len()),
        ]);
        out.extend_from_slice(&p.spi);
        for (j, t) in p.transforms.iter().enumerate() {
            let last = if j + 1 == p.transforms.len() {
                0
            } else {
                MORE_TRANSFORMS
            };
            encode_transform(t, last, out);
        }
        patch_len16(out, start, 2);
    }
}

fn encode_transform(t: &Transform, last: u8, out: &mut Vec<u8>) {
    let start = out.len();
    let [id0, id1] = t.id.to_be_bytes();
    out.extend_from_slice(&[last, 0, 0, 0, t.ty.0, 0, id0, id1]);
    encode_attributes(&t.attributes, out);
    patch_len16(out, start, 2);
}

/// Appends attributes, each in the form its value names (TV for `Short`, TLV for `Long`).
pub(crate) fn encode_attributes(attributes: &[Attribute], out: &mut Vec<u8>) {
    for a in attributes {
        match &a.value {
            AttributeValue::Short(v) => {
                out.extend_from_slice(&(a.ty | AF_BIT).to_be_bytes());
                out.extend_from_slice(&v.to_be_bytes());
            }
            AttributeValue::Long(v) => {
                out.extend_from_slice(&(a.ty & !AF_BIT).to_be_bytes());
                out.extend_from_slice(&sat_u16(v.len()).to_be_bytes());
                out.extend_from_slice(v);
            }
        }
    }
}

#[cfg(test)]
mod tests;
