//! IKE cryptography for ikesim: Diffie-Hellman groups, PRFs and prf+, the IKEv2 key
//! schedule, SK payload protection and PSK authentication (RFC 7296).
//!
//! Algorithms are looked up by their IKEv2 transform ids (`ike_wire::{EncrId, PrfId,
//! IntegId, DhGroup}`); an id the crate does not implement, or refuses to (DES, 3DES, MD5,
//! MODP-768, …), is [`CryptoError::Unsupported`]. Everything is deterministic given its
//! inputs (IVs and nonces come from the caller) except the ephemeral DH private keys,
//! which come from the operating system's RNG and never leave this crate.
//!
//! - [`KeyExchange`]: ephemeral DH in the ECP (RFC 5903), Curve25519 (RFC 8031) and MODP
//!   (RFC 3526, RFC 5114) groups.
//! - [`Prf`], [`Integrity`], [`Encryption`]: the negotiated transforms.
//! - [`IkeSuite::derive`], [`skeyseed`], [`rekey_skeyseed`], [`child_keymat`]: the key
//!   schedule (RFC 7296 §2.13–2.18).
//! - [`SkCipher`]: the Encrypted payload (RFC 7296 §3.14, RFC 5282).
//! - [`psk_auth`], [`nat_detection_hash`]: AUTH and NAT detection data.
//! - [`v1`]: IKEv1 (RFC 2409) on the same primitives: its key schedule, HASH payloads,
//!   NAT-D and CBC payload encryption.

#![warn(missing_docs)]

mod auth;
mod dh;
mod ecp;
mod encr;
mod error;
mod hash;
mod integ;
mod keys;
mod modp;
mod modp_groups;
mod prf;
mod sk;
pub mod v1;

pub use auth::{nat_detection_hash, psk_auth};
pub use dh::{dh_public_len, dh_supported, KeyExchange};
pub use encr::{AesCbc, Encryption, AES_BLOCK};
pub use error::CryptoError;
pub use integ::Integrity;
pub use keys::{
    child_keymat, child_sa_key_len, rekey_skeyseed, skeyseed, ChildSaKeys, IkeSaKeys, IkeSuite,
};
pub use prf::Prf;
pub use sk::SkCipher;

#[cfg(test)]
mod tests {
    use super::*;

    /// The core keeps these in SA state that moves between tasks.
    #[test]
    fn state_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<KeyExchange>();
        check::<SkCipher>();
        check::<IkeSaKeys>();
        check::<IkeSuite>();
        check::<CryptoError>();
        check::<v1::Cbc>();
        check::<v1::Phase1Keys>();
    }
}
