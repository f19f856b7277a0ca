//! NAT traversal with a CGW behind a NAT (RFC 7296 §2.23 for IKEv2, RFC 3947 for IKEv1),
//! both versions alike:
//!
//! ```text
//!   CGW 127.0.2.1          NAT 127.0.3.1                     AWS 127.0.1.1
//!   :500  -- IKE_SA_INIT / MM1..MM4 -->  :p1  ---------------->  :500   NAT-D: a NAT
//!   :4500 -- IKE_AUTH / MM5 ---------->  :p2  ---------------->  :4500  both move
//!   ...   rebind: the NAT forgets p2 ...
//!   :4500 -- DPD probe --------------->  :p3  ---------------->  :4500  AWS follows to p3
//! ```
//!
//! Every host has an IKE port (500) and a NAT-T port (4500); the initiator moves to the
//! NAT-T ports once NAT detection finds the NAT, the responder answers wherever the
//! authenticated request came from, and AWS (not behind a NAT) follows the CGW to the new
//! outside port its NAT gives it. Without a NAT nothing moves.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use ike_core::{DpdAction, DpdConfig, EndpointConfig, EventKind, IkeVersion};

fn configs(version: IkeVersion) -> (EndpointConfig, EndpointConfig) {
    let mut aws = aws_config(PSK, None, None);
    aws.dpd = Some(DpdConfig::aws(Duration::from_secs(30), DpdAction::Clear));
    let mut cgw = cgw_config(PSK, &["aes128-sha256-ecp256"], &["aes128-sha256-ecp256"]);
    cgw.ike_version = version;
    // The CGW probes a silent peer too: after a rebind, its probe is what the NAT maps.
    cgw.dpd = Some(DpdConfig::aws(Duration::from_secs(30), DpdAction::Restart));
    (aws, cgw)
}

fn with_port(addr: &str, port: u16) -> SocketAddr {
    let mut a = common::addr(addr);
    a.set_port(port);
    a
}

fn up(pair: &mut Pair) {
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(1));
    for host in [&pair.aws, &pair.cgw] {
        let kinds = host.kinds();
        assert!(
            kinds
                .iter()
                .any(|k| matches!(k, EventKind::IkeSaEstablished { .. })),
            "{kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|k| matches!(k, EventKind::ChildSaEstablished { .. })),
            "{kinds:?}"
        );
    }
}

/// Where each datagram went, as the sender addressed it: (src, dst) pairs.
fn legs(host: &Host) -> Vec<(SocketAddr, SocketAddr)> {
    host.sent.iter().map(|d| (d.src, d.dst)).collect()
}

