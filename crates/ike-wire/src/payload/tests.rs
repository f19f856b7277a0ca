use super::*;
use crate::{encode_payloads, IdType};
use crate::{parse_payloads, EncrId, Transform};
use std::net::Ipv4Addr;

/// Encodes one payload alone and checks the bytes parse back to it.
fn round_trip(p: Payload) -> Vec<u8> {
    let (first, bytes) = encode_payloads(std::slice::from_ref(&p));
    assert_eq!(first, p.payload_type());
    assert_eq!(parse_payloads(first, &bytes), Ok(vec![p]));
    bytes
}

#[test]
fn sa_round_trip() {
    round_trip(Payload::Sa(vec![Proposal {
        number: 1,
        protocol: ProtocolId::IKE,
        spi: vec![],
        transforms: vec![Transform::encr(EncrId::AES_GCM_16, Some(256))],
    }]));
}

#[test]
fn ke_layout() {
    let bytes = round_trip(Payload::Ke(KeyExchange {
        group: DhGroup::ECP_256,
        data: vec![0xaa; 3],
    }));
    assert_eq!(bytes, [0, 0, 0, 11, 0, 19, 0, 0, 0xaa, 0xaa, 0xaa]);
}

#[test]
fn id_auth_nonce_vendor_round_trip() {
    round_trip(Payload::IdI(Identification::ipv4(Ipv4Addr::new(
        203, 0, 113, 7,
    ))));
    round_trip(Payload::IdR(Identification {
        ty: IdType::FQDN,
        data: b"aws".to_vec(),
    }));
    let auth = round_trip(Payload::Auth(Auth {
        method: AuthMethod::SHARED_KEY_MIC,
        data: vec![1, 2],
    }));
    assert_eq!(auth, [0, 0, 0, 10, 2, 0, 0, 0, 1, 2]);
    round_trip(Payload::Nonce(vec![7; 32]));
    round_trip(Payload::VendorId(b"ikesim".to_vec()));
}

#[test]
fn notify_layout_with_spi() {
    let n = Notify {
        protocol: ProtocolId::ESP,
        spi: vec![1, 2, 3, 4],
        ty: NotifyType::REKEY_SA,
        data: vec![],
    };
    let bytes = round_trip(Payload::Notify(n));
    assert_eq!(bytes, [0, 0, 0, 12, 3, 4, 0x40, 0x09, 1, 2, 3, 4]);
    let plain = Notify::new(NotifyType::INITIAL_CONTACT, vec![]);
    assert_eq!(plain.protocol, ProtocolId::NONE);
    round_trip(Payload::Notify(plain));
}

#[test]
fn delete_layouts() {
    let ike = round_trip(Payload::Delete(Delete::ike()));
    assert_eq!(ike, [0, 0, 0, 8, 1, 0, 0, 0]);
    let esp = round_trip(Payload::Delete(Delete::esp([0x0102_0304, 0x0506_0708])));
    assert_eq!(esp, [0, 0, 0, 16, 3, 4, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn delete_spi_bytes_must_match_count() {
    // ESP, SPI size 4, 2 SPIs declared, 5 bytes present.
    let bytes = [0, 0, 0, 13, 3, 4, 0, 2, 1, 2, 3, 4, 5];
    assert_eq!(
        parse_payloads(PayloadType::DELETE, &bytes),
        Err(ParseError::BadLength {
            what: "Delete payload SPIs",
            offset: 8,
            length: 5
        })
    );
    let zero_size = [0, 0, 0, 8, 1, 0, 0, 3];
    assert!(matches!(
        parse_payloads(PayloadType::DELETE, &zero_size),
        Err(ParseError::Invalid { offset: 4, .. })
    ));
}

#[test]
fn ts_round_trip() {
    round_trip(Payload::TsI(vec![TrafficSelector::any_ipv4()]));
    round_trip(Payload::TsR(vec![]));
}

#[test]
fn sk_body_is_opaque_and_next_payload_is_first_inner() {
    let bytes = round_trip(Payload::Encrypted(Encrypted {
        first_inner: PayloadType::IDI,
        data: vec![9; 5],
    }));
    assert_eq!(bytes[..4], [35, 0, 0, 9]);
}

#[test]
fn skf_layout() {
    let bytes = round_trip(Payload::EncryptedFragment(EncryptedFragment {
        number: 1,
        total: 3,
        first_inner: PayloadType::IDI,
        data: vec![0xee; 2],
    }));
    assert_eq!(bytes, [35, 0, 0, 10, 0, 1, 0, 3, 0xee, 0xee]);
    assert_eq!(
        parse_payloads(PayloadType::SKF, &[0, 0, 0, 6, 0, 1]),
        Err(ParseError::Truncated {
            what: "SKF payload header",
            offset: 4,
            needed: 4,
            available: 2
        })
    );
}

#[test]
fn unknown_payloads_keep_type_and_critical_bit() {
    let cp = [0, 0x80, 0, 6, 1, 2];
    let parsed = parse_payloads(PayloadType::CP, &cp).unwrap();
    assert_eq!(
        parsed,
        [Payload::Unknown(UnknownPayload {
            ty: PayloadType::CP,
            critical: true,
            body: vec![1, 2]
        })]
    );
    assert_eq!(encode_payloads(&parsed), (PayloadType::CP, cp.to_vec()));
}

#[test]
fn fixed_headers_must_be_present() {
    for (ty, what) in [
        (PayloadType::KE, "KE payload header"),
        (PayloadType::IDI, "IDi payload header"),
        (PayloadType::AUTH, "AUTH payload header"),
        (PayloadType::NOTIFY, "Notify payload header"),
        (PayloadType::DELETE, "Delete payload header"),
        (PayloadType::TSI, "TS payload header"),
    ] {
        assert_eq!(
            parse_payloads(ty, &[0, 0, 0, 7, 1, 2, 3]),
            Err(ParseError::Truncated {
                what,
                offset: 4,
                needed: 4,
                available: 3
            }),
            "{ty}"
        );
    }
}

#[test]
fn notify_spi_must_fit() {
    // SPI size 8 but only 2 bytes follow.
    assert_eq!(
        parse_payloads(PayloadType::NOTIFY, &[0, 0, 0, 10, 3, 8, 0x40, 0, 1, 2]),
        Err(ParseError::Truncated {
            what: "Notify SPI",
            offset: 8,
            needed: 8,
            available: 2
        })
    );
}
