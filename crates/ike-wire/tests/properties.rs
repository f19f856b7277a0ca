//! Property tests: encode → parse is the identity on well-formed values, and no byte
//! string (random, or a damaged valid message) makes a parser panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ike_wire::*;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn attribute() -> impl Strategy<Value = Attribute> {
    (
        0u16..0x8000,
        prop_oneof![
            any::<u16>().prop_map(AttributeValue::Short),
            bytes(6).prop_map(AttributeValue::Long),
        ],
    )
        .prop_map(|(ty, value)| Attribute { ty, value })
}

fn transform() -> impl Strategy<Value = Transform> {
    (
        any::<u8>(),
        any::<u16>(),
        prop::collection::vec(attribute(), 0..3),
    )
        .prop_map(|(ty, id, attributes)| Transform {
            ty: TransformType(ty),
            id,
            attributes,
        })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (
        any::<u8>(),
        any::<u8>(),
        bytes(8),
        prop::collection::vec(transform(), 0..5),
    )
        .prop_map(|(number, protocol, spi, transforms)| Proposal {
            number,
            protocol: ProtocolId(protocol),
            spi,
            transforms,
        })
}

fn selector() -> impl Strategy<Value = TrafficSelector> {
    let v4 = (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(a, b)| {
        (
            TsType::IPV4_ADDR_RANGE,
            IpAddr::from(Ipv4Addr::from(a)),
            IpAddr::from(Ipv4Addr::from(b)),
        )
    });
    let v6 = (any::<[u8; 16]>(), any::<[u8; 16]>()).prop_map(|(a, b)| {
        (
            TsType::IPV6_ADDR_RANGE,
            IpAddr::from(Ipv6Addr::from(a)),
            IpAddr::from(Ipv6Addr::from(b)),
        )
    });
    (prop_oneof![v4, v6], any::<u8>(), any::<u16>(), any::<u16>()).prop_map(
        |((ts_type, start_addr, end_addr), ip_protocol, start_port, end_port)| TrafficSelector {
            ts_type,
            ip_protocol,
            start_port,
            end_port,
            start_addr,
            end_addr,
        },
    )
}

/// Payload types this crate does not decode, so an `Unknown` of that type round-trips.
fn unknown_type() -> impl Strategy<Value = PayloadType> {
    prop_oneof![1u8..=32, 37u8..=38, 47u8..=52, 54u8..=255].prop_map(PayloadType)
}

fn delete() -> impl Strategy<Value = Delete> {
    (any::<u8>(), 1u8..=8).prop_flat_map(|(protocol, spi_size)| {
        prop::collection::vec(
            prop::collection::vec(any::<u8>(), usize::from(spi_size)),
            0..4,
        )
        .prop_map(move |spis| Delete {
            protocol: ProtocolId(protocol),
            spi_size,
            spis,
        })
    })
}

/// Every payload kind that may appear before the end of a chain.
fn plain_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        prop::collection::vec(proposal(), 0..3).prop_map(Payload::Sa),
        (any::<u16>(), bytes(40)).prop_map(|(g, data)| Payload::Ke(KeyExchange {
            group: DhGroup(g),
            data
        })),
        (any::<u8>(), bytes(20)).prop_map(|(t, data)| Payload::IdI(Identification {
            ty: IdType(t),
            data
        })),
        (any::<u8>(), bytes(20)).prop_map(|(t, data)| Payload::IdR(Identification {
            ty: IdType(t),
            data
        })),
        (any::<u8>(), bytes(20)).prop_map(|(m, data)| Payload::Auth(Auth {
            method: AuthMethod(m),
            data
        })),
        bytes(40).prop_map(Payload::Nonce),
        (any::<u8>(), bytes(8), any::<u16>(), bytes(20)).prop_map(|(p, spi, t, data)| {
            Payload::Notify(Notify {
                protocol: ProtocolId(p),
                spi,
                ty: NotifyType(t),
                data,
            })
        }),
        delete().prop_map(Payload::Delete),
        Just(Payload::Delete(Delete::ike())),
        bytes(20).prop_map(Payload::VendorId),
        prop::collection::vec(selector(), 0..4).prop_map(Payload::TsI),
        prop::collection::vec(selector(), 0..4).prop_map(Payload::TsR),
        (unknown_type(), any::<bool>(), bytes(20)).prop_map(|(ty, critical, body)| {
            Payload::Unknown(UnknownPayload { ty, critical, body })
        }),
    ]
}

