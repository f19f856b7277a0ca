use super::*;
use crate::{
    encode_sk_prefix, encode_skf_prefix, DhGroup, EncrId, Encrypted, ExchangeType, Flags, IntegId,
    KeyExchange, PayloadType, PrfId, Proposal, ProtocolId, Transform, UnknownPayload,
};

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

/// An IKE_SA_INIT request as an initiator proposing AES-CBC-256 / SHA2-256 / Curve25519
/// would send it: SA, KE, Ni, NAT_DETECTION_SOURCE_IP, NAT_DETECTION_DESTINATION_IP,
/// IKEV2_FRAGMENTATION_SUPPORTED. 216 bytes.
const SA_INIT_HEX: &str = "
    0102030405060708 0000000000000000   # SPIi, SPIr
    21 20 22 08 00000000 000000d8       # next SA, v2.0, IKE_SA_INIT, I flag, msg id 0, length 216
    22 00 0030                          # SA, next KE, length 48
      00 00 002c 01 01 00 04            #   proposal: last, length 44, #1, IKE, no SPI, 4 transforms
        03 00 000c 01 00 000c 800e0100  #     ENCR_AES_CBC, Key Length 256
        03 00 0008 02 00 0005           #     PRF_HMAC_SHA2_256
        03 00 0008 03 00 000c           #     AUTH_HMAC_SHA2_256_128
        00 00 0008 04 00 001f           #     CURVE25519, last
    28 00 0028 001f 0000                # KE, next Nonce, length 40, group 31
      000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
    29 00 0024                          # Nonce, next Notify, length 36
      a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
    29 00 001c 00 00 4004               # N(NAT_DETECTION_SOURCE_IP), length 28
      1111111111111111111111111111111111111111
    29 00 001c 00 00 4005               # N(NAT_DETECTION_DESTINATION_IP), length 28
      2222222222222222222222222222222222222222
    00 00 0008 00 00 402e               # N(IKEV2_FRAGMENTATION_SUPPORTED), last
";

#[test]
fn parses_hand_built_ike_sa_init_field_by_field() {
    let bytes = hex(SA_INIT_HEX);
    assert_eq!(bytes.len(), 216);
    let m = Message::parse(&bytes).unwrap();

    let h = m.header;
    assert_eq!(h.spi_i, 0x0102_0304_0506_0708);
    assert_eq!(h.spi_r, 0);
    assert_eq!(h.next_payload, PayloadType::SA);
    assert_eq!((h.major, h.minor), (2, 0));
    assert_eq!(h.exchange, ExchangeType::IKE_SA_INIT);
    assert_eq!(h.flags, Flags::INITIATOR);
    assert!(h.is_initiator() && !m.is_response());
    assert_eq!(h.message_id, 0);
    assert_eq!(h.length, 216);

    assert_eq!(m.payloads.len(), 6);
    assert_eq!(
        m.payloads[0],
        Payload::Sa(vec![Proposal {
            number: 1,
            protocol: ProtocolId::IKE,
            spi: vec![],
            transforms: vec![
                Transform::encr(EncrId::AES_CBC, Some(256)),
                Transform::prf(PrfId::HMAC_SHA2_256),
                Transform::integ(IntegId::HMAC_SHA2_256_128),
                Transform::dh(DhGroup::CURVE25519),
            ],
        }])
    );
    assert_eq!(
        m.payloads[1],
        Payload::Ke(KeyExchange {
            group: DhGroup::CURVE25519,
            data: (0..32).collect()
        })
    );
    assert_eq!(m.payloads[2], Payload::Nonce((0xa0..=0xbf).collect()));
    assert_eq!(
        m.notify(NotifyType::NAT_DETECTION_SOURCE_IP),
        Some(&Notify::new(
            NotifyType::NAT_DETECTION_SOURCE_IP,
            vec![0x11; 20]
        ))
    );
    assert_eq!(
        m.notify(NotifyType::NAT_DETECTION_DESTINATION_IP)
            .map(|n| &n.data),
        Some(&vec![0x22; 20])
    );
    assert!(m
        .notify(NotifyType::IKEV2_FRAGMENTATION_SUPPORTED)
        .is_some());
    assert!(m.notify(NotifyType::COOKIE).is_none());
    assert_eq!(m.sa().map(|s| s.len()), Some(1));
    assert_eq!(m.ke().map(|k| k.group), Some(DhGroup::CURVE25519));
    assert_eq!(m.nonce().map(<[u8]>::len), Some(32));
    assert_eq!(m.error_notify(), None);

    assert_eq!(m.encode(), bytes, "re-encoding reproduces the datagram");
}

#[test]
fn encode_computes_chain_and_lengths() {
    let m = Message {
        header: Header {
            major: 2,
            exchange: ExchangeType::INFORMATIONAL,
            next_payload: PayloadType(99), // ignored
            length: 12345,                 // ignored
            ..Header::default()
        },
        payloads: vec![
            Payload::Notify(Notify::new(NotifyType::INITIAL_CONTACT, vec![])),
            Payload::Nonce(vec![1]),
        ],
    };
    let bytes = m.encode();
    assert_eq!(bytes.len(), 28 + 8 + 5);
    assert_eq!(bytes[16], 41, "header names the first payload");
    assert_eq!(bytes[24..28], [0, 0, 0, 41]);
    assert_eq!(bytes[28..32], [40, 0, 0, 8], "Notify chains to Nonce");
    assert_eq!(bytes[36..40], [0, 0, 0, 5]);
    let parsed = Message::parse(&bytes).unwrap();
    assert_eq!(parsed.payloads, m.payloads);
}

