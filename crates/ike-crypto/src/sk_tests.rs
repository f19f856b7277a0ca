use super::*;
use ike_wire::{EncrId, IntegId};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

/// A fake IKE header (28 bytes) and SK payload header (4 bytes).
fn prefix() -> Vec<u8> {
    let mut p: Vec<u8> = (0x10..0x10 + 28).collect();
    p.extend_from_slice(&[0x21, 0x00, 0x00, 0x44]);
    p
}

const PLAIN: &[u8] = b"IKEv2 inner payloads: IDi, AUTH, SA, TSi, TSr";

/// Every suite this crate implements, keyed with distinct bytes.
fn all_suites() -> Vec<SkCipher> {
    let mut suites = Vec::new();
    for bits in [128, 256] {
        let e = Encryption::new(EncrId::AES_GCM_16, Some(bits)).unwrap();
        let key: Vec<u8> = (0..e.key_material_len() as u8).collect();
        suites.push(SkCipher::new(e, None, &key, &[]).unwrap());
    }
    for bits in [128, 192, 256] {
        for integ in [
            IntegId::HMAC_SHA1_96,
            IntegId::HMAC_SHA2_256_128,
            IntegId::HMAC_SHA2_384_192,
            IntegId::HMAC_SHA2_512_256,
        ] {
            let e = Encryption::new(EncrId::AES_CBC, Some(bits)).unwrap();
            let i = Integrity::new(integ).unwrap();
            let ke: Vec<u8> = (0..e.key_material_len() as u8).collect();
            let ka: Vec<u8> = (0..i.key_len() as u8).map(|b| b ^ 0x5a).collect();
            suites.push(SkCipher::new(e, Some(i), &ke, &ka).unwrap());
        }
    }
    suites
}

fn iv_for(sk: &SkCipher) -> Vec<u8> {
    (0..sk.iv_len() as u8).map(|b| b.wrapping_mul(37)).collect()
}

#[test]
fn seal_open_round_trip_every_suite_and_length() {
    let prefix = prefix();
    for sk in all_suites() {
        for len in 0..=40 {
            let plain: Vec<u8> = (0..len as u8).collect();
            let body = sk.seal(&prefix, &plain, &iv_for(&sk));
            assert_eq!(body.len(), sk.body_len(len), "{sk:?} len {len}");
            assert_eq!(&body[..sk.iv_len()], iv_for(&sk).as_slice());
            assert_eq!(sk.open(&prefix, &body), Ok(plain), "{sk:?} len {len}");
        }
    }
}

#[test]
fn body_len_includes_iv_padding_and_icv() {
    let suites = all_suites();
    let gcm = &suites[0];
    // 8 IV + 45 payloads + 1 pad length (no alignment) + 16 ICV.
    assert_eq!(gcm.body_len(45), 8 + 46 + 16);
    let cbc_sha1 = &suites[2];
    // 16 IV + 48 (45 + 2 padding + 1 pad length) + 12 ICV.
    assert_eq!(cbc_sha1.body_len(45), 16 + 48 + 12);
    // A 15-byte plaintext fills one block with its pad length byte; 16 needs two.
    assert_eq!(cbc_sha1.body_len(15), 16 + 16 + 12);
    assert_eq!(cbc_sha1.body_len(16), 16 + 32 + 12);
}

#[test]
fn any_flipped_bit_fails_the_integrity_check() {
    let prefix = prefix();
    for sk in all_suites() {
        let body = sk.seal(&prefix, PLAIN, &iv_for(&sk));
        for bit in 0..prefix.len() * 8 {
            let mut p = prefix.clone();
            p[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                sk.open(&p, &body),
                Err(CryptoError::IntegrityCheckFailed),
                "{sk:?}: prefix bit {bit}"
            );
        }
        for bit in 0..body.len() * 8 {
            let mut b = body.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                sk.open(&prefix, &b),
                Err(CryptoError::IntegrityCheckFailed),
                "{sk:?}: body bit {bit}"
            );
        }
    }
}

