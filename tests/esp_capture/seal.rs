//! ESP sealing by hand (RFC 4303 §2, tunnel mode: next header 4), to check the capture
//! format independently of the `esp` crate.

use aes::cipher::{BlockEncryptMut, KeyIvInit};
use ike_core::EspKeys;
use ring::{aead, hmac};

use super::Suite;

/// Next header of an inner IPv4 packet (tunnel mode).
const IPV4: u8 = 4;

/// `inner` padded (1, 2, 3, … as RFC 4303 §2.4 says) so that it, the pad length and the
/// next header end on a multiple of `block`.
fn padded(inner: &[u8], block: usize) -> Vec<u8> {
    let pad = (block - (inner.len() + 2) % block) % block;
    let mut plain = inner.to_vec();
    plain.extend((1..=pad).map(|b| u8::try_from(b).unwrap()));
    plain.push(u8::try_from(pad).unwrap());
    plain.push(IPV4);
    plain
}

/// One ESP packet (SPI first) carrying `inner` with sequence number `seq`.
pub fn seal(suite: Suite, spi: u32, seq: u32, keys: &EspKeys, inner: &[u8]) -> Vec<u8> {
    let mut esp = Vec::new();
    esp.extend_from_slice(&spi.to_be_bytes());
    esp.extend_from_slice(&seq.to_be_bytes());
    match suite {
        Suite::Gcm256 => {
            // RFC 4106: an 8-octet IV, the nonce salt | IV, the AAD SPI | sequence number.
            let (key, salt) = keys.encryption.split_at(32);
            let iv = u64::from(seq).to_be_bytes();
            let mut nonce = [0u8; 12];
            nonce[..4].copy_from_slice(salt);
            nonce[4..].copy_from_slice(&iv);
            let key =
                aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, key).unwrap());
            let mut body = padded(inner, 4);
            let aad = esp.clone();
            key.seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad),
                &mut body,
            )
            .unwrap();
            esp.extend_from_slice(&iv);
            esp.extend_from_slice(&body);
        }
        Suite::Cbc128Sha256 => {
            // RFC 3602: a 16-octet IV; RFC 4868: HMAC-SHA-256 over SPI .. ciphertext,
            // truncated to 16 octets.
            let iv = [u8::try_from(seq % 256).unwrap(); 16];
            let mut body = padded(inner, 16);
            let mut enc =
                cbc::Encryptor::<aes::Aes128>::new_from_slices(&keys.encryption, &iv).unwrap();
            for block in body.chunks_exact_mut(16) {
                enc.encrypt_block_mut(block.into());
            }
            esp.extend_from_slice(&iv);
            esp.extend_from_slice(&body);
            let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &keys.integrity), &esp);
            esp.extend_from_slice(&mac.as_ref()[..16]);
        }
    }
    esp
}
