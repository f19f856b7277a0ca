//! A whole IKEv2 message: header plus payload chain (RFC 7296 §3).

use crate::chain::{encode_payloads, parse_chain};
use crate::codec::sat_u32;
use crate::header::{Header, HEADER_LEN};
use crate::{Notify, NotifyType, ParseError, Payload, PayloadsExt};

/// An IKEv2 message as carried in one UDP datagram. An SK payload, when present, is the
/// last payload and stays encrypted here.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    /// The fixed header; its Next Payload and Length are recomputed by [`Message::encode`].
    pub header: Header,
    /// The payload chain in wire order.
    pub payloads: Vec<Payload>,
}

impl Message {
    /// Parses one datagram. Rejects a major version other than 2
    /// ([`ParseError::UnsupportedVersion`], RFC 7296 §2.5) and a header Length that is not
    /// the datagram's length (the simulator never pads or coalesces datagrams).
    pub fn parse(data: &[u8]) -> Result<Message, ParseError> {
        let header = Header::parse(data)?;
        if header.major != 2 {
            return Err(ParseError::UnsupportedVersion {
                major: header.major,
                minor: header.minor,
            });
        }
        let length = usize::try_from(header.length).unwrap_or(usize::MAX);
        if length != data.len() {
            return Err(ParseError::BadLength {
                what: "IKE header Length",
                offset: 24,
                length,
            });
        }
        let body = data.get(HEADER_LEN..).unwrap_or_default();
        let payloads = parse_chain(header.next_payload, body, HEADER_LEN)?;
        Ok(Message { header, payloads })
    }

    /// Encodes the message. The header's Next Payload and Length, and every generic
    /// header's Next Payload and Payload Length, are computed from the payloads; the
    /// values stored in `header` for those two fields are ignored.
    pub fn encode(&self) -> Vec<u8> {
        let (first, body) = encode_payloads(&self.payloads);
        let header = Header {
            next_payload: first,
            length: sat_u32(HEADER_LEN.saturating_add(body.len())),
            ..self.header
        };
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        header.encode_into(&mut out);
        out.extend_from_slice(&body);
        out
    }

    /// The first Notify payload of type `ty` among the (unencrypted) payloads. More
    /// finders are on [`PayloadsExt`].
    pub fn notify(&self, ty: NotifyType) -> Option<&Notify> {
        PayloadsExt::notify(self, ty)
    }

    /// Whether this is a response (R flag, RFC 7296 §3.1).
    pub fn is_response(&self) -> bool {
        self.header.is_response()
    }
}

#[cfg(test)]
mod tests;
