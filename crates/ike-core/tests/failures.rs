//! The IKE SA's failures counted by kind (`Stats::misbehaved`, `Stats::incompatible`),
//! rustls-style: a PSK mismatch is the peer misbehaving (its AUTH does not verify, IKEv2;
//! its main mode message 5 does not decrypt, IKEv1), a proposal mismatch is the peer being
//! incompatible — in both IKE versions, counted by the side that found it (a refusal also
//! by the side that received it).

mod common;

use common::*;
use ike_core::{
    EndpointConfig, IkeVersion, Incompatibilities, Misbehaviours, PeerIncompatible, PeerMisbehaved,
    ProposalKind,
};
use ike_wire::DhGroup;

const IKE: &str = "aes128-sha256-modp2048";

fn run(aws: EndpointConfig, cgw: EndpointConfig) -> Pair {
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.initiate();
    pair.drive();
    pair
}

fn cgw(version: IkeVersion, psk: &str, ike: &str) -> EndpointConfig {
    let mut c = cgw_config(psk, &[ike], &[IKE]);
    c.ike_version = version;
    c
}

fn counts(host: &Host) -> (Misbehaviours, Incompatibilities) {
    let s = host.endpoint.stats();
    (s.misbehaved, s.incompatible)
}

/// ```text
/// CGW (another PSK)                     AWS
///  |-- IKE_AUTH AUTH (another PSK) ------>|  AUTH does not verify: misbehaved
///  |<- N(AUTHENTICATION_FAILED) ----------|
/// ```
#[test]
fn ikev2_psk_mismatch_is_misbehaviour() {
    let pair = run(
        aws_config(PSK, None, None),
        cgw(IkeVersion::V2, "not-the-psk", IKE),
    );
    let (misbehaved, incompatible) = counts(&pair.aws);
    assert_eq!(misbehaved.get(&PeerMisbehaved::AuthenticationFailed), 1);
    assert_eq!((misbehaved.total(), incompatible.total()), (1, 0));
    let (misbehaved, incompatible) = counts(&pair.cgw);
    assert_eq!((misbehaved.total(), incompatible.total()), (0, 0));
}

/// ```text
/// CGW (another PSK)                     AWS
///  |-- MM5* (keys from another PSK) ----->|  does not decrypt: misbehaved
/// ```
#[test]
fn ikev1_psk_mismatch_is_misbehaviour() {
    let pair = run(
        aws_config(PSK, None, None),
        cgw(IkeVersion::V1, "not-the-psk", IKE),
    );
    let (misbehaved, incompatible) = counts(&pair.aws);
    assert_eq!(misbehaved.get(&PeerMisbehaved::Undecryptable), 1);
    assert_eq!((misbehaved.total(), incompatible.total()), (1, 0));
    let (misbehaved, incompatible) = counts(&pair.cgw);
    assert_eq!((misbehaved.total(), incompatible.total()), (0, 0));
}

/// ```text
/// CGW {3DES}                            AWS
///  |-- IKE_SA_INIT / MM1 SA{3DES, …} ---->|  no proposal: incompatible
///  |<- N(NO_PROPOSAL_CHOSEN) -------------|  (the CGW counts the refusal too)
/// ```
#[test]
fn proposal_mismatch_is_incompatibility_in_both_versions() {
    let npc = PeerIncompatible::NoProposalChosen { unsupported: false };
    for version in [IkeVersion::V2, IkeVersion::V1] {
        let pair = run(
            aws_config(PSK, None, None),
            cgw(version, PSK, "3des-sha1-modp2048"),
        );
        for host in [&pair.aws, &pair.cgw] {
            let (misbehaved, incompatible) = counts(host);
            assert_eq!(incompatible.get(&npc), 1, "{version:?}");
            assert_eq!(
                (misbehaved.total(), incompatible.total()),
                (0, 1),
                "{version:?}"
            );
        }
    }
}

/// ```text
/// CGW                                     AWS {DH 14, 19}
///  |-- IKE_SA_INIT SA{19, 14} KE(19) ------>|  selects 14: incompatible InvalidKe{19, 14}
///  |<- N(INVALID_KE_PAYLOAD, 14) -----------|
///  |-- IKE_SA_INIT KE(14) ... established -->|
/// ```
#[test]
fn invalid_ke_is_counted_with_both_groups() {
    let mut aws_ike = aws_universe(ProposalKind::Ike);
    aws_ike.dh = vec![DhGroup::MODP_2048, DhGroup::ECP_256];
    let pair = run(
        aws_config(PSK, Some(aws_ike), None),
        cgw(IkeVersion::V2, PSK, "aes256gcm16-prfsha256-ecp256-modp2048"),
    );
    let kind = PeerIncompatible::InvalidKe {
        offered: DhGroup::ECP_256,
        wanted: DhGroup::MODP_2048,
    };
    for host in [&pair.aws, &pair.cgw] {
        let (misbehaved, incompatible) = counts(host);
        assert_eq!(incompatible.get(&kind), 1);
        assert_eq!((misbehaved.total(), incompatible.total()), (0, 1));
    }
}
