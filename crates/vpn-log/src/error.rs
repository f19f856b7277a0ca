//! Errors for reading records and validating names.

/// What was wrong with a record line or a name. Every variant says what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The line is not a JSON object of the record's shape.
    #[error("not a tunnel log record: {0}")]
    Json(String),
    /// A key the record needs is absent.
    #[error("missing key `{0}`")]
    MissingKey(&'static str),
    /// A key holds a value of the wrong kind or spelling.
    #[error("invalid `{key}`: {found:?}, expected {expected}")]
    InvalidValue {
        /// The record key, e.g. `ike_phase1_state`.
        key: &'static str,
        /// The value as the line spells it.
        found: String,
        /// What the key accepts, in words.
        expected: &'static str,
    },
    /// A text-format line does not follow the documented layout.
    #[error("not a text-format tunnel log record: {0}")]
    Text(String),
    /// A VPN connection id outside AWS's shape (reference §1).
    #[error(
        "invalid VPN connection id {0:?}: expected \"vpn-\" followed by 8 or 17 lowercase hex \
         digits, e.g. vpn-1234abcd or vpn-0123456789abcdef0"
    )]
    InvalidVpnConnectionId(String),
}