#[test]
fn wrong_key_fails_the_integrity_check() {
    let e = Encryption::new(EncrId::AES_GCM_16, Some(128)).unwrap();
    let a = SkCipher::new(e, None, &[1; 20], &[]).unwrap();
    let b = SkCipher::new(e, None, &[2; 20], &[]).unwrap();
    let body = a.seal(&prefix(), PLAIN, &[0; 8]);
    assert_eq!(
        b.open(&prefix(), &body),
        Err(CryptoError::IntegrityCheckFailed)
    );
}

#[test]
fn short_bodies_are_rejected_without_panicking() {
    let prefix = prefix();
    for sk in all_suites() {
        let min = sk.body_len(0);
        for len in 0..min {
            assert_eq!(
                sk.open(&prefix, &vec![0u8; len]),
                Err(CryptoError::Truncated { len, min })
            );
        }
        assert_eq!(
            sk.open(&prefix, &vec![0u8; min]),
            Err(CryptoError::IntegrityCheckFailed)
        );
    }
}

/// Bodies checked against Python's `cryptography` (AESGCM, AES-CBC) and `hmac` modules.
#[test]
fn seal_known_answers() {
    let gcm = Encryption::new(EncrId::AES_GCM_16, Some(256)).unwrap();
    let key: Vec<u8> = (0..36).collect();
    let sk = SkCipher::new(gcm, None, &key, &[]).unwrap();
    let expected = h(
        "00010203040506073609ebe1f4907ef78a63d701e2fed5167178a5f1ac9cdc32\
                      76742590a52d86827b0e655ea7bf6ef144b5ce7fc77d9ea6379a3733c8493f12\
                      c0966d417bc8",
    );
    let body = sk.seal(&prefix(), PLAIN, &h("0001020304050607"));
    assert_eq!(body, expected);

    let cbc = Encryption::new(EncrId::AES_CBC, Some(128)).unwrap();
    let sha1 = Integrity::new(IntegId::HMAC_SHA1_96).unwrap();
    let ke: Vec<u8> = (0x40..0x50).collect();
    let ka: Vec<u8> = (0x80..0x94).collect();
    let iv: Vec<u8> = (0xa0..0xb0).collect();
    let sk = SkCipher::new(cbc, Some(sha1), &ke, &ka).unwrap();
    let expected = h(
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafa19520c3db6a3f7796a77207c3ee9a2c\
                      e5398ebf9c4742515a6d23f299a1296b61ccd85e90ba71213edfbcae61e61422\
                      64fc9fbe5a24cb90ea814d4c",
    );
    assert_eq!(sk.seal(&prefix(), PLAIN, &iv), expected);
    assert_eq!(sk.open(&prefix(), &expected).unwrap(), PLAIN);
}

