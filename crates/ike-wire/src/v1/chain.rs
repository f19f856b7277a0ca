//! Payload chains: the generic payload headers (RFC 2408 §3.2) linking the payloads of a
//! message or of a decrypted body.

use crate::codec::{patch_len16, sat_u32, Reader};
use crate::ParseError;

use super::{Header, Payload, PayloadType, HEADER_LEN};

/// Size of the generic payload header (RFC 2408 §3.2).
const GENERIC_HEADER_LEN: usize = 4;

/// Parses a payload chain whose first payload has type `first` (the header's Next
/// Payload). Made for decrypted bodies: the CBC padding that follows the last payload
/// (RFC 2409 §5.3) is ignored, so once a Next Payload of NONE ends the chain any bytes
/// left are skipped. Everything inside the chain is checked.
pub fn parse_payloads(first: PayloadType, data: &[u8]) -> Result<Vec<Payload>, ParseError> {
    parse_chain(first, data, 0).map(|(payloads, _)| payloads)
}

/// Parses a chain at offset `base` of the caller's buffer; returns the payloads and the
/// number of bytes the chain covers (anything after that is padding or trailing data).
pub(crate) fn parse_chain(
    first: PayloadType,
    data: &[u8],
    base: usize,
) -> Result<(Vec<Payload>, usize), ParseError> {
    let mut r = Reader::new(data, base);
    let mut payloads = Vec::new();
    let mut ty = first;
    while ty != PayloadType::NONE {
        let (next, body, offset) = generic(&mut r)?;
        payloads.push(Payload::parse(ty, offset, body)?);
        ty = next;
    }
    Ok((payloads, data.len() - r.remaining()))
}

/// Reads a generic payload header and returns Next Payload, the body and its offset.
fn generic<'a>(r: &mut Reader<'a>) -> Result<(PayloadType, Reader<'a>, usize), ParseError> {
    let offset = r.offset();
    let [next, _, l0, l1] = r.array("generic payload header")?;
    let length = usize::from(u16::from_be_bytes([l0, l1]));
    let body_len = length
        .checked_sub(GENERIC_HEADER_LEN)
        .ok_or(ParseError::BadLength {
            what: "payload",
            offset,
            length,
        })?;
    Ok((PayloadType(next), r.sub(body_len, "payload body")?, offset))
}

/// The raw bytes of every payload after the first, up to the end of the chain (padding
/// excluded): what quick mode's HASH(1)/HASH(2) and an informational exchange's HASH(1)
/// cover when the HASH payload comes first (RFC 2409 §5.5, §5.7). Reading them from the
/// received bytes rather than re-encoding keeps the check exact even for payloads sent
/// with non-zero RESERVED bytes.
pub fn payloads_after_first(first: PayloadType, data: &[u8]) -> Result<&[u8], ParseError> {
    let (_, end) = parse_chain(first, data, 0)?;
    if first == PayloadType::NONE {
        return Ok(&[]);
    }
    let mut r = Reader::new(data, 0);
    generic(&mut r)?;
    let start = data.len() - r.remaining();
    Ok(data.get(start..end).unwrap_or_default())
}

/// Encodes a payload chain, computing every Next Payload and Payload Length field. Returns
/// the first payload's type (NONE for an empty chain) for the header's Next Payload. Used
/// for a message's plaintext before encryption, and for the payloads after a HASH that the
/// HASH covers.
pub fn encode_payloads(payloads: &[Payload]) -> (PayloadType, Vec<u8>) {
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let next = payloads
            .get(i + 1)
            .map_or(PayloadType::NONE, Payload::payload_type);
        let start = out.len();
        out.extend_from_slice(&[next.0, 0, 0, 0]);
        p.encode_body(&mut out);
        patch_len16(&mut out, start, 2);
    }
    (
        payloads
            .first()
            .map_or(PayloadType::NONE, Payload::payload_type),
        out,
    )
}

/// The header of a message whose body is `body_len` bytes: Next Payload = `first`, Length
/// = 28 + `body_len`, everything else from `header`. For an encrypted message the core pads
/// and encrypts the chain itself, then appends the ciphertext to these bytes.
pub fn encode_header_for(header: &Header, first: PayloadType, body_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    Header {
        next_payload: first,
        length: sat_u32(HEADER_LEN.saturating_add(body_len)),
        ..*header
    }
    .encode_into(&mut out);
    out
}
