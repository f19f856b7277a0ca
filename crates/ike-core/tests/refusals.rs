//! What the AWS side refuses outright: a critical payload it does not know (RFC 7296
//! §2.5) and IKEv1 aggressive mode, which AWS does not offer.

mod common;

use common::*;
use ike_core::SaState;
use ike_wire::{Message, NotifyType, Payload, PayloadType, UnknownPayload};

fn fresh_pair() -> Pair {
    let aws = aws_config("pre.shared_key", None, None);
    let cgw = cgw_config(
        "pre.shared_key",
        &["aes256gcm16-prfsha384-ecp384"],
        &["aes256gcm16-ecp384"],
    );
    Pair::new(aws, cgw, 1, 2)
}

/// ```text
/// CGW                                   AWS
///  |-- IKE_SA_INIT {SA, KE, Ni, X(critical, type 200)} ->|
///  |<-- IKE_SA_INIT {N(UNSUPPORTED_CRITICAL_PAYLOAD, 200)} |  no state kept
/// ```
/// A non-critical unknown payload, on the other hand, is skipped.
#[test]
fn unknown_critical_payload_is_refused_and_non_critical_skipped() {
    let mut probe = fresh_pair();
    probe.cgw.drop = drop_all();
    probe.initiate();
    let mut request = probe.cgw.sent[0].message();
    let unknown = |critical| {
        Payload::Unknown(UnknownPayload {
            ty: PayloadType(200),
            critical,
            body: vec![1, 2, 3],
        })
    };

    let mut critical = request.clone();
    critical.payloads.push(unknown(true));
    let mut pair = fresh_pair();
    pair.inject(Side::Aws, &critical.encode());
    let answer = Message::parse(&pair.aws.sent.last().expect("AWS answered").bytes).unwrap();
    let n = answer
        .notify(NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD)
        .expect("UNSUPPORTED_CRITICAL_PAYLOAD");
    assert_eq!(n.data, vec![200]);
    assert_eq!(answer.header.spi_r, 0);
    assert!(pair.aws.events.is_empty() && pair.aws.endpoint.ike_sas().is_empty());

    request.payloads.push(unknown(false));
    let mut pair = fresh_pair();
    pair.inject(Side::Aws, &request.encode());
    let answer = Message::parse(&pair.aws.sent.last().expect("AWS answered").bytes).unwrap();
    assert!(
        answer.payloads.iter().any(|p| matches!(p, Payload::Ke(_))),
        "a normal IKE_SA_INIT response"
    );
    assert_eq!(pair.aws.endpoint.phase_states().0, SaState::Negotiating);
}

/// ```text
/// CGW                                        AWS
///  |-- ISAKMP aggressive mode {SA, KE, Ni, ID} -->|
///  |<-- INFORMATIONAL {N(UNSUPPORTED-EXCHANGE-TYPE)} |  nothing kept, nothing logged
/// ```
#[test]
fn aggressive_mode_is_refused() {
    use ike_wire::v1;
    let header = v1::Header {
        cky_i: 0x1122_3344_5566_7788,
        cky_r: 0,
        next_payload: v1::PayloadType::NONE,
        major: 1,
        minor: 0,
        exchange: v1::ExchangeType::AGGRESSIVE,
        flags: v1::Flags(0),
        message_id: 0,
        length: 0,
    };
    let sa = v1::Sa {
        doi: v1::doi::IPSEC,
        situation: v1::doi::SIT_IDENTITY_ONLY,
        proposals: Vec::new(),
    };
    let aggressive = v1::Message {
        header,
        body: v1::Body::Plain(vec![v1::Payload::Sa(sa), v1::Payload::Nonce(vec![7; 32])]),
    };
    let mut pair = fresh_pair();
    pair.inject(Side::Aws, &aggressive.encode());
    let answer = v1::Message::parse(&pair.aws.sent.last().expect("AWS answered").bytes).unwrap();
    assert_eq!(answer.header.exchange, v1::ExchangeType::INFORMATIONAL);
    let v1::Body::Plain(payloads) = answer.body else {
        panic!("plain informational")
    };
    assert!(payloads
        .iter()
        .any(|p| matches!(p, v1::Payload::Notification(n) if n.ty == v1::NotifyType::UNSUPPORTED_EXCHANGE_TYPE)));
    assert!(pair.aws.events.is_empty() && pair.aws.endpoint.ike_sas().is_empty());
}
