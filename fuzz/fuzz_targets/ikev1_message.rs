//! IKEv1 / ISAKMP (RFC 2408 §3): `ike_wire::v1::Message::parse` on any datagram, every
//! accessor on its payloads, parse ∘ encode ∘ parse stable; and the chain parser as the
//! core calls it on a decrypted body (`v1::parse_payloads`, `payloads_after_first`).
#![no_main]

use ike_wire::v1;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ike_wire::ike_major_version(data);
    if let Ok(message) = v1::Message::parse(data) {
        ikesim_fuzz::walk_v1(message.payloads());
        let _ = message.payload(v1::PayloadType::SA);
        ikesim_fuzz::round_trip_v1(&message);
    }
    if let Some((&first, rest)) = data.split_first() {
        let first = v1::PayloadType(first);
        if let Ok(payloads) = v1::parse_payloads(first, rest) {
            ikesim_fuzz::walk_v1(&payloads);
            let _ = v1::payloads_after_first(first, rest);
        }
    }
});
