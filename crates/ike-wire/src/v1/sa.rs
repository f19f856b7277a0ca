//! The SA payload body: DOI, situation, and proposal and transform payloads, each with its
//! own generic header (RFC 2408 §3.4–§3.6).
//!
//! Unlike IKEv2, an ISAKMP transform is a complete suite: its ID picks the protocol's
//! algorithm (KEY_IKE for phase 1, an ESP transform ID for phase 2) and its attributes
//! carry the rest (RFC 2409 App. A, RFC 2407 §4.5). Proposals are alternatives, except
//! that proposals sharing a number form one bundle (RFC 2408 §3.5).

use crate::codec::{patch_len16, sat_u8, Reader};
use crate::proposal::{encode_attributes, parse_attributes};
use crate::{Attribute, AttributeValue, ParseError};

use super::{doi, protocol, PayloadType, KEY_IKE};

/// A transform payload (RFC 2408 §3.6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transform {
    /// Transform number; the responder's SA names the chosen one by it.
    pub number: u8,
    /// [`KEY_IKE`] in phase 1, an [`esp_transform`](super::esp_transform) ID in phase 2.
    pub id: u8,
    /// SA attributes (RFC 2408 §3.3), classes from [`ike_attr`](super::ike_attr) or
    /// [`ipsec_attr`](super::ipsec_attr).
    pub attributes: Vec<Attribute>,
}

impl Transform {
    /// A transform without attributes.
    pub fn new(number: u8, id: u8) -> Self {
        Transform {
            number,
            id,
            attributes: Vec::new(),
        }
    }

    /// A phase 1 transform (ID KEY_IKE).
    pub fn ike(number: u8) -> Self {
        Transform::new(number, KEY_IKE)
    }

    /// Adds an attribute holding a number: TV form when it fits in 16 bits, else TLV with
    /// 4 bytes. RFC 2409 App. A lets a variable-length class (life duration) use TV
    /// when its value fits.
    pub fn with(mut self, class: u16, value: u32) -> Self {
        let value = match u16::try_from(value) {
            Ok(v) => AttributeValue::Short(v),
            Err(_) => AttributeValue::Long(value.to_be_bytes().to_vec()),
        };
        self.attributes.push(Attribute { ty: class, value });
        self
    }

    /// The first attribute of `class`.
    pub fn attribute(&self, class: u16) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.ty == class)
    }

    /// The value of the first attribute of `class` as a number: a TV value, or a TLV value
    /// of any length whose big-endian value fits in a `u32` (a life duration may come as
    /// 4 or 8 bytes). `None` if absent or too large.
    pub fn attr(&self, class: u16) -> Option<u32> {
        match &self.attribute(class)?.value {
            AttributeValue::Short(v) => Some(u32::from(*v)),
            AttributeValue::Long(bytes) => {
                let significant = bytes
                    .iter()
                    .position(|b| *b != 0)
                    .map_or(&[][..], |i| &bytes[i..]);
                (significant.len() <= 4).then(|| {
                    significant
                        .iter()
                        .fold(0u32, |acc, b| acc << 8 | u32::from(*b))
                })
            }
        }
    }
}

/// A proposal payload (RFC 2408 §3.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Proposal #: proposals sharing a number are ANDed, e.g. ESP with AH (RFC 2408 §3.5).
    pub number: u8,
    /// A [`protocol`](super::protocol) ID.
    pub protocol: u8,
    /// Empty in phase 1 (the cookies name the ISAKMP SA); the inbound SPI, 4 bytes, for
    /// ESP and AH.
    pub spi: Vec<u8>,
    /// Alternatives, most preferred first.
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// Proposal 1 for the ISAKMP SA: no SPI.
    pub fn isakmp(transforms: Vec<Transform>) -> Self {
        Proposal {
            number: 1,
            protocol: protocol::ISAKMP,
            spi: Vec::new(),
            transforms,
        }
    }

    /// Proposal 1 for an ESP SA whose inbound SPI is `spi`.
    pub fn esp(spi: u32, transforms: Vec<Transform>) -> Self {
        Proposal {
            number: 1,
            protocol: protocol::IPSEC_ESP,
            spi: spi.to_be_bytes().to_vec(),
            transforms,
        }
    }

    /// The SPI as a number, if it is the 4 bytes of an ESP or AH SPI.
    pub fn spi_u32(&self) -> Option<u32> {
        <[u8; 4]>::try_from(self.spi.as_slice())
            .ok()
            .map(u32::from_be_bytes)
    }
}

