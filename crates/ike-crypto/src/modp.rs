//! Finite-field Diffie-Hellman over the MODP groups (RFC 2409, RFC 3526, RFC 5114).

use std::sync::OnceLock;

use ike_wire::DhGroup;
use num_bigint::BigUint;
use rand::RngCore;

use crate::modp_groups::{ModpParams, MODP_GROUPS};
use crate::CryptoError;

/// A MODP group with its numbers parsed.
pub(crate) struct ModpGroup {
    pub(crate) id: DhGroup,
    pub(crate) p: BigUint,
    pub(crate) g: BigUint,
    /// Prime order of the generator's subgroup (RFC 5114 groups only).
    pub(crate) q: Option<BigUint>,
    exponent_bits: u64,
    /// Length of the prime in bytes: public values and g^ir are padded to it.
    pub(crate) len: usize,
}

/// The private exponent. Never printed.
pub(crate) struct ModpSecret {
    group: &'static ModpGroup,
    x: BigUint,
}

pub(crate) fn parse_hex(hex: &str) -> BigUint {
    let digits: String = hex.split_whitespace().collect();
    BigUint::parse_bytes(digits.as_bytes(), 16).expect("MODP constants are valid hex")
}

impl ModpGroup {
    fn from_params(params: &ModpParams) -> ModpGroup {
        let p = parse_hex(params.prime);
        let len = usize::try_from(p.bits().div_ceil(8)).expect("a prime of a few kilobits");
        ModpGroup {
            id: params.group,
            g: parse_hex(params.generator),
            q: params.subgroup_order.map(parse_hex),
            exponent_bits: params.exponent_bits,
            len,
            p,
        }
    }

    /// Looks a group up, parsing its constants on first use.
    pub(crate) fn get(id: DhGroup) -> Option<&'static ModpGroup> {
        static PARSED: [OnceLock<ModpGroup>; MODP_GROUPS.len()] =
            [const { OnceLock::new() }; MODP_GROUPS.len()];
        let index = MODP_GROUPS.iter().position(|g| g.group == id)?;
        Some(PARSED[index].get_or_init(|| ModpGroup::from_params(&MODP_GROUPS[index])))
    }

    /// Big-endian, left-padded with zeros to the length of the prime (RFC 7296 §3.4, §2.14).
    pub(crate) fn encode(&self, value: &BigUint) -> Vec<u8> {
        let bytes = value.to_bytes_be();
        let mut out = vec![0u8; self.len.saturating_sub(bytes.len())];
        out.extend_from_slice(&bytes);
        out
    }

    /// Draws a private exponent from the OS RNG: uniform in [1, q-1] for a prime-order
    /// subgroup (RFC 5114), else `exponent_bits` random bits (RFC 3526 §1).
    fn random_exponent(&self) -> Result<BigUint, CryptoError> {
        let bits = match &self.q {
            // 64 extra bits make the reduction mod q-1 unbiased for all practical purposes.
            Some(q) => q.bits() + 64,
            None => self.exponent_bits,
        };
        let mut bytes = vec![0u8; usize::try_from(bits.div_ceil(8)).unwrap_or(128)];
        loop {
            rand::rngs::OsRng
                .try_fill_bytes(&mut bytes)
                .map_err(|_| CryptoError::KeyExchangeFailed)?;
            let r = BigUint::from_bytes_be(&bytes);
            let x = match &self.q {
                Some(q) => r % (q - 1u32) + 1u32,
                None => r,
            };
            if x > BigUint::from(1u32) {
                return Ok(x);
            }
        }
    }

    /// Checks a peer's public value: the right length, 1 < y < p-1 (RFC 6989 §2.1), and
    /// for a prime-order subgroup y^q = 1 (RFC 6989 §2.2).
    fn validate(&self, peer: &[u8]) -> Result<BigUint, CryptoError> {
        let invalid = CryptoError::InvalidPublicValue { group: self.id };
        if peer.len() != self.len {
            return Err(invalid);
        }
        let y = BigUint::from_bytes_be(peer);
        if y <= BigUint::from(1u32) || y >= &self.p - 1u32 {
            return Err(invalid);
        }
        if let Some(q) = &self.q {
            if y.modpow(q, &self.p) != BigUint::from(1u32) {
                return Err(invalid);
            }
        }
        Ok(y)
    }
}

impl ModpSecret {
    /// A fresh key pair: the secret and the public value g^x, padded.
    pub(crate) fn generate(
        group: &'static ModpGroup,
    ) -> Result<(ModpSecret, Vec<u8>), CryptoError> {
        let x = group.random_exponent()?;
        Ok(ModpSecret::from_exponent(group, x))
    }

    pub(crate) fn from_exponent(group: &'static ModpGroup, x: BigUint) -> (ModpSecret, Vec<u8>) {
        let public = group.encode(&group.g.modpow(&x, &group.p));
        (ModpSecret { group, x }, public)
    }

    /// g^ir = y^x mod p, padded to the prime length.
    pub(crate) fn agree(&self, peer: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let y = self.group.validate(peer)?;
        let z = y.modpow(&self.x, &self.group.p);
        if z <= BigUint::from(1u32) {
            return Err(CryptoError::KeyExchangeFailed);
        }
        Ok(self.group.encode(&z))
    }
}

#[cfg(test)]
#[path = "modp_tests.rs"]
mod tests;
