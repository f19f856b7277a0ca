//! IKEv1 property tests: encode → parse is the identity on well-formed values (so a HASH
//! over re-encoded payloads matches the bytes on the wire), padding after a complete chain
//! is accepted, and no byte string makes a parser panic.

use ike_wire::v1::*;
use ike_wire::{Attribute, AttributeValue};
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

fn attribute() -> impl Strategy<Value = Attribute> {
    (
        0u16..0x8000,
        prop_oneof![
            any::<u16>().prop_map(AttributeValue::Short),
            bytes(8).prop_map(AttributeValue::Long)
        ],
    )
        .prop_map(|(ty, value)| Attribute { ty, value })
}

fn transform() -> impl Strategy<Value = Transform> {
    (
        any::<u8>(),
        any::<u8>(),
        prop::collection::vec(attribute(), 0..8),
    )
        .prop_map(|(number, id, attributes)| Transform {
            number,
            id,
            attributes,
        })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (
        any::<u8>(),
        any::<u8>(),
        bytes(16),
        prop::collection::vec(transform(), 0..4),
    )
        .prop_map(|(number, protocol, spi, transforms)| Proposal {
            number,
            protocol,
            spi,
            transforms,
        })
}

fn sa() -> impl Strategy<Value = Sa> {
    (
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(proposal(), 0..3),
    )
        .prop_map(|(doi, situation, proposals)| Sa {
            doi,
            situation,
            proposals,
        })
}

fn delete() -> impl Strategy<Value = Delete> {
    (any::<u32>(), any::<u8>(), 1u8..=16).prop_flat_map(|(doi, protocol, spi_size)| {
        prop::collection::vec(
            prop::collection::vec(any::<u8>(), usize::from(spi_size)),
            0..4,
        )
        .prop_map(move |spis| Delete {
            doi,
            protocol,
            spi_size,
            spis,
        })
    })
}

/// Types that parse to `Payload::Unknown`, so an `Unknown` of that type round-trips.
fn unknown_type() -> impl Strategy<Value = PayloadType> {
    prop_oneof![6u8..=7, Just(9), 14u8..=19, 22u8..=129, 131u8..=255].prop_map(PayloadType)
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        sa().prop_map(Payload::Sa),
        bytes(64).prop_map(Payload::Ke),
        (any::<u8>(), any::<u8>(), any::<u16>(), bytes(20)).prop_map(
            |(id_type, protocol, port, data)| Payload::Id(Id {
                id_type,
                protocol,
                port,
                data
            })
        ),
        bytes(32).prop_map(Payload::Hash),
        bytes(32).prop_map(Payload::Nonce),
        (
            any::<u32>(),
            any::<u8>(),
            bytes(16),
            any::<u16>(),
            bytes(16)
        )
            .prop_map(|(doi, protocol, spi, ty, data)| {
                Payload::Notification(Notification {
                    doi,
                    protocol,
                    spi,
                    ty: NotifyType(ty),
                    data,
                })
            }),
        delete().prop_map(Payload::Delete),
        bytes(20).prop_map(Payload::VendorId),
        bytes(20).prop_map(Payload::NatD),
        bytes(20).prop_map(Payload::NatOa),
        (unknown_type(), bytes(20)).prop_map(|(ty, body)| Payload::Unknown { ty, body }),
    ]
}

fn payloads() -> impl Strategy<Value = Vec<Payload>> {
    prop::collection::vec(payload(), 0..6)
}

