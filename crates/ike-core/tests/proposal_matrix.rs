//! The proposal matrix: every combination AWS allows establishes, in both IKE versions,
//! through the real handshake with real crypto; everything AWS refuses is refused the way
//! AWS logs it (reference §3: algorithms and DH groups per phase).

mod common;

use std::time::{Duration, Instant};

use common::*;
use ike_core::{ChildFailure, Direction, EndpointConfig, EventKind, IkeVersion, ProposalKind, SaState, Selected};

const ENCRYPTION: [&str; 4] = ["aes128", "aes256", "aes128gcm16", "aes256gcm16"];
const INTEGRITY: [&str; 4] = ["sha1", "sha256", "sha384", "sha512"];
/// AWS's phase 1 groups: 2, 14–24 (no 5).
const PHASE1_GROUPS: [&str; 12] = [
    "modp1024",
    "modp2048",
    "modp3072",
    "modp4096",
    "modp6144",
    "modp8192",
    "ecp256",
    "ecp384",
    "ecp521",
    "modp1024s160",
    "modp2048s224",
    "modp2048s256",
];
/// Phase 2 adds group 5.
const PHASE2_GROUPS: [&str; 13] = [
    "modp1024",
    "modp1536",
    "modp2048",
    "modp3072",
    "modp4096",
    "modp6144",
    "modp8192",
    "ecp256",
    "ecp384",
    "ecp521",
    "modp1024s160",
    "modp2048s224",
    "modp2048s256",
];

fn ike_proposal(enc: &str, integ: &str, group: &str) -> String {
    if enc.contains("gcm") {
        format!("{enc}-prf{integ}-{group}")
    } else {
        format!("{enc}-{integ}-{group}")
    }
}

fn esp_proposal(enc: &str, integ: &str, group: &str) -> String {
    if enc.contains("gcm") {
        format!("{enc}-{group}")
    } else {
        format!("{enc}-{integ}-{group}")
    }
}

fn cgw(version: IkeVersion, ike: &str, esp: &str) -> EndpointConfig {
    let mut c = cgw_config("pre.shared_key", &[ike], &[esp]);
    c.ike_version = version;
    c
}

/// Runs a handshake; returns AWS's events.
fn handshake(cgw: EndpointConfig, until: Duration) -> Vec<EventKind> {
    let mut pair = Pair::new(aws_config("pre.shared_key", None, None), cgw, 5, 6);
    pair.initiate();
    pair.drive_until(pair.now() + until);
    pair.aws.kinds()
}

fn selected_ike(events: &[EventKind]) -> Option<Selected> {
    events.iter().find_map(|k| match k {
        EventKind::IkeSaEstablished { selected, .. } => Some(*selected),
        _ => None,
    })
}

/// The selection must be exactly what the CGW proposed.
fn check_ike(events: &[EventKind], proposal: &str, version: IkeVersion) {
    let expected = spec(ProposalKind::Ike, proposal);
    let got = selected_ike(events).unwrap_or_else(|| panic!("{version:?} {proposal}: no IKE SA: {events:?}"));
    assert_eq!(Some(got.encryption), expected.encryption.first().copied(), "{proposal}");
    assert_eq!(got.prf, expected.prf.first().copied(), "{proposal}");
    assert_eq!(got.dh, expected.dh.first().copied(), "{proposal}");
    if version == IkeVersion::V2 {
        assert_eq!(got.integrity, expected.integrity.first().copied(), "{proposal}");
    }
}

#[test]
fn every_allowed_phase1_combination_establishes_in_both_versions() {
    let started = Instant::now();
    let mut count = 0;
    for version in [IkeVersion::V2, IkeVersion::V1] {
        for enc in ENCRYPTION {
            // ISAKMP (IKEv1 phase 1) has no AEAD ciphers: AES-GCM exists only in IKEv2
            // phase 1 (and in ESP for both versions).
            if version == IkeVersion::V1 && enc.contains("gcm") {
                continue;
            }
            for integ in INTEGRITY {
                for group in PHASE1_GROUPS {
                    let proposal = ike_proposal(enc, integ, group);
                    let events = handshake(cgw(version, &proposal, "aes128gcm16-ecp256"), Duration::from_secs(1));
                    check_ike(&events, &proposal, version);
                    assert!(
                        events.iter().any(|k| matches!(k, EventKind::ChildSaEstablished { .. })),
                        "{version:?} {proposal}: CHILD SA: {events:?}"
                    );
                    count += 1;
                }
            }
        }
    }
    assert_eq!(count, 4 * 4 * 12 + 2 * 4 * 12);
    eprintln!("phase 1 matrix: {count} handshakes in {:?}", started.elapsed());
}

