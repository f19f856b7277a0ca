//! Payload chains: the linked list of generic payload headers (RFC 7296 §3.2) that
//! follows the IKE header, or fills a decrypted SK payload (§3.14).

use crate::codec::{sat_u16, sat_u32, Reader};
use crate::header::{Header, HEADER_LEN};
use crate::payload::{encode_payload, parse_payload};
use crate::{ParseError, Payload, PayloadType};

/// Size of the generic payload header (RFC 7296 §3.2).
const GENERIC_HEADER_LEN: usize = 4;

/// Parses a payload chain whose first payload has type `first`: the plaintext of an SK
/// payload (RFC 7296 §3.14), or a message's payloads after the header. The chain must
/// cover `data` exactly; an SK/SKF payload ends it and must be last.
pub fn parse_payloads(first: PayloadType, data: &[u8]) -> Result<Vec<Payload>, ParseError> {
    parse_chain(first, data, 0)
}

/// As [`parse_payloads`], reporting offsets relative to `base`.
pub(crate) fn parse_chain(
    first: PayloadType,
    data: &[u8],
    base: usize,
) -> Result<Vec<Payload>, ParseError> {
    let mut r = Reader::new(data, base);
    let mut payloads = Vec::new();
    let mut ty = first;
    while ty != PayloadType::NONE {
        let offset = r.offset();
        let [next, flags, l0, l1] = r.array("generic payload header")?;
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        let body_len = length
            .checked_sub(GENERIC_HEADER_LEN)
            .ok_or(ParseError::BadLength {
                what: "payload",
                offset,
                length,
            })?;
        let body = r.sub(body_len, "payload body")?;
        let next = PayloadType(next);
        let payload = parse_payload(ty, next, flags & 0x80 != 0, body)?;
        let encrypted = payload.is_encrypted();
        payloads.push(payload);
        if encrypted {
            if !r.is_empty() {
                return Err(ParseError::EncryptedNotLast { offset: r.offset() });
            }
            return Ok(payloads);
        }
        ty = next;
    }
    if !r.is_empty() {
        return Err(ParseError::TrailingData {
            offset: r.offset(),
            length: r.remaining(),
        });
    }
    Ok(payloads)
}

/// Encodes a payload chain, computing every Next Payload and Payload Length field.
/// Returns the first payload's type (NONE for an empty chain) for the enclosing IKE or
/// SK header. An SK/SKF payload must come last: nothing after it can be chained.
pub fn encode_payloads(payloads: &[Payload]) -> (PayloadType, Vec<u8>) {
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let next = payloads
            .get(i + 1)
            .map_or(PayloadType::NONE, Payload::payload_type);
        encode_payload(p, next, &mut out);
    }
    let first = payloads
        .first()
        .map_or(PayloadType::NONE, Payload::payload_type);
    (first, out)
}

/// The bytes of a message that precede an SK payload's body: the IKE header (Next
/// Payload = SK, final Length) and the SK generic header. They are the AEAD associated
/// data (RFC 5282 §5.1) and the start of the integrity-checked range (RFC 7296 §3.14);
/// the core appends IV | ciphertext | ICV (`sk_body_len` bytes) to complete the message.
pub fn encode_sk_prefix(header: &Header, first_inner: PayloadType, sk_body_len: usize) -> Vec<u8> {
    let sk_len = GENERIC_HEADER_LEN.saturating_add(sk_body_len);
    let mut out = Vec::with_capacity(HEADER_LEN + GENERIC_HEADER_LEN);
    Header {
        next_payload: PayloadType::SK,
        length: sat_u32(HEADER_LEN.saturating_add(sk_len)),
        ..*header
    }
    .encode_into(&mut out);
    out.extend_from_slice(&[first_inner.0, 0]);
    out.extend_from_slice(&sat_u16(sk_len).to_be_bytes());
    out
}

/// As [`encode_sk_prefix`], for one fragment of a fragmented message (RFC 7383 §2.5):
/// the IKE header (Next Payload = SKF), the SKF generic header, Fragment Number and
/// Total Fragments. `first_inner` is NONE except in fragment 1; `skf_body_len` counts
/// IV | ciphertext | ICV. These bytes are the fragment's AAD (RFC 7383 §2.5.3).
pub fn encode_skf_prefix(
    header: &Header,
    first_inner: PayloadType,
    number: u16,
    total: u16,
    skf_body_len: usize,
) -> Vec<u8> {
    let skf_len = (GENERIC_HEADER_LEN + 4).saturating_add(skf_body_len);
    let mut out = Vec::with_capacity(HEADER_LEN + GENERIC_HEADER_LEN + 4);
    Header {
        next_payload: PayloadType::SKF,
        length: sat_u32(HEADER_LEN.saturating_add(skf_len)),
        ..*header
    }
    .encode_into(&mut out);
    out.extend_from_slice(&[first_inner.0, 0]);
    out.extend_from_slice(&sat_u16(skf_len).to_be_bytes());
    out.extend_from_slice(&number.to_be_bytes());
    out.extend_from_slice(&total.to_be_bytes());
    out
}
