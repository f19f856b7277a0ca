//! The HMAC hash functions shared by the PRFs and the integrity algorithms.

use ring::{digest, hmac};

/// A hash function usable with HMAC (RFC 2104).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub(crate) fn hmac_algorithm(self) -> hmac::Algorithm {
        match self {
            HashAlg::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => hmac::HMAC_SHA256,
            HashAlg::Sha384 => hmac::HMAC_SHA384,
            HashAlg::Sha512 => hmac::HMAC_SHA512,
        }
    }

    /// The digest (and so HMAC output) length in bytes.
    pub(crate) fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    pub(crate) fn key(self, key: &[u8]) -> hmac::Key {
        hmac::Key::new(self.hmac_algorithm(), key)
    }

    /// The plain hash, for IKEv1's IVs and NAT-D (RFC 2409 App. B, RFC 3947 §3.2).
    pub(crate) fn digest_parts(self, parts: &[&[u8]]) -> digest::Digest {
        let algorithm = match self {
            HashAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha256 => &digest::SHA256,
            HashAlg::Sha384 => &digest::SHA384,
            HashAlg::Sha512 => &digest::SHA512,
        };
        let mut ctx = digest::Context::new(algorithm);
        for part in parts {
            ctx.update(part);
        }
        ctx.finish()
    }
}

/// HMAC over the concatenation of `parts`, without copying them together.
pub(crate) fn hmac_parts(key: &hmac::Key, parts: &[&[u8]]) -> hmac::Tag {
    let mut ctx = hmac::Context::with_key(key);
    for part in parts {
        ctx.update(part);
    }
    ctx.sign()
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"\x00bc", b"\x80bc"));
    }
}
