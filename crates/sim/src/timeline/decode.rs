//! A datagram's bytes (the IKE message, without the non-ESP marker) as a timeline
//! [`Message`]: the header's facts and the payloads in the clear, an encrypted payload's
//! contents added later from the core's trace ([`reveal`]).

use ike_core::Plaintext;
use ike_wire::v1;
use timeline::{Message, PayloadView, Protection};

use super::{words, words_v1};

/// What a non-IKE datagram is shown as.
pub(super) fn not_ike(exchange: &str) -> Message {
    Message {
        ike_version: 0,
        exchange: exchange.to_owned(),
        message_id: 0,
        response: false,
        initiator: false,
        spis: String::new(),
        payloads: Vec::new(),
        protection: Protection::Plain,
    }
}

/// The name the timeline gives an IKEv1 exchange.
fn v1_exchange(e: v1::ExchangeType) -> String {
    match e {
        v1::ExchangeType::IDENTITY_PROTECTION => "Identity Protection (Main Mode)".to_owned(),
        v1::ExchangeType::QUICK_MODE => "Quick Mode".to_owned(),
        v1::ExchangeType::INFORMATIONAL => "Informational".to_owned(),
        v1::ExchangeType::AGGRESSIVE => "Aggressive Mode".to_owned(),
        other => other.to_string(),
    }
}

/// Decodes an IKE message. IKEv1's `response` and `initiator` are left false: the header
/// does not say them (the collector knows who started what).
pub(super) fn decode(bytes: &[u8]) -> Message {
    match ike_wire::ike_major_version(bytes) {
        Some(2) => match ike_wire::Message::parse(bytes) {
            Ok(m) => {
                let response = m.header.flags.is_response();
                let protected = m.payloads.iter().any(|p| {
                    matches!(
                        p,
                        ike_wire::Payload::Encrypted(_) | ike_wire::Payload::EncryptedFragment(_)
                    )
                });
                Message {
                    ike_version: 2,
                    exchange: m.header.exchange.to_string(),
                    message_id: m.header.message_id,
                    response,
                    initiator: m.header.flags.is_initiator(),
                    spis: format!("{:016x}/{:016x}", m.header.spi_i, m.header.spi_r),
                    payloads: m
                        .payloads
                        .iter()
                        .map(|p| words::payload(p, response))
                        .collect(),
                    protection: if protected {
                        Protection::Opaque
                    } else {
                        Protection::Plain
                    },
                }
            }
            Err(e) => malformed(2, &e.to_string()),
        },
        Some(1) => match v1::Message::parse(bytes) {
            Ok(m) => {
                let (payloads, protection) = match &m.body {
                    v1::Body::Plain(p) => {
                        (p.iter().map(words_v1::payload).collect(), Protection::Plain)
                    }
                    v1::Body::Encrypted(c) => (
                        vec![words::view(
                            "encrypted",
                            format!("{} bytes", c.len()),
                            format!("{} bytes encrypted (RFC 2408 §3.1, E flag)", c.len()),
                        )],
                        Protection::Opaque,
                    ),
                };
                Message {
                    ike_version: 1,
                    exchange: v1_exchange(m.header.exchange),
                    message_id: m.header.message_id,
                    response: false,
                    initiator: false,
                    spis: format!("{:016x}/{:016x}", m.header.cky_i, m.header.cky_r),
                    payloads,
                    protection,
                }
            }
            Err(e) => malformed(1, &e.to_string()),
        },
        _ => not_ike("not IKE"),
    }
}

fn malformed(version: u8, why: &str) -> Message {
    let mut m = not_ike("malformed IKE");
    m.ike_version = version;
    m.payloads
        .push(words::view("?", why.to_owned(), why.to_owned()));
    m
}

/// Puts the decrypted contents in place of the encrypted payload (IKEv2's SK is last,
/// RFC 7296 §3.14; an IKEv1 message is encrypted whole after its header).
pub(super) fn reveal(message: &mut Message, plaintext: &Plaintext) {
    if message.protection != Protection::Opaque {
        return;
    }
    let inner: Vec<PayloadView> = match plaintext {
        Plaintext::V2(p) => p
            .iter()
            .map(|p| words::payload(p, message.response))
            .collect(),
        Plaintext::V1(p) => p.iter().map(words_v1::payload).collect(),
    };
    let inner = inner.into_iter().map(|mut v| {
        v.encrypted = true;
        v
    });
    if message.ike_version == 2 {
        message
            .payloads
            .retain(|v| v.name != "SK" && v.name != "SKF");
    } else {
        message.payloads.clear();
    }
    message.payloads.extend(inner);
    message.protection = Protection::Decrypted;
}