/// An SA payload body (RFC 2408 §3.4). The situation is read as the IPsec DOI's 32-bit
/// bitmap (RFC 2407 §4.6.1); the labelled-domain data that SIT_SECRECY / SIT_INTEGRITY
/// would add is not supported (it would not parse as proposals).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sa {
    /// Domain of Interpretation: a [`doi`](super::doi) value, IPSEC for IKE.
    pub doi: u32,
    /// Situation bitmap: SIT_IDENTITY_ONLY for IKE (RFC 2407 §4.6.1).
    pub situation: u32,
    /// The proposals, most preferred first.
    pub proposals: Vec<Proposal>,
}

impl Sa {
    /// An IPsec DOI SA with situation SIT_IDENTITY_ONLY, as IKE sends (RFC 2407 §4.6.1).
    pub fn ipsec(proposals: Vec<Proposal>) -> Self {
        Sa {
            doi: doi::IPSEC,
            situation: doi::SIT_IDENTITY_ONLY,
            proposals,
        }
    }

    /// The body as it goes on the wire: SAi_b, which HASH_I and HASH_R cover (RFC 2409 §5).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    pub(crate) fn parse(mut r: Reader<'_>) -> Result<Sa, ParseError> {
        let doi = u32::from_be_bytes(r.array("SA DOI")?);
        let situation = u32::from_be_bytes(r.array("SA situation")?);
        let mut proposals = Vec::new();
        while !r.is_empty() {
            let (next, body, start) = substructure(&mut r, "proposal")?;
            proposals.push(parse_proposal(body, start)?);
            check_next(
                next,
                PayloadType::PROPOSAL,
                !r.is_empty(),
                "proposal Next Payload",
                start,
            )?;
        }
        Ok(Sa {
            doi,
            situation,
            proposals,
        })
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.doi.to_be_bytes());
        out.extend_from_slice(&self.situation.to_be_bytes());
        for (i, p) in self.proposals.iter().enumerate() {
            let start = out.len();
            let next = if i + 1 == self.proposals.len() {
                PayloadType::NONE
            } else {
                PayloadType::PROPOSAL
            };
            out.extend_from_slice(&[next.0, 0, 0, 0, p.number, p.protocol, sat_u8(p.spi.len())]);
            out.push(sat_u8(p.transforms.len()));
            out.extend_from_slice(&p.spi);
            for (j, t) in p.transforms.iter().enumerate() {
                let start = out.len();
                let next = if j + 1 == p.transforms.len() {
                    PayloadType::NONE
                } else {
                    PayloadType::TRANSFORM
                };
                out.extend_from_slice(&[next.0, 0, 0, 0, t.number, t.id, 0, 0]);
                encode_attributes(&t.attributes, out);
                patch_len16(out, start, 2);
            }
            patch_len16(out, start, 2);
        }
    }
}

/// Reads one proposal or transform generic header and returns its Next Payload, its body
/// (after the 4-byte header) and its offset.
fn substructure<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
) -> Result<(PayloadType, Reader<'a>, usize), ParseError> {
    let start = r.offset();
    let [next, _, l0, l1] = r.array(what)?;
    let length = usize::from(u16::from_be_bytes([l0, l1]));
    let body_len = length.checked_sub(4).ok_or(ParseError::BadLength {
        what,
        offset: start,
        length,
    })?;
    Ok((PayloadType(next), r.sub(body_len, what)?, start))
}

