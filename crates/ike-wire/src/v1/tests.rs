//! Hand-built IKEv1 messages parsed field by field, every payload kind round-tripped, and
//! the ways a message can be malformed.

use std::net::Ipv4Addr;

use super::*;
use crate::{Attribute, AttributeValue, ParseError};

/// Hex with whitespace and `#` comments allowed, for readable byte fixtures.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.bytes())
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn tv(ty: u16, v: u16) -> Attribute {
    Attribute {
        ty,
        value: AttributeValue::Short(v),
    }
}

const DPD_VID: [u8; 16] = [
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
];

/// Main mode message 1 as an initiator offering AES-256/SHA2-256/group 14 and
/// 3DES/SHA1/group 2 (both PSK, 8 hours) would send it, with the DPD and RFC 3947
/// vendor IDs. 160 bytes.
const MAIN_MODE_1: &str = "
    0102030405060708 0000000000000000   # CKY-I, CKY-R
    01 10 02 00 00000000 000000a0       # next SA, v1.0, main mode, no flags, msg id 0, length 160
    0d 00 005c                          # SA, next VID, length 92
      00000001 00000001                 #   DOI IPsec, SIT_IDENTITY_ONLY
      00 00 0050 01 01 00 02            #   proposal: last, length 80, #1, ISAKMP, no SPI, 2 transforms
        03 00 0028 01 01 0000           #     transform #1, KEY_IKE, more follow, length 40
          8001 0007                     #       encryption AES-CBC
          800e 0100                     #       key length 256
          8002 0004                     #       hash SHA2-256
          8003 0001                     #       pre-shared key
          8004 000e                     #       group 14
          800b 0001                     #       life type seconds
          000c 0004 00007080            #       life duration 28800, TLV
        00 00 0020 02 01 0000           #     transform #2, KEY_IKE, last, length 32
          8001 0005 8002 0002 8003 0001 8004 0002 800b 0001 800c 7080
    0d 00 0014 afcad71368a1f1c96b8696fc77570100   # VID (RFC 3706 DPD), next VID
    00 00 0014 4a131c81070358455c5728f20e95452f   # VID (RFC 3947 NAT-T), last
";

#[test]
fn parses_hand_built_main_mode_1_field_by_field() {
    let bytes = hex(MAIN_MODE_1);
    assert_eq!(bytes.len(), 160);
    let m = Message::parse(&bytes).unwrap();

    let h = m.header;
    assert_eq!((h.cky_i, h.cky_r), (0x0102_0304_0506_0708, 0));
    assert_eq!(h.next_payload, PayloadType::SA);
    assert_eq!((h.major, h.minor), (1, 0));
    assert_eq!(h.exchange, ExchangeType::MAIN_MODE);
    assert_eq!(h.flags, Flags(0));
    assert_eq!((h.message_id, h.length), (0, 160));

    let [Payload::Sa(sa), Payload::VendorId(dpd), Payload::VendorId(natt)] = m.payloads() else {
        panic!("unexpected payloads {:?}", m.body)
    };
    assert_eq!((sa.doi, sa.situation), (doi::IPSEC, doi::SIT_IDENTITY_ONLY));
    let [p] = sa.proposals.as_slice() else {
        panic!("one proposal")
    };
    assert_eq!(
        (p.number, p.protocol, p.spi.as_slice()),
        (1, protocol::ISAKMP, &[][..])
    );
    let [t1, t2] = p.transforms.as_slice() else {
        panic!("two transforms")
    };
    assert_eq!(
        (t1.number, t1.id, t2.number, t2.id),
        (1, KEY_IKE, 2, KEY_IKE)
    );
    assert_eq!(t1.attributes.len(), 7);
    assert_eq!(
        t1.attr(ike_attr::ENCRYPTION_ALGORITHM),
        Some(ike_encr::AES_CBC.into())
    );
    assert_eq!(t1.attr(ike_attr::KEY_LENGTH), Some(256));
    assert_eq!(
        t1.attr(ike_attr::HASH_ALGORITHM),
        Some(ike_hash::SHA2_256.into())
    );
    assert_eq!(
        t1.attr(ike_attr::AUTHENTICATION_METHOD),
        Some(ike_auth::PRE_SHARED_KEY.into())
    );
    assert_eq!(t1.attr(ike_attr::GROUP_DESCRIPTION), Some(14));
    assert_eq!(
        t1.attr(ike_attr::LIFE_TYPE),
        Some(life_type::SECONDS.into())
    );
    assert_eq!(
        t1.attribute(ike_attr::LIFE_DURATION).unwrap().value,
        AttributeValue::Long(vec![0, 0, 0x70, 0x80])
    );
    assert_eq!(t1.attr(ike_attr::LIFE_DURATION), Some(28_800));
    assert_eq!(
        t2.attr(ike_attr::ENCRYPTION_ALGORITHM),
        Some(ike_encr::TRIPLE_DES_CBC.into())
    );
    assert_eq!(
        t2.attr(ike_attr::HASH_ALGORITHM),
        Some(ike_hash::SHA.into())
    );
    assert_eq!(t2.attr(ike_attr::GROUP_DESCRIPTION), Some(2));
    assert_eq!(
        t2.attribute(ike_attr::LIFE_DURATION).unwrap().value,
        AttributeValue::Short(28_800)
    );
    assert_eq!(dpd, &DPD_VID);
    assert_eq!(natt[..4], [0x4a, 0x13, 0x1c, 0x81]);

    // Re-encoding reproduces every byte, and SAi_b is the SA payload minus its header.
    assert_eq!(m.encode(), bytes);
    assert_eq!(m.payloads()[0].body(), bytes[32..120]);
    assert_eq!(sa.body(), bytes[32..120]);
}