/// The GCM spec's test cases 4 (AES-128) and 16 (AES-256), read as SK payloads: the
/// first four nonce bytes are the salt, the other eight the explicit IV, the AAD is the
/// prefix. Opening verifies the published tag; the plaintext's last byte (0x39 = 57) is
/// then taken as the pad length, leaving 2 bytes of "payloads".
#[test]
fn open_accepts_nist_gcm_vectors() {
    let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let plain = h(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                   1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    let key128 = "feffe9928665731c6d6a8f9467308308";
    let cases = [
        (
            format!("{key128}cafebabe"),
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
             21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47",
        ),
        (
            format!("{key128}{key128}cafebabe"),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b",
        ),
    ];
    for (key, ciphertext, tag) in cases {
        let key = h(&key);
        let e = Encryption::new(EncrId::AES_GCM_16, Some((key.len() as u16 - 4) * 8)).unwrap();
        let sk = SkCipher::new(e, None, &key, &[]).unwrap();
        let body = [h("facedbaddecaf888"), h(ciphertext), h(tag)].concat();
        assert_eq!(sk.open(&aad, &body).unwrap(), plain[..2]);
        // Sealing the same 2 bytes with 57 bytes of padding is not what seal does (it
        // pads minimally), but the ciphertext prefix is the same keystream.
        let sealed = sk.seal(&aad, &plain[..2], &h("facedbaddecaf888"));
        assert_eq!(sealed[8..10], h(ciphertext)[..2]);
    }
}

#[test]
fn open_rejects_bad_pad_length() {
    // A correctly authenticated CBC body whose Pad Length octet points before the start
    // of the plaintext.
    let cbc = Encryption::new(EncrId::AES_CBC, Some(128)).unwrap();
    let sha = Integrity::new(IntegId::HMAC_SHA2_256_128).unwrap();
    let (ke, ka) = ([3u8; 16], [4u8; 32]);
    let sk = SkCipher::new(cbc, Some(sha), &ke, &ka).unwrap();
    let iv = [9u8; 16];
    let mut block = [0u8; 16];
    block[15] = 16; // pad length 16 in a 16-byte plaintext: points before its start
    AesCbc::new(&ke).unwrap().encrypt(&iv, &mut block);
    let mut body = [iv.as_slice(), &block].concat();
    let icv = sha.sign_parts(&ka, &[&prefix(), &body]);
    body.extend_from_slice(&icv);
    assert_eq!(sk.open(&prefix(), &body), Err(CryptoError::BadPadding));
    // Pad length 15 is the largest that fits: empty payloads.
    let mut block = [0u8; 16];
    block[15] = 15;
    AesCbc::new(&ke).unwrap().encrypt(&iv, &mut block);
    let mut body = [iv.as_slice(), &block].concat();
    let icv = sha.sign_parts(&ka, &[&prefix(), &body]);
    body.extend_from_slice(&icv);
    assert_eq!(sk.open(&prefix(), &body), Ok(Vec::new()));
}

#[test]
fn open_rejects_authenticated_partial_blocks() {
    let cbc = Encryption::new(EncrId::AES_CBC, Some(128)).unwrap();
    let sha = Integrity::new(IntegId::HMAC_SHA2_256_128).unwrap();
    let (ke, ka) = ([3u8; 16], [4u8; 32]);
    let sk = SkCipher::new(cbc, Some(sha), &ke, &ka).unwrap();
    let mut body = vec![0u8; 16 + 17];
    let icv = sha.sign_parts(&ka, &[&prefix(), &body]);
    body.extend_from_slice(&icv);
    assert_eq!(
        sk.open(&prefix(), &body),
        Err(CryptoError::DecryptionFailed)
    );
}

#[test]
fn new_checks_combination_and_key_lengths() {
    let gcm = Encryption::new(EncrId::AES_GCM_16, Some(128)).unwrap();
    let cbc = Encryption::new(EncrId::AES_CBC, Some(256)).unwrap();
    let sha = Integrity::new(IntegId::HMAC_SHA2_256_128).unwrap();
    assert!(matches!(
        SkCipher::new(gcm, Some(sha), &[0; 20], &[0; 32]),
        Err(CryptoError::InvalidCombination { .. })
    ));
    assert!(matches!(
        SkCipher::new(cbc, None, &[0; 32], &[]),
        Err(CryptoError::InvalidCombination { .. })
    ));
    assert_eq!(
        SkCipher::new(gcm, None, &[0; 16], &[]).unwrap_err(),
        CryptoError::InvalidKeyLength {
            what: "SK_e",
            expected: 20,
            actual: 16
        }
    );
    assert_eq!(
        SkCipher::new(gcm, None, &[0; 20], &[0; 4]).unwrap_err(),
        CryptoError::InvalidKeyLength {
            what: "SK_a",
            expected: 0,
            actual: 4
        }
    );
    assert_eq!(
        SkCipher::new(cbc, Some(sha), &[0; 32], &[0; 20]).unwrap_err(),
        CryptoError::InvalidKeyLength {
            what: "SK_a",
            expected: 32,
            actual: 20
        }
    );
}

#[test]
fn debug_shows_no_key_material() {
    let gcm = Encryption::new(EncrId::AES_GCM_16, Some(128)).unwrap();
    let sk = SkCipher::new(gcm, None, &[0xab; 20], &[]).unwrap();
    let s = format!("{sk:?}");
    assert!(s.starts_with("SkCipher"), "{s}");
    assert!(!s.to_lowercase().contains("abab"), "{s}");
    assert!(!s.contains("171"), "{s}");
}

#[test]
#[should_panic(expected = "IV length")]
fn seal_panics_on_a_wrong_iv_length() {
    let gcm = Encryption::new(EncrId::AES_GCM_16, Some(128)).unwrap();
    let sk = SkCipher::new(gcm, None, &[0; 20], &[]).unwrap();
    sk.seal(&prefix(), PLAIN, &[0; 16]);
}