/// Phase 2 with PFS: in IKEv1 the quick mode carries the KE payload; in IKEv2 the CHILD SA
/// of IKE_AUTH has none, so the group is exercised by the CGW's first CHILD SA rekey.
#[test]
fn every_allowed_phase2_combination_establishes_in_both_versions() {
    let started = Instant::now();
    let mut count = 0;
    for version in [IkeVersion::V2, IkeVersion::V1] {
        for enc in ENCRYPTION {
            for integ in INTEGRITY {
                if enc.contains("gcm") && integ != "sha1" {
                    continue; // AEAD: no integrity algorithm, one case is enough
                }
                for group in PHASE2_GROUPS {
                    let esp = esp_proposal(enc, integ, group);
                    let mut c = cgw(version, "aes128-sha256-ecp256", &esp);
                    c.lifetimes.child = Duration::from_secs(120);
                    c.lifetimes.margin = Duration::from_secs(30);
                    c.lifetimes.fuzz_percent = 0;
                    let events = handshake(c, Duration::from_secs(100));
                    let established = |k: &EventKind| match version {
                        // The CGW's rekey at 90 s ran with a KE of the group.
                        IkeVersion::V2 => matches!(k, EventKind::ChildSaRekeyed { .. }),
                        IkeVersion::V1 => matches!(k, EventKind::ChildSaEstablished { .. }),
                    };
                    assert!(events.iter().any(established), "{version:?} ESP {esp}: {events:?}");
                    count += 1;
                }
            }
        }
    }
    eprintln!("phase 2 matrix: {count} negotiations in {:?}", started.elapsed());
}

#[test]
fn everything_aws_refuses_is_refused_as_aws_logs_it() {
    // Phase 1: nothing AWS supports at all → unsupported ("No Proposal Match Found by AWS").
    for version in [IkeVersion::V2, IkeVersion::V1] {
        for proposal in ["3des-sha256-modp2048", "des-sha256-modp2048", "aes128-md5-modp2048", "aes128-sha256-modp1536"]
        {
            let events = handshake(cgw(version, proposal, "aes128gcm16-ecp256"), Duration::from_secs(1));
            assert!(
                events.contains(&EventKind::IkeNoProposalChosen { unsupported: true, direction: Direction::Sent }),
                "{version:?} {proposal}: {events:?}"
            );
            assert!(selected_ike(&events).is_none());
        }
    }
    // DH group 1 (MODP-768): ikesim refuses to compute it, so no simulated CGW can send a
    // KE for it; forge one (its value never matters, AWS refuses the proposal first).
    let mut probe = Pair::new(
        aws_config("pre.shared_key", None, None),
        cgw(IkeVersion::V2, "aes128-sha256-modp1024", "aes128gcm16-ecp256"),
        5,
        6,
    );
    probe.cgw.drop = drop_all();
    probe.initiate();
    let mut request = probe.cgw.sent[0].message();
    for p in &mut request.payloads {
        match p {
            ike_wire::Payload::Sa(proposals) => {
                for t in proposals.iter_mut().flat_map(|p| p.transforms.iter_mut()) {
                    if t.ty == ike_wire::TransformType::DH {
                        t.id = ike_wire::DhGroup::MODP_768.0;
                    }
                }
            }
            ike_wire::Payload::Ke(ke) => {
                ke.group = ike_wire::DhGroup::MODP_768;
                ke.data.truncate(96);
            }
            _ => {}
        }
    }
    let mut pair = Pair::new(
        aws_config("pre.shared_key", None, None),
        cgw(IkeVersion::V2, "aes128-sha256-modp1024", "aes128gcm16-ecp256"),
        5,
        6,
    );
    pair.inject(Side::Aws, &request.encode());
    assert!(pair
        .aws
        .kinds()
        .contains(&EventKind::IkeNoProposalChosen { unsupported: true, direction: Direction::Sent }));
    // Supported, but not allowed on this tunnel → mismatch, not unsupported.
    let narrow = aws_config("pre.shared_key", Some(spec(ProposalKind::Ike, "aes256gcm16-prfsha384-ecp384")), None);
    let mut pair = Pair::new(narrow, cgw(IkeVersion::V2, "aes128-sha256-modp2048", "aes128gcm16-ecp256"), 5, 6);
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(1));
    assert!(pair
        .aws
        .kinds()
        .contains(&EventKind::IkeNoProposalChosen { unsupported: false, direction: Direction::Sent }));
    // Phase 2: 3DES and MD5 are refused with the IKE SA kept.
    for version in [IkeVersion::V2, IkeVersion::V1] {
        for esp in ["3des-sha256-modp2048", "aes128-md5-modp2048"] {
            let mut pair =
                Pair::new(aws_config("pre.shared_key", None, None), cgw(version, "aes128-sha256-ecp256", esp), 5, 6);
            pair.initiate();
            pair.drive_until(pair.now() + Duration::from_secs(1));
            let refused = pair.aws.kinds().iter().any(|k| {
                matches!(
                    k,
                    EventKind::ChildSaFailed {
                        failure: ChildFailure::NoProposalChosen { direction: Direction::Sent, .. }
                    }
                )
            });
            assert!(refused, "{version:?} ESP {esp}: {:?}", pair.aws.kinds());
            assert_eq!(pair.aws.endpoint.phase_states(), (SaState::Established, SaState::Down), "{version:?} {esp}");
        }
    }
}
