//! The ISAKMP header (RFC 2408 §3.1): the same 28-byte layout as IKEv2's, with cookies in
//! place of SPIs and IKEv1's flags.

use crate::codec::Reader;
use crate::ParseError;

use super::{ExchangeType, Flags, PayloadType};

/// Length of the fixed ISAKMP header (RFC 2408 §3.1).
pub const HEADER_LEN: usize = crate::HEADER_LEN;

/// Offset of the version byte, the same in IKEv1 and IKEv2.
const VERSION_OFFSET: usize = 17;

/// The IKE major version of a datagram, read from its header's version byte (offset 17):
/// `Some(1)` for ISAKMP/IKEv1, `Some(2)` for IKEv2, `None` if the datagram is shorter than
/// a header. Lets one socket hand each datagram to the right codec.
pub fn ike_major_version(datagram: &[u8]) -> Option<u8> {
    if datagram.len() < HEADER_LEN {
        return None;
    }
    datagram.get(VERSION_OFFSET).map(|v| v >> 4)
}

/// The fixed 28-byte ISAKMP header (RFC 2408 §3.1).
///
/// `next_payload` and `length` of a plaintext message are computed by
/// [`Message::encode`](super::Message::encode); for an encrypted one `next_payload` names
/// the first payload inside the ciphertext and is written as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Initiator cookie: the initiator's half of the ISAKMP SA's identity.
    pub cky_i: u64,
    /// Responder cookie; zero in main mode message 1.
    pub cky_r: u64,
    /// Type of the first payload (of the plaintext, when the body is encrypted).
    pub next_payload: PayloadType,
    /// Major version, 1 for ISAKMP.
    pub major: u8,
    /// Minor version, 0.
    pub minor: u8,
    /// Exchange Type: main mode, quick mode, informational, … (RFC 2408 §3.1).
    pub exchange: ExchangeType,
    /// Encryption, Commit and Authentication Only bits (RFC 2408 §3.1).
    pub flags: Flags,
    /// Zero in phase 1; a random non-zero ID per phase 2 / informational exchange.
    pub message_id: u32,
    /// Length of the whole message, header included.
    pub length: u32,
}

impl Default for Header {
    /// An ISAKMP 1.0 header with every other field zero.
    fn default() -> Self {
        Header {
            cky_i: 0,
            cky_r: 0,
            next_payload: PayloadType::NONE,
            major: 1,
            minor: 0,
            exchange: ExchangeType::NONE,
            flags: Flags(0),
            message_id: 0,
            length: 0,
        }
    }
}

impl Header {
    /// Reads the header fields from the first 28 bytes of `data`. Checks only that they
    /// are present, so a caller can still read the cookies of a message it must reject;
    /// version and length are checked by [`Message::parse`](super::Message::parse).
    pub fn parse(data: &[u8]) -> Result<Header, ParseError> {
        let mut h = Reader::new(data, 0).sub(HEADER_LEN, "ISAKMP header")?;
        let cky_i = u64::from_be_bytes(h.array("initiator cookie")?);
        let cky_r = u64::from_be_bytes(h.array("responder cookie")?);
        let [next, version, exchange, flags] = h.array("ISAKMP header fields")?;
        let message_id = u32::from_be_bytes(h.array("ISAKMP Message ID")?);
        let length = u32::from_be_bytes(h.array("ISAKMP Length")?);
        Ok(Header {
            cky_i,
            cky_r,
            next_payload: PayloadType(next),
            major: version >> 4,
            minor: version & 0x0f,
            exchange: ExchangeType(exchange),
            flags: Flags(flags),
            message_id,
            length,
        })
    }

    /// Appends the 28 header bytes exactly as the fields say (versions keep their low 4
    /// bits).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.cky_i.to_be_bytes());
        out.extend_from_slice(&self.cky_r.to_be_bytes());
        out.push(self.next_payload.0);
        out.push((self.major & 0x0f) << 4 | (self.minor & 0x0f));
        out.push(self.exchange.0);
        out.push(self.flags.0);
        out.extend_from_slice(&self.message_id.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }

    /// Whether the E flag is set: the body is ciphertext.
    pub const fn is_encrypted(&self) -> bool {
        self.flags.is_encrypted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_layout() {
        let h = Header {
            cky_i: 0x0102_0304_0506_0708,
            cky_r: 0x1112_1314_1516_1718,
            next_payload: PayloadType::HASH,
            exchange: ExchangeType::QUICK_MODE,
            flags: Flags::ENCRYPTION,
            message_id: 0xdead_beef,
            length: 0x4c,
            ..Header::default()
        };
        let mut out = Vec::new();
        h.encode_into(&mut out);
        assert_eq!(
            out,
            [
                1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 8, 0x10,
                32, 1, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0x4c
            ]
        );
        assert_eq!(Header::parse(&out), Ok(h));
        assert_eq!(ike_major_version(&out), Some(1));
    }

    #[test]
    fn version_sniffing() {
        let mut v2 = vec![0u8; HEADER_LEN];
        v2[17] = 0x20;
        assert_eq!(ike_major_version(&v2), Some(2));
        assert_eq!(ike_major_version(&v2[..27]), None);
        assert_eq!(ike_major_version(&[]), None);
    }

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(
            Header::parse(&[0; 20]),
            Err(ParseError::Truncated {
                what: "ISAKMP header",
                offset: 0,
                needed: 28,
                available: 20
            })
        );
    }
}
