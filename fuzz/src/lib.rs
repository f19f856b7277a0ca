//! What the fuzz targets share: walking everything a parsed message offers (every finder,
//! every accessor a caller uses), and the round-trip checks of the codecs that have both
//! directions. See docs/fuzzing.md.

use ike_wire::{Payload, PayloadsExt, TransformType};

/// Calls every accessor of an IKEv2 payload list the core uses, so that a panic in any of
/// them (an index, a slice, an arithmetic overflow) is found, and formats what has a
/// `Display` (the records and the timeline print them).
pub fn walk_v2(payloads: &[Payload]) {
    let _ = payloads.error_notify();
    let _ = payloads.notifies().count();
    if let Some(proposals) = payloads.sa() {
        for p in proposals {
            for ty in [
                TransformType::ENCR,
                TransformType::PRF,
                TransformType::INTEG,
                TransformType::DH,
                TransformType::ESN,
            ] {
                for t in p.transforms_of(ty) {
                    let _ = t.key_length();
                }
            }
        }
    }
    let _ = payloads.ke();
    let _ = payloads.nonce();
    for id in [payloads.id_i(), payloads.id_r()].into_iter().flatten() {
        let _ = id.ip();
        let _ = id.to_string();
        let _ = id.body();
    }
    let _ = payloads.auth();
    for ts in [payloads.ts_i(), payloads.ts_r()].into_iter().flatten() {
        for t in ts {
            let _ = t.to_string();
            let _ = t.is_any_port_and_protocol();
        }
    }
    let _ = payloads.deletes().count();
    let _ = payloads.vendor_ids().count();
    let _ = payloads.encrypted();
    let _ = payloads.encrypted_fragment();
    let _ = payloads.unsupported_critical();
    for p in payloads {
        let _ = p.payload_type();
        let _ = p.is_encrypted();
    }
}

/// IKEv2: parse ∘ encode is the identity on whatever parsed, and encoding is stable.
pub fn round_trip_v2(message: &ike_wire::Message) {
    let encoded = message.encode();
    let again = match ike_wire::Message::parse(&encoded) {
        Ok(m) => m,
        Err(e) => panic!("a parsed message re-encodes to bytes that do not parse: {e}"),
    };
    assert_eq!(&again, message, "parse(encode(m)) != m");
    assert_eq!(again.encode(), encoded, "encode is not stable");
}

/// Calls every accessor of IKEv1 payloads the core uses.
pub fn walk_v1(payloads: &[ike_wire::v1::Payload]) {
    use ike_wire::v1::Payload as P;
    for p in payloads {
        let _ = p.payload_type();
        let _ = p.body();
        match p {
            P::Sa(sa) => {
                let _ = sa.body();
                for proposal in &sa.proposals {
                    let _ = proposal.spi_u32();
                    for t in &proposal.transforms {
                        for a in &t.attributes {
                            let _ = t.attr(a.ty);
                        }
                    }
                }
            }
            P::Id(id) => {
                let _ = id.ip();
                let _ = id.to_string();
                let _ = id.body();
                if let Some(ts) = id.selector() {
                    let _ = ts.to_string();
                    let _ = ike_wire::v1::Id::from_selector(&ts);
                }
            }
            P::Notification(n) => {
                let _ = n.dpd_sequence();
                let _ = n.cookies();
            }
            P::Delete(d) => {
                let _ = d.spis_u32().count();
                let _ = d.cookies();
            }
            _ => {}
        }
    }
}

/// IKEv1: the same round trip as [`round_trip_v2`].
pub fn round_trip_v1(message: &ike_wire::v1::Message) {
    let encoded = message.encode();
    let again = match ike_wire::v1::Message::parse(&encoded) {
        Ok(m) => m,
        Err(e) => panic!("a parsed ISAKMP message re-encodes to bytes that do not parse: {e}"),
    };
    assert_eq!(&again, message, "parse(encode(m)) != m");
    assert_eq!(again.encode(), encoded, "encode is not stable");
}
