//! The proposal matrix (reference §3): every combination AWS allows establishes, in both
//! IKE versions, through the real handshake with real crypto, and comes up with exactly
//! what the CGW proposed; everything AWS refuses is refused the way AWS logs it.
//!
//! The CGW proposes one combination at a time; AWS has its default options (everything
//! allowed, lowest value first, AWS's DPD). Phase 1 and phase 2 run as separate matrices,
//! not as a cross product: a MODP-8192 key pair costs, and each phase's algorithms are
//! independent of the other's. Each matrix prints how long it took (`--nocapture`).
//!
//! ```text
//! phase 1, IKEv2:  {AES128, AES256, AES128-GCM-16, AES256-GCM-16} × {SHA1, SHA2-256/384/512}
//!                  × DH {2, 14–24}                                           = 192
//! phase 1, IKEv1:  {AES128, AES256} × {SHA1, SHA2-256/384/512} × DH {2, 14–24} =  96
//! phase 2, both:   (AES128/256 × 4 integrity + AES-GCM-16 128/256 without) × PFS {2, 5, 14–24}
//!                                                                            = 130 each
//! ```

mod common;

use std::time::{Duration, Instant};

use common::*;
use ike_core::{
    ChildFailure, Cipher, Direction, DpdAction, DpdConfig, EndpointConfig, EventKind, IkeVersion,
    PeerIncompatible, ProposalKind, ProposalSpec, SaState, Selected,
};
use ike_wire::{DhGroup, EncrId, ExchangeType, IntegId, NotifyType, Payload, PrfId, ProtocolId};

const ENCRYPTION: [&str; 4] = ["aes128", "aes256", "aes128gcm16", "aes256gcm16"];
const INTEGRITY: [&str; 4] = ["sha1", "sha256", "sha384", "sha512"];
/// AWS's phase 1 groups: 2, 14–24 (no 5), as strongSwan names them.
const PHASE1_GROUPS: [&str; 12] = [
    "modp1024",     // 2
    "modp2048",     // 14
    "modp3072",     // 15
    "modp4096",     // 16
    "modp6144",     // 17
    "modp8192",     // 18
    "ecp256",       // 19
    "ecp384",       // 20
    "ecp521",       // 21
    "modp1024s160", // 22
    "modp2048s224", // 23
    "modp2048s256", // 24
];
/// Phase 2 adds group 5 (MODP-1536).
const PHASE2_EXTRA_GROUP: &str = "modp1536";

/// Cheap fixed suites for the phase a matrix does not vary.
const FIXED_IKE: &str = "aes128-sha256-ecp256";
const FIXED_ESP: &str = "aes128gcm16-ecp256";

/// Encryption, integrity, PRF and DH group of a selection.
type Algorithms = (Cipher, Option<IntegId>, Option<PrfId>, Option<DhGroup>);

fn phase2_groups() -> Vec<&'static str> {
    let mut groups = PHASE1_GROUPS.to_vec();
    groups.insert(1, PHASE2_EXTRA_GROUP);
    groups
}

/// AWS with its default tunnel options.
fn aws_defaults() -> EndpointConfig {
    let mut c = aws_config(PSK, None, None);
    c.dpd = Some(DpdConfig::aws(Duration::from_secs(30), DpdAction::Clear));
    c
}

fn cgw(version: IkeVersion, ike: &str, esp: &str) -> EndpointConfig {
    let mut c = cgw_config(PSK, &[ike], &[esp]);
    c.ike_version = version;
    c
}

/// A phase 1 proposal in strongSwan's syntax: with AES-GCM the integrity algorithm names
/// the PRF (there is no INTEG transform).
fn ike_proposal(enc: &str, integ: &str, group: &str) -> String {
    if enc.contains("gcm") {
        format!("{enc}-prf{integ}-{group}")
    } else {
        format!("{enc}-{integ}-{group}")
    }
}

/// The phase 2 combinations: AES-CBC with each integrity algorithm, AES-GCM with none.
fn esp_suites() -> Vec<String> {
    let mut out = Vec::new();
    for enc in ENCRYPTION {
        if enc.contains("gcm") {
            out.push(enc.to_string());
        } else {
            out.extend(INTEGRITY.iter().map(|i| format!("{enc}-{i}")));
        }
    }
    out
}