/// A proposal or transform is followed by one of its kind (Next Payload PROPOSAL or
/// TRANSFORM) or is the last (NONE) (RFC 2408 §3.5, §3.6).
fn check_next(
    next: PayloadType,
    more_value: PayloadType,
    more: bool,
    what: &'static str,
    offset: usize,
) -> Result<(), ParseError> {
    match (next, more) {
        (PayloadType::NONE, false) => Ok(()),
        (n, true) if n == more_value => Ok(()),
        _ => Err(ParseError::Invalid { what, offset }),
    }
}

fn parse_proposal(mut r: Reader<'_>, start: usize) -> Result<Proposal, ParseError> {
    let [number, protocol, spi_size, declared] = r.array("proposal header")?;
    let spi = r.bytes(usize::from(spi_size), "proposal SPI")?.to_vec();
    let mut transforms = Vec::with_capacity(usize::from(declared));
    while !r.is_empty() {
        let (next, mut body, t_start) = substructure(&mut r, "transform")?;
        let [number, id, _, _] = body.array("transform header")?;
        transforms.push(Transform {
            number,
            id,
            attributes: parse_attributes(body)?,
        });
        check_next(
            next,
            PayloadType::TRANSFORM,
            !r.is_empty(),
            "transform Next Payload",
            t_start,
        )?;
    }
    if transforms.len() != usize::from(declared) {
        return Err(ParseError::CountMismatch {
            what: "transforms in proposal",
            offset: start,
            declared: usize::from(declared),
            found: transforms.len(),
        });
    }
    Ok(Proposal {
        number,
        protocol,
        spi,
        transforms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{ike_attr, ipsec_attr};

    #[test]
    fn with_picks_tv_or_tlv() {
        let t = Transform::ike(1)
            .with(ike_attr::LIFE_DURATION, 28_800)
            .with(ike_attr::LIFE_DURATION + 100, 86_400 * 7);
        assert_eq!(t.attributes[0].value, AttributeValue::Short(28_800));
        assert_eq!(
            t.attributes[1].value,
            AttributeValue::Long(vec![0, 9, 0x3a, 0x80])
        );
        assert_eq!(t.attr(ike_attr::LIFE_DURATION), Some(28_800));
        assert_eq!(t.attr(ike_attr::LIFE_DURATION + 100), Some(604_800));
        assert_eq!(t.attr(ike_attr::KEY_LENGTH), None);
    }

    #[test]
    fn attr_reads_long_values_of_any_width() {
        let mut t = Transform::new(1, 12);
        let long = |b: &[u8]| AttributeValue::Long(b.to_vec());
        t.attributes.push(Attribute {
            ty: ipsec_attr::SA_LIFE_DURATION,
            value: long(&[0, 0, 0, 0, 0, 0, 0x0e, 0x10]),
        });
        t.attributes.push(Attribute {
            ty: ipsec_attr::KEY_ROUNDS,
            value: long(&[1, 0, 0, 0, 0]),
        });
        t.attributes.push(Attribute {
            ty: ipsec_attr::KEY_LENGTH,
            value: long(&[]),
        });
        assert_eq!(t.attr(ipsec_attr::SA_LIFE_DURATION), Some(3600));
        assert_eq!(t.attr(ipsec_attr::KEY_ROUNDS), None);
        assert_eq!(t.attr(ipsec_attr::KEY_LENGTH), Some(0));
    }

    #[test]
    fn esp_proposal_spi() {
        let p = Proposal::esp(0xc0ff_ee00, vec![]);
        assert_eq!(p.spi, [0xc0, 0xff, 0xee, 0]);
        assert_eq!(p.spi_u32(), Some(0xc0ff_ee00));
        assert_eq!(Proposal::isakmp(vec![]).spi_u32(), None);
    }
}