fn header() -> impl Strategy<Value = Header> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u8>(),
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(
            |(cky_i, cky_r, next, minor, exchange, flags, message_id)| Header {
                cky_i,
                cky_r,
                next_payload: PayloadType(next),
                major: 1,
                minor,
                exchange: ExchangeType(exchange),
                flags: Flags(flags),
                message_id,
                length: 0,
            },
        )
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        payloads().prop_map(Body::Plain),
        bytes(80).prop_map(Body::Encrypted)
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (header(), body()).prop_map(|(header, body)| Message { header, body })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn message_round_trips(m in message()) {
        let bytes = m.encode();
        let parsed = Message::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let e = Flags::ENCRYPTION.0;
        let (next_payload, flags) = match &m.body {
            Body::Plain(p) => (p.first().map_or(PayloadType::NONE, Payload::payload_type), m.header.flags.0 & !e),
            Body::Encrypted(_) => (m.header.next_payload, m.header.flags.0 | e),
        };
        let want = Header { next_payload, flags: Flags(flags), length: bytes.len() as u32, ..m.header };
        prop_assert_eq!(parsed.header, want);
        prop_assert_eq!(&parsed.body, &m.body);
        prop_assert_eq!(parsed.encode(), bytes);
    }

    #[test]
    fn payload_chain_round_trips(list in payloads()) {
        let (first, bytes) = encode_payloads(&list);
        prop_assert_eq!(parse_payloads(first, &bytes), Ok(list.clone()));
        // Each payload's body() is its encoding minus the generic header.
        let mut at = 0;
        for p in &list {
            let body = p.body();
            prop_assert_eq!(&bytes[at + 4..at + 4 + body.len()], body.as_slice());
            at += 4 + body.len();
        }
        prop_assert_eq!(at, bytes.len());
    }

    /// What a HASH payload at the head of the chain covers is exactly the encoding of the
    /// payloads after it, read back from the wire bytes.
    #[test]
    fn hashed_bytes_match_re_encoding(hash in bytes(32), rest in payloads(), padding in bytes(16)) {
        let mut list = vec![Payload::Hash(hash)];
        list.extend(rest.iter().cloned());
        let (first, mut data) = encode_payloads(&list);
        data.extend_from_slice(&padding);
        let covered = payloads_after_first(first, &data).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (_, expected) = encode_payloads(&rest);
        prop_assert_eq!(covered, expected.as_slice());
    }

    #[test]
    fn padding_after_a_complete_chain_is_accepted(list in payloads(), padding in bytes(32)) {
        let (first, mut data) = encode_payloads(&list);
        data.extend_from_slice(&padding);
        prop_assert_eq!(parse_payloads(first, &data), Ok(list));
    }

    #[test]
    fn header_for_matches_encoded_message(h in header(), data in bytes(80)) {
        let m = Message { header: Header { flags: Flags(h.flags.0 | Flags::ENCRYPTION.0), ..h }, body: Body::Encrypted(data.clone()) };
        let bytes = m.encode();
        prop_assert_eq!(encode_header_for(&m.header, h.next_payload, data.len()), bytes[..HEADER_LEN].to_vec());
        prop_assert_eq!(ike_wire::ike_major_version(&bytes), Some(1));
    }

    #[test]
    fn parse_never_panics_on_random_bytes(data in bytes(300)) {
        let _ = Message::parse(&data);
        let _ = Header::parse(&data);
        let _ = ike_major_version(&data);
    }

    #[test]
    fn parse_payloads_never_panics(first in any::<u8>(), data in bytes(300)) {
        let _ = payloads_after_first(PayloadType(first), &data);
        if let Ok(list) = parse_payloads(PayloadType(first), &data) {
            let (first, bytes) = encode_payloads(&list);
            prop_assert_eq!(parse_payloads(first, &bytes), Ok(list));
        }
    }

    /// Random payload bytes behind a valid plaintext header, so the parser gets past the
    /// header checks and into the payload decoders.
    #[test]
    fn parse_never_panics_behind_a_valid_header(h in header(), first in any::<u8>(), body in bytes(300)) {
        let mut data = Vec::new();
        let h = Header { next_payload: PayloadType(first), flags: Flags(h.flags.0 & !1), length: (28 + body.len()) as u32, ..h };
        h.encode_into(&mut data);
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