/// What a selection must be for a one-of-each proposal: exactly its algorithms.
fn expected(kind: ProposalKind, proposal: &str) -> Algorithms {
    let s = spec(kind, proposal);
    assert!(
        s.encryption.len() == 1 && s.integrity.len() <= 1 && s.prf.len() <= 1 && s.dh.len() <= 1,
        "{proposal}"
    );
    (
        s.encryption[0],
        s.integrity.first().copied(),
        s.prf.first().copied(),
        s.dh.first().copied(),
    )
}

fn algorithms(s: &Selected) -> Algorithms {
    (s.encryption, s.integrity, s.prf, s.dh)
}

fn ike_selected(host: &Host) -> Option<Selected> {
    host.events.iter().find_map(|(_, e)| match e.kind {
        EventKind::IkeSaEstablished { selected, .. } => Some(selected),
        _ => None,
    })
}

fn child_selected(host: &Host) -> Option<Selected> {
    host.events.iter().find_map(|(_, e)| match e.kind {
        EventKind::ChildSaEstablished { selected, .. } => Some(selected),
        _ => None,
    })
}

fn handshake(cgw: EndpointConfig, run: Duration) -> Pair {
    let mut pair = Pair::new(aws_defaults(), cgw, 5, 6);
    pair.initiate();
    let limit = pair.now() + run;
    pair.drive_until(limit);
    pair
}

/// The phase 1 suite AWS chose, read from its answer on the wire: IKE_SA_INIT's SA
/// payload (IKEv2), main mode message 2's transform (IKEv1).
fn phase1_on_the_wire(version: IkeVersion, pair: &Pair) -> Algorithms {
    match version {
        IkeVersion::V2 => {
            let answer = pair.aws.sent[0].message();
            let sa = answer.payloads.iter().find_map(|p| {
                if let Payload::Sa(s) = p {
                    Some(s)
                } else {
                    None
                }
            });
            let [proposal] = &sa.expect("SAr1")[..] else {
                panic!("one proposal")
            };
            algorithms(&Selected::from_wire(proposal).expect("one transform per type"))
        }
        IkeVersion::V1 => {
            use ike_wire::v1::{ike_attr, Payload as P};
            let answer = pair.aws.sent[0].v1();
            let sa =
                answer
                    .payloads()
                    .iter()
                    .find_map(|p| if let P::Sa(s) = p { Some(s) } else { None });
            let [t] = &sa.expect("SA").proposals[0].transforms[..] else {
                panic!("one transform")
            };
            let attr = |a| {
                t.attr(a)
                    .map(|v| u16::try_from(v).expect("16-bit attribute"))
            };
            let (integ, prf) = match attr(ike_attr::HASH_ALGORITHM) {
                Some(2) => (IntegId::HMAC_SHA1_96, PrfId::HMAC_SHA1),
                Some(4) => (IntegId::HMAC_SHA2_256_128, PrfId::HMAC_SHA2_256),
                Some(5) => (IntegId::HMAC_SHA2_384_192, PrfId::HMAC_SHA2_384),
                Some(6) => (IntegId::HMAC_SHA2_512_256, PrfId::HMAC_SHA2_512),
                other => panic!("hash {other:?}"),
            };
            assert_eq!(attr(ike_attr::ENCRYPTION_ALGORITHM), Some(7), "AES-CBC");
            let cipher = Cipher::new(EncrId::AES_CBC, attr(ike_attr::KEY_LENGTH));
            let group = attr(ike_attr::GROUP_DESCRIPTION).map(DhGroup);
            (cipher, Some(integ), Some(prf), group)
        }
    }
}