#[test]
fn builds_main_mode_1_from_the_api() {
    let mut t1 = Transform::ike(1)
        .with(ike_attr::ENCRYPTION_ALGORITHM, ike_encr::AES_CBC.into())
        .with(ike_attr::KEY_LENGTH, 256)
        .with(ike_attr::HASH_ALGORITHM, ike_hash::SHA2_256.into())
        .with(
            ike_attr::AUTHENTICATION_METHOD,
            ike_auth::PRE_SHARED_KEY.into(),
        )
        .with(ike_attr::GROUP_DESCRIPTION, 14)
        .with(ike_attr::LIFE_TYPE, life_type::SECONDS.into());
    t1.attributes.push(Attribute {
        ty: ike_attr::LIFE_DURATION,
        value: AttributeValue::Long(28_800u32.to_be_bytes().to_vec()),
    });
    let t2 = Transform {
        number: 2,
        id: KEY_IKE,
        attributes: vec![
            tv(1, 5),
            tv(2, 2),
            tv(3, 1),
            tv(4, 2),
            tv(11, 1),
            tv(12, 28_800),
        ],
    };
    let bytes = hex(MAIN_MODE_1);
    let m = Message {
        header: Header {
            cky_i: 0x0102_0304_0506_0708,
            exchange: ExchangeType::MAIN_MODE,
            ..Header::default()
        },
        body: Body::Plain(vec![
            Payload::Sa(Sa::ipsec(vec![Proposal::isakmp(vec![t1, t2])])),
            Payload::VendorId(DPD_VID.to_vec()),
            Payload::VendorId(bytes[bytes.len() - 16..].to_vec()),
        ]),
    };
    assert_eq!(m.encode(), bytes);
}