fn encrypted_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (any::<u8>(), bytes(64)).prop_map(|(t, data)| {
            Payload::Encrypted(Encrypted {
                first_inner: PayloadType(t),
                data,
            })
        }),
        (any::<u16>(), any::<u16>(), any::<u8>(), bytes(64)).prop_map(
            |(number, total, t, data)| {
                Payload::EncryptedFragment(EncryptedFragment {
                    number,
                    total,
                    first_inner: PayloadType(t),
                    data,
                })
            }
        ),
    ]
}

fn payloads() -> impl Strategy<Value = Vec<Payload>> {
    (
        prop::collection::vec(plain_payload(), 0..6),
        prop::option::of(encrypted_payload()),
    )
        .prop_map(|(mut list, sk)| {
            list.extend(sk);
            list
        })
}

fn header() -> impl Strategy<Value = Header> {
    (
        any::<u64>(),
        any::<u64>(),
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(
            |(spi_i, spi_r, minor, exchange, flags, message_id)| Header {
                spi_i,
                spi_r,
                next_payload: PayloadType::NONE,
                major: 2,
                minor,
                exchange: ExchangeType(exchange),
                flags: Flags(flags),
                message_id,
                length: 0,
            },
        )
}

fn message() -> impl Strategy<Value = Message> {
    (header(), payloads()).prop_map(|(header, payloads)| Message { header, payloads })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn message_round_trips(m in message()) {
        let bytes = m.encode();
        let parsed = Message::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let first = m.payloads.first().map_or(PayloadType::NONE, Payload::payload_type);
        prop_assert_eq!(parsed.header, Header { next_payload: first, length: bytes.len() as u32, ..m.header });
        prop_assert_eq!(&parsed.payloads, &m.payloads);
        prop_assert_eq!(parsed.encode(), bytes);
    }

    #[test]
    fn payload_chain_round_trips(list in payloads()) {
        let (first, bytes) = encode_payloads(&list);
        prop_assert_eq!(parse_payloads(first, &bytes), Ok(list));
    }

    #[test]
    fn sk_prefix_matches_encoded_message(h in header(), first in any::<u8>(), data in bytes(64)) {
        let m = Message {
            header: h,
            payloads: vec![Payload::Encrypted(Encrypted { first_inner: PayloadType(first), data: data.clone() })],
        };
        let bytes = m.encode();
        prop_assert_eq!(encode_sk_prefix(&h, PayloadType(first), data.len()), bytes[..32].to_vec());
    }

    #[test]
    fn parse_never_panics_on_random_bytes(data in bytes(300)) {
        let _ = Message::parse(&data);
        let _ = Header::parse(&data);
    }

    #[test]
    fn parse_payloads_never_panics(first in any::<u8>(), data in bytes(300)) {
        if let Ok(list) = parse_payloads(PayloadType(first), &data) {
            let (first, bytes) = encode_payloads(&list);
            prop_assert_eq!(parse_payloads(first, &bytes), Ok(list));
        }
    }

    /// Random payload bytes behind a valid header, so the parser gets past the header
    /// checks and into the payload decoders.
    #[test]
    fn parse_never_panics_behind_a_valid_header(h in header(), first in any::<u8>(), body in bytes(300)) {
        let mut data = Vec::new();
        Header { next_payload: PayloadType(first), length: (28 + body.len()) as u32, ..h }.encode_into(&mut data);
        data.extend_from_slice(&body);
        if let Ok(m) = Message::parse(&data) {
            prop_assert_eq!(Message::parse(&m.encode()), Ok(m));
        }
    }

    /// Damage a valid message (flip bytes, truncate): parsing never panics, and whatever
    /// still parses re-encodes to something that parses to the same value.
    #[test]
    fn damaged_messages_never_panic(
        m in message(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut data = m.encode();
        for (at, xor) in flips {
            let i = at.index(data.len());
            data[i] ^= xor;
        }
        if truncate {
            data.truncate(cut.index(data.len() + 1));
        }
        if let Ok(parsed) = Message::parse(&data) {
            prop_assert_eq!(Message::parse(&parsed.encode()), Ok(parsed));
        }
    }
}