fn phase1_matrix(version: IkeVersion) {
    let started = Instant::now();
    let mut count = 0;
    for enc in ENCRYPTION {
        // ISAKMP has no AEAD transforms (RFC 2409 App. A lists CBC ciphers only, and the
        // ISAKMP SA's messages are CBC-encrypted with a separate HASH), so AES-GCM exists
        // in IKEv1 for ESP only.
        if version == IkeVersion::V1 && enc.contains("gcm") {
            continue;
        }
        for integ in INTEGRITY {
            for group in PHASE1_GROUPS {
                let proposal = ike_proposal(enc, integ, group);
                let pair = handshake(cgw(version, &proposal, FIXED_ESP), Duration::from_secs(1));
                let want = expected(ProposalKind::Ike, &proposal);
                let aws = ike_selected(&pair.aws)
                    .unwrap_or_else(|| panic!("{version:?} {proposal}: {:?}", pair.aws.kinds()));
                let cgw = ike_selected(&pair.cgw)
                    .unwrap_or_else(|| panic!("{version:?} {proposal}: {:?}", pair.cgw.kinds()));
                assert_eq!(
                    algorithms(&aws),
                    want,
                    "{version:?} {proposal}: AWS's selection"
                );
                assert_eq!(
                    algorithms(&cgw),
                    want,
                    "{version:?} {proposal}: the CGW's view"
                );
                assert_eq!(
                    phase1_on_the_wire(version, &pair),
                    want,
                    "{version:?} {proposal}: on the wire"
                );
                assert!(
                    child_selected(&pair.aws).is_some(),
                    "{version:?} {proposal}: {:?}",
                    pair.aws.kinds()
                );
                for host in [&pair.aws, &pair.cgw] {
                    assert!(host.events.iter().all(|(_, e)| e.ike_version == version));
                    assert_eq!(
                        host.endpoint.phase_states(),
                        (SaState::Established, SaState::Established)
                    );
                }
                count += 1;
            }
        }
    }
    let expected_count = if version == IkeVersion::V2 {
        4 * 4 * 12
    } else {
        2 * 4 * 12
    };
    assert_eq!(count, expected_count);
    eprintln!(
        "phase 1 matrix, {version:?}: {count} handshakes in {:.2?}",
        started.elapsed()
    );
}

#[test]
fn phase1_matrix_ikev2() {
    phase1_matrix(IkeVersion::V2);
}

#[test]
fn phase1_matrix_ikev1() {
    phase1_matrix(IkeVersion::V1);
}

/// IKEv1: quick mode carries the PFS KE, so one quick mode shows the whole suite; it is
/// read back from AWS's quick mode 2 as well (decrypted).
#[test]
fn phase2_matrix_ikev1() {
    use ike_wire::v1::{esp_transform, ipsec_attr, Payload as P};
    let started = Instant::now();
    let mut count = 0;
    for suite in esp_suites() {
        for group in phase2_groups() {
            let esp = format!("{suite}-{group}");
            let pair = handshake(cgw(IkeVersion::V1, FIXED_IKE, &esp), Duration::from_secs(1));
            let want = expected(ProposalKind::Esp, &esp);
            let aws = child_selected(&pair.aws)
                .unwrap_or_else(|| panic!("ESP {esp}: {:?}", pair.aws.kinds()));
            let cgw = child_selected(&pair.cgw)
                .unwrap_or_else(|| panic!("ESP {esp}: {:?}", pair.cgw.kinds()));
            assert_eq!(algorithms(&aws), want, "ESP {esp}: AWS's selection");
            assert_eq!(algorithms(&cgw), want, "ESP {esp}: the CGW's view");
            // AWS's quick mode 2: one transform, the group in its attributes, a KE of it.
            let capture = V1Capture::of(&pair);
            let qm2 = capture.open(&pair.aws.secrets, &pair.aws.sent[3].bytes);
            let sa = qm2
                .iter()
                .find_map(|p| if let P::Sa(s) = p { Some(s) } else { None })
                .expect("SA");
            let [t] = &sa.proposals[0].transforms[..] else {
                panic!("ESP {esp}: one transform")
            };
            let gcm = want.0.id == EncrId::AES_GCM_16;
            assert_eq!(
                t.id,
                if gcm {
                    esp_transform::AES_GCM_16
                } else {
                    esp_transform::AES_CBC
                },
                "ESP {esp}"
            );
            assert_eq!(
                t.attr(ipsec_attr::KEY_LENGTH),
                want.0.key_bits.map(u32::from),
                "ESP {esp}"
            );
            assert_eq!(
                t.attr(ipsec_attr::AUTHENTICATION_ALGORITHM).is_some(),
                !gcm,
                "ESP {esp}"
            );
            let group_id = want.3.expect("a PFS group").0;
            assert_eq!(
                t.attr(ipsec_attr::GROUP_DESCRIPTION),
                Some(u32::from(group_id)),
                "ESP {esp}"
            );
            let ke = qm2.iter().find_map(|p| {
                if let P::Ke(k) = p {
                    Some(k.len())
                } else {
                    None
                }
            });
            assert_eq!(
                ke,
                ike_crypto::dh_public_len(DhGroup(group_id)),
                "ESP {esp}: KE of the group"
            );
            count += 1;
        }
    }
    assert_eq!(count, 10 * 13);
    eprintln!(
        "phase 2 matrix, IKEv1: {count} quick modes in {:.2?}",
        started.elapsed()
    );
}

