//! What sealing and opening a 1,400-byte packet costs, per suite, next to the floor: the
//! raw cipher and MAC work on the same bytes measured in the same run (ring's AES-GCM
//! seal and open; AES-CBC encrypt and decrypt with the `aes`/`cbc` crates plus ring's
//! HMAC sign and verify). Issue 15's target: ESP within 1.5× of the floor.
//!
//! `cargo run --release -p esp --example seal_open_cost [packets]`

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant;

use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use esp::{Inbound, Integrity, Outbound, PairSpec, SaSpec, Sad, Selector, Suite};
use ring::{aead, hmac};

const INNER: usize = 1400;
const ROUNDS: usize = 7;

fn spec(suite: Suite, spi: u32) -> SaSpec {
    SaSpec {
        spi,
        suite,
        encryption_key: (0..suite.encryption_key_len()).map(|i| i as u8).collect(),
        integrity_key: (0..suite.integrity_key_len()).map(|i| !(i as u8)).collect(),
        esn: false,
    }
}

/// A 1,400-byte IPv4 UDP packet from 192.168.1.1 to 10.0.0.1.
fn inner_packet() -> Vec<u8> {
    let mut p = vec![0u8; INNER];
    p[..20].copy_from_slice(&[
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0, 192, 168, 1, 1, 10, 0, 0, 1,
    ]);
    p[2..4].copy_from_slice(&(INNER as u16).to_be_bytes());
    p[20..24].copy_from_slice(&[0x13, 0x88, 0x00, 0x35]);
    p
}

/// A measured loop: one call is one packet sealed and opened.
type Bench<'a> = Box<dyn FnMut() + 'a>;

/// The best of `ROUNDS` runs of `n` calls of each bench, in ns per call. The rounds
/// interleave the benches, so that a neighbour's burst on the shared machine hits them
/// alike, and the minimum is the run least disturbed.
fn ns_per(n: usize, benches: &mut [Bench<'_>]) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; benches.len()];
    for bench in benches.iter_mut() {
        for _ in 0..n / 10 {
            bench();
        }
    }
    for _ in 0..ROUNDS {
        for (bench, best) in benches.iter_mut().zip(&mut best) {
            let start = Instant::now();
            for _ in 0..n {
                bench();
            }
            *best = best.min(start.elapsed().as_nanos() as f64 / n as f64);
        }
    }
    best
}

/// Seal then open with one SA pair (the window moves on, as on a tunnel).
fn esp_sa(suite: Suite, inner: &[u8]) -> Bench<'_> {
    let sa = spec(suite, 0x1000);
    let (Ok(mut out), Ok(mut inb)) = (Outbound::new(&sa, 1), Inbound::new(&sa, 1024)) else {
        panic!("keys");
    };
    let mut wire = Vec::with_capacity(2048);
    Box::new(move || {
        let _ = out.seal(4, black_box(inner), &mut wire);
        let _ = black_box(inb.open(&mut wire));
    })
}

/// The same through two SA databases: selectors, counters and the inner header included.
fn esp_sad(suite: Suite, inner: &[u8]) -> Bench<'_> {
    let sel = |a: [u8; 4], b: [u8; 4]| vec![Selector::addresses(IpAddr::from(a)..=IpAddr::from(b))];
    let pair = |inb, outb, local, remote| PairSpec {
        inbound: inb,
        outbound: outb,
        local,
        remote,
        replay_window: 1024,
        replaces: None,
        defer_outbound: false,
        iv_seed: 1,
    };
    let (mut cgw, mut aws) = (Sad::new(), Sad::new());
    let onprem = sel([192, 168, 1, 0], [192, 168, 1, 255]);
    let vpc = sel([10, 0, 0, 0], [10, 0, 255, 255]);
    let (to_aws, to_cgw) = (spec(suite, 0x1000), spec(suite, 0x2000));
    let ok = cgw.install(pair(
        to_cgw.clone(),
        to_aws.clone(),
        onprem.clone(),
        vpc.clone(),
    ));
    let ok = ok.and_then(|()| aws.install(pair(to_aws, to_cgw, vpc, onprem)));
    assert!(ok.is_ok(), "install");
    let mut wire = Vec::with_capacity(2048);
    Box::new(move || {
        let _ = cgw.seal(black_box(inner), &mut wire);
        let _ = black_box(aws.open(&mut wire));
    })
}

