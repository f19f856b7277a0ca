//! Known answers: RFC 3602 §4 cases 5–8 (AES-CBC ESP packets), RFC 2404 / RFC 4868 §2.7.2
//! (the truncated HMACs), and the AES-GCM ESP packets of draft-mcgrew-gcm-test-01.

use super::*;
use crate::{Integrity, SaSpec, Suite};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

fn cbc(key: &str, spi: u32, integrity: Integrity, mac_key: &[u8], esn: bool) -> Cipher {
    let key = h(key);
    Cipher::new(&SaSpec {
        spi,
        suite: Suite::AesCbc {
            key_bits: key.len() as u16 * 8,
            integrity,
        },
        encryption_key: key,
        integrity_key: mac_key.to_vec(),
        esn,
    })
    .unwrap()
}

fn iv16(s: &str) -> [u8; AES_BLOCK] {
    h(s).try_into().unwrap()
}

/// RFC 3602 §4 cases 5–8: key, SPI, sequence number, IV, the payload (an ICMP message in
/// 5 and 6, an IPv4 packet in 7 and 8), its next header, and the packet (header, IV,
/// ciphertext). The RFC's packets carry no ICV; here HMAC-SHA1-96 follows them.
const RFC3602: [(&str, u32, u64, &str, &str, u8, &str); 4] = [
    (
        "90d382b410eeba7ad938c46cec1a82bf",
        0x4321,
        1,
        "e96e8c08ab465763fd098d45dd3ff893",
        "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
         202122232425262728292a2b2c2d2e2f3031323334353637",
        1,
        "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849\
         a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c\
         538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6",
    ),
    (
        "90d382b410eeba7ad938c46cec1a82bf",
        0x4321,
        8,
        "69d08df7d203329db093fc4924e5bd80",
        "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777",
        1,
        "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109\
         689bb379d2d750c0d915dca346a89f75",
    ),
    (
        "0123456789abcdef0123456789abcdef",
        0x8765,
        2,
        "f4e765244f6407adf13dc1380f673f37",
        "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b\
         0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233\
         34353637",
        4,
        "0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c\
         237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b\
         8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d",
    ),
    (
        "0123456789abcdef0123456789abcdef",
        0x8765,
        5,
        "85d47224b5f3dd5d2101d4ea8dffab22",
        "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffff\
         ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        4,
        "000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048f\
         e45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de\
         435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892",
    ),
];

#[test]
fn aes_cbc_seals_the_packets_of_rfc3602() {
    let mac_key = [0x5a; 20];
    for (key, spi, seq, iv, payload, nh, packet) in RFC3602 {
        let cipher = cbc(key, spi, Integrity::HmacSha1_96, &mac_key, false);
        let mut out = Vec::new();
        cipher.seal(seq, &iv16(iv), nh, &h(payload), &mut out);
        let (body, icv) = out.split_at(out.len() - 12);
        assert_eq!(
            hex::encode(body),
            hex::encode(h(packet)),
            "case SPI {spi:x} seq {seq}"
        );
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &mac_key);
        assert_eq!(icv, &ring::hmac::sign(&mac, body).as_ref()[..12]);
    }
}

#[test]
fn aes_cbc_opens_the_packets_of_rfc3602() {
    let mac_key = [0xa5; 20];
    for (key, spi, seq, _, payload, nh, packet) in RFC3602 {
        let cipher = cbc(key, spi, Integrity::HmacSha1_96, &mac_key, false);
        let mut packet = h(packet);
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &mac_key);
        let icv = ring::hmac::sign(&mac, &packet);
        packet.extend_from_slice(&icv.as_ref()[..12]);
        let plain = cipher.open(&mut packet, seq).unwrap();
        let (next_header, range) = strip_trailer(&packet, plain).unwrap();
        assert_eq!(next_header, nh);
        assert_eq!(hex::encode(&packet[range]), hex::encode(h(payload)));
    }
}

/// The truncated ICV of `data` under `integrity` with `key`, through the code seal uses.
fn icv_of(integrity: Integrity, key: &[u8], data: &[u8]) -> String {
    let cipher = cbc(
        "000102030405060708090a0b0c0d0e0f",
        0x1000,
        integrity,
        key,
        false,
    );
    let Keys::Cbc { mac, .. } = &cipher.keys else {
        unreachable!()
    };
    hex::encode(&*cipher.cbc_icv(mac, data, 0))
}

