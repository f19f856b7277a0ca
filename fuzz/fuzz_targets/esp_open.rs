//! ESP into an SA database (`esp::Sad`) holding a few CHILD SAs (AES-GCM-16 128/256,
//! AES-CBC with HMAC-SHA1-96 and HMAC-SHA-512-256, ESN on some, IPv4 and IPv6 selectors),
//! as a simulated host opens what arrives on its ESP port:
//! - byte 0 ≡ 0 (mod 3): the rest is a datagram, opened as it is, or (byte 1 odd) with
//!   its first four bytes replaced by one of the installed SPIs so that it gets past the
//!   lookup to the window, the ICV and the padding; a datagram that opens must have come
//!   from a seal, which random bytes never are;
//! - ≡ 1: an inner packet built from the input (addresses picked inside or outside the
//!   selectors, any protocol and payload) sealed by the peer, then a copy with one byte
//!   changed (where the input says) is refused, the genuine packet still opens to the same
//!   inner packet (the window moved only for authentic packets), and a second time is a
//!   replay;
//! - ≡ 2: a burst of up to 64 sealed packets delivered in an order the input picks, with
//!   duplicates: no sequence number is ever accepted twice, and every drop is counted.
#![no_main]

use std::collections::HashSet;
use std::net::IpAddr;

use esp::{Drop, Integrity, PairSpec, SaSpec, Sad, Selector, Suite};
use libfuzzer_sys::fuzz_target;

/// (suite, ESN) of the installed CHILD SAs; each SA's SPIs are 0x1000 + i (ours) and
/// 0x2000 + i (the peer's).
const SAS: [(Suite, bool); 4] = [
    (Suite::AesGcm16 { key_bits: 128 }, false),
    (Suite::AesGcm16 { key_bits: 256 }, true),
    (
        Suite::AesCbc {
            key_bits: 128,
            integrity: Integrity::HmacSha1_96,
        },
        true,
    ),
    (
        Suite::AesCbc {
            key_bits: 256,
            integrity: Integrity::HmacSha512_256,
        },
        false,
    ),
];

fn sa(suite: Suite, spi: u32, esn: bool) -> SaSpec {
    SaSpec {
        spi,
        suite,
        encryption_key: (0..suite.encryption_key_len()).map(|i| i as u8 ^ spi as u8).collect(),
        integrity_key: (0..suite.integrity_key_len()).map(|i| !(i as u8)).collect(),
        esn,
    }
}

fn range(first: [u8; 4], last: [u8; 4]) -> Selector {
    Selector::addresses(IpAddr::from(first)..=IpAddr::from(last))
}

fn v6(last: u8) -> IpAddr {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[15] = last;
    IpAddr::from(a)
}

/// Our database (the AWS side) and the peer's; the last SA carries IPv6.
fn sads() -> (Sad, Sad) {
    let (mut ours, mut peer) = (Sad::new(), Sad::new());
    for (i, (suite, esn)) in SAS.into_iter().enumerate() {
        let (spi_in, spi_out) = (0x1000 + i as u32, 0x2000 + i as u32);
        let (local, remote) = if i == SAS.len() - 1 {
            (
                vec![Selector::addresses(v6(0)..=v6(99))],
                vec![Selector::addresses(v6(100)..=v6(199))],
            )
        } else {
            (
                vec![range([10, 0, i as u8, 0], [10, 0, i as u8, 255])],
                vec![range([192, 168, i as u8, 0], [192, 168, i as u8, 255])],
            )
        };
        let spec = |inbound, outbound, local, remote, seed| PairSpec {
            inbound,
            outbound,
            local,
            remote,
            replay_window: 64,
            replaces: None,
            defer_outbound: false,
            iv_seed: seed,
        };
        let to_us = sa(suite, spi_in, esn);
        let to_peer = sa(suite, spi_out, esn);
        let installed = ours
            .install(spec(to_us.clone(), to_peer.clone(), local.clone(), remote.clone(), 1))
            .and_then(|()| peer.install(spec(to_peer, to_us, remote, local, 2)));
        if let Err(e) = installed {
            panic!("fixed SAs install: {e}");
        }
    }
    (ours, peer)
}

