//! Diffie-Hellman with a peer's Key Exchange Data: `KeyExchange::shared_secret` on any
//! bytes, in the groups whose key generation is cheap enough to do per input
//! (ECP-256/384/521, Curve25519), and one MODP group: MODP-1024-160 (RFC 5114), which goes
//! through the MODP range check and the subgroup check (an exponentiation the other MODP
//! groups skip; each MODP key generation costs 40 ms or more here, so the others, whose
//! validation is the same code, are left to the responder target). A bad public value (wrong
//! length, out of range, not on the curve or not in the subgroup: RFC 6989) is an error,
//! never a panic; the peer's own public value always agrees, and both sides get one secret.
#![no_main]

use ike_crypto::{dh_public_len, KeyExchange};
use ike_wire::DhGroup;
use libfuzzer_sys::fuzz_target;

const GROUPS: [DhGroup; 5] = [
    DhGroup::ECP_256,
    DhGroup::ECP_384,
    DhGroup::ECP_521,
    DhGroup::CURVE25519,
    DhGroup::MODP_1024_160,
];

fuzz_target!(|data: &[u8]| {
    let [selector, shape, peer @ ..] = data else {
        return;
    };
    let group = GROUPS[usize::from(*selector) % GROUPS.len()];
    let Ok(ours) = KeyExchange::generate(group) else {
        panic!("{group:?} is supported");
    };
    let Some(len) = dh_public_len(group) else {
        panic!("{group:?} generates but has no public length");
    };
    assert_eq!(ours.public_value().len(), len, "public value length");
    // The fuzzer's bytes, or the right length of them (so that range, curve and subgroup
    // checks are reached, not only the length check).
    let peer: Vec<u8> = if shape % 2 == 0 {
        peer.to_vec()
    } else {
        peer.iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(len)
            .collect()
    };
    if let Ok(secret) = ours.shared_secret(&peer) {
        assert!(!secret.is_empty(), "an empty shared secret");
    }
    // Now and then an honest exchange: both sides agree on one secret.
    if shape % 8 == 1 {
        let (Ok(a), Ok(b)) = (KeyExchange::generate(group), KeyExchange::generate(group)) else {
            panic!("{group:?} is supported");
        };
        let (pa, pb) = (a.public_value().to_vec(), b.public_value().to_vec());
        match (a.shared_secret(&pb), b.shared_secret(&pa)) {
            (Ok(x), Ok(y)) => assert_eq!(x, y, "the two sides disagree"),
            (x, y) => panic!("honest public values refused: {x:?} {y:?}"),
        }
    }
});
