//! IKEv1 cryptography (RFC 2409) for main mode with pre-shared keys, quick mode and
//! informational exchanges, built on the same primitives as the IKEv2 side.
//!
//! IKEv1 negotiates one [`Hash`](enum@Hash) in phase 1 and derives everything from it: the PRF is HMAC
//! with that hash (RFC 2409 §4), the IVs and NAT-D use it plain. The key schedule:
//!
//! ```text
//! SKEYID   = prf(PSK, Ni_b | Nr_b)                                     skeyid_psk
//! SKEYID_d, SKEYID_a, SKEYID_e, the ISAKMP SA's cipher key              phase1_keys
//! HASH_I, HASH_R (main mode 5 and 6)                                    hash_i, hash_r
//! HASH(1), HASH(2), HASH(3) (quick mode), HASH(1) (informational)       qm_hash1..3, info_hash
//! KEYMAT of each ESP SA (one per SPI, so one per direction)             qm_keymat
//! ```
//!
//! Messages after the DH exchange are AES-CBC encrypted without integrity check ([`Cbc`]):
//! the first IV comes from the DH public values ([`phase1_iv`]), each later IV is the last
//! ciphertext block of the previous message ([`last_block`]), and each phase 2 exchange
//! starts from a hash of the last phase 1 block and its message id ([`phase2_iv`]).
//!
//! Code points are IKEv1's attribute values (RFC 2409 App. A, RFC 2407 §4.5), not IKEv2
//! transform ids: [`Hash::from_attribute`], [`Phase1Encryption::from_attributes`],
//! [`esp_encryption`], [`esp_integrity`]. The Group Description attribute shares its values
//! with IKEv2's DH transform ids, so [`KeyExchange`](crate::KeyExchange) takes it as
//! `DhGroup(value)`. As on the IKEv2 side, MD5, DES and 3DES are refused: AWS does not
//! offer them.
//!
//! Byte strings named `*_b` are payload bodies without the generic payload header
//! (RFC 2409 §3.2); cookies and message ids are hashed in network order.

mod cbc;
mod esp;
mod hash;
mod keys;

pub use cbc::{last_block, phase1_iv, phase2_iv, Cbc, Phase1Encryption};
pub use esp::{esp_encryption, esp_integrity, EspKeys};
pub use hash::Hash;
pub use keys::{
    hash_i, hash_r, info_hash, nat_d, phase1_keys, qm_hash1, qm_hash2, qm_hash3, qm_keymat,
    skeyid_psk, Phase1Keys,
};

#[cfg(test)]
mod tests;
