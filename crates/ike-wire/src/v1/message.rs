//! A whole ISAKMP message: header plus a plaintext payload chain or an opaque encrypted
//! body (RFC 2408 §3.1, §3.2).

use crate::codec::sat_u32;
use crate::ParseError;

use super::chain::{encode_payloads, parse_chain};
use super::{Flags, Header, NotifyType, Payload, PayloadType, HEADER_LEN};

/// What follows the header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Body {
    /// The payload chain, in the clear (main mode 1–4).
    Plain(Vec<Payload>),
    /// E flag set: the bytes after the header, CBC ciphertext of the padded chain, left
    /// for the core to decrypt and hand to [`parse_payloads`](super::parse_payloads).
    Encrypted(Vec<u8>),
}

/// An ISAKMP message as carried in one UDP datagram.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    /// The fixed header; its Next Payload and Length are recomputed by [`Message::encode`].
    pub header: Header,
    /// The payload chain, or the still encrypted bytes when the E flag is set.
    pub body: Body,
}

impl Message {
    /// Parses one datagram. Rejects a major version other than 1
    /// ([`ParseError::UnsupportedVersion`]) and a header Length that is not the datagram's
    /// length. A plaintext chain must fill the datagram exactly; an encrypted body is
    /// taken as is.
    pub fn parse(data: &[u8]) -> Result<Message, ParseError> {
        let header = Header::parse(data)?;
        if header.major != 1 {
            return Err(ParseError::UnsupportedVersion {
                major: header.major,
                minor: header.minor,
            });
        }
        let length = usize::try_from(header.length).unwrap_or(usize::MAX);
        if length != data.len() {
            return Err(ParseError::BadLength {
                what: "ISAKMP header Length",
                offset: 24,
                length,
            });
        }
        let rest = data.get(HEADER_LEN..).unwrap_or_default();
        if header.is_encrypted() {
            return Ok(Message {
                header,
                body: Body::Encrypted(rest.to_vec()),
            });
        }
        let (payloads, used) = parse_chain(header.next_payload, rest, HEADER_LEN)?;
        if used != rest.len() {
            return Err(ParseError::TrailingData {
                offset: HEADER_LEN + used,
                length: rest.len() - used,
            });
        }
        // The header names the first payload as `encode` will: the draft's NAT-D number
        // (130) reads as RFC 3947's 20, like the payload itself, so a parsed message is
        // the message its encoding parses to.
        let header = if header.next_payload == PayloadType::NAT_D_DRAFT {
            Header {
                next_payload: PayloadType::NAT_D,
                ..header
            }
        } else {
            header
        };
        Ok(Message {
            header,
            body: Body::Plain(payloads),
        })
    }

    /// Encodes the message. Length is computed, and so is the E flag (set exactly for an
    /// encrypted body). For a plaintext body Next Payload and every generic header are
    /// computed too; for an encrypted one `header.next_payload` (the first payload inside)
    /// is written as given.
    pub fn encode(&self) -> Vec<u8> {
        let flags = Flags(self.header.flags.0 & !Flags::ENCRYPTION.0);
        let (header, body) = match &self.body {
            Body::Plain(payloads) => {
                let (first, body) = encode_payloads(payloads);
                (
                    Header {
                        next_payload: first,
                        flags,
                        ..self.header
                    },
                    body,
                )
            }
            Body::Encrypted(bytes) => (
                Header {
                    flags: flags | Flags::ENCRYPTION,
                    ..self.header
                },
                bytes.clone(),
            ),
        };
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        Header {
            length: sat_u32(HEADER_LEN.saturating_add(body.len())),
            ..header
        }
        .encode_into(&mut out);
        out.extend_from_slice(&body);
        out
    }

    /// The plaintext payloads; empty for an encrypted body.
    pub fn payloads(&self) -> &[Payload] {
        match &self.body {
            Body::Plain(p) => p,
            Body::Encrypted(_) => &[],
        }
    }

    /// The first payload of type `ty` among the plaintext payloads.
    pub fn payload(&self, ty: PayloadType) -> Option<&Payload> {
        self.payloads().iter().find(|p| p.payload_type() == ty)
    }
}

impl ParseError {
    /// The ISAKMP notification that reports this failure to the peer (RFC 2408 §5):
    /// INVALID_MAJOR_VERSION, BAD_PROPOSAL_SYNTAX for a transform count that disagrees,
    /// PAYLOAD_MALFORMED otherwise.
    pub fn v1_notify_type(&self) -> NotifyType {
        match self {
            ParseError::UnsupportedVersion { .. } => NotifyType::INVALID_MAJOR_VERSION,
            ParseError::CountMismatch { .. } => NotifyType::BAD_PROPOSAL_SYNTAX,
            _ => NotifyType::PAYLOAD_MALFORMED,
        }
    }
}
