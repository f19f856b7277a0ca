use super::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

const ALL_GROUPS: [DhGroup; 14] = [
    DhGroup::ECP_256,
    DhGroup::ECP_384,
    DhGroup::ECP_521,
    DhGroup::CURVE25519,
    DhGroup::MODP_1024,
    DhGroup::MODP_1536,
    DhGroup::MODP_2048,
    DhGroup::MODP_3072,
    DhGroup::MODP_4096,
    DhGroup::MODP_6144,
    DhGroup::MODP_8192,
    DhGroup::MODP_1024_160,
    DhGroup::MODP_2048_224,
    DhGroup::MODP_2048_256,
];

#[test]
fn supported_groups_and_public_lengths() {
    let lens: Vec<Option<usize>> = ALL_GROUPS.iter().map(|&g| dh_public_len(g)).collect();
    assert_eq!(
        lens,
        [64, 96, 132, 32, 128, 192, 256, 384, 512, 768, 1024, 128, 256, 256].map(Some)
    );
    assert!(ALL_GROUPS.iter().all(|&g| dh_supported(g)));
    for g in [
        DhGroup::NONE,
        DhGroup::MODP_768,
        DhGroup(3),
        DhGroup(4),
        DhGroup::ECP_192,
        DhGroup::ECP_224,
        DhGroup::CURVE448,
        DhGroup(1000),
    ] {
        assert!(!dh_supported(g), "{g}");
        assert_eq!(
            KeyExchange::generate(g).unwrap_err(),
            CryptoError::Unsupported {
                what: "DH group",
                id: g.0
            }
        );
    }
}

#[test]
fn two_generated_keys_agree_in_every_group() {
    for group in ALL_GROUPS {
        let a = KeyExchange::generate(group).unwrap();
        let b = KeyExchange::generate(group).unwrap();
        assert_eq!(a.group(), group);
        assert_eq!(a.public_value().len(), dh_public_len(group).unwrap());
        assert_ne!(a.public_value(), b.public_value(), "{group}");
        let pub_a = a.public_value().to_vec();
        let s_a = a.shared_secret(b.public_value()).unwrap();
        let s_b = b.shared_secret(&pub_a).unwrap();
        assert_eq!(s_a, s_b, "{group}");
        let secret_len = match group {
            DhGroup::ECP_256 | DhGroup::CURVE25519 => 32,
            DhGroup::ECP_384 => 48,
            DhGroup::ECP_521 => 66,
            _ => dh_public_len(group).unwrap(),
        };
        assert_eq!(s_a.len(), secret_len, "{group}");
    }
}

/// A test vector: our private key, our public value, the peer's public value, g^ir.
struct Vector {
    group: DhGroup,
    private: &'static str,
    public: &'static str,
    peer: &'static str,
    shared: &'static str,
}

fn check(v: &Vector) {
    let ke = KeyExchange::from_parts_for_test(v.group, &h(v.private));
    assert_eq!(ke.public_value(), h(v.public), "{}", v.group);
    assert_eq!(
        ke.shared_secret(&h(v.peer)).unwrap(),
        h(v.shared),
        "{}",
        v.group
    );
}

/// RFC 5903 §8.1 (group 19), both roles.
#[test]
fn ecp256_rfc5903() {
    let gi = "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180
              5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3";
    let gr = "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63
              56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB";
    let gir = "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE";
    check(&Vector {
        group: DhGroup::ECP_256,
        private: "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
        public: gi,
        peer: gr,
        shared: gir,
    });
    check(&Vector {
        group: DhGroup::ECP_256,
        private: "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
        public: gr,
        peer: gi,
        shared: gir,
    });
}

/// RFC 5903 §8.2 (group 20), both roles.
#[test]
fn ecp384_rfc5903() {
    let gi = "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6
              DE3AC808 ACB4BDB4 C88732AE E95F41AA 9482ED1F C0EEB9CA FC498462 5CCFC23F
              65032149 E0E144AD A0241815 35A0F38E EB9FCFF3 C2C947DA E69B4C63 4573A81C";
    let gr = "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D
              0D1AC43A 0336DEF9 6FDA41D0 774A3571 DCFBEC7A ACF31964 72169E83 8430367F
              66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401 42209DFF 5EAAD96D B9E6386C";
    let gir = "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4
               D6031355 69B9E9D0 9CF5D4A2 70F59746";
    check(&Vector {
        group: DhGroup::ECP_384,
        private: "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655
                  E35B5380 41E649EE 3FAEF896 783AB194",
        public: gi,
        peer: gr,
        shared: gir,
    });
    check(&Vector {
        group: DhGroup::ECP_384,
        private: "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942
                  E0308312 916B8ED2 960E4BD5 5A7448FC",
        public: gr,
        peer: gi,
        shared: gir,
    });
}