/// RFC 2404 §3 / RFC 2202 test case 1 (HMAC-SHA-1), truncated to 96 bits, and RFC 4868
/// §2.7.2's test cases 1–3 for HMAC-SHA-256-128, -384-192 and -512-256 (full-length keys).
#[test]
fn truncated_hmacs_match_rfc2404_and_rfc4868() {
    let hi = b"Hi There";
    let jefe = b"what do ya want for nothing?";
    let dd = [0xdd; 50];
    assert_eq!(
        icv_of(Integrity::HmacSha1_96, &[0x0b; 20], hi),
        "b617318655057264e28bc0b6"
    );
    let cases: [(Integrity, usize, [&str; 3]); 3] = [
        (
            Integrity::HmacSha256_128,
            32,
            [
                "198a607eb44bfbc69903a0f1cf2bbdc5",
                "167f928588c5cc2eef8e3093caa0e87c",
                "cdcb1220d1ecccea91e53aba3092f962",
            ],
        ),
        (
            Integrity::HmacSha384_192,
            48,
            [
                "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973",
                "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d",
                "809f439be00274321d4a538652164b53554a508184a0c316",
            ],
        ),
        (
            Integrity::HmacSha512_256,
            64,
            [
                "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8",
                "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454",
                "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8",
            ],
        ),
    ];
    for (integrity, len, [want1, want2, want3]) in cases {
        let jefe_key: Vec<u8> = b"Jefe".iter().copied().cycle().take(len).collect();
        assert_eq!(
            icv_of(integrity, &vec![0x0b; len], hi),
            want1,
            "{integrity:?} 1"
        );
        assert_eq!(icv_of(integrity, &jefe_key, jefe), want2, "{integrity:?} 2");
        assert_eq!(
            icv_of(integrity, &vec![0xaa; len], &dd),
            want3,
            "{integrity:?} 3"
        );
    }
}

/// With ESN the ICV covers the high half of the sequence number after the packet (RFC
/// 4303 §2.2.1), which is not sent.
#[test]
fn aes_cbc_icv_covers_the_unsent_esn_high_half() {
    let mac_key = [7; 32];
    let cipher = cbc(
        "000102030405060708090a0b0c0d0e0f",
        0x1234,
        Integrity::HmacSha256_128,
        &mac_key,
        true,
    );
    let seq = (5 << 32) | 9;
    let mut out = Vec::new();
    cipher.seal(seq, &[3; 16], 4, b"payload", &mut out);
    let (body, icv) = out.split_at(out.len() - 16);
    assert_eq!(
        &body[4..8],
        &9u32.to_be_bytes(),
        "only the low half is sent"
    );
    let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &mac_key);
    let mut covered = body.to_vec();
    covered.extend_from_slice(&5u32.to_be_bytes());
    assert_eq!(icv, &ring::hmac::sign(&mac, &covered).as_ref()[..16]);
    // The same packet under another high half does not verify.
    assert_eq!(cipher.open(&mut out.clone(), 9), Err(Drop::Integrity));
    assert!(cipher.open(&mut out, seq).is_ok());
}