/// The plaintext of quick mode message 1 with PFS: HASH(1), SA (one ESP proposal), Ni, KE,
/// IDci, IDcr, then 8 bytes of CBC padding.
const QUICK_MODE_1_PLAINTEXT: &str = "
    01 00 0018 1111111111111111111111111111111111111111   # HASH(1), next SA, length 24
    0a 00 0038                          # SA, next Nonce, length 56
      00000001 00000001                 #   DOI IPsec, SIT_IDENTITY_ONLY
      00 00 002c 01 03 04 01            #   proposal: last, length 44, #1, ESP, SPI size 4, 1 transform
        c0ffee01                        #     SPI
        00 00 0020 01 0c 0000           #     transform #1, ESP_AES_CBC, last, length 32
          8001 0001                     #       SA life type seconds
          8002 0e10                     #       SA life duration 3600
          8004 0001                     #       tunnel mode
          8005 0002                     #       HMAC-SHA
          8006 0080                     #       key length 128
          8003 000e                     #       PFS group 14
    04 00 0014 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf   # Nonce, next KE, length 20
    05 00 000c 0102030405060708                   # KE, next ID, length 12
    05 00 0010 04 00 0000 0a000000 ffffff00       # IDci: 10.0.0.0/24, next ID
    00 00 0010 04 00 0000 ac100000 ffff0000       # IDcr: 172.16.0.0/16, last
    00000000 00000007                             # padding
";

#[test]
fn parses_quick_mode_1_plaintext_with_padding() {
    let bytes = hex(QUICK_MODE_1_PLAINTEXT);
    let chain_len = bytes.len() - 8;
    let payloads = parse_payloads(PayloadType::HASH, &bytes).unwrap();
    let [Payload::Hash(hash), Payload::Sa(sa), Payload::Nonce(ni), Payload::Ke(ke), Payload::Id(idci), Payload::Id(idcr)] =
        payloads.as_slice()
    else {
        panic!("unexpected payloads {payloads:?}")
    };
    assert_eq!(hash, &[0x11; 20]);
    let p = &sa.proposals[0];
    assert_eq!(
        (p.protocol, p.spi_u32()),
        (protocol::IPSEC_ESP, Some(0xc0ff_ee01))
    );
    let t = &p.transforms[0];
    assert_eq!((t.number, t.id), (1, esp_transform::AES_CBC));
    assert_eq!(
        t.attr(ipsec_attr::SA_LIFE_TYPE),
        Some(life_type::SECONDS.into())
    );
    assert_eq!(t.attr(ipsec_attr::SA_LIFE_DURATION), Some(3600));
    assert_eq!(
        t.attr(ipsec_attr::ENCAPSULATION_MODE),
        Some(encapsulation::TUNNEL.into())
    );
    assert_eq!(
        t.attr(ipsec_attr::AUTHENTICATION_ALGORITHM),
        Some(ipsec_auth::HMAC_SHA.into())
    );
    assert_eq!(t.attr(ipsec_attr::KEY_LENGTH), Some(128));
    assert_eq!(t.attr(ipsec_attr::GROUP_DESCRIPTION), Some(14));
    assert_eq!(ni.len(), 16);
    assert_eq!(ke, &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        (idci.id_type, idci.protocol, idci.port),
        (id_type::IPV4_ADDR_SUBNET, 0, 0)
    );
    assert_eq!(idci.to_string(), "10.0.0.0/255.255.255.0");
    let ts = idcr.selector().unwrap();
    assert_eq!(
        (ts.start_addr, ts.end_addr),
        (
            Ipv4Addr::new(172, 16, 0, 0).into(),
            Ipv4Addr::new(172, 16, 255, 255).into()
        )
    );

    // What HASH(1) covers: the raw bytes after the HASH payload up to the end of the chain,
    // and re-encoding the parsed payloads after the HASH gives exactly those bytes.
    let covered = payloads_after_first(PayloadType::HASH, &bytes).unwrap();
    assert_eq!(covered, &bytes[24..chain_len]);
    let (first, rest) = encode_payloads(&payloads[1..]);
    assert_eq!((first, rest.as_slice()), (PayloadType::SA, covered));
    assert_eq!(encode_payloads(&payloads).1, bytes[..chain_len]);
}