/// An IPv4 packet from the peer's side to ours (or IPv6 if `shape` says), addresses from
/// the input: mostly inside the selectors of SA `shape % 4`, sometimes not.
fn inner(shape: u8, host: u8, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let sa = shape % 4;
    let stray = shape & 0x80 != 0;
    let payload = &payload[..payload.len().min(1400)];
    if sa == 3 {
        let (IpAddr::V6(src), IpAddr::V6(dst)) = (v6(100 + host % 100), v6(host % 100)) else {
            unreachable!()
        };
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[protocol, 64]);
        p.extend_from_slice(&src.octets());
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(payload);
        return p;
    }
    let total = (20 + payload.len()) as u16;
    let src = [192, 168, sa + u8::from(stray), host];
    let dst = [10, 0, sa, host.wrapping_mul(7)];
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, protocol, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fuzz_target!(|data: &[u8]| {
    let [mode, a, b, c, rest @ ..] = data else {
        return;
    };
    let (mut ours, mut peer) = sads();
    match mode % 3 {
        0 => {
            let mut datagram = [&[*a, *b, *c][..], rest].concat();
            if a % 2 == 1 && datagram.len() >= 4 {
                let spi = 0x1000 + u32::from(*b) % SAS.len() as u32;
                datagram[..4].copy_from_slice(&spi.to_be_bytes());
            }
            if let Ok(opened) = ours.open(&mut datagram) {
                panic!("random bytes opened: {opened:?}");
            }
            assert_eq!(ours.drops().total(), 1, "the drop is counted");
        }
        1 => {
            let packet = inner(*a, *b, *c, rest);
            let mut wire = Vec::new();
            let Ok(sealed) = peer.seal(&packet, &mut wire) else {
                assert_eq!(peer.drops().total(), 1, "the drop is counted");
                return;
            };
            let mut forged = wire.clone();
            let at = usize::from(*b) * 7 % forged.len();
            forged[at] ^= c | 1;
            if let Ok(opened) = ours.open(&mut forged) {
                panic!("a changed byte at {at} opened: {opened:?}");
            }
            let opened = match ours.open(&mut wire) {
                Ok(o) => o,
                Err(Drop::SelectorMismatch) if a & 0x80 != 0 => return,
                Err(e) => panic!("a genuine packet on SA {:x} was refused: {e}", sealed.spi_in),
            };
            assert_eq!(opened.spi_in, sealed.spi_out, "the pair it was sealed for");
            assert_eq!(&wire[opened.inner.clone()], &packet[..], "the inner packet");
            let replays = ours.drops().get(Drop::Replayed);
            let mut again = wire.clone();
            assert_eq!(ours.open(&mut again).err(), Some(Drop::Replayed), "a second copy");
            assert_eq!(ours.drops().get(Drop::Replayed), replays + 1, "counted");
        }
        _ => {
            let count = usize::from(*a % 64) + 1;
            let packet = inner(*b & 0x7f, *c, 17, b"burst");
            let mut burst = Vec::new();
            for _ in 0..count {
                let mut wire = Vec::new();
                if peer.seal(&packet, &mut wire).is_err() {
                    return;
                }
                burst.push(wire);
            }
            let mut accepted = HashSet::new();
            let mut refused = 0;
            for pick in rest {
                let mut wire = burst[usize::from(*pick) % count].clone();
                match ours.open(&mut wire) {
                    Ok(o) => assert!(accepted.insert(o.seq), "seq {} accepted twice", o.seq),
                    Err(Drop::Replayed | Drop::BeforeWindow) => refused += 1,
                    Err(e) => panic!("a genuine packet was refused: {e}"),
                }
            }
            assert_eq!(ours.drops().total(), refused, "every refusal is counted");
        }
    }
});