/// draft-mcgrew-gcm-test-01 §4 (the test cases as ESP packets; those with SPI 0, which
/// RFC 4303 §2.1 reserves, left out): key, salt, SPI, the sequence number, whether it is
/// an ESN (the draft's AAD is then 12 bytes, RFC 4106 §5), IV, the plaintext (payload,
/// padding, pad length, next header) and the ciphertext with its tag.
#[allow(clippy::type_complexity)]
const GCM_DRAFT: [(&str, &str, u32, u64, bool, &str, &str, &str); 14] = [
    (
        "feffe9928665731c6d6a8f9467308308",
        "cafebabe",
        0xa5f8,
        0xa,
        false,
        "facedbaddecaf888",
        "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000\
         037369700963796265726369747902646b00000100010001",
        "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f\
         51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd183b70d3aa8bc6ee4c309e9d85a41ad4a",
    ),
    (
        "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
        "11223344",
        0x4a2c_bfe3,
        2,
        false,
        "0102030405060708",
        "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000\
         020405b40101040201020201",
        "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d34\
         7f0545659f14e99def842d8eb335f4eecfdbf831824b4c4915956c96",
    ),
    (
        "7d773d00c144c525ac619d18c84a3f47",
        "d9664267",
        0x3354_67ae,
        0xffff_ffff,
        false,
        "43457e9182443bc6",
        "01020201",
        "437f866bcb3f699fe9b0822bac961c4504bef270",
    ),
    (
        "4c80cdefbb5d10da906ac73c3613a634",
        "2e443b68",
        0x4321,
        0x8765_4321_0000_0000,
        true,
        "4956ed7e3b244cfe",
        "45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f7369\
         70045f756470037369700963796265726369747902646b000021000101020201",
        "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf\
         65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732459018148f6cbe72\
         2fd04796562dfdb4",
    ),
    (
        "3de09874b388e6491988d0c3607eae1f",
        "57690e43",
        0x42f6_7e3f,
        0x1010_1010_1010_1010,
        true,
        "4e280000a2fca1a3",
        "4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c\
         6d6e6f707172737475767761626364656667686901020201",
        "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c35791765acbd8701ad7984\
         5bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320ae0d731cc978ecafaeae88f00e80d6e48",
    ),
    (
        "3de09874b388e6491988d0c3607eae1f",
        "57690e43",
        0x42f6_7e3f,
        0x1010_1010_1010_1010,
        true,
        "4e280000a2fca1a3",
        "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
        "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed369f071f35e034be95f112e4\
         e7d05d35",
    ),
    (
        "abbccddef00112233445566778899aab",
        "decaf888",
        0x100,
        1,
        true,
        "cafedebaceface74",
        "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d500004e20001e8c18\
         d75b81dc91baa0476b91b924b280389d92c963bac046ec959b6266c04722b14923010101",
        "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f9190feebaf2cb019\
         84e65863965d7472b79da345e0e780191f0d2f0e0f496c226f2127b27db35724e7845d68651f57e6\
         5f354f75ff17015769623436",
    ),
    (
        "3de09874b388e6491988d0c3607eae1f",
        "57690e43",
        0x42f6_7e3f,
        0x1010_1010_1010_1010,
        true,
        "4e280000a2fca1a3",
        "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b000001e0001e8c18\
         d65759d52284a0352c71475c8880391c764d6e5ee0496b325ae270c03899493915010101",
        "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d54182800cadb0f68d99ef0\
         e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39ab533163aad4550ee5160975cdb608c5\
         769189609763b8e18caa81e2",
    ),
    (
        "abbccddef00112233445566778899aab",
        "decaf888",
        0x100,
        1,
        true,
        "cafedebaceface74",
        "746f016265016f72016e6f7401746f0162650001",
        "29c9fc69a197d038ccdd14e2ddfcaa0543332164412503524303ed3c6c5f283843af8c3e",
    ),
    (
        "3de09874b388e6491988d0c3607eae1f",
        "57690e43",
        0x3f7e_f642,
        0x1010_1010_1010_1010,
        true,
        "4e280000a2fca1a3",
        "45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c\
         6d6e6f707172737401020201",
        "fba2caa8c6c5f9f0f22ca54a061210ad3f6e5791cf1aca210d117cec9c35791765acbd8701ad7984\
         5bf9fe3fba487bc96321930684eecadb56912546e7a95c9740d7cb05",
    ),
    (
        "4c80cdefbb5d10da906ac73c3613a634",
        "22433c64",
        0x4321,
        0x8765_4321_0000_0007,
        true,
        "4855ec7d3a234bfd",
        "0800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201",
        "74752e8aeb5d873cd7c0f4acc36c4bff84b7d7b98f0ca8b6acda6894bc619069ef9cbc28fe1b56a7\
         c4e0d58c86cd2bc0",
    ),
    (
        "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
        "73616c74",
        0x1740_5e67,
        0x156f_3126_dd0d_b99b,
        true,
        "616e640169766563",
        "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d540001",
        "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e\
         451626c2415771e3b7eebca614c89b35",
    ),
    (
        "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
        "73616c74",
        0x1740_5e67,
        0x156f_3126_dd0d_b99b,
        true,
        "616e640169766563",
        "636973636f0172756c657301746865016e6574776501646566696e65017468657465636\
         86e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f72726f7701020201",
        "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18d0a6df10e5487df0\
         74113e14c641024e3e6773d91a62ee429b043a10e3efe6b012a49363412364f8c0cac587f249e56b\
         11e24f30e44ccc76",
    ),
    (
        "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961",
        "7475726e",
        0x796b_6963,
        0xffff_ffff_ffff_ffff,
        true,
        "333021696765746d",
        "45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c\
         6d6e6f707172737401020201",
        "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a3\
         2b42458fb57dbe821dcc63b9d0937ba2945f669368661a329fb4c053",
    ),
];

fn gcm(key: &str, salt: &str, spi: u32, esn: bool) -> Cipher {
    let mut material = h(key);
    let key_bits = material.len() as u16 * 8;
    material.extend(h(salt));
    Cipher::new(&SaSpec {
        spi,
        suite: Suite::AesGcm16 { key_bits },
        encryption_key: material,
        integrity_key: Vec::new(),
        esn,
    })
    .unwrap()
}

