//! Why a byte string is not an IKE message (IKEv2 or, for [`v1`](crate::v1), ISAKMP).

use crate::{NotifyType, TsType};

/// A parse failure, saying what was wrong and where. Offsets count from the start of the
/// buffer handed to the parser (the datagram for [`Message::parse`](crate::Message::parse),
/// the decrypted SK contents for [`parse_payloads`](crate::parse_payloads)).
#[non_exhaustive]
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// A field or structure runs past the end of the data that contains it.
    #[error("{what} truncated at offset {offset}: needs {needed} bytes, {available} available")]
    Truncated {
        /// The structure being read, e.g. "KE payload header".
        what: &'static str,
        /// Where the structure starts.
        offset: usize,
        /// Bytes the structure needs from `offset`.
        needed: usize,
        /// Bytes actually left from `offset`.
        available: usize,
    },
    /// A length field disagrees with the data or with the structure's fixed layout.
    #[error("{what} at offset {offset} has inconsistent length {length}")]
    BadLength {
        /// The structure whose length field is wrong.
        what: &'static str,
        /// Where the structure starts.
        offset: usize,
        /// The length the field declares.
        length: usize,
    },
    /// The header's major version is not the parser's: 2 for [`Message::parse`], 1 for
    /// [`v1::Message::parse`] (answer INVALID_MAJOR_VERSION, RFC 7296 §2.5, RFC 2408 §5.2).
    ///
    /// [`Message::parse`]: crate::Message::parse
    /// [`v1::Message::parse`]: crate::v1::Message::parse
    #[error("unsupported IKE version {major}.{minor}")]
    UnsupportedVersion {
        /// Major version as received.
        major: u8,
        /// Minor version as received.
        minor: u8,
    },
    /// Bytes follow an SK or SKF payload, which must be the last payload (RFC 7296 §3.14,
    /// RFC 7383 §2.5).
    #[error("encrypted payload is not the last payload: data follows at offset {offset}")]
    EncryptedNotLast {
        /// Where the bytes after the encrypted payload start.
        offset: usize,
    },
    /// A count field disagrees with the number of items actually present.
    #[error("{what} at offset {offset}: {declared} declared, {found} present")]
    CountMismatch {
        /// The structure whose count is wrong, e.g. "transforms in proposal".
        what: &'static str,
        /// Where the structure starts.
        offset: usize,
        /// The count the field declares.
        declared: usize,
        /// The number of items actually parsed.
        found: usize,
    },
    /// A traffic selector type this crate cannot size (RFC 7296 §3.13.1).
    #[error("unsupported traffic selector type {ts_type} at offset {offset}")]
    UnsupportedTsType {
        /// The TS Type as received.
        ts_type: TsType,
        /// Where the traffic selector starts.
        offset: usize,
    },
    /// Bytes left over after the payload chain ended (Next Payload = 0).
    #[error("{length} bytes after the last payload at offset {offset}")]
    TrailingData {
        /// Where the leftover bytes start.
        offset: usize,
        /// How many bytes are left over.
        length: usize,
    },
    /// A field holds a value the format does not allow.
    #[error("invalid {what} at offset {offset}")]
    Invalid {
        /// The field that holds the value.
        what: &'static str,
        /// Where the field is.
        offset: usize,
    },
}

impl ParseError {
    /// The notification an IKE responder sends back for this failure (RFC 7296 §2.5,
    /// §3.10.1): INVALID_MAJOR_VERSION for a version problem, INVALID_SYNTAX otherwise.
    pub fn notify_type(&self) -> NotifyType {
        match self {
            ParseError::UnsupportedVersion { .. } => NotifyType::INVALID_MAJOR_VERSION,
            _ => NotifyType::INVALID_SYNTAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem_and_place() {
        let e = ParseError::Truncated {
            what: "KE payload header",
            offset: 76,
            needed: 4,
            available: 2,
        };
        assert_eq!(
            e.to_string(),
            "KE payload header truncated at offset 76: needs 4 bytes, 2 available"
        );
        assert_eq!(e.notify_type(), NotifyType::INVALID_SYNTAX);
        let v = ParseError::UnsupportedVersion { major: 3, minor: 0 };
        assert_eq!(v.to_string(), "unsupported IKE version 3.0");
        assert_eq!(v.notify_type(), NotifyType::INVALID_MAJOR_VERSION);
    }
}
