//! The Encrypted (SK) payload (RFC 7296 §3.14, RFC 5282) with a fixed key set, for every
//! suite ike-crypto implements (AES-GCM-16, AES-CBC with each HMAC):
//! - byte 1 even: the input past byte 1 is a received datagram, opened as the core opens
//!   it (`SkCipher::open` on its SK payload, the prefix being the bytes before the SK
//!   body) and the plaintext parsed as the chain the SK header names;
//! - byte 1 odd: the input is a prefix and a plaintext: sealed then opened it must come
//!   back whole, and the sealed body with one byte changed (where the input says) or cut
//!   short must be refused — the integrity check covers every byte.
#![no_main]

use ike_crypto::{Encryption, Integrity, SkCipher};
use ike_wire::{EncrId, IntegId, Payload};
use libfuzzer_sys::fuzz_target;

/// (cipher, key bits, integrity) of the suites the SK decoder is tried with.
const SUITES: [(EncrId, u16, Option<IntegId>); 6] = [
    (EncrId::AES_GCM_16, 128, None),
    (EncrId::AES_GCM_16, 256, None),
    (EncrId::AES_CBC, 128, Some(IntegId::HMAC_SHA1_96)),
    (EncrId::AES_CBC, 128, Some(IntegId::HMAC_SHA2_256_128)),
    (EncrId::AES_CBC, 256, Some(IntegId::HMAC_SHA2_384_192)),
    (EncrId::AES_CBC, 256, Some(IntegId::HMAC_SHA2_512_256)),
];

fn cipher(suite: u8) -> SkCipher {
    let (id, bits, integ) = SUITES[usize::from(suite) % SUITES.len()];
    let Ok(encryption) = Encryption::new(id, Some(bits)) else {
        panic!("suite {id:?}/{bits} is implemented");
    };
    let integrity = integ.map(|i| match Integrity::new(i) {
        Ok(i) => i,
        Err(e) => panic!("{i:?}: {e}"),
    });
    let sk_e: Vec<u8> = (0..encryption.key_material_len())
        .map(|i| i as u8)
        .collect();
    let sk_a: Vec<u8> = (0..integrity.map_or(0, |i| i.key_len()))
        .map(|i| !(i as u8))
        .collect();
    match SkCipher::new(encryption, integrity, &sk_e, &sk_a) {
        Ok(c) => c,
        Err(e) => panic!("fixed keys: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let [suite, mode, rest @ ..] = data else {
        return;
    };
    let sk = cipher(*suite);
    if mode % 2 == 0 {
        let Ok(message) = ike_wire::Message::parse(rest) else {
            // Not a message: still open the bytes as a body, with an empty prefix.
            let _ = sk.open(&[], rest);
            return;
        };
        if let Some(Payload::Encrypted(body)) = message.payloads.last() {
            let prefix = &rest[..rest.len().saturating_sub(body.data.len())];
            if let Ok(plain) = sk.open(prefix, &body.data) {
                if let Ok(inner) = ike_wire::parse_payloads(body.first_inner, &plain) {
                    ikesim_fuzz::walk_v2(&inner);
                }
            }
        }
        return;
    }
    let [split, flip, rest @ ..] = rest else {
        return;
    };
    let split = usize::from(*split).min(rest.len());
    let (prefix, plaintext) = rest.split_at(split);
    let iv: Vec<u8> = (0..sk.iv_len()).map(|i| *flip ^ i as u8).collect();
    let sealed = sk.seal(prefix, plaintext, &iv);
    assert_eq!(sealed.len(), sk.body_len(plaintext.len()), "body_len");
    match sk.open(prefix, &sealed) {
        Ok(p) => assert_eq!(p, plaintext, "open(seal(p)) != p"),
        Err(e) => panic!("our own sealed body does not open: {e}"),
    }
    let mut forged = sealed.clone();
    let at = usize::from(*flip) % forged.len();
    forged[at] ^= 0x01;
    assert!(
        sk.open(prefix, &forged).is_err(),
        "a changed byte {at} was accepted"
    );
    assert!(
        sk.open(prefix, &sealed[..sealed.len() - 1]).is_err(),
        "a body one byte short was accepted"
    );
    if let Some((&first, _)) = plaintext.split_first() {
        if let Ok(inner) = ike_wire::parse_payloads(ike_wire::PayloadType(first), &plaintext[1..]) {
            ikesim_fuzz::walk_v2(&inner);
        }
    }
});
