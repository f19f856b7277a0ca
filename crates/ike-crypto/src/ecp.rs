//! Elliptic-curve Diffie-Hellman: the NIST curves of RFC 5903 and Curve25519 (RFC 8031).
//!
//! ECP public values travel as `x | y` without the SEC1 0x04 prefix, and the shared
//! secret is the x coordinate alone (RFC 5903 §7, §9). Points are validated on receipt
//! (RFC 6989 §2.3): ring and the p521 crate both reject points that are not on the curve.

use ike_wire::DhGroup;
use p521::elliptic_curve::sec1::ToEncodedPoint;
use ring::agreement;
use ring::rand::SecureRandom;

use crate::CryptoError;

/// SEC1 tag of an uncompressed point.
const UNCOMPRESSED: u8 = 0x04;

/// A group ring implements: its algorithm and whether its points carry the SEC1 prefix.
pub(crate) struct RingCurve {
    group: DhGroup,
    algorithm: &'static agreement::Algorithm,
    /// Bytes of the public value in the KE payload.
    public_len: usize,
    /// ECP points are SEC1-encoded in ring; X25519 keys are raw.
    sec1: bool,
}

impl RingCurve {
    pub(crate) fn get(group: DhGroup) -> Option<RingCurve> {
        let (algorithm, public_len, sec1) = match group {
            DhGroup::ECP_256 => (&agreement::ECDH_P256, 64, true),
            DhGroup::ECP_384 => (&agreement::ECDH_P384, 96, true),
            DhGroup::CURVE25519 => (&agreement::X25519, 32, false),
            _ => return None,
        };
        Some(RingCurve {
            group,
            algorithm,
            public_len,
            sec1,
        })
    }

    pub(crate) fn public_len(&self) -> usize {
        self.public_len
    }

    /// A new private key from `rng` and its public value as the KE payload carries it.
    pub(crate) fn generate(
        &self,
        rng: &dyn SecureRandom,
    ) -> Result<(agreement::EphemeralPrivateKey, Vec<u8>), CryptoError> {
        let key = agreement::EphemeralPrivateKey::generate(self.algorithm, rng)
            .map_err(|_| CryptoError::KeyExchangeFailed)?;
        let public = key
            .compute_public_key()
            .map_err(|_| CryptoError::KeyExchangeFailed)?;
        let bytes = public.as_ref();
        let bytes = if self.sec1 { &bytes[1..] } else { bytes };
        Ok((key, bytes.to_vec()))
    }

    /// The shared secret with `peer` (x coordinate for ECP; ring rejects an all-zero
    /// X25519 result, as RFC 8031 §2.2 requires).
    pub(crate) fn agree(
        &self,
        key: agreement::EphemeralPrivateKey,
        peer: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let invalid = CryptoError::InvalidPublicValue { group: self.group };
        if peer.len() != self.public_len {
            return Err(invalid);
        }
        let encoded = if self.sec1 {
            [&[UNCOMPRESSED][..], peer].concat()
        } else {
            peer.to_vec()
        };
        let peer = agreement::UnparsedPublicKey::new(self.algorithm, encoded);
        agreement::agree_ephemeral(key, &peer, |secret| secret.to_vec()).map_err(|_| invalid)
    }
}

/// Bytes of one P-521 coordinate.
const P521_COORD: usize = 66;
/// Bytes of a group 21 public value: x | y.
pub(crate) const P521_PUBLIC_LEN: usize = 2 * P521_COORD;

/// A P-521 private key (the p521 crate zeroizes it on drop).
pub(crate) struct P521Secret(p521::SecretKey);

impl P521Secret {
    pub(crate) fn generate() -> (P521Secret, Vec<u8>) {
        P521Secret::from_secret(p521::SecretKey::random(&mut rand::rngs::OsRng))
    }

    pub(crate) fn from_secret(secret: p521::SecretKey) -> (P521Secret, Vec<u8>) {
        let point = secret.public_key().to_encoded_point(false);
        let public = point.as_bytes()[1..].to_vec();
        (P521Secret(secret), public)
    }

    pub(crate) fn agree(&self, peer: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let invalid = CryptoError::InvalidPublicValue {
            group: DhGroup::ECP_521,
        };
        if peer.len() != P521_PUBLIC_LEN {
            return Err(invalid);
        }
        let encoded = [&[UNCOMPRESSED][..], peer].concat();
        let peer = p521::PublicKey::from_sec1_bytes(&encoded).map_err(|_| invalid)?;
        let shared = p521::ecdh::diffie_hellman(self.0.to_nonzero_scalar(), peer.as_affine());
        Ok(shared.raw_secret_bytes().to_vec())
    }
}