#[test]
fn encrypted_quick_mode_message_stays_opaque() {
    let ciphertext: Vec<u8> = (0u8..48).collect();
    let header = Header {
        cky_i: 1,
        cky_r: 2,
        next_payload: PayloadType::HASH,
        exchange: ExchangeType::QUICK_MODE,
        flags: Flags::ENCRYPTION,
        message_id: 0x8765_4321,
        ..Header::default()
    };
    let mut datagram = encode_header_for(&header, PayloadType::HASH, ciphertext.len());
    datagram.extend_from_slice(&ciphertext);
    assert_eq!(datagram.len(), 28 + 48);
    let m = Message::parse(&datagram).unwrap();
    assert_eq!(m.body, Body::Encrypted(ciphertext.clone()));
    assert_eq!(
        m.header,
        Header {
            length: 76,
            ..header
        }
    );
    assert!(m.payloads().is_empty());
    assert_eq!(m.encode(), datagram);
    // Message::encode computes the E flag from the body.
    let unflagged = Message {
        header: Header {
            flags: Flags(0),
            ..header
        },
        body: Body::Encrypted(ciphertext),
    };
    assert_eq!(unflagged.encode(), datagram);
}

/// An informational exchange's plaintext: HASH(1), N(R-U-THERE) about the ISAKMP SA.
const R_U_THERE_PLAINTEXT: &str = "
    0b 00 0018 2222222222222222222222222222222222222222   # HASH(1), next N, length 24
    00 00 0020                          # N, last, length 32
      00000001 01 10 8d28               #   DOI IPsec, ISAKMP, SPI size 16, R-U-THERE
      0102030405060708 1112131415161718 #   SPI: CKY-I | CKY-R
      0000002a                          #   sequence number 42
";

#[test]
fn parses_r_u_there() {
    let bytes = hex(R_U_THERE_PLAINTEXT);
    let payloads = parse_payloads(PayloadType::HASH, &bytes).unwrap();
    let [Payload::Hash(_), Payload::Notification(n)] = payloads.as_slice() else {
        panic!("{payloads:?}")
    };
    assert_eq!(
        (n.doi, n.protocol, n.ty),
        (doi::IPSEC, protocol::ISAKMP, NotifyType::R_U_THERE)
    );
    assert_eq!(n.spi.len(), 16);
    assert_eq!(
        n.cookies(),
        Some((0x0102_0304_0506_0708, 0x1112_1314_1516_1718))
    );
    assert_eq!(n.dpd_sequence(), Some(42));
    assert_eq!(
        n,
        &Notification::r_u_there(0x0102_0304_0506_0708, 0x1112_1314_1516_1718, 42)
    );
    let ack = Notification::r_u_there_ack(1, 2, 42);
    assert_eq!(
        (ack.ty, ack.dpd_sequence()),
        (NotifyType::R_U_THERE_ACK, Some(42))
    );
    assert_eq!(
        Notification::new(NotifyType::INITIAL_CONTACT, 1, vec![], vec![0; 4]).dpd_sequence(),
        None
    );
    assert_eq!(encode_payloads(&payloads), (PayloadType::HASH, bytes));
}

