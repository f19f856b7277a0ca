use super::*;
use crate::modp::parse_hex;
use num_bigint::BigUint;

/// floor(π · 2^bits), from Machin's formula π = 16·atan(1/5) − 4·atan(1/239) in fixed point
/// with guard bits.
fn pi_times_2_pow(bits: u64) -> BigUint {
    const GUARD: u64 = 64;
    let one = BigUint::from(1u32) << (bits + GUARD);
    let atan_inv = |x: u32| {
        let (mut positive, mut negative) = (BigUint::default(), BigUint::default());
        let mut power = &one / x; // 1 / x^(2k+1)
        let mut k = 0u32;
        while power.bits() > 0 {
            let term = &power / (2 * k + 1);
            if k.is_multiple_of(2) {
                positive += term;
            } else {
                negative += term;
            }
            power /= x * x;
            k += 1;
        }
        positive - negative
    };
    (atan_inv(5) * 16u32 - atan_inv(239) * 4u32) >> GUARD
}

fn params(group: DhGroup) -> &'static ModpParams {
    MODP_GROUPS.iter().find(|g| g.group == group).unwrap()
}

/// The RFC 2409 / RFC 3526 primes are 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) π] + k):
/// rebuilding each from π and the RFC's k checks every hex digit of the constants.
#[test]
fn safe_primes_match_their_pi_formula() {
    let pi = pi_times_2_pow(8192 - 130);
    let cases = [
        (DhGroup::MODP_1024, 1024u64, 129_093u32),
        (DhGroup::MODP_1536, 1536, 741_804),
        (DhGroup::MODP_2048, 2048, 124_476),
        (DhGroup::MODP_3072, 3072, 1_690_314),
        (DhGroup::MODP_4096, 4096, 240_904),
        (DhGroup::MODP_6144, 6144, 929_484),
        (DhGroup::MODP_8192, 8192, 4_743_158),
    ];
    let one = || BigUint::from(1u32);
    for (group, n, k) in cases {
        let pi_n = &pi >> (8192 - n);
        let expected = (one() << n) - (one() << (n - 64)) - one() + ((pi_n + k) << 64);
        let p = parse_hex(params(group).prime);
        assert_eq!(p.bits(), n, "{group}");
        assert_eq!(p, expected, "{group}");
        assert_eq!(params(group).generator, "02");
        assert!(params(group).exponent_bits >= 256);
    }
}

/// RFC 5114 §2.1–2.3: bit lengths, odd primes, q | p-1 and g of order q.
#[test]
fn subgroup_parameters_are_consistent() {
    let cases = [
        (DhGroup::MODP_1024_160, 1024u64, 160u64),
        (DhGroup::MODP_2048_224, 2048, 224),
        (DhGroup::MODP_2048_256, 2048, 256),
    ];
    for (group, p_bits, q_bits) in cases {
        let params = params(group);
        let p = parse_hex(params.prime);
        let g = parse_hex(params.generator);
        let q = parse_hex(params.subgroup_order.unwrap());
        assert_eq!(p.bits(), p_bits, "{group}");
        assert_eq!(q.bits(), q_bits, "{group}");
        assert!(p.bit(0) && q.bit(0), "{group}");
        assert_eq!((&p - 1u32) % &q, BigUint::default(), "{group}");
        assert_eq!(g.modpow(&q, &p), BigUint::from(1u32), "{group}");
        assert_ne!(g, BigUint::from(1u32));
    }
}

#[test]
fn modp_768_is_not_there() {
    assert!(MODP_GROUPS.iter().all(|g| g.group != DhGroup::MODP_768));
}