fn behind_a_nat_both_move_to_the_nat_t_ports_and_aws_follows_a_rebind(version: IkeVersion) {
    let (aws, cgw) = configs(version);
    let mut pair = Pair::new(aws, cgw, 1, 2).behind_nat();
    up(&mut pair);
    let (aws_ike, aws_nat_t) = (common::addr(AWS_ADDR), with_port(AWS_ADDR, NAT_T_PORT));
    let (cgw_ike, cgw_nat_t) = (common::addr(CGW_ADDR), with_port(CGW_ADDR, NAT_T_PORT));
    let nat = pair.nat.as_ref().unwrap();
    let (outside_ike, outside_nat_t) = (
        nat.outside(cgw_ike).unwrap(),
        nat.outside(cgw_nat_t).unwrap(),
    );
    assert_ne!(
        outside_ike.port(),
        outside_nat_t.port(),
        "each inside port has its own mapping"
    );

    // The handshake's plain part on the IKE ports: IKE_SA_INIT, or main mode 1–4.
    let plain = if version == IkeVersion::V2 { 1 } else { 2 };
    let cgw_legs = legs(&pair.cgw);
    let aws_legs = legs(&pair.aws);
    assert!(
        cgw_legs[..plain].iter().all(|l| *l == (cgw_ike, aws_ike)),
        "{cgw_legs:?}"
    );
    assert!(
        aws_legs[..plain]
            .iter()
            .all(|l| *l == (aws_ike, outside_ike)),
        "{aws_legs:?}"
    );
    // Then the NAT-T ports, from the first encrypted message (IKE_AUTH, main mode 5) on.
    assert!(
        cgw_legs[plain..]
            .iter()
            .all(|l| *l == (cgw_nat_t, aws_nat_t)),
        "{cgw_legs:?}"
    );
    assert!(
        aws_legs[plain..]
            .iter()
            .all(|l| *l == (aws_nat_t, outside_nat_t)),
        "{aws_legs:?}"
    );
    if version == IkeVersion::V2 {
        assert_eq!(
            pair.cgw.sent[plain].message().header.exchange,
            ike_wire::ExchangeType::IKE_AUTH
        );
    } else {
        let h = pair.cgw.sent[plain].v1().header;
        assert!(
            h.flags.is_encrypted() && h.exchange == ike_wire::v1::ExchangeType::IDENTITY_PROTECTION,
            "{h:?}"
        );
    }
    let established = |e: &&(Duration, ike_core::Event)| {
        matches!(
            e.1.kind,
            EventKind::IkeSaEstablished { .. } | EventKind::ChildSaEstablished { .. }
        )
    };
    for (t, e) in pair
        .aws
        .events
        .iter()
        .chain(&pair.cgw.events)
        .filter(established)
    {
        assert!(e.facts.nat.detected(), "at {t:?}: {e:?}");
        assert_eq!(e.ike_version, version);
    }

    // The NAT forgets its mappings. AWS's next probe is lost on the old port; the CGW's
    // own probe gets a new one, and AWS follows the CGW there.
    pair.nat.as_mut().unwrap().rebind();
    let (aws_sent, aws_events, cgw_events) = (
        pair.aws.sent.len(),
        pair.aws.events.len(),
        pair.cgw.events.len(),
    );
    let later = pair.now() + Duration::from_secs(120);
    pair.drive_until(later);
    let moved = pair
        .nat
        .as_ref()
        .unwrap()
        .outside(cgw_nat_t)
        .expect("the CGW sent again");
    assert_ne!(moved, outside_nat_t);
    let after = &legs(&pair.aws)[aws_sent..];
    assert!(
        after.contains(&(aws_nat_t, outside_nat_t)),
        "AWS probed the old port first: {after:?}"
    );
    assert_eq!(
        after.last(),
        Some(&(aws_nat_t, moved)),
        "then followed the CGW: {after:?}"
    );
    assert!(pair.cgw.sent[plain..]
        .iter()
        .all(|d| (d.src, d.dst) == (cgw_nat_t, aws_nat_t)));
    for kinds in [
        pair.aws.kinds_since(aws_events),
        pair.cgw.kinds_since(cgw_events),
    ] {
        assert!(
            !kinds
                .iter()
                .any(|k| matches!(k, EventKind::DpdTimeout { .. } | EventKind::IkeSaDeleted)),
            "the tunnel stays up: {kinds:?}"
        );
    }
    assert_eq!(pair.aws.endpoint.ike_sas().len(), 1);
    assert_eq!(pair.aws.endpoint.child_sas().len(), 1);
}

#[test]
fn ikev2_behind_a_nat_moves_to_the_nat_t_ports_and_aws_follows_a_rebind() {
    behind_a_nat_both_move_to_the_nat_t_ports_and_aws_follows_a_rebind(IkeVersion::V2);
}

#[test]
fn ikev1_behind_a_nat_moves_to_the_nat_t_ports_and_aws_follows_a_rebind() {
    behind_a_nat_both_move_to_the_nat_t_ports_and_aws_follows_a_rebind(IkeVersion::V1);
}

#[test]
fn without_a_nat_nothing_moves() {
    for version in [IkeVersion::V2, IkeVersion::V1] {
        let (aws, cgw) = configs(version);
        let mut pair = Pair::new(aws, cgw, 1, 2);
        up(&mut pair);
        let later = pair.now() + Duration::from_secs(60);
        pair.drive_until(later);
        let (aws, cgw) = (common::addr(AWS_ADDR), common::addr(CGW_ADDR));
        assert!(
            legs(&pair.cgw).iter().all(|l| *l == (cgw, aws)),
            "{version:?}: {:?}",
            legs(&pair.cgw)
        );
        assert!(
            legs(&pair.aws).iter().all(|l| *l == (aws, cgw)),
            "{version:?}: {:?}",
            legs(&pair.aws)
        );
        assert!(pair.aws.events.iter().all(|(_, e)| !e.facts.nat.detected()));
    }
}
