//! IKEv1 payload encryption (RFC 2409 §5.3, App. B) with a fixed AES key: a received
//! encrypted ISAKMP message is decrypted and its chain parsed as the core does (padding
//! after the chain ignored); and any payload chain encrypted then decrypted comes back
//! whole (zero padding to a whole number of blocks, at least one).
#![no_main]

use ike_crypto::v1::{last_block, Cbc};
use ike_wire::v1;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [key_size, rest @ ..] = data else {
        return;
    };
    let key_len = [16, 24, 32][usize::from(*key_size) % 3];
    let key: Vec<u8> = (0..key_len).map(|i| i as u8).collect();
    let Ok(cbc) = Cbc::new(&key) else {
        panic!("a {key_len}-byte AES key");
    };
    let iv = [0x5a; Cbc::BLOCK];
    if let Ok(message) = v1::Message::parse(rest) {
        if let v1::Body::Encrypted(ciphertext) = &message.body {
            if let Ok(plain) = cbc.decrypt(&iv, ciphertext) {
                if let Ok(payloads) = v1::parse_payloads(message.header.next_payload, &plain) {
                    ikesim_fuzz::walk_v1(&payloads);
                }
                let _ = v1::payloads_after_first(message.header.next_payload, &plain);
            }
            let _ = last_block(ciphertext);
        }
    }
    // Any bytes decrypt (or are refused) without a panic, with any IV length.
    let _ = cbc.decrypt(&rest[..rest.len().min(Cbc::BLOCK)], rest);
    let sealed = cbc.encrypt(&iv, rest);
    assert_eq!(sealed.len() % Cbc::BLOCK, 0, "whole blocks");
    match cbc.decrypt(&iv, &sealed) {
        Ok(plain) => {
            assert_eq!(&plain[..rest.len()], rest, "decrypt(encrypt(p)) != p");
            assert!(plain[rest.len()..].iter().all(|&b| b == 0), "zero padding");
        }
        Err(e) => panic!("our own ciphertext does not decrypt: {e}"),
    }
});
