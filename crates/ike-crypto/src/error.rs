//! The one error type of the crate.

use ike_wire::DhGroup;

/// What went wrong in a cryptographic operation.
///
/// The variants separate "we can't do this" (`Unsupported`, `UnsupportedKeyLength`: the
/// proposal should not have been chosen) from "the peer sent something bad"
/// (`InvalidPublicValue`, `IntegrityCheckFailed`, …: drop the message or fail the exchange).
#[non_exhaustive]
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// A transform id this crate does not implement, or refuses to (DES, MD5, MODP-768, …).
    #[error("unsupported {what} transform id {id}")]
    Unsupported {
        /// The transform type: "encryption", "PRF", "integrity" or "DH group"; for IKEv1
        /// "IKEv1 hash", "IKEv1 encryption" or "IKEv1 ESP authentication".
        what: &'static str,
        /// The IKEv2 transform id, or for IKEv1 the attribute value.
        id: u16,
    },
    /// The encryption algorithm is known but not with this Key Length attribute (or
    /// without one, where it is mandatory: RFC 7296 §3.3.5).
    #[error("unsupported key length {key_bits:?} for encryption transform id {id}")]
    UnsupportedKeyLength {
        /// The IKEv2 encryption transform id (also the IKEv1 ESP transform id), or 7 for
        /// IKEv1's phase 1 AES-CBC.
        id: u16,
        /// The Key Length attribute, in bits, if any.
        key_bits: Option<u16>,
    },
    /// The peer's KE data is not a valid public value of the group (RFC 7296 §3.4,
    /// RFC 6989): wrong length, out of range, not on the curve, or not in the subgroup.
    #[error("invalid public value for DH group {group}")]
    InvalidPublicValue {
        /// The group the value was meant for.
        group: DhGroup,
    },
    /// Key material handed to a cipher or MAC has the wrong length (a caller bug).
    #[error("{what}: expected {expected} bytes of key material, got {actual}")]
    InvalidKeyLength {
        /// Which key.
        what: &'static str,
        /// The length the algorithm needs.
        expected: usize,
        /// The length supplied.
        actual: usize,
    },
    /// The algorithms cannot be combined: an AEAD cipher with an integrity algorithm, or a
    /// plain cipher without one (RFC 7296 §3.3.3, RFC 5282 §8).
    #[error("invalid algorithm combination: {reason}")]
    InvalidCombination {
        /// What is wrong with the combination.
        reason: &'static str,
    },
    /// The SK payload body is too short to hold an IV, one block and the ICV.
    #[error("encrypted payload too short: {len} bytes, need at least {min}")]
    Truncated {
        /// The body length received.
        len: usize,
        /// The minimum length for this cipher suite.
        min: usize,
    },
    /// The ICV (or AEAD tag) does not match: the message must be dropped (RFC 7296 §2.21.1).
    #[error("integrity check failed")]
    IntegrityCheckFailed,
    /// The ciphertext could not be decrypted (not a whole number of blocks; for IKEv1, also
    /// empty).
    #[error("decryption failed")]
    DecryptionFailed,
    /// The Pad Length byte points past the start of the plaintext (RFC 7296 §3.14).
    #[error("bad padding")]
    BadPadding,
    /// The key exchange computation failed (RNG failure, or a degenerate shared secret).
    #[error("key exchange failed")]
    KeyExchangeFailed,
}
