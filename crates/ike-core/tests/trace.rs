//! The timeline's trace (`EndpointConfig::trace`): the plaintext of every protected message
//! each side sealed, keyed by the digest of the very datagram it sent, the same plaintext
//! on the side that opened it, and the timers that fired. Off, it says nothing.

mod common;

use std::time::Duration;

use common::*;
use ike_core::trace::digest;
use ike_core::{Plaintext, TimerKind, Trace};
use ike_wire::{ExchangeType, Payload};

fn traced_pair(trace: bool) -> Pair {
    let mut aws = aws_config("pre.shared_key", None, None);
    aws.trace = trace;
    let mut cgw = cgw_config(
        "pre.shared_key",
        &["aes256gcm16-prfsha384-ecp384"],
        &["aes256gcm16-ecp384"],
    );
    cgw.trace = trace;
    Pair::new(aws, cgw, 1, 2)
}

fn drain(host: &mut Host) -> Vec<Trace> {
    std::iter::from_fn(|| host.endpoint.poll_trace()).collect()
}

/// ```text
/// CGW                                   AWS
///  |-- IKE_SA_INIT ---------------------->|   plain: no trace
///  |<- IKE_SA_INIT -----------------------|
///  |-- IKE_AUTH {IDi, AUTH, SA, TSi, TSr} x   lost: the CGW's retransmit timer fires
///  |-- IKE_AUTH (the same bytes) -------->|   sealed once, opened once
///  |<- IKE_AUTH {IDr, AUTH, SA, TSi, TSr}-|
/// ```
#[test]
fn sealed_and_opened_plaintext_is_keyed_by_the_datagram_and_timers_are_told() {
    let mut pair = traced_pair(true);
    pair.cgw.drop = drop_nth(&[1]);
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(30));

    let cgw = drain(&mut pair.cgw);
    let aws = drain(&mut pair.aws);
    let auth: Vec<&Datagram> = pair.cgw.sent_of(ExchangeType::IKE_AUTH, false);
    assert_eq!(auth.len(), 2, "the lost IKE_AUTH request was sent again");
    assert_eq!(
        auth[0].bytes, auth[1].bytes,
        "a retransmission is the same bytes"
    );
    let key = digest(&auth[0].bytes);

    let sealed: Vec<&Trace> = cgw
        .iter()
        .filter(|t| matches!(t, Trace::Sealed { .. }))
        .collect();
    assert_eq!(sealed.len(), 1, "sealed once, sent twice: {cgw:?}");
    let Trace::Sealed {
        datagram,
        plaintext: Plaintext::V2(payloads),
        ..
    } = sealed[0]
    else {
        panic!("not an IKEv2 plaintext: {sealed:?}");
    };
    assert_eq!(*datagram, key);
    assert!(payloads.iter().any(|p| matches!(p, Payload::IdI(_))));
    assert!(payloads.iter().any(|p| matches!(p, Payload::Auth(_))));
    assert!(payloads.iter().any(|p| matches!(p, Payload::TsI(_))));

    let opened = aws.iter().find_map(|t| match t {
        Trace::Opened {
            datagram,
            plaintext,
            ..
        } => Some((*datagram, plaintext)),
        _ => None,
    });
    assert_eq!(
        opened,
        Some((key, &Plaintext::V2(payloads.clone()))),
        "AWS opened what the CGW sealed"
    );
    // AWS's answer: sealed by AWS, opened by the CGW, the same digest both sides.
    let answer = pair.aws.sent_of(ExchangeType::IKE_AUTH, true);
    let answer = digest(&answer[0].bytes);
    assert!(aws
        .iter()
        .any(|t| matches!(t, Trace::Sealed { datagram, .. } if *datagram == answer)));
    assert!(cgw
        .iter()
        .any(|t| matches!(t, Trace::Opened { datagram, .. } if *datagram == answer)));

    assert!(
        cgw.iter().any(|t| matches!(
            t,
            Trace::Timer {
                timer: TimerKind::Retransmit,
                child: None,
                ..
            }
        )),
        "the CGW's retransmit timer: {cgw:?}"
    );
}

#[test]
fn without_trace_the_endpoint_says_nothing() {
    let mut pair = traced_pair(false);
    pair.cgw.drop = drop_nth(&[1]);
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(30));
    assert!(pair.cgw.endpoint.poll_trace().is_none());
    assert!(pair.aws.endpoint.poll_trace().is_none());
    assert_eq!(
        pair.aws.sent_of(ExchangeType::IKE_AUTH, true).len(),
        1,
        "it still ran"
    );
}