#[test]
fn aes_gcm_seals_and_opens_the_packets_of_draft_mcgrew_gcm_test() {
    for (i, (key, salt, spi, seq, esn, iv, plain, sealed)) in GCM_DRAFT.into_iter().enumerate() {
        let cipher = gcm(key, salt, spi, esn);
        let mut packet = spi.to_be_bytes().to_vec();
        packet.extend_from_slice(&(seq as u32).to_be_bytes());
        packet.extend(h(iv));
        packet.extend(h(sealed));
        // Seal the payload (the plaintext without its trailer) with the draft's IV.
        let plain = h(plain);
        let (&nh, rest) = plain.split_last().unwrap();
        let (&pad_len, rest) = rest.split_last().unwrap();
        let payload = &rest[..rest.len() - usize::from(pad_len)];
        let mut iv_block = [0; AES_BLOCK];
        iv_block[..8].copy_from_slice(&h(iv));
        let mut out = Vec::new();
        cipher.seal(seq, &iv_block, nh, payload, &mut out);
        assert_eq!(hex::encode(&out), hex::encode(&packet), "vector {i}: seal");
        // And open the draft's packet.
        let range = cipher.open(&mut packet, seq).unwrap();
        let (next_header, payload_range) = strip_trailer(&packet, range).unwrap();
        assert_eq!(next_header, nh, "vector {i}");
        assert_eq!(&packet[payload_range], payload, "vector {i}: open");
    }
}

#[test]
fn padding_is_1_2_3_and_checked_on_open() {
    let cipher = cbc(
        "000102030405060708090a0b0c0d0e0f",
        0x1234,
        Integrity::HmacSha1_96,
        &[1; 20],
        false,
    );
    for len in 0..40 {
        let mut out = Vec::new();
        cipher.seal(1, &[9; 16], 4, &vec![0xee; len], &mut out);
        let mut plain = out.clone();
        let range = cipher.open(&mut plain, 1).unwrap();
        let bytes = &plain[range.clone()];
        let pad = (16 - (len + 2) % 16) % 16;
        assert_eq!(bytes.len(), len + pad + 2);
        let want: Vec<u8> = (1..=pad as u8).chain([pad as u8, 4]).collect();
        assert_eq!(&bytes[len..], &want[..]);
        assert_eq!(strip_trailer(&plain, range.clone()).unwrap().1.len(), len);
        if pad > 0 {
            let mut bad = plain.clone();
            bad[range.start + len] = 0;
            assert_eq!(strip_trailer(&bad, range.clone()), Err(Drop::Malformed));
        }
        let mut bad = plain.clone();
        bad[range.end - 2] = (len + pad + 1) as u8;
        assert_eq!(strip_trailer(&bad, range), Err(Drop::Malformed));
    }
}

#[test]
fn keys_are_checked() {
    let spec = |suite, enc: usize, integ: usize, spi| SaSpec {
        spi,
        suite,
        encryption_key: vec![0; enc],
        integrity_key: vec![0; integ],
        esn: false,
    };
    let gcm128 = Suite::AesGcm16 { key_bits: 128 };
    assert!(Cipher::new(&spec(gcm128, 20, 0, 0x1000)).is_ok());
    assert_eq!(
        Cipher::new(&spec(gcm128, 16, 0, 0x1000)).unwrap_err(),
        KeyError::WrongKeyLength {
            what: "encryption key",
            expected: 20,
            actual: 16
        }
    );
    assert!(matches!(
        Cipher::new(&spec(gcm128, 20, 4, 0x1000)),
        Err(KeyError::WrongKeyLength { .. })
    ));
    assert!(matches!(
        Cipher::new(&spec(Suite::AesGcm16 { key_bits: 192 }, 28, 0, 0x1000)),
        Err(KeyError::UnsupportedKeyLength { .. })
    ));
    let cbc192 = Suite::AesCbc {
        key_bits: 192,
        integrity: Integrity::HmacSha384_192,
    };
    assert!(Cipher::new(&spec(cbc192, 24, 48, 0x1000)).is_ok());
    assert!(matches!(
        Cipher::new(&spec(cbc192, 24, 32, 0x1000)),
        Err(KeyError::WrongKeyLength { .. })
    ));
    assert_eq!(
        Cipher::new(&spec(gcm128, 20, 0, 255)).unwrap_err(),
        KeyError::ReservedSpi(255)
    );
}
