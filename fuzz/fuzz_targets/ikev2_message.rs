//! IKEv2 (RFC 7296 §3): `ike_wire::Message::parse` on any datagram, every finder on what
//! parsed, parse ∘ encode ∘ parse stable; and the payload chain parser on its own, as the
//! core calls it on an SK payload's plaintext (`parse_payloads`, first type from byte 0).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = ike_wire::Message::parse(data) {
        ikesim_fuzz::walk_v2(&message.payloads);
        let _ = message.is_response();
        ikesim_fuzz::round_trip_v2(&message);
    }
    if let Some((&first, rest)) = data.split_first() {
        if let Ok(payloads) = ike_wire::parse_payloads(ike_wire::PayloadType(first), rest) {
            ikesim_fuzz::walk_v2(&payloads);
            // The chain an SK payload carries re-encodes and parses back to itself.
            let (first, body) = ike_wire::encode_payloads(&payloads);
            match ike_wire::parse_payloads(first, &body) {
                Ok(again) => assert_eq!(again, payloads, "chain round trip"),
                Err(e) => panic!("a parsed chain re-encodes to bytes that do not parse: {e}"),
            }
        }
    }
});