#[test]
fn parses_deletes() {
    let bytes = hex("
        0c 00 0018 3333333333333333333333333333333333333333   # HASH(1), next D
        0c 00 0014 00000001 03 04 0002 c0ffee01 c0ffee02      # D: ESP, SPI size 4, 2 SPIs, next D
        00 00 001c 00000001 01 10 0001                        # D: ISAKMP, SPI size 16, 1 SPI, last
          0102030405060708 1112131415161718
    ");
    let payloads = parse_payloads(PayloadType::HASH, &bytes).unwrap();
    let [Payload::Hash(_), Payload::Delete(esp), Payload::Delete(isakmp)] = payloads.as_slice()
    else {
        panic!("{payloads:?}")
    };
    assert_eq!(esp, &Delete::esp([0xc0ff_ee01, 0xc0ff_ee02]));
    assert_eq!(
        esp.spis_u32().collect::<Vec<_>>(),
        [0xc0ff_ee01, 0xc0ff_ee02]
    );
    assert_eq!(
        isakmp,
        &Delete::isakmp(0x0102_0304_0506_0708, 0x1112_1314_1516_1718)
    );
    assert_eq!(
        isakmp.cookies(),
        Some((0x0102_0304_0506_0708, 0x1112_1314_1516_1718))
    );
    assert_eq!(encode_payloads(&payloads).1, bytes);
}

/// Encodes one payload alone, checks it parses back and that `body()` is the encoding
/// minus the generic header.
fn round_trip(p: Payload) -> Vec<u8> {
    let (first, bytes) = encode_payloads(std::slice::from_ref(&p));
    assert_eq!(first, p.payload_type());
    assert_eq!(parse_payloads(first, &bytes), Ok(vec![p.clone()]));
    assert_eq!(bytes[4..], p.body());
    bytes
}

#[test]
fn every_payload_round_trips() {
    let esp = Transform::new(1, esp_transform::AES_GCM_16)
        .with(ipsec_attr::KEY_LENGTH, 256)
        .with(ipsec_attr::SA_LIFE_DURATION, 100_000);
    let sa = round_trip(Payload::Sa(Sa {
        doi: doi::IPSEC,
        situation: doi::SIT_IDENTITY_ONLY,
        proposals: vec![
            Proposal::esp(
                7,
                vec![esp.clone(), Transform::new(2, esp_transform::AES_CBC)],
            ),
            Proposal::esp(8, vec![esp]),
        ],
    }));
    assert_eq!(sa[..4], [0, 0, 0, 84]);
    assert_eq!(round_trip(Payload::Ke(vec![9; 3])), [0, 0, 0, 7, 9, 9, 9]);
    let id = round_trip(Payload::Id(Id {
        id_type: id_type::IPV4_ADDR,
        protocol: 17,
        port: 500,
        data: vec![192, 0, 2, 1],
    }));
    assert_eq!(id, [0, 0, 0, 12, 1, 17, 0x01, 0xf4, 192, 0, 2, 1]);
    round_trip(Payload::Id(Id::fqdn("aws.example")));
    round_trip(Payload::Hash(vec![1; 32]));
    round_trip(Payload::Nonce(vec![2; 32]));
    let n = round_trip(Payload::Notification(Notification::new(
        NotifyType::NO_PROPOSAL_CHOSEN,
        protocol::IPSEC_ESP,
        vec![1, 2, 3, 4],
        vec![],
    )));
    assert_eq!(n, [0, 0, 0, 16, 0, 0, 0, 1, 3, 4, 0, 14, 1, 2, 3, 4]);
    round_trip(Payload::Notification(Notification::new(
        NotifyType::INITIAL_CONTACT,
        protocol::ISAKMP,
        vec![0; 16],
        vec![],
    )));
    round_trip(Payload::Delete(Delete::esp([])));
    round_trip(Payload::Delete(Delete::isakmp(1, 2)));
    round_trip(Payload::VendorId(DPD_VID.to_vec()));
    assert_eq!(round_trip(Payload::NatD(vec![5; 20]))[..4], [0, 0, 0, 24]);
    round_trip(Payload::NatOa(vec![1, 0, 0, 0, 10, 0, 0, 1]));
    round_trip(Payload::Unknown {
        ty: PayloadType::FRAGMENT,
        body: vec![0, 1, 2, 3, 4, 5, 6, 7],
    });
    round_trip(Payload::Unknown {
        ty: PayloadType::CERT,
        body: vec![],
    });
}

#[test]
fn draft_nat_payloads() {
    // NAT-D from the draft (130) reads as NatD and is written back as RFC 3947's 20; a
    // draft NAT-OA (131) keeps its type, so a HASH over it survives re-encoding.
    let natd = [0, 0, 0, 8, 1, 2, 3, 4];
    assert_eq!(
        parse_payloads(PayloadType::NAT_D_DRAFT, &natd),
        Ok(vec![Payload::NatD(vec![1, 2, 3, 4])])
    );
    let natoa = parse_payloads(PayloadType::NAT_OA_DRAFT, &natd).unwrap();
    assert_eq!(
        natoa,
        [Payload::Unknown {
            ty: PayloadType::NAT_OA_DRAFT,
            body: vec![1, 2, 3, 4]
        }]
    );
    assert_eq!(
        encode_payloads(&natoa),
        (PayloadType::NAT_OA_DRAFT, natd.to_vec())
    );
}

#[test]
fn padding_is_ignored_only_after_the_chain() {
    let chain = [0, 0, 0, 6, 0xaa, 0xbb];
    let mut padded = chain.to_vec();
    padded.extend_from_slice(&[0, 0, 0, 3]);
    let want = vec![Payload::Nonce(vec![0xaa, 0xbb])];
    assert_eq!(
        parse_payloads(PayloadType::NONCE, &padded),
        Ok(want.clone())
    );
    assert_eq!(parse_payloads(PayloadType::NONE, &padded), Ok(vec![]));
    assert_eq!(
        payloads_after_first(PayloadType::NONCE, &padded),
        Ok(&[][..])
    );
    assert_eq!(
        payloads_after_first(PayloadType::NONE, &padded),
        Ok(&[][..])
    );

    // A plaintext message must end with its chain.
    let mut m = Message {
        header: Header::default(),
        body: Body::Plain(want),
    }
    .encode();
    m.extend_from_slice(&[0; 4]);
    m[27] += 4;
    assert_eq!(
        Message::parse(&m),
        Err(ParseError::TrailingData {
            offset: 34,
            length: 4
        })
    );
}

#[test]
fn reserved_bytes_are_ignored_but_hash_input_stays_raw() {
    // HASH, then a nonce whose RESERVED byte is (wrongly) set.
    let bytes = [10, 0, 0, 6, 0x11, 0x22, 0, 0x5a, 0, 5, 0x33];
    let payloads = parse_payloads(PayloadType::HASH, &bytes).unwrap();
    assert_eq!(
        payloads,
        [Payload::Hash(vec![0x11, 0x22]), Payload::Nonce(vec![0x33])]
    );
    assert_eq!(
        payloads_after_first(PayloadType::HASH, &bytes),
        Ok(&bytes[6..])
    );
    assert_ne!(encode_payloads(&payloads[1..]).1, bytes[6..]);
}

#[test]
fn header_errors() {
    let good = hex(MAIN_MODE_1);
    assert!(matches!(
        Message::parse(&good[..27]),
        Err(ParseError::Truncated {
            what: "ISAKMP header",
            ..
        })
    ));

    let mut v2 = good.clone();
    v2[17] = 0x20;
    let err = Message::parse(&v2).unwrap_err();
    assert_eq!(err, ParseError::UnsupportedVersion { major: 2, minor: 0 });
    assert_eq!(err.v1_notify_type(), NotifyType::INVALID_MAJOR_VERSION);

    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        Message::parse(&long),
        Err(ParseError::BadLength {
            what: "ISAKMP header Length",
            offset: 24,
            length: 160
        })
    );
}

