//! One SA each way: seal∘open is the identity, any damage is refused with the right
//! reason, random bytes never panic, the sequence space ends where RFC 4303 says.

mod common;

use common::{spec, suites};
use esp::{Drop, Inbound, Outbound, SealError, Suite};
use proptest::prelude::*;

const SPI: u32 = 0xc0de_0001;

fn pair(suite: Suite, esn: bool, window: u32) -> (Outbound, Inbound) {
    let sa = spec(suite, SPI, esn, 9);
    (
        Outbound::new(&sa, 42).unwrap(),
        Inbound::new(&sa, window).unwrap(),
    )
}

fn suite() -> impl Strategy<Value = Suite> {
    proptest::sample::select(suites())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn seal_then_open_is_the_identity(
        suite in suite(),
        esn: bool,
        next_header: u8,
        payload in proptest::collection::vec(any::<u8>(), 0..=1500),
        packets in 1usize..4,
    ) {
        let (mut out, mut inb) = pair(suite, esn, 1024);
        let mut wire = Vec::new();
        for n in 1..=packets as u64 {
            let seq = out.seal(next_header, &payload, &mut wire).unwrap();
            prop_assert_eq!(seq, n);
            prop_assert_eq!(wire.len(), suite.sealed_len(payload.len()));
            prop_assert_eq!(esp::spi_of(&wire), Some(SPI));
            let opened = inb.open(&mut wire).unwrap();
            prop_assert_eq!(opened.seq, n);
            prop_assert_eq!(opened.next_header, next_header);
            prop_assert_eq!(&wire[opened.payload], &payload[..]);
        }
    }

    /// Any one byte changed: the SPI is another SA's, a sequence number that is 0 or
    /// left of the window is refused as such, anything else fails the ICV.
    #[test]
    fn a_changed_byte_is_refused(
        suite in suite(),
        esn: bool,
        payload in proptest::collection::vec(any::<u8>(), 0..=200),
        at in any::<proptest::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let (mut out, mut inb) = pair(suite, esn, 64);
        let mut wire = Vec::new();
        out.seal(4, &payload, &mut wire).unwrap();
        let at = at.index(wire.len());
        wire[at] ^= flip;
        let low = u32::from_be_bytes([wire[4], wire[5], wire[6], wire[7]]);
        let want = match at {
            0..=3 => Drop::UnknownSpi,
            _ if low == 0 && !esn => Drop::Replayed,
            // With ESN and nothing received yet, a number above 2^32 - 64 would be of
            // the subspace below 0 (RFC 4303 A2.2): none.
            _ if esn && low > u32::MAX - 63 => Drop::BeforeWindow,
            _ => Drop::Integrity,
        };
        prop_assert_eq!(inb.open(&mut wire), Err(want));
        // The window did not move: the genuine packet still opens.
        let mut wire = Vec::new();
        let (mut out, _) = pair(suite, esn, 64);
        out.seal(4, &payload, &mut wire).unwrap();
        prop_assert!(inb.open(&mut wire).is_ok());
    }

    #[test]
    fn a_shortened_packet_is_refused(
        suite in suite(),
        payload in proptest::collection::vec(any::<u8>(), 0..=100),
        cut in 1usize..=64,
    ) {
        let (mut out, mut inb) = pair(suite, false, 64);
        let mut wire = Vec::new();
        out.seal(4, &payload, &mut wire).unwrap();
        let len = wire.len().saturating_sub(cut);
        wire.truncate(len);
        let min = suite.sealed_len(0);
        let ciphertext = len as i64 - 8 - suite.iv_len() as i64 - suite.icv_len() as i64;
        let want = if len < 4 || len < min {
            Drop::Truncated
        } else if ciphertext % suite.alignment() as i64 != 0 && matches!(suite, Suite::AesCbc { .. }) {
            Drop::Malformed
        } else {
            Drop::Integrity
        };
        prop_assert_eq!(inb.open(&mut wire), Err(want));
    }

    #[test]
    fn random_bytes_never_panic(
        suite in suite(),
        esn: bool,
        ours: bool,
        mut bytes in proptest::collection::vec(any::<u8>(), 0..=300),
    ) {
        let (_, mut inb) = pair(suite, esn, 128);
        if ours && bytes.len() >= 4 {
            bytes[..4].copy_from_slice(&SPI.to_be_bytes());
        }
        let result = inb.open(&mut bytes);
        prop_assert!(result.is_err(), "random bytes opened: {:?}", result);
    }

    /// With ESN, a receiver that saw packets up to some number infers the high half of
    /// the next ones across a 2^32 boundary (RFC 4303 Appendix A2.2), reordered within
    /// the window included.
    #[test]
    fn esn_crosses_the_32_bit_boundary(
        suite in suite(),
        high in 0u64..3,
        before in 1u64..200,
        lag in 0u64..64,
        count in 1u64..300,
    ) {
        let (mut out, mut inb) = pair(suite, true, 128);
        let start = ((high + 1) << 32) - before;
        out.skip_to(start - 1);
        inb.skip_to(start - 1 - lag);
        let mut wire = Vec::new();
        for n in 0..count {
            let seq = out.seal(4, b"x", &mut wire).unwrap();
            prop_assert_eq!(seq, start + n);
            let opened = inb.open(&mut wire).unwrap();
            prop_assert_eq!(opened.seq, start + n);
        }
    }
}

