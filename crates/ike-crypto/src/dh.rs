//! Ephemeral Diffie-Hellman for the KE payload (RFC 7296 §1.2, §3.4).

use ike_wire::DhGroup;
use ring::agreement::EphemeralPrivateKey;

use crate::ecp::{P521Secret, RingCurve, P521_PUBLIC_LEN};
use crate::modp::{ModpGroup, ModpSecret};
use crate::CryptoError;

/// One side of a Diffie-Hellman exchange: an ephemeral private key drawn from the OS RNG
/// and its public value. The private key never leaves this value (and `Debug` omits it);
/// [`shared_secret`](Self::shared_secret) consumes it.
pub struct KeyExchange {
    group: DhGroup,
    public: Vec<u8>,
    secret: Secret,
}

enum Secret {
    Ring(RingCurve, EphemeralPrivateKey),
    P521(P521Secret),
    Modp(ModpSecret),
}

impl std::fmt::Debug for KeyExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyExchange")
            .field("group", &self.group)
            .field("public_len", &self.public.len())
            .finish_non_exhaustive()
    }
}

impl KeyExchange {
    /// Generates a key pair in `group`. Groups 1 (MODP-768) and the unimplemented ones are
    /// [`CryptoError::Unsupported`].
    pub fn generate(group: DhGroup) -> Result<KeyExchange, CryptoError> {
        if let Some(curve) = RingCurve::get(group) {
            let (key, public) = curve.generate(&ring::rand::SystemRandom::new())?;
            return Ok(KeyExchange {
                group,
                public,
                secret: Secret::Ring(curve, key),
            });
        }
        if group == DhGroup::ECP_521 {
            let (secret, public) = P521Secret::generate();
            return Ok(KeyExchange {
                group,
                public,
                secret: Secret::P521(secret),
            });
        }
        if let Some(modp) = ModpGroup::get(group) {
            let (secret, public) = ModpSecret::generate(modp)?;
            return Ok(KeyExchange {
                group,
                public,
                secret: Secret::Modp(secret),
            });
        }
        Err(unsupported(group))
    }

    /// The group.
    pub fn group(&self) -> DhGroup {
        self.group
    }

    /// The Key Exchange Data of our KE payload: ECP `x | y` (RFC 5903 §7), Curve25519 the
    /// 32-byte key (RFC 8031 §2), MODP g^x big-endian padded to the prime's length
    /// (RFC 7296 §3.4).
    pub fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// g^ir from the peer's Key Exchange Data, after validating it (length, range, curve
    /// or subgroup membership: RFC 6989). ECP: the x coordinate (RFC 5903 §9); MODP:
    /// padded to the prime's length (RFC 7296 §2.14).
    pub fn shared_secret(self, peer: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.secret {
            Secret::Ring(curve, key) => curve.agree(key, peer),
            Secret::P521(secret) => secret.agree(peer),
            Secret::Modp(secret) => secret.agree(peer),
        }
    }

    #[cfg(test)]
    pub(crate) fn from_parts_for_test(group: DhGroup, secret_bytes: &[u8]) -> KeyExchange {
        #[allow(deprecated)]
        let rng = ring::test::rand::FixedSliceRandom {
            bytes: secret_bytes,
        };
        if let Some(curve) = RingCurve::get(group) {
            let (key, public) = curve.generate(&rng).unwrap();
            return KeyExchange {
                group,
                public,
                secret: Secret::Ring(curve, key),
            };
        }
        if group == DhGroup::ECP_521 {
            let secret = p521::SecretKey::from_slice(secret_bytes).unwrap();
            let (secret, public) = P521Secret::from_secret(secret);
            return KeyExchange {
                group,
                public,
                secret: Secret::P521(secret),
            };
        }
        let modp = ModpGroup::get(group).unwrap();
        let x = num_bigint::BigUint::from_bytes_be(secret_bytes);
        let (secret, public) = ModpSecret::from_exponent(modp, x);
        KeyExchange {
            group,
            public,
            secret: Secret::Modp(secret),
        }
    }
}

/// Whether [`KeyExchange::generate`] accepts `group`.
pub fn dh_supported(group: DhGroup) -> bool {
    dh_public_len(group).is_some()
}

/// Length of the Key Exchange Data in `group`, or `None` if the group is unsupported;
/// a KE payload of another length is invalid (RFC 7296 §3.4).
pub fn dh_public_len(group: DhGroup) -> Option<usize> {
    if let Some(curve) = RingCurve::get(group) {
        return Some(curve.public_len());
    }
    if group == DhGroup::ECP_521 {
        return Some(P521_PUBLIC_LEN);
    }
    ModpGroup::get(group).map(|g| g.len)
}

fn unsupported(group: DhGroup) -> CryptoError {
    CryptoError::Unsupported {
        what: "DH group",
        id: group.0,
    }
}

#[cfg(test)]
#[path = "dh_tests.rs"]
mod tests;
