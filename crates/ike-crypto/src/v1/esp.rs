//! ESP transforms negotiated in quick mode (RFC 2407 §4.4.4, §4.5) and the split of their
//! KEYMAT.

use ike_wire::{EncrId, IntegId};

use crate::{CryptoError, Encryption, Integrity};

/// The cipher of an ESP transform: its IPsec DOI transform id (RFC 2407 §4.4.4) and Key
/// Length attribute in bits (class 6).
///
/// The ESP transform ids share their values with IKEv2's encryption transform ids
/// (ESP_AES-CBC 12 (RFC 3602), ESP_AES-GCM-16 20 (RFC 4106)), so this is
/// [`Encryption::new`] with the same refusals: ESP_DES (2), ESP_3DES (3), ESP_NULL (11), …
/// are [`CryptoError::Unsupported`], AES without a valid key length
/// [`CryptoError::UnsupportedKeyLength`].
pub fn esp_encryption(transform_id: u8, key_bits: Option<u16>) -> Result<Encryption, CryptoError> {
    Encryption::new(EncrId(u16::from(transform_id)), key_bits)
}

/// The integrity algorithm of an ESP transform, from its Authentication Algorithm
/// attribute (RFC 2407 §4.5 class 5): HMAC-SHA (2, RFC 2404) and HMAC-SHA2-256/384/512
/// (5/6/7, truncated to 128/192/256 bits by RFC 4868 §2.1). HMAC-MD5 (1), AES-XCBC-MAC (9)
/// and the others are [`CryptoError::Unsupported`]. AES-GCM transforms carry no
/// Authentication Algorithm attribute: they need no `Integrity`.
pub fn esp_integrity(auth_algorithm: u16) -> Result<Integrity, CryptoError> {
    let id = match auth_algorithm {
        2 => IntegId::HMAC_SHA1_96,
        5 => IntegId::HMAC_SHA2_256_128,
        6 => IntegId::HMAC_SHA2_384_192,
        7 => IntegId::HMAC_SHA2_512_256,
        _ => {
            return Err(CryptoError::Unsupported {
                what: "IKEv1 ESP authentication",
                id: auth_algorithm,
            })
        }
    };
    Integrity::new(id)
}

/// The keys of one ESP SA (one direction: IKEv1 derives a KEYMAT per SPI). `Debug` shows
/// only their lengths.
#[derive(Clone, PartialEq, Eq)]
pub struct EspKeys {
    /// Encryption key material (AES-GCM: the key then the 4-byte salt, RFC 4106 §8.1).
    pub encr: Vec<u8>,
    /// Integrity key (empty with AES-GCM).
    pub integ: Vec<u8>,
}

impl EspKeys {
    /// Splits the KEYMAT of one SA: the encryption key first, then the integrity key.
    /// [`child_sa_key_len`](crate::child_sa_key_len) is the KEYMAT length to ask
    /// [`qm_keymat`](super::qm_keymat) for; `None` if `keymat` is shorter.
    pub fn split(
        keymat: &[u8],
        encryption: &Encryption,
        integrity: Option<&Integrity>,
    ) -> Option<EspKeys> {
        let encr_len = encryption.key_material_len();
        let integ_len = integrity.map_or(0, |i| i.key_len());
        let encr = keymat.get(..encr_len)?;
        let integ = keymat.get(encr_len..encr_len + integ_len)?;
        Some(EspKeys {
            encr: encr.to_vec(),
            integ: integ.to_vec(),
        })
    }
}

impl std::fmt::Debug for EspKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EspKeys")
            .field("encr", &format_args!("<{} bytes>", self.encr.len()))
            .field("integ", &format_args!("<{} bytes>", self.integ.len()))
            .finish()
    }
}