/// Parses `hex` as a chain starting with `first`.
fn chain(first: PayloadType, s: &str) -> Result<Vec<Payload>, ParseError> {
    parse_payloads(first, &hex(s))
}

#[test]
fn payload_errors() {
    // Payload Length below the generic header.
    assert_eq!(
        chain(PayloadType::NONCE, "00 00 0003"),
        Err(ParseError::BadLength {
            what: "payload",
            offset: 0,
            length: 3
        })
    );
    // Payload Length past the data.
    assert!(matches!(
        chain(PayloadType::NONCE, "00 00 0010 aabb"),
        Err(ParseError::Truncated {
            what: "payload body",
            ..
        })
    ));
    // The chain promises a next payload that is not there.
    assert!(matches!(
        chain(PayloadType::NONCE, "0a 00 0005 aa"),
        Err(ParseError::Truncated { offset: 5, .. })
    ));
    // Proposal and transform payloads only live inside an SA.
    let err = chain(PayloadType::PROPOSAL, "00 00 0008 01 01 00 00").unwrap_err();
    assert!(matches!(err, ParseError::Invalid { offset: 0, .. }));
    assert_eq!(err.v1_notify_type(), NotifyType::PAYLOAD_MALFORMED);
    // Fixed parts cut short.
    assert!(matches!(
        chain(PayloadType::ID, "00 00 0007 010000"),
        Err(ParseError::Truncated {
            what: "ID payload header",
            ..
        })
    ));
    assert!(matches!(
        chain(PayloadType::SA, "00 00 0008 00000001"),
        Err(ParseError::Truncated {
            what: "SA situation",
            ..
        })
    ));
    assert!(matches!(
        chain(
            PayloadType::NOTIFICATION,
            "00 00 000e 00000001 03 04 000e 0102"
        ),
        Err(ParseError::Truncated {
            what: "notification SPI",
            ..
        })
    ));
    // Delete: SPI bytes disagree with count x size; SPIs of size 0.
    assert!(matches!(
        chain(
            PayloadType::DELETE,
            "00 00 0011 00000001 03 04 0002 c0ffee01 00"
        ),
        Err(ParseError::BadLength {
            what: "delete SPIs",
            ..
        })
    ));
    assert!(matches!(
        chain(PayloadType::DELETE, "00 00 000c 00000001 03 00 0001"),
        Err(ParseError::Invalid { .. })
    ));
}

