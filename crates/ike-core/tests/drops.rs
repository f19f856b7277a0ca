//! Messages an SA cannot act on are dropped without a word to the peer, but not without a
//! trace: each is counted in `Stats::drops` by reason.

mod common;

use common::*;
use ike_core::DropReason;
use ike_wire::v1;

/// ```text
/// CGW                                  AWS
///  |-- ISAKMP main mode 1 {Nonce} ------->|  no SA payload: nothing to choose from
///  |                                      |  dropped, counted as a missing payload
/// ```
#[test]
fn main_mode_without_sa_payload_is_counted_as_a_missing_payload() {
    let aws = aws_config("pre.shared_key", None, None);
    let cgw = cgw_config(
        "pre.shared_key",
        &["aes256gcm16-prfsha384-ecp384"],
        &["aes256gcm16-ecp384"],
    );
    let mut pair = Pair::new(aws, cgw, 1, 2);
    let header = v1::Header {
        cky_i: 0x1122_3344_5566_7788,
        cky_r: 0,
        next_payload: v1::PayloadType::NONE,
        major: 1,
        minor: 0,
        exchange: v1::ExchangeType::IDENTITY_PROTECTION,
        flags: v1::Flags(0),
        message_id: 0,
        length: 0,
    };
    let message1 = v1::Message {
        header,
        body: v1::Body::Plain(vec![v1::Payload::Nonce(vec![7; 32])]),
    };
    pair.inject(Side::Aws, &message1.encode());
    let stats = pair.aws.endpoint.stats();
    assert_eq!(stats.drops.get(DropReason::MissingPayload), 1);
    assert_eq!(stats.drops.total(), 1);
    assert!(pair.aws.sent.is_empty(), "nothing answered");
    assert!(pair.aws.events.is_empty() && pair.aws.endpoint.ike_sas().is_empty());
}