/// IKEv2: the CHILD SA of IKE_AUTH has no KE (RFC 7296 §1.2), so it shows encryption and
/// integrity; the PFS group shows in the CGW's first CHILD SA rekey (CREATE_CHILD_SA with
/// KE), whose response is decrypted with the exported keys.
#[test]
fn phase2_matrix_ikev2() {
    let started = Instant::now();
    let mut count = 0;
    for suite in esp_suites() {
        for group in phase2_groups() {
            let esp = format!("{suite}-{group}");
            let mut c = cgw(IkeVersion::V2, FIXED_IKE, &esp);
            c.lifetimes.child = Duration::from_secs(120);
            c.lifetimes.margin = Duration::from_secs(30);
            c.lifetimes.fuzz_percent = 0;
            let pair = handshake(c, Duration::from_secs(100));
            let want = expected(ProposalKind::Esp, &esp);
            let first = child_selected(&pair.aws)
                .unwrap_or_else(|| panic!("ESP {esp}: {:?}", pair.aws.kinds()));
            assert_eq!(
                algorithms(&first),
                (want.0, want.1, None, None),
                "ESP {esp}: IKE_AUTH's CHILD SA"
            );
            assert_eq!(
                child_selected(&pair.cgw).map(|s| algorithms(&s)),
                Some(algorithms(&first)),
                "ESP {esp}"
            );
            // The rekey at 90 s: AWS's CREATE_CHILD_SA response.
            let response = pair
                .aws
                .sent
                .iter()
                .rfind(|d| d.message().header.exchange == ExchangeType::CREATE_CHILD_SA)
                .unwrap_or_else(|| panic!("ESP {esp}: no CREATE_CHILD_SA: {:?}", pair.aws.kinds()));
            let payloads = decrypt(&pair.cgw.secrets, &response.bytes);
            let sa = payloads
                .iter()
                .find_map(|p| {
                    if let Payload::Sa(s) = p {
                        Some(s)
                    } else {
                        None
                    }
                })
                .expect("SA");
            let [proposal] = &sa[..] else {
                panic!("ESP {esp}: one proposal")
            };
            assert_eq!(proposal.protocol, ProtocolId::ESP);
            let rekeyed = Selected::from_wire(proposal).expect("one transform per type");
            assert_eq!(
                algorithms(&rekeyed),
                want,
                "ESP {esp}: the rekeyed CHILD SA"
            );
            let ke = payloads.iter().find_map(|p| {
                if let Payload::Ke(k) = p {
                    Some(k.group)
                } else {
                    None
                }
            });
            assert_eq!(ke, want.3, "ESP {esp}: KE of the group");
            for host in [&pair.aws, &pair.cgw] {
                assert!(
                    host.kinds()
                        .iter()
                        .any(|k| matches!(k, EventKind::ChildSaRekeyed { .. })),
                    "ESP {esp}"
                );
            }
            count += 1;
        }
    }
    assert_eq!(count, 10 * 13);
    eprintln!(
        "phase 2 matrix, IKEv2: {count} CHILD SAs and rekeys in {:.2?}",
        started.elapsed()
    );
}

fn refused(unsupported: bool) -> EventKind {
    EventKind::IkeNoProposalChosen {
        unsupported,
        direction: Direction::Sent,
    }
}