/// ring's AES-GCM on the bytes ESP encrypts (the inner packet and its 4-byte-aligned
/// trailer) with ESP's 8-byte AAD: seal, then open.
fn gcm_floor(key_bits: u16) -> Bench<'static> {
    let algorithm = if key_bits == 128 {
        &aead::AES_128_GCM
    } else {
        &aead::AES_256_GCM
    };
    let Ok(key) = aead::UnboundKey::new(algorithm, &vec![7; usize::from(key_bits / 8)]) else {
        panic!("key");
    };
    let key = aead::LessSafeKey::new(key);
    let mut buf = vec![0u8; INNER + 4 + 16];
    let mut seq = 0u64;
    Box::new(move || {
        seq += 1;
        let mut nonce = [0; 12];
        nonce[4..].copy_from_slice(&seq.to_be_bytes());
        let aad = [0u8; 8];
        let body = &mut buf[..INNER + 4];
        let Ok(tag) = key.seal_in_place_separate_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(aad),
            body,
        ) else {
            return;
        };
        buf[INNER + 4..].copy_from_slice(tag.as_ref());
        let _ = black_box(key.open_in_place(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(aad),
            &mut buf,
        ));
        buf.resize(INNER + 4 + 16, 0);
    })
}

/// AES-CBC encrypt + HMAC sign, then HMAC verify + AES-CBC decrypt, of what ESP covers
/// (header, IV, the inner packet padded to whole blocks).
fn cbc_floor(key_bits: u16, integrity: Integrity) -> Bench<'static> {
    let padded = (INNER + 2).div_ceil(16) * 16;
    let algorithm = match integrity {
        Integrity::HmacSha1_96 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        Integrity::HmacSha256_128 => hmac::HMAC_SHA256,
        Integrity::HmacSha384_192 => hmac::HMAC_SHA384,
        Integrity::HmacSha512_256 => hmac::HMAC_SHA512,
    };
    let mac = hmac::Key::new(algorithm, &vec![3; integrity.key_len()]);
    let buf = vec![0u8; 24 + padded];
    match key_bits {
        128 => cbc_round(aes::Aes128::new(&[1; 16].into()), mac, buf),
        _ => cbc_round(aes::Aes256::new(&[1; 32].into()), mac, buf),
    }
}

fn cbc_round<C>(aes: C, mac: hmac::Key, mut buf: Vec<u8>) -> Bench<'static>
where
    C: BlockEncryptMut + BlockDecryptMut + aes::cipher::BlockCipher + Clone + 'static,
    C: aes::cipher::BlockSizeUser<BlockSize = U16>,
{
    let iv = [9u8; 16];
    Box::new(move || {
        let mut enc = cbc::Encryptor::<C>::inner_iv_init(aes.clone(), (&iv).into());
        for block in buf[24..].chunks_exact_mut(16) {
            enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        let tag = hmac::sign(&mac, &buf);
        let _ = black_box(hmac::verify(&mac, &buf, tag.as_ref()));
        let mut dec = cbc::Decryptor::<C>::inner_iv_init(aes.clone(), (&iv).into());
        let (blocks, _) = InOutBuf::from(&mut buf[24..]).into_chunks::<U16>();
        dec.decrypt_blocks_inout_mut(blocks);
    })
}

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let inner = inner_packet();
    let suites = [
        ("AES-GCM-16-128", Suite::AesGcm16 { key_bits: 128 }),
        ("AES-GCM-16-256", Suite::AesGcm16 { key_bits: 256 }),
        (
            "AES-CBC-128 + HMAC-SHA1-96",
            Suite::AesCbc {
                key_bits: 128,
                integrity: Integrity::HmacSha1_96,
            },
        ),
        (
            "AES-CBC-128 + HMAC-SHA-256-128",
            Suite::AesCbc {
                key_bits: 128,
                integrity: Integrity::HmacSha256_128,
            },
        ),
        (
            "AES-CBC-256 + HMAC-SHA-256-128",
            Suite::AesCbc {
                key_bits: 256,
                integrity: Integrity::HmacSha256_128,
            },
        ),
        (
            "AES-CBC-256 + HMAC-SHA-512-256",
            Suite::AesCbc {
                key_bits: 256,
                integrity: Integrity::HmacSha512_256,
            },
        ),
    ];
    println!("seal+open of a {INNER}-byte inner packet, ns/packet (best of {ROUNDS} × {n})");
    println!(
        "{:<32} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "suite", "floor", "SA pair", "Sad", "SA/flr", "Sad/flr"
    );
    for (name, suite) in suites {
        let floor = match suite {
            Suite::AesGcm16 { key_bits } => gcm_floor(key_bits),
            Suite::AesCbc {
                key_bits,
                integrity,
            } => cbc_floor(key_bits, integrity),
        };
        let mut benches = [floor, esp_sa(suite, &inner), esp_sad(suite, &inner)];
        let [floor, sa, sad] = ns_per(n, &mut benches)[..] else {
            unreachable!()
        };
        println!(
            "{name:<32} {floor:>9.0} {sa:>9.0} {sad:>9.0} {:>7.2}× {:>7.2}×",
            sa / floor,
            sad / floor
        );
    }
}
