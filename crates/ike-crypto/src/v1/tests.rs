//! Known-answer tests for IKEv1. There are few published IKEv1 vectors, so the expected
//! values were computed independently of this code by `known_answers.py` (beside this
//! file: Python's hashlib/hmac and the `cryptography` package's AES-CBC, written from
//! RFC 2409 §5, §5.5, §5.7, App. B and RFC 3947 §3.2) for the fixed inputs below.

use std::net::SocketAddr;

use ike_wire::{DhGroup, EncrId, IntegId, PrfId};

use super::*;
use crate::{
    child_sa_key_len, nat_detection_hash, CryptoError, Encryption, Integrity, KeyExchange,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

// The fixed inputs, the same as known_answers.py's.
const PSK: &[u8] = b"aws-tunnel-psk";
fn ni() -> Vec<u8> {
    h(&"c0ffee00".repeat(8))
}
fn nr() -> Vec<u8> {
    h(&"0badcafe".repeat(6))
}
fn g_xy() -> Vec<u8> {
    (1..=64).collect()
}
fn g_xi() -> Vec<u8> {
    (0x40..0x80).collect()
}
fn g_xr() -> Vec<u8> {
    (0x80..0xc0).collect()
}
/// A quick mode PFS shared secret (128 bytes).
fn g_qm() -> Vec<u8> {
    (0xc0..=0xff).chain(0..0x40).collect()
}
const CKY_I: u64 = 0x0123_4567_89ab_cdef;
const CKY_R: u64 = 0xfedc_ba98_7654_3210;
/// SA body: DOI IPsec, SIT_IDENTITY_ONLY, one proposal with one KEY_IKE transform
/// (AES-CBC 256, SHA, PSK, group 14, 28800 s).
fn sai_b() -> Vec<u8> {
    h("00000001 00000001 00000030 01010001 00000028 01010000
       80010007 800e0100 80020002 80030001 8004000e 800b0001 000c0004 00007080")
}
const IDII_B: &[u8] = &[0x01, 0x11, 0x01, 0xf4, 192, 0, 2, 1]; // ID_IPV4_ADDR, UDP, 500, 192.0.2.1
const IDIR_B: &[u8] = &[0x01, 0x11, 0x01, 0xf4, 198, 51, 100, 1]; // ID_IPV4_ADDR, UDP, 500, 198.51.100.1
const MSG_ID: u32 = 0x1d2c_3b4a;
const QM_REST: &[u8] = b"SA | Ni | IDci | IDcr payload chain";
const QM_REST_R: &[u8] = b"SA | Nr | IDci | IDcr payload chain";
const INFO_REST: &[u8] = b"N(R-U-THERE) payload";
const ESP: u8 = 3; // PROTO_IPSEC_ESP (RFC 2407 §4.4.1)
const SPI: u32 = 0xcafe_0001;

fn phase1(hash: Hash, enc_key_len: usize) -> Phase1Keys {
    let prf = hash.prf();
    phase1_keys(
        &prf,
        skeyid_psk(&prf, PSK, &ni(), &nr()),
        &g_xy(),
        CKY_I,
        CKY_R,
        enc_key_len,
    )
}

#[test]
fn hash_attribute_values() {
    for (value, hash, len) in [
        (2, Hash::Sha1, 20),
        (4, Hash::Sha256, 32),
        (5, Hash::Sha384, 48),
        (6, Hash::Sha512, 64),
    ] {
        assert_eq!(Hash::from_attribute(value), Ok(hash));
        assert_eq!(hash.attribute(), value);
        assert_eq!(hash.output_len(), len);
        assert_eq!(hash.prf().output_len(), len);
    }
    assert_eq!(Hash::Sha256.prf().id(), PrfId::HMAC_SHA2_256);
}

/// MD5 (1) and Tiger (3) are refused, like anything unassigned.
#[test]
fn md5_and_tiger_are_refused() {
    for value in [1, 3, 0, 7, 0xffff] {
        assert_eq!(
            Hash::from_attribute(value),
            Err(CryptoError::Unsupported {
                what: "IKEv1 hash",
                id: value
            })
        );
    }
}

/// FIPS 180 "abc" digests.
#[test]
fn plain_digests() {
    assert_eq!(
        Hash::Sha1.digest(b"abc"),
        h("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        Hash::Sha256.digest(b"abc"),
        h("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        Hash::Sha384.digest(b"abc"),
        h("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
    );
    assert_eq!(
        Hash::Sha512.digest(b"abc"),
        h(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
           2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
    );
    assert_eq!(
        Hash::Sha256.digest_parts(&[b"a", b"", b"bc"]),
        Hash::Sha256.digest(b"abc")
    );
}

/// SHA-1 with AES-256: SKEYID_e (20 bytes) is expanded per App. B.
#[test]
fn phase1_keys_sha1_expand_skeyid_e_for_aes256() {
    let k = phase1(Hash::Sha1, 32);
    assert_eq!(k.skeyid, h("1fb5c2c2da2b8d4eb38549b094cf409fca5e397a"));
    assert_eq!(k.skeyid_d, h("d7c09a6e27fcdb08c48d53ec20344b335e300906"));
    assert_eq!(k.skeyid_a, h("8ea6dd441f5fe33d95bbcdba5c23fcecc6da0095"));
    assert_eq!(k.skeyid_e, h("4875902b9900a9dfdf4b806722ae6d9afe504f7c"));
    assert_eq!(
        k.enc_key,
        h("15d5c98b382799eb2705a80a6f7861e694f58fd7d012166be04c716029f2dfb1")
    );
    // Ka = K1 | K2 with K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1): not SKEYID_e itself.
    let prf = Hash::Sha1.prf();
    let k1 = prf.compute(&k.skeyid_e, &[0]);
    let k2 = prf.compute(&k.skeyid_e, &k1);
    assert_eq!(k.enc_key, [&k1[..], &k2[..12]].concat());
    // A 20-byte key (the whole SKEYID_e) needs no expansion.
    assert_eq!(phase1(Hash::Sha1, 20).enc_key, k.skeyid_e);
}

/// SHA-256 with AES-128, and SHA-512 with AES-256: SKEYID_e is truncated.
#[test]
fn phase1_keys_truncate_long_skeyid_e() {
    let k = phase1(Hash::Sha256, 16);
    assert_eq!(
        k.skeyid,
        h("022b663e328530fd09cc5b771962c45f749ae4042a3a2f3a7cde28904cb0f64c")
    );
    assert_eq!(
        k.skeyid_d,
        h("7be62c8de37f441b17b79df21eae8300d24c6a1208b3ad27df48350598caeeb3")
    );
    assert_eq!(
        k.skeyid_a,
        h("5f8cb2b3b6b3c8916bb4c1019b2c0676e1cbfbd34702851dfd5de9c692bbe46a")
    );
    assert_eq!(
        k.skeyid_e,
        h("381592b22574dbcd86463e8464d38268c62ca23349a70c499df19bcd7222fe1a")
    );
    assert_eq!(k.enc_key, h("381592b22574dbcd86463e8464d38268"));
    assert_eq!(
        phase1(Hash::Sha512, 32).enc_key,
        h("fd5a0b4d18153c63501ee352eb02062be731041a88d5ca083b10dec22a4a0c39")
    );
}

#[test]
fn phase1_encryption_attributes() {
    for (bits, len) in [(128, 16), (192, 24), (256, 32)] {
        let e = Phase1Encryption::from_attributes(7, Some(bits)).unwrap();
        assert_eq!(
            (e.attribute(), e.key_bits(), e.key_len(), e.block_len()),
            (7, bits, len, 16)
        );
        assert!(Cbc::new(&phase1(Hash::Sha1, e.key_len()).enc_key).is_ok());
    }
    for bits in [None, Some(0), Some(64), Some(512)] {
        assert_eq!(
            Phase1Encryption::from_attributes(7, bits),
            Err(CryptoError::UnsupportedKeyLength {
                id: 7,
                key_bits: bits
            })
        );
    }
}

/// DES-CBC (1) and 3DES-CBC (5) are refused on purpose (AWS does not offer them), like
/// IDEA, Blowfish, RC5, CAST, Camellia and unassigned values.
#[test]
fn des_and_3des_are_refused() {
    for value in [1, 5, 2, 3, 4, 6, 8, 0, 0xffff] {
        assert_eq!(
            Phase1Encryption::from_attributes(value, Some(192)),
            Err(CryptoError::Unsupported {
                what: "IKEv1 encryption",
                id: value
            })
        );
    }
}

#[test]
fn phase1_iv_known_answers() {
    assert_eq!(
        phase1_iv(Hash::Sha1, &g_xi(), &g_xr(), 16),
        h("2ab8af2f5ab088d43da7833b9fc32e57")
    );
    assert_eq!(
        phase1_iv(Hash::Sha256, &g_xi(), &g_xr(), 16),
        h("0cc7cc5908de05c0d3c1aff013db461f")
    );
}

#[test]
#[should_panic(expected = "IV of 24 bytes from a 20-byte hash")]
fn iv_cannot_be_longer_than_the_hash() {
    phase1_iv(Hash::Sha1, &g_xi(), &g_xr(), 24);
}

#[test]
fn main_mode_hashes_known_answers() {
    let k = phase1(Hash::Sha1, 32);
    let prf = Hash::Sha1.prf();
    let hi = hash_i(
        &prf,
        &k.skeyid,
        &g_xi(),
        &g_xr(),
        CKY_I,
        CKY_R,
        &sai_b(),
        IDII_B,
    );
    assert_eq!(hi, h("e77f7de63959b609bed75be9161f02c033da39a1"));
    let hr = hash_r(
        &prf,
        &k.skeyid,
        &g_xr(),
        &g_xi(),
        CKY_R,
        CKY_I,
        &sai_b(),
        IDIR_B,
    );
    assert_eq!(hr, h("2ec25de3f216f03aaac4e1e1cc9c681448c5cf31"));

    let k = phase1(Hash::Sha256, 16);
    let prf = Hash::Sha256.prf();
    let hi = hash_i(
        &prf,
        &k.skeyid,
        &g_xi(),
        &g_xr(),
        CKY_I,
        CKY_R,
        &sai_b(),
        IDII_B,
    );
    assert_eq!(
        hi,
        h("b00aeed496b3a62d9f679388d33b73176217f2a5b0091c7bb6f4cf391d19590e")
    );
    let hr = hash_r(
        &prf,
        &k.skeyid,
        &g_xr(),
        &g_xi(),
        CKY_R,
        CKY_I,
        &sai_b(),
        IDIR_B,
    );
    assert_eq!(
        hr,
        h("6d8cde58dd3ac550f32fb10eef15f90577e334394ff52131a52b532930f5e3e2")
    );
    // The responder's hash over the initiator's ID is not HASH_I: the order differs.
    assert_ne!(
        hash_r(
            &prf,
            &k.skeyid,
            &g_xr(),
            &g_xi(),
            CKY_R,
            CKY_I,
            &sai_b(),
            IDII_B
        ),
        hi
    );
}

#[test]
fn quick_mode_and_informational_hashes_known_answers() {
    let a = phase1(Hash::Sha256, 16).skeyid_a;
    let prf = Hash::Sha256.prf();
    assert_eq!(
        qm_hash1(&prf, &a, MSG_ID, QM_REST),
        h("497b0f7cc569f8dd6c85fe3894a9752071173cad3ad0c22389bd1372ca1b6086")
    );
    assert_eq!(
        qm_hash2(&prf, &a, MSG_ID, &ni(), QM_REST_R),
        h("895047325156c90747f143a2065a865b78e961bac4f13946d87c72076dfc8ede")
    );
    assert_eq!(
        qm_hash3(&prf, &a, MSG_ID, &ni(), &nr()),
        h("d85eae9a41e2e4c100580b3dd701dcc3b672ebfed385565a3e77c288b3c829ba")
    );
    assert_eq!(
        info_hash(&prf, &a, MSG_ID, INFO_REST),
        h("7f85f49fca8a5687145f21962e45f98ea7c921f017e05d3b1444928ad8d56506")
    );
}

/// Without PFS, AES-128 + HMAC-SHA1 (36 bytes) from SHA-1's 20-byte PRF: two blocks.
#[test]
fn keymat_without_pfs_expands_past_one_prf_output() {
    let d = phase1(Hash::Sha1, 32).skeyid_d;
    let encr = esp_encryption(12, Some(128)).unwrap();
    let integ = esp_integrity(2).unwrap();
    let len = child_sa_key_len(&encr, Some(&integ));
    assert_eq!(len, 36);
    let keymat = qm_keymat(&Hash::Sha1.prf(), &d, None, ESP, SPI, &ni(), &nr(), len);
    let expected = h("3d89f3cd5505027e7e99014d20a71ac338db959880f1718dc28cc7d4df2f09a4d49ab8ac");
    assert_eq!(keymat, expected);
    let keys = EspKeys::split(&keymat, &encr, Some(&integ)).unwrap();
    assert_eq!(
        (keys.encr.as_slice(), keys.integ.as_slice()),
        (&expected[..16], &expected[16..])
    );
    assert!(EspKeys::split(&keymat[..35], &encr, Some(&integ)).is_none());
}

/// With PFS: AES-256 + HMAC-SHA-256 (64 bytes, two SHA-256 blocks), and 100 bytes from
/// SHA-1 (five blocks, each fed back as `Kn | g^xy | …`).
#[test]
fn keymat_with_pfs() {
    let d = phase1(Hash::Sha256, 16).skeyid_d;
    let encr = esp_encryption(12, Some(256)).unwrap();
    let integ = esp_integrity(5).unwrap();
    let len = child_sa_key_len(&encr, Some(&integ));
    assert_eq!(len, 64);
    let keymat = qm_keymat(
        &Hash::Sha256.prf(),
        &d,
        Some(&g_qm()),
        ESP,
        SPI,
        &ni(),
        &nr(),
        len,
    );
    assert_eq!(
        keymat,
        h(
            "f62bff3289b36031bcedd00e155b4bad7d3946f92316a71c15be827d4c46dc9f\
           c2a27e5ca19520a501d37a9f45e34c5111521884733c438ad6e0ebf2edef16a8"
        )
    );
    let keys = EspKeys::split(&keymat, &encr, Some(&integ)).unwrap();
    assert_eq!((keys.encr.len(), keys.integ.len()), (32, 32));

    let d = phase1(Hash::Sha1, 32).skeyid_d;
    let long = qm_keymat(
        &Hash::Sha1.prf(),
        &d,
        Some(&g_qm()),
        ESP,
        SPI,
        &ni(),
        &nr(),
        100,
    );
    assert_eq!(
        long,
        h(
            "c63c28711ce93f3f10bc32f0b046c9176b9f12ec3859b5ab1dace2b672e6d3b8da101d76\
           bc51a4f4a431f23b893239e945b2ec11046b44a5a150435074fd7041a10dda63696d3621\
           75b97e6ccb37301f73577145a7e2a5c8ca5096544609e66deadc4e68"
        )
    );
    // A shorter KEYMAT is a prefix of a longer one.
    assert_eq!(
        qm_keymat(
            &Hash::Sha1.prf(),
            &d,
            Some(&g_qm()),
            ESP,
            SPI,
            &ni(),
            &nr(),
            30
        ),
        long[..30]
    );
}

/// AES-GCM-16 128: the key and its 4-byte salt (RFC 4106 §8.1), no integrity key; and the
/// SPI makes each direction's KEYMAT different.
#[test]
fn keymat_for_aes_gcm_and_per_spi() {
    let d = phase1(Hash::Sha256, 16).skeyid_d;
    let encr = esp_encryption(20, Some(128)).unwrap();
    let len = child_sa_key_len(&encr, None);
    assert_eq!(len, 20);
    let prf = Hash::Sha256.prf();
    let keymat = qm_keymat(&prf, &d, None, ESP, SPI, &ni(), &nr(), len);
    assert_eq!(keymat, h("c9c92d8ad21896e68b3696a89509f20e5a745e8b"));
    let keys = EspKeys::split(&keymat, &encr, None).unwrap();
    assert_eq!((keys.encr, keys.integ), (keymat.clone(), vec![]));
    assert_ne!(
        qm_keymat(&prf, &d, None, ESP, SPI + 1, &ni(), &nr(), len),
        keymat
    );
}

#[test]
fn esp_transforms() {
    assert_eq!(
        esp_encryption(12, Some(192)),
        Encryption::new(EncrId::AES_CBC, Some(192))
    );
    assert_eq!(
        esp_encryption(20, Some(256)),
        Encryption::new(EncrId::AES_GCM_16, Some(256))
    );
    assert_eq!(
        esp_encryption(12, None),
        Err(CryptoError::UnsupportedKeyLength {
            id: 12,
            key_bits: None
        })
    );
    // ESP_DES (2), ESP_3DES (3), ESP_NULL (11).
    for id in [2, 3, 11] {
        assert_eq!(
            esp_encryption(id, Some(192)),
            Err(CryptoError::Unsupported {
                what: "encryption",
                id: id.into()
            })
        );
    }
    for (attr, id) in [
        (2, IntegId::HMAC_SHA1_96),
        (5, IntegId::HMAC_SHA2_256_128),
        (6, IntegId::HMAC_SHA2_384_192),
        (7, IntegId::HMAC_SHA2_512_256),
    ] {
        assert_eq!(esp_integrity(attr), Integrity::new(id));
    }
    // HMAC-MD5 (1), DES-MAC (3), AES-XCBC-MAC (9), unassigned.
    for attr in [1, 3, 9, 0, 0xffff] {
        assert_eq!(
            esp_integrity(attr),
            Err(CryptoError::Unsupported {
                what: "IKEv1 ESP authentication",
                id: attr
            })
        );
    }
}

#[test]
fn nat_d_known_answers() {
    let v4: SocketAddr = "192.0.2.1:500".parse().unwrap();
    let v6: SocketAddr = "[2001:db8::1]:4500".parse().unwrap();
    assert_eq!(
        nat_d(Hash::Sha1, CKY_I, CKY_R, v4),
        h("b43b59394bf8bc930246a8f80b6fddf05c58d9bf")
    );
    assert_eq!(
        nat_d(Hash::Sha256, CKY_I, CKY_R, v6),
        h("b323e06152a2a38e2038088b703eb9fd2461ab40b725658b0b495cc0061c3047")
    );
    // With SHA-1 it is IKEv2's NAT detection hash, cookies in place of SPIs.
    assert_eq!(
        nat_d(Hash::Sha1, CKY_I, 0, v6),
        nat_detection_hash(CKY_I, 0, v6).to_vec()
    );
    assert_ne!(
        nat_d(Hash::Sha1, CKY_I, CKY_R, "192.0.2.1:4500".parse().unwrap()),
        nat_d(Hash::Sha1, CKY_I, CKY_R, v4)
    );
}

/// Main mode 5 encrypted with the SHA-1/AES-256 key and phase 1 IV, then main mode 6
/// chained from its last block, then the first quick mode IV from main mode 6's.
#[test]
fn cbc_known_answers_and_iv_chain() {
    let cbc = Cbc::new(&phase1(Hash::Sha1, 32).enc_key).unwrap();
    let iv = phase1_iv(Hash::Sha1, &g_xi(), &g_xr(), Cbc::BLOCK);
    let m5 = b"IDii | HASH_I of main mode 5";
    let c5 = cbc.encrypt(&iv, m5);
    assert_eq!(
        c5,
        h("e4990ed140c776b5e5d53cdb07a2673ec8696b0fcf829ba7c2cc6f4869bc5769")
    );
    let m6 = b"IDir | HASH_R of main mode 6, 41 bytes";
    let c6 = cbc.encrypt(&last_block(&c5), m6);
    assert_eq!(
        c6,
        h("950b882f7a922e3cdd1cb5c4e5e03bfabf6dd2b1bc980f5efaae2591922f577a03fa1d817f8d19b226c1bf8e46f59802")
    );
    // Decryption keeps the zero padding.
    let mut padded = m6.to_vec();
    padded.resize(48, 0);
    assert_eq!(cbc.decrypt(&last_block(&c5), &c6).unwrap(), padded);
    assert_eq!(
        phase2_iv(Hash::Sha1, &last_block(&c6), MSG_ID, 16),
        h("129c4e46e024e474f83b48c409f0a27d")
    );
    assert_eq!(
        phase2_iv(Hash::Sha256, &last_block(&c6), MSG_ID, 16),
        h("906dbced47e4ff239926b69d8d765699")
    );
}

/// Chaining the IV through the last ciphertext block is CBC over the two messages joined.
#[test]
fn iv_chaining_continues_the_cbc_stream() {
    let cbc = Cbc::new(&[0x42; 24]).unwrap();
    let iv = [7u8; 16];
    let (m1, m2) = (&b"first message, padded to 32"[..], &b"second message"[..]);
    let c1 = cbc.encrypt(&iv, m1);
    let c2 = cbc.encrypt(&last_block(&c1), m2);
    let mut joined = m1.to_vec();
    joined.resize(32, 0);
    joined.extend_from_slice(m2);
    assert_eq!(cbc.encrypt(&iv, &joined), [c1.clone(), c2.clone()].concat());
    assert_eq!(last_block(&c2), c2[c2.len() - 16..]);
    assert_eq!(last_block(&[1, 2, 3]), [1, 2, 3]);
}

/// AES-128 and AES-192 (key = 00 01 02 …, IV = a0 a1 …, one block, no padding needed).
#[test]
fn cbc_aes128_and_aes192_known_answers() {
    let iv: Vec<u8> = (0xa0..0xb0).collect();
    for (n, want) in [
        (16, "f2434c935a17e3590619d2b420001a93"),
        (24, "568e54dfaa56c67a62891e7e6a6d21ac"),
    ] {
        let key: Vec<u8> = (0..n).collect();
        let cbc = Cbc::new(&key).unwrap();
        assert_eq!(cbc.encrypt(&iv, b"IKEv1 quick mode"), h(want));
        assert_eq!(cbc.decrypt(&iv, &h(want)).unwrap(), b"IKEv1 quick mode");
    }
}

#[test]
fn cbc_round_trips_every_length() {
    let cbc = Cbc::new(&[9; 32]).unwrap();
    let iv = [3u8; 16];
    for len in 0usize..=49 {
        let plain: Vec<u8> = (0..len as u8)
            .map(|b| b.wrapping_mul(37).wrapping_add(1))
            .collect();
        let c = cbc.encrypt(&iv, &plain);
        assert_eq!(c.len(), len.div_ceil(16).max(1) * 16, "{len}");
        let p = cbc.decrypt(&iv, &c).unwrap();
        assert_eq!(p[..len], plain[..]);
        assert!(p[len..].iter().all(|&b| b == 0), "zero padding");
    }
}

#[test]
fn cbc_refuses_bad_lengths() {
    let cbc = Cbc::new(&[9; 16]).unwrap();
    for len in [0, 1, 15, 17, 33] {
        assert_eq!(
            cbc.decrypt(&[0; 16], &vec![0; len]),
            Err(CryptoError::DecryptionFailed),
            "{len}"
        );
    }
    assert_eq!(
        cbc.decrypt(&[0; 20], &[0; 16]),
        Err(CryptoError::InvalidKeyLength {
            what: "IKEv1 CBC IV",
            expected: 16,
            actual: 20
        })
    );
    for (len, expected) in [(0, 16), (20, 24), (31, 32), (40, 32)] {
        assert_eq!(
            Cbc::new(&vec![0; len]).err(),
            Some(CryptoError::InvalidKeyLength {
                what: "IKEv1 AES-CBC key (16, 24 or 32 bytes)",
                expected,
                actual: len
            })
        );
    }
}

#[test]
#[should_panic(expected = "one AES block")]
fn cbc_encrypt_needs_a_block_sized_iv() {
    Cbc::new(&[9; 16]).unwrap().encrypt(&[0; 20], b"x");
}

/// A wrong key decrypts to garbage, not an error: IKEv1 has no integrity check on it.
#[test]
fn wrong_key_gives_garbage() {
    let iv = [0u8; 16];
    let c = Cbc::new(&[1; 16])
        .unwrap()
        .encrypt(&iv, b"HASH payload....");
    let p = Cbc::new(&[2; 16]).unwrap().decrypt(&iv, &c).unwrap();
    assert_ne!(p, b"HASH payload....");
}

#[test]
fn debug_shows_lengths_not_keys() {
    let s = format!("{:?}", phase1(Hash::Sha1, 32));
    assert_eq!(
        s,
        "Phase1Keys { skeyid: <20 bytes>, skeyid_d: <20 bytes>, skeyid_a: <20 bytes>, \
         skeyid_e: <20 bytes>, enc_key: <32 bytes> }"
    );
    let esp = EspKeys {
        encr: vec![0xab; 16],
        integ: vec![0xab; 20],
    };
    assert_eq!(
        format!("{esp:?}"),
        "EspKeys { encr: <16 bytes>, integ: <20 bytes> }"
    );
    assert_eq!(
        format!("{:?}", Cbc::new(&[0xab; 32]).unwrap()),
        "Cbc { aes: AesCbc(256) }"
    );
}

/// Both ends of a main mode with real DH (MODP-2048, ECP-256) derive the same keys, read
/// each other's encrypted messages and verify each other's HASH.
#[test]
fn both_ends_agree() {
    for group in [DhGroup(14), DhGroup(19)] {
        let (i, r) = (
            KeyExchange::generate(group).unwrap(),
            KeyExchange::generate(group).unwrap(),
        );
        let (g_xi, g_xr) = (i.public_value().to_vec(), r.public_value().to_vec());
        let (g_xy_i, g_xy_r) = (
            i.shared_secret(&g_xr).unwrap(),
            r.shared_secret(&g_xi).unwrap(),
        );
        let hash = Hash::Sha256;
        let enc = Phase1Encryption::from_attributes(7, Some(256)).unwrap();
        let derive = |g_xy: &[u8]| {
            let prf = hash.prf();
            phase1_keys(
                &prf,
                skeyid_psk(&prf, PSK, &ni(), &nr()),
                g_xy,
                CKY_I,
                CKY_R,
                enc.key_len(),
            )
        };
        let (ki, kr) = (derive(&g_xy_i), derive(&g_xy_r));
        assert_eq!(ki, kr);

        let prf = hash.prf();
        let hi = hash_i(
            &prf,
            &ki.skeyid,
            &g_xi,
            &g_xr,
            CKY_I,
            CKY_R,
            &sai_b(),
            IDII_B,
        );
        let mut mm5 = IDII_B.to_vec();
        mm5.extend_from_slice(&hi);
        let iv = phase1_iv(hash, &g_xi, &g_xr, enc.block_len());
        let c5 = Cbc::new(&ki.enc_key).unwrap().encrypt(&iv, &mm5);
        let p5 = Cbc::new(&kr.enc_key)
            .unwrap()
            .decrypt(&phase1_iv(hash, &g_xi, &g_xr, 16), &c5)
            .unwrap();
        assert_eq!(
            p5[IDII_B.len()..IDII_B.len() + 32],
            hash_i(
                &prf,
                &kr.skeyid,
                &g_xi,
                &g_xr,
                CKY_I,
                CKY_R,
                &sai_b(),
                IDII_B
            )
        );
    }
}