#[test]
fn sa_errors() {
    let sa = |proposals: &str| {
        chain(
            PayloadType::SA,
            &format!(
                "00 00 {:04x} 00000001 00000001 {proposals}",
                12 + hex(proposals).len()
            ),
        )
    };
    // Two transforms declared, one present.
    let err = sa("00 00 0010 01 03 00 02   00 00 0008 01 0c 0000").unwrap_err();
    assert_eq!(
        err,
        ParseError::CountMismatch {
            what: "transforms in proposal",
            offset: 12,
            declared: 2,
            found: 1
        }
    );
    assert_eq!(err.v1_notify_type(), NotifyType::BAD_PROPOSAL_SYNTAX);
    // A last proposal that says another follows, and a proposal chained as a transform.
    assert!(matches!(
        sa("02 00 0008 01 03 00 00"),
        Err(ParseError::Invalid {
            what: "proposal Next Payload",
            ..
        })
    ));
    assert!(matches!(
        sa("03 00 0008 01 03 00 00 00 00 0008 02 03 00 00"),
        Err(ParseError::Invalid {
            what: "proposal Next Payload",
            offset: 12
        })
    ));
    // A transform that says it is the last while another follows.
    assert!(matches!(
        sa("00 00 0018 01 03 00 02   00 00 0008 01 0c 0000   00 00 0008 02 0c 0000"),
        Err(ParseError::Invalid {
            what: "transform Next Payload",
            offset: 20
        })
    ));
    // Lengths: proposal shorter than its header, SPI past the proposal, attribute past the transform.
    assert!(matches!(
        sa("00 00 0003 01 03 00 00 00"),
        Err(ParseError::BadLength {
            what: "proposal",
            ..
        })
    ));
    assert!(matches!(
        sa("00 00 0008 01 03 04 00"),
        Err(ParseError::Truncated {
            what: "proposal SPI",
            ..
        })
    ));
    assert!(sa("00 00 0010 01 03 00 01   00 00 0008 01 0c 0000").is_ok());
    assert!(matches!(
        sa("00 00 0014 01 03 00 01   00 00 000c 01 0c 0000 0002 0004"),
        Err(ParseError::Truncated {
            what: "attribute value",
            ..
        })
    ));
    assert!(matches!(
        sa("00 00 0012 01 03 00 01   00 00 000a 01 0c 0000 8001"),
        Err(ParseError::Truncated {
            what: "transform attribute",
            ..
        })
    ));
}
