//! The phase 1 Hash Algorithm attribute (RFC 2409 App. A, class 2; RFC 4868 §2.1.2).

use crate::hash::HashAlg;
use crate::{CryptoError, Prf};

/// IKEv1's negotiated hash: HMAC with it is the PRF of the whole ISAKMP SA (no PRF
/// attribute is negotiated: RFC 2409 §4), and it is used plain for the IVs (App. B) and
/// NAT-D (RFC 3947 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// SHA (value 2).
    Sha1,
    /// SHA2-256 (value 4).
    Sha256,
    /// SHA2-384 (value 5).
    Sha384,
    /// SHA2-512 (value 6).
    Sha512,
}

impl Hash {
    /// Looks the hash up by its attribute value. MD5 (1) and Tiger (3) are
    /// [`CryptoError::Unsupported`], as is any other value.
    pub fn from_attribute(value: u16) -> Result<Hash, CryptoError> {
        match value {
            2 => Ok(Hash::Sha1),
            4 => Ok(Hash::Sha256),
            5 => Ok(Hash::Sha384),
            6 => Ok(Hash::Sha512),
            _ => Err(CryptoError::Unsupported {
                what: "IKEv1 hash",
                id: value,
            }),
        }
    }

    /// The attribute value, for the transforms we propose.
    pub fn attribute(&self) -> u16 {
        match self {
            Hash::Sha1 => 2,
            Hash::Sha256 => 4,
            Hash::Sha384 => 5,
            Hash::Sha512 => 6,
        }
    }

    /// The plain hash of `data`.
    pub fn digest(&self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }

    /// The plain hash of `parts[0] | parts[1] | …`.
    pub fn digest_parts(&self, parts: &[&[u8]]) -> Vec<u8> {
        self.alg().digest_parts(parts).as_ref().to_vec()
    }

    /// HMAC with this hash: the PRF of every IKEv1 key derivation and HASH payload.
    pub fn prf(&self) -> Prf {
        Prf::hmac(self.alg())
    }

    /// The digest length in bytes; also the length of SKEYID and its derivatives.
    pub fn output_len(&self) -> usize {
        self.alg().output_len()
    }

    fn alg(self) -> HashAlg {
        match self {
            Hash::Sha1 => HashAlg::Sha1,
            Hash::Sha256 => HashAlg::Sha256,
            Hash::Sha384 => HashAlg::Sha384,
            Hash::Sha512 => HashAlg::Sha512,
        }
    }
}