#[test]
fn the_sequence_space_ends_without_esn_at_2_pow_32_minus_1() {
    for suite in suites() {
        let (mut out, mut inb) = pair(suite, false, 64);
        out.skip_to(u64::from(u32::MAX) - 2);
        inb.skip_to(u64::from(u32::MAX) - 3);
        let mut wire = Vec::new();
        for want in [u64::from(u32::MAX) - 1, u64::from(u32::MAX)] {
            assert_eq!(out.seal(4, b"late", &mut wire), Ok(want));
            assert_eq!(inb.open(&mut wire).unwrap().seq, want);
        }
        assert_eq!(
            out.seal(4, b"one too many", &mut wire),
            Err(SealError::SequenceExhausted)
        );
        assert!(wire.is_empty());
        assert_eq!(
            out.seal(4, b"still", &mut wire),
            Err(SealError::SequenceExhausted)
        );
    }
}

#[test]
fn the_sequence_space_ends_with_esn_at_2_pow_64_minus_1() {
    let (mut out, mut inb) = pair(Suite::AesGcm16 { key_bits: 128 }, true, 64);
    out.skip_to(u64::MAX - 1);
    inb.skip_to(u64::MAX - 1);
    let mut wire = Vec::new();
    assert_eq!(out.seal(4, b"last", &mut wire), Ok(u64::MAX));
    assert_eq!(inb.open(&mut wire).unwrap().seq, u64::MAX);
    assert_eq!(
        out.seal(4, b"none", &mut wire),
        Err(SealError::SequenceExhausted)
    );
}

#[test]
fn a_replayed_packet_is_refused_and_the_window_moves_only_for_authentic_ones() {
    for suite in suites() {
        let (mut out, mut inb) = pair(suite, false, 64);
        let mut first = Vec::new();
        out.seal(4, b"one", &mut first).unwrap();
        let copy = first.clone();
        inb.open(&mut first).unwrap();
        assert_eq!(inb.open(&mut copy.clone()), Err(Drop::Replayed));
        // 100 packets later the first is left of the 64-packet window.
        let mut wire = Vec::new();
        let mut forged = Vec::new();
        for _ in 0..100 {
            out.seal(4, b"more", &mut wire).unwrap();
            forged.clone_from(&wire);
        }
        // A forged packet with a number far right must not move the window.
        let last = forged.len() - 1;
        forged[last] ^= 1;
        forged[4..8].copy_from_slice(&1_000_000u32.to_be_bytes());
        assert_eq!(inb.open(&mut forged), Err(Drop::Integrity));
        assert_eq!(inb.window().top(), 1);
        inb.open(&mut wire).unwrap();
        assert_eq!(inb.window().top(), 101);
        assert_eq!(inb.open(&mut copy.clone()), Err(Drop::BeforeWindow));
    }
}

#[test]
fn gcm_ivs_are_the_sequence_numbers_and_cbc_ivs_repeat_by_seed() {
    let gcm = spec(Suite::AesGcm16 { key_bits: 256 }, SPI, false, 1);
    let mut out = Outbound::new(&gcm, 0).unwrap();
    let mut wire = Vec::new();
    for n in 1..=3u64 {
        out.seal(4, b"p", &mut wire).unwrap();
        assert_eq!(&wire[8..16], &n.to_be_bytes());
    }
    let cbc = spec(suites()[2], SPI, false, 1);
    let mut ivs = |seed| {
        let mut out = Outbound::new(&cbc, seed).unwrap();
        (0..3)
            .map(|_| {
                out.seal(4, b"p", &mut wire).unwrap();
                wire[8..24].to_vec()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ivs(5), ivs(5));
    assert_ne!(ivs(5), ivs(6));
    let three = ivs(5);
    assert!(three[0] != three[1] && three[1] != three[2]);
}

#[test]
fn bad_keys_and_windows_are_errors() {
    let mut sa = spec(suites()[0], SPI, false, 1);
    sa.encryption_key.pop();
    assert!(Outbound::new(&sa, 0).is_err());
    assert!(Inbound::new(&sa, 64).is_err());
    let sa = spec(suites()[0], SPI, false, 1);
    assert!(Inbound::new(&sa, esp::ReplayWindow::MAX + 1).is_err());
    assert!(Inbound::new(&sa, 0).is_ok());
}