/// RFC 5114 A.8 (the P-521 curve of group 21), both roles: the shared secret is x_Z.
#[test]
fn ecp521_rfc5114() {
    let q_a = "01EB B34DD757 21ABF8AD C9DBED17 889CBB97 65D90A7C 60F2CEF0 07BB0F2B
               26E14881 FD4442E6 89D61CB2 DD046EE3 0E3FFD20 F9A45BBD F6413D58 3A2DBF59
               924FD35C
               00F6 B632D194 C0388E22 D8437E55 8C552AE1 95ADFD15 3F92D749 08351B2F
               8C4EDA94 EDB0916D 1B53C020 B5EECAED 1A5FC38A 233E4830 587BB2EE 3489B3B4
               2A5A86A4";
    let q_b = "010E BFAFC6E8 5E08D24B FFFCC1A4 511DB0E6 34BEEB1B 6DEC8C59 39AE4476
               6201AF62 00430BA9 7C8AC6A0 E9F08B33 CE7E9FEE B5BA4EE5 E0D81510 C24295B8
               A08D0235
               00A4 A6EC300D F9E257B0 372B5E7A BFEF0934 36719A77 887EBB0B 18CF8099
               B9F4212B 6E30A141 9C18E029 D36863CC 9D448F4D BA4D2A0E 60711BE5 72915FBD
               4FEF2695";
    let x_z = "00CD EA89621C FA46B132 F9E4CFE2 261CDE2D 4368EB56 56634C7C C98C7A00
               CDE54ED1 866A0DD3 E6126C9D 2F845DAF F82CEB1D A08F5D87 521BB0EB ECA77911
               169C20CC";
    check(&Vector {
        group: DhGroup::ECP_521,
        private: "0113 F82DA825 735E3D97 276683B2 B74277BA D27335EA 71664AF2 430CC4F3
                  3459B966 9EE78B3F FB9B8683 015D344D CBFEF6FB 9AF4C6C4 70BE2545 16CD3C1A
                  1FB47362",
        public: q_a,
        peer: q_b,
        shared: x_z,
    });
    check(&Vector {
        group: DhGroup::ECP_521,
        private: "00CE E3480D86 45A17D24 9F2776D2 8BAE6169 52D1791F DB4B70F7 C3378732
                  AA1B2292 8448BCD1 DC2496D4 35B01048 066EBE4F 72903C36 1B1A9DC1 193DC2C9
                  D0891B96",
        public: q_b,
        peer: q_a,
        shared: x_z,
    });
}

/// RFC 7748 §6.1 (group 31, RFC 8031).
#[test]
fn curve25519_rfc7748() {
    check(&Vector {
        group: DhGroup::CURVE25519,
        private: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        public: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        peer: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    });
}

/// MODP values are padded to the prime's length: with x = 1 the public value is g = 2.
#[test]
fn modp_public_values_are_padded() {
    let ke = KeyExchange::from_parts_for_test(DhGroup::MODP_2048, &[1]);
    let mut expected = vec![0u8; 256];
    expected[255] = 2;
    assert_eq!(ke.public_value(), expected);
    // The peer's value 4 = 2^2 gives g^ir = 4^1, padded the same way.
    let mut four = vec![0u8; 256];
    four[255] = 4;
    assert_eq!(ke.shared_secret(&four).unwrap(), four);
}

#[test]
fn invalid_curve_points_are_rejected() {
    for group in [
        DhGroup::ECP_256,
        DhGroup::ECP_384,
        DhGroup::ECP_521,
        DhGroup::CURVE25519,
    ] {
        let invalid = Err(CryptoError::InvalidPublicValue { group });
        let peer = KeyExchange::generate(group)
            .unwrap()
            .public_value()
            .to_vec();
        let len = peer.len();
        let mut bad = vec![
            vec![],
            peer[..len - 1].to_vec(),
            [&peer[..], &[0]].concat(),
            [&[0x04], &peer[..]].concat(),
        ];
        if group != DhGroup::CURVE25519 {
            let mut off_curve = peer.clone();
            off_curve[len - 1] ^= 1;
            bad.push(off_curve);
            bad.push(vec![0; len]); // the point at infinity has no x|y encoding
            bad.push(vec![0xff; len]); // coordinates beyond the field
        } else {
            // Small-order points make the X25519 result all zeros (RFC 8031 §2.2).
            bad.push(vec![0; 32]);
            bad.push([&[1u8][..], &[0; 31]].concat());
        }
        for value in bad {
            let ke = KeyExchange::generate(group).unwrap();
            assert_eq!(
                ke.shared_secret(&value),
                invalid,
                "{group}: {}",
                hex::encode(&value)
            );
        }
    }
}

#[test]
fn bad_modp_values_are_rejected_through_key_exchange() {
    let group = DhGroup::MODP_2048;
    let invalid = Err(CryptoError::InvalidPublicValue { group });
    let mut p_minus_1 = vec![0xff; 256];
    p_minus_1[255] = 0xfe;
    for value in [vec![0; 256], p_minus_1, vec![0xff; 256], vec![2; 255]] {
        let ke = KeyExchange::generate(group).unwrap();
        assert_eq!(ke.shared_secret(&value), invalid);
    }
}

#[test]
fn debug_omits_the_private_key() {
    let ke = KeyExchange::generate(DhGroup::ECP_256).unwrap();
    let s = format!("{ke:?}");
    assert_eq!(s, "KeyExchange { group: ECP_256, public_len: 64, .. }");
}
