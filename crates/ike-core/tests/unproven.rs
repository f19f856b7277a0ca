//! What an IKEv1 initiator is told during main mode that proves nothing (RFC 2408
//! §3.14.1): an unprotected error notify, or an encrypted informational that does not
//! decrypt after our message 5. Neither is acted on — anyone could have sent it, so the SA
//! stays and keeps retransmitting — but each is reported as an event, since it is most
//! likely the responder saying why it gave up (a driver like `ikesim connect` tells the
//! user the PSKs differ instead of waiting minutes for the retransmissions to run out).

mod common;

use std::time::Duration;

use common::*;
use ike_core::{EventKind, SaState};
use ike_wire::v1::{self, doi, protocol, Body, ExchangeType, Notification, NotifyType, Payload};

use SaState::{Down, Negotiating};

const IKE: &str = "aes128-sha256-modp2048";

fn v1_cgw() -> ike_core::EndpointConfig {
    let mut c = cgw_config(PSK, &[IKE], &[IKE]);
    c.ike_version = ike_core::IkeVersion::V1;
    c
}

/// A CGW whose main mode message 5 has just gone out (AWS never sees it) and its header.
fn after_message5() -> (Pair, v1::Header) {
    let mut pair = Pair::new(aws_config(PSK, None, None), v1_cgw(), 1, 2);
    pair.cgw.drop = drop_nth(&[2]);
    pair.initiate();
    pair.run_to(Duration::from_millis(45));
    assert_eq!(pair.cgw.sent.len(), 3, "MM1, MM3, MM5");
    let mm5 = pair.cgw.sent[2].v1();
    assert!(mm5.header.flags.is_encrypted());
    (pair, mm5.header)
}

/// An informational for the SA of `header`: `body` as it is, with `header`'s flags.
fn informational(header: v1::Header, body: Body) -> Vec<u8> {
    let header = v1::Header {
        exchange: ExchangeType::INFORMATIONAL,
        message_id: 0x1234_5678,
        ..header
    };
    v1::Message { header, body }.encode()
}

/// ```text
/// CGW                                            responder (another PSK)
///  |-- MM5* (keys from our PSK) --------------------->|  does not decrypt
///  |<- INFORMATIONAL* N(PAYLOAD-MALFORMED), its keys -|
///  Message5AnswerUndecryptable   negotiating/down (the SA stays, MM5 is resent)
/// ```
#[test]
fn an_undecryptable_answer_to_message5_is_reported_and_dropped() {
    let (mut pair, header) = after_message5();
    let before = pair.cgw.events.len();
    let garbage = informational(header, Body::Encrypted(vec![0x5a; 48]));
    pair.inject(Side::Cgw, &garbage);

    assert_eq!(
        pair.cgw.kinds_since(before),
        [EventKind::Message5AnswerUndecryptable]
    );
    assert_eq!(pair.cgw.states()[before..], [(Negotiating, Down)]);
    assert_eq!(pair.cgw.endpoint.stats().integrity_failures, 1);
    assert!(
        pair.cgw.endpoint.poll_timeout().is_some(),
        "MM5 is still retransmitted"
    );
    assert_eq!(pair.cgw.endpoint.phase_states(), (Negotiating, Down));
}

/// ```text
/// CGW                                            responder
///  |-- MM5* --------------------------------------->|
///  |<- INFORMATIONAL N(PAYLOAD-MALFORMED) (clear) ---|
///  UnauthenticatedNotify{PAYLOAD-MALFORMED, after message 5}   negotiating/down
/// ```
#[test]
fn an_unprotected_error_notify_is_reported_and_dropped() {
    let (mut pair, header) = after_message5();
    let before = pair.cgw.events.len();
    let drops = pair.cgw.endpoint.stats().drops.total();
    let n = Notification {
        doi: doi::IPSEC,
        protocol: protocol::ISAKMP,
        spi: Vec::new(),
        ty: NotifyType::PAYLOAD_MALFORMED,
        data: Vec::new(),
    };
    let header = v1::Header {
        flags: v1::Flags(0),
        ..header
    };
    let plain = informational(header, Body::Plain(vec![Payload::Notification(n)]));
    pair.inject(Side::Cgw, &plain);

    assert_eq!(
        pair.cgw.kinds_since(before),
        [EventKind::UnauthenticatedNotify {
            notify: NotifyType::PAYLOAD_MALFORMED,
            after_message5: true,
        }]
    );
    assert_eq!(pair.cgw.states()[before..], [(Negotiating, Down)]);
    assert_eq!(pair.cgw.endpoint.stats().drops.total(), drops + 1);
    assert!(
        pair.cgw.endpoint.poll_timeout().is_some(),
        "MM5 is still retransmitted"
    );
}
