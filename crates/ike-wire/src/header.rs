//! The IKE header (RFC 7296 §3.1).

use std::fmt;
use std::ops::BitOr;

use crate::codec::Reader;
use crate::{ExchangeType, ParseError, PayloadType};

/// Length of the fixed IKE header (RFC 7296 §3.1).
pub const HEADER_LEN: usize = 28;

/// IKE header flags (RFC 7296 §3.1). Reserved bits are kept as received so a parsed
/// header re-encodes unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// Set by the original initiator of the IKE SA, in both its requests and responses.
    pub const INITIATOR: Flags = Flags(0x08);
    /// The sender can speak a higher major version than the one in the header.
    pub const VERSION: Flags = Flags(0x10);
    /// The message answers a request with the same Message ID.
    pub const RESPONSE: Flags = Flags(0x20);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The I bit: sent by the original initiator of the IKE SA.
    pub const fn is_initiator(self) -> bool {
        self.contains(Flags::INITIATOR)
    }

    /// The R bit: a response rather than a request.
    pub const fn is_response(self) -> bool {
        self.contains(Flags::RESPONSE)
    }
}

impl BitOr for Flags {
    type Output = Flags;

    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Flags::INITIATOR, "INITIATOR"),
            (Flags::VERSION, "VERSION"),
            (Flags::RESPONSE, "RESPONSE"),
        ];
        let known = names.iter().fold(0, |acc, (flag, _)| acc | flag.0);
        write!(f, "Flags(")?;
        let mut first = true;
        for (flag, name) in names {
            if self.contains(flag) {
                f.write_str(if first { "" } else { "|" })?;
                f.write_str(name)?;
                first = false;
            }
        }
        let other = self.0 & !known;
        if other != 0 || first {
            f.write_str(if first { "" } else { "|" })?;
            write!(f, "{other:#04x}")?;
        }
        write!(f, ")")
    }
}

/// The fixed 28-byte IKE header (RFC 7296 §3.1).
///
/// `next_payload` and `length` are computed by [`Message::encode`](crate::Message::encode);
/// the values in a header being encoded are ignored there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Header {
    /// IKE SA Initiator's SPI.
    pub spi_i: u64,
    /// IKE SA Responder's SPI; zero in the first IKE_SA_INIT request.
    pub spi_r: u64,
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// Major version, 2 for IKEv2.
    pub major: u8,
    /// Minor version: sent as 0, ignored on receipt (RFC 7296 §2.5).
    pub minor: u8,
    /// Exchange type: which exchange this message belongs to (RFC 7296 §3.1).
    pub exchange: ExchangeType,
    /// Initiator and Response flags (RFC 7296 §3.1).
    pub flags: Flags,
    /// Message ID: matches a response to its request and orders the exchanges of one IKE SA
    /// (RFC 7296 §2.2).
    pub message_id: u32,
    /// Length of the whole message, header included.
    pub length: u32,
}

impl Header {
    /// Reads the header fields from the first 28 bytes of `data`. Checks only that they
    /// are present: the version and length checks belong to [`Message::parse`], so a
    /// caller can still read the SPIs of a message it must reject (RFC 7296 §2.5).
    ///
    /// [`Message::parse`]: crate::Message::parse
    pub fn parse(data: &[u8]) -> Result<Header, ParseError> {
        // Taking all 28 bytes first makes a short input one Truncated error for the
        // whole header; the field reads below then cannot fail.
        let mut h = Reader::new(data, 0).sub(HEADER_LEN, "IKE header")?;
        let spi_i = u64::from_be_bytes(h.array("IKE SPIi")?);
        let spi_r = u64::from_be_bytes(h.array("IKE SPIr")?);
        let [next, version, exchange, flags] = h.array("IKE header fields")?;
        let message_id = u32::from_be_bytes(h.array("IKE Message ID")?);
        let length = u32::from_be_bytes(h.array("IKE Length")?);
        Ok(Header {
            spi_i,
            spi_r,
            next_payload: PayloadType(next),
            major: version >> 4,
            minor: version & 0x0f,
            exchange: ExchangeType(exchange),
            flags: Flags(flags),
            message_id,
            length,
        })
    }

    /// Appends the 28 header bytes exactly as the fields say. Versions above 15 do not fit
    /// their 4-bit fields and are truncated to the low 4 bits.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.spi_i.to_be_bytes());
        out.extend_from_slice(&self.spi_r.to_be_bytes());
        out.push(self.next_payload.0);
        out.push((self.major & 0x0f) << 4 | (self.minor & 0x0f));
        out.push(self.exchange.0);
        out.push(self.flags.0);
        out.extend_from_slice(&self.message_id.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
    }

    /// Whether the R flag is set.
    pub const fn is_response(&self) -> bool {
        self.flags.is_response()
    }

    /// Whether the I flag is set.
    pub const fn is_initiator(&self) -> bool {
        self.flags.is_initiator()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            spi_i: 0x0102_0304_0506_0708,
            spi_r: 0x1112_1314_1516_1718,
            next_payload: PayloadType::SK,
            major: 2,
            minor: 0,
            exchange: ExchangeType::IKE_AUTH,
            flags: Flags::INITIATOR | Flags::RESPONSE,
            message_id: 0x0a0b_0c0d,
            length: 0x1c,
        }
    }

    #[test]
    fn encodes_the_rfc_layout() {
        let mut out = Vec::new();
        sample().encode_into(&mut out);
        assert_eq!(out.len(), HEADER_LEN);
        assert_eq!(
            out,
            [
                1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 46, 0x20,
                35, 0x28, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0x1c
            ]
        );
        assert_eq!(Header::parse(&out), Ok(sample()));
    }

    #[test]
    fn short_input_is_truncated_not_a_panic() {
        assert_eq!(
            Header::parse(&[0; 27]),
            Err(ParseError::Truncated {
                what: "IKE header",
                offset: 0,
                needed: 28,
                available: 27
            })
        );
    }

    #[test]
    fn flags() {
        let f = Flags::INITIATOR | Flags::RESPONSE;
        assert!(f.is_initiator() && f.is_response());
        assert!(!Flags::default().is_response());
        assert_eq!(format!("{f:?}"), "Flags(INITIATOR|RESPONSE)");
        assert_eq!(format!("{:?}", Flags(0)), "Flags(0x00)");
        assert_eq!(format!("{:?}", Flags(0x09)), "Flags(INITIATOR|0x01)");
    }
}