/// AWS's answer to a refused phase 1: IKE_SA_INIT with a lone N(NO_PROPOSAL_CHOSEN), or a
/// plain ISAKMP informational with it.
fn assert_no_proposal_chosen_sent(version: IkeVersion, pair: &Pair, what: &str) {
    let [answer] = &pair.aws.sent[..] else {
        panic!(
            "{version:?} {what}: one answer, got {}",
            pair.aws.sent.len()
        )
    };
    match version {
        IkeVersion::V2 => {
            let m = answer.message();
            assert_eq!(m.header.exchange, ExchangeType::IKE_SA_INIT, "{what}");
            assert_eq!(m.payloads.len(), 1, "{what}: {:?}", m.payloads);
            assert!(
                m.notify(NotifyType::NO_PROPOSAL_CHOSEN).is_some(),
                "{what}: {:?}",
                m.payloads
            );
        }
        IkeVersion::V1 => {
            let m = answer.v1();
            assert_eq!(
                (m.header.exchange, m.header.flags.is_encrypted()),
                (ike_wire::v1::ExchangeType::INFORMATIONAL, false)
            );
            let [ike_wire::v1::Payload::Notification(n)] = m.payloads() else {
                panic!("{what}: {:?}", m.payloads())
            };
            assert_eq!(n.ty, ike_wire::v1::NotifyType::NO_PROPOSAL_CHOSEN, "{what}");
        }
    }
    assert!(
        pair.aws.endpoint.ike_sas().is_empty() && pair.aws.endpoint.poll_timeout().is_none(),
        "{what}: no state"
    );
}

/// The CGW's first datagram with its DH group forged to group 1 (MODP-768), which ikesim
/// will not compute, so no CGW can really offer it. AWS refuses the proposal before it
/// would look at a KE.
fn forged_group1(version: IkeVersion) -> Vec<u8> {
    let mut probe = Pair::new(
        aws_defaults(),
        cgw(version, "aes128-sha256-modp1024", FIXED_ESP),
        5,
        6,
    );
    probe.cgw.drop = drop_all();
    probe.initiate();
    match version {
        IkeVersion::V2 => {
            let mut request = probe.cgw.sent[0].message();
            for p in &mut request.payloads {
                match p {
                    Payload::Sa(proposals) => {
                        for t in proposals.iter_mut().flat_map(|p| p.transforms.iter_mut()) {
                            if t.ty == ike_wire::TransformType::DH {
                                t.id = DhGroup::MODP_768.0;
                            }
                        }
                    }
                    Payload::Ke(ke) => {
                        ke.group = DhGroup::MODP_768;
                        ke.data.truncate(96);
                    }
                    _ => {}
                }
            }
            request.encode()
        }
        IkeVersion::V1 => {
            use ike_wire::v1::{ike_attr, Body, Payload as P};
            let mut mm1 = probe.cgw.sent[0].v1();
            let Body::Plain(payloads) = &mut mm1.body else {
                panic!("plain")
            };
            for p in payloads {
                if let P::Sa(sa) = p {
                    for t in sa
                        .proposals
                        .iter_mut()
                        .flat_map(|p| p.transforms.iter_mut())
                    {
                        for a in &mut t.attributes {
                            if a.ty == ike_attr::GROUP_DESCRIPTION {
                                a.value = ike_wire::AttributeValue::Short(1);
                            }
                        }
                    }
                }
            }
            mm1.encode()
        }
    }
}