#[test]
fn empty_message_is_just_a_header() {
    let m = Message {
        header: Header {
            major: 2,
            ..Header::default()
        },
        payloads: vec![],
    };
    let bytes = m.encode();
    assert_eq!(bytes.len(), HEADER_LEN);
    assert_eq!(Message::parse(&bytes).unwrap().payloads, []);
}

fn ike_auth_request() -> Message {
    Message {
        header: Header {
            spi_i: 1,
            spi_r: 2,
            major: 2,
            exchange: ExchangeType::IKE_AUTH,
            flags: Flags::INITIATOR,
            message_id: 1,
            ..Header::default()
        },
        payloads: vec![Payload::Encrypted(Encrypted {
            first_inner: PayloadType::IDI,
            data: vec![0x5a; 40],
        })],
    }
}

#[test]
fn sk_prefix_is_the_start_of_the_encoded_message() {
    let m = ike_auth_request();
    let bytes = m.encode();
    let prefix = encode_sk_prefix(&m.header, PayloadType::IDI, 40);
    assert_eq!(prefix.len(), 32);
    assert_eq!(prefix, bytes[..32]);
    assert_eq!(bytes[28..32], [35, 0, 0, 44]);
    assert_eq!(
        Message::parse(&bytes),
        Ok(Message {
            header: Header {
                next_payload: PayloadType::SK,
                length: 72,
                ..m.header
            },
            ..m
        })
    );
}

#[test]
fn skf_prefix_is_the_start_of_the_encoded_fragment() {
    let mut m = ike_auth_request();
    m.payloads = vec![Payload::EncryptedFragment(crate::EncryptedFragment {
        number: 2,
        total: 3,
        first_inner: PayloadType::NONE,
        data: vec![1; 20],
    })];
    let bytes = m.encode();
    assert_eq!(
        encode_skf_prefix(&m.header, PayloadType::NONE, 2, 3, 20),
        bytes[..36]
    );
    assert_eq!(bytes[28..36], [0, 0, 0, 28, 0, 2, 0, 3]);
}

#[test]
fn version_other_than_2_is_rejected() {
    let mut bytes = hex(SA_INIT_HEX);
    bytes[17] = 0x31;
    let err = Message::parse(&bytes).unwrap_err();
    assert_eq!(err, ParseError::UnsupportedVersion { major: 3, minor: 1 });
    assert_eq!(err.notify_type(), NotifyType::INVALID_MAJOR_VERSION);
    // The header is still readable, for the INVALID_MAJOR_VERSION reply.
    assert_eq!(Header::parse(&bytes).unwrap().spi_i, 0x0102_0304_0506_0708);
}

#[test]
fn minor_version_is_accepted_and_kept() {
    let mut bytes = hex(SA_INIT_HEX);
    bytes[17] = 0x21;
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.header.minor, 1);
    assert_eq!(m.encode(), bytes);
}

#[test]
fn header_length_must_equal_datagram_length() {
    let mut bytes = hex(SA_INIT_HEX);
    bytes.push(0);
    assert_eq!(
        Message::parse(&bytes),
        Err(ParseError::BadLength {
            what: "IKE header Length",
            offset: 24,
            length: 216
        })
    );
    let mut bytes = hex(SA_INIT_HEX);
    bytes[27] = 27;
    assert!(matches!(
        Message::parse(&bytes),
        Err(ParseError::BadLength { length: 27, .. })
    ));
}

#[test]
fn payload_length_below_generic_header_is_rejected() {
    let mut bytes = hex(SA_INIT_HEX);
    bytes[30..32].copy_from_slice(&[0, 3]);
    assert_eq!(
        Message::parse(&bytes),
        Err(ParseError::BadLength {
            what: "payload",
            offset: 28,
            length: 3
        })
    );
}

#[test]
fn payload_overrunning_the_message_is_truncated() {
    let mut bytes = hex(SA_INIT_HEX);
    // Last Notify (offset 208) claims 9 bytes; 8 are there.
    bytes[211] = 9;
    assert_eq!(
        Message::parse(&bytes),
        Err(ParseError::Truncated {
            what: "payload body",
            offset: 212,
            needed: 5,
            available: 4
        })
    );
}

#[test]
fn bytes_after_the_last_payload_are_rejected() {
    let mut bytes = hex(SA_INIT_HEX);
    bytes[180] = 0; // the second-to-last Notify claims to be the last
    assert_eq!(
        Message::parse(&bytes),
        Err(ParseError::TrailingData {
            offset: 208,
            length: 8
        })
    );
}

#[test]
fn sk_must_be_last() {
    let mut bytes = ike_auth_request().encode();
    bytes.extend_from_slice(&[0, 0, 0, 4]);
    let len = bytes.len() as u32;
    bytes[24..28].copy_from_slice(&len.to_be_bytes());
    assert_eq!(
        Message::parse(&bytes),
        Err(ParseError::EncryptedNotLast { offset: 72 })
    );
}

#[test]
fn chain_running_out_mid_header_is_truncated() {
    let mut bytes = hex(SA_INIT_HEX);
    bytes[208] = 41; // last Notify now claims a next payload
    assert_eq!(
        Message::parse(&bytes),
        Err(ParseError::Truncated {
            what: "generic payload header",
            offset: 216,
            needed: 4,
            available: 0
        })
    );
}

#[test]
fn unknown_critical_payload_is_reported() {
    let m = Message {
        header: Header {
            major: 2,
            ..Header::default()
        },
        payloads: vec![Payload::Unknown(UnknownPayload {
            ty: PayloadType(200),
            critical: true,
            body: vec![1, 2, 3],
        })],
    };
    let parsed = Message::parse(&m.encode()).unwrap();
    assert_eq!(
        parsed.unsupported_critical().map(|u| u.ty),
        Some(PayloadType(200))
    );
}