/// Phase 1 algorithms AWS does not support at all — 3DES, DES, MD5, DH group 1, and
/// group 5 (phase 2 only) — are "unsupported" (AWS logs "No Proposal Match Found by
/// AWS"); a supported algorithm that the tunnel's options exclude is a mismatch (IKEv2:
/// "No Proposal Match Found. Notifying with "No proposal chosen""). Either way AWS answers
/// NO_PROPOSAL_CHOSEN and keeps nothing, and the CGW is told.
///
/// ```text
/// CGW                                   AWS
///  |-- IKE_SA_INIT / MM1 {3DES, …} ------>|  IkeNoProposalChosen{unsupported: true, Sent}
///  |<-- N(NO_PROPOSAL_CHOSEN) ------------|
/// ```
#[test]
fn phase1_refusals() {
    for version in [IkeVersion::V2, IkeVersion::V1] {
        for proposal in [
            "3des-sha256-modp2048",
            "des-sha256-modp2048",
            "aes128-md5-modp2048",
            "aes128-sha256-modp1536",
        ] {
            let pair = handshake(cgw(version, proposal, FIXED_ESP), Duration::from_secs(1));
            assert_eq!(pair.aws.kinds(), [refused(true)], "{version:?} {proposal}");
            assert_no_proposal_chosen_sent(version, &pair, proposal);
            let told = pair.cgw.kinds().iter().any(|k| {
                matches!(k, EventKind::IkeNoProposalChosen { direction: Direction::Received, .. })
                    || matches!(k, EventKind::IkeSaFailed { notify, .. } if *notify == NotifyType::NO_PROPOSAL_CHOSEN)
            });
            assert!(told, "{version:?} {proposal}: {:?}", pair.cgw.kinds());
            assert_eq!(
                pair.cgw.endpoint.phase_states(),
                (SaState::Down, SaState::Down)
            );
        }

        let mut pair = Pair::new(aws_defaults(), cgw(version, FIXED_IKE, FIXED_ESP), 5, 6);
        pair.inject(Side::Aws, &forged_group1(version));
        assert_eq!(pair.aws.kinds(), [refused(true)], "{version:?} group 1");
        assert_no_proposal_chosen_sent(version, &pair, "group 1");

        // Supported, but not allowed on this tunnel.
        let only = spec(ProposalKind::Ike, "aes256-sha384-ecp384");
        let mut narrow = aws_config(PSK, Some(only), None);
        narrow.dpd = aws_defaults().dpd;
        let mut pair = Pair::new(
            narrow,
            cgw(version, "aes128-sha256-modp2048", FIXED_ESP),
            5,
            6,
        );
        pair.initiate();
        pair.drive_until(pair.now() + Duration::from_secs(1));
        assert_eq!(
            pair.aws.kinds(),
            [refused(false)],
            "{version:?} excluded by the options"
        );
        assert_no_proposal_chosen_sent(version, &pair, "excluded by the options");
    }
}

/// Phase 2 the same way, with the ISAKMP / IKE SA kept: 3DES, DES and MD5 unsupported, a
/// supported suite the options exclude a mismatch.
///
/// ```text
/// CGW                                            AWS
///  |== phase 1 ===================================>|  IkeSaEstablished
///  |-- IKE_AUTH SA{3DES…} / QM1 SA{3DES…} -------->|  ChildSaFailed(NoProposalChosen{unsupported, Sent})
///  |<-- N(NO_PROPOSAL_CHOSEN) ---------------------|  established/down
/// ```
#[test]
fn phase2_refusals() {
    let failed = |unsupported| EventKind::ChildSaFailed {
        failure: ChildFailure::Incompatible(
            PeerIncompatible::NoProposalChosen { unsupported },
            Direction::Sent,
        ),
    };
    let only_gcm: ProposalSpec = spec(ProposalKind::Esp, "aes256gcm16-ecp384");
    for version in [IkeVersion::V2, IkeVersion::V1] {
        let cases: [(&str, Option<ProposalSpec>, bool); 4] = [
            ("3des-sha256-modp2048", None, true),
            ("des-sha256-modp2048", None, true),
            ("aes128-md5-modp2048", None, true),
            ("aes128-sha256-modp2048", Some(only_gcm.clone()), false),
        ];
        for (esp, options, unsupported) in cases {
            let mut tunnel = aws_config(PSK, None, options);
            tunnel.dpd = aws_defaults().dpd;
            let mut pair = Pair::new(tunnel, cgw(version, FIXED_IKE, esp), 5, 6);
            pair.initiate();
            pair.drive_until(pair.now() + Duration::from_secs(1));
            let kinds = pair.aws.kinds();
            assert!(
                kinds.contains(&failed(unsupported)),
                "{version:?} ESP {esp}: {kinds:?}"
            );
            assert!(
                !kinds
                    .iter()
                    .any(|k| matches!(k, EventKind::ChildSaEstablished { .. })),
                "{version:?} {esp}"
            );
            for host in [&pair.aws, &pair.cgw] {
                assert_eq!(
                    host.endpoint.phase_states(),
                    (SaState::Established, SaState::Down),
                    "{version:?} {esp}"
                );
            }
        }
    }
}
