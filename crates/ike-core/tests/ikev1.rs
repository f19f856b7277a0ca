//! IKEv1 (RFC 2409) between the simulated AWS tunnel and a CGW on the virtual clock: main
//! mode with a PSK, quick mode with and without PFS, refusals, DELETE, DPD (RFC 3706),
//! rekeys of both phases from either side, retransmission, and aggressive mode (which AWS
//! does not offer). AWS is configured as `sim`'s tunnel options do (all algorithms, lowest
//! value first, AWS's DPD); the CGW initiates. Assertions are on the events with their
//! phase states and on the datagrams, decrypted Wireshark-style with `V1Capture`.

mod common;

use std::time::Duration;

use common::*;
use ike_core::{
    ChildFailure, Direction, DpdAction, DpdConfig, EndpointConfig, EventKind, IkeVersion,
    Lifetimes, PeerIncompatible, ProposalKind, SaState, Selected,
};
use ike_crypto::v1::{nat_d, Hash};
use ike_wire::v1::{
    self, doi, id_type, ike_attr, ike_auth, life_type, protocol, Body, Delete, ExchangeType, Id,
    Notification, NotifyType, Payload, PayloadType,
};
use ike_wire::{DhGroup, EncrId, IntegId, PrfId};

use SaState::{Down, Established as Up, Negotiating, Rekeying};

/// AES-128, SHA2-256, MODP-2048: one transform of AWS's defaults.
const IKE: &str = "aes128-sha256-modp2048";
/// The same with PFS in MODP-2048 (AWS requires PFS: its phase 2 group list is never empty).
const ESP_PFS: &str = "aes128-sha256-modp2048";
const ESP_NO_PFS: &str = "aes128-sha256";

/// RFC 3706 §5.1's vendor ID ("this implementation does DPD").
const DPD_VID: [u8; 16] = [
    0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
];
/// RFC 3947 §3.1's vendor ID (MD5 of "RFC 3947").
const NAT_T_VID: [u8; 16] = [
    0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Times computed with `mul_f64` are exact to a few nanoseconds, not more.
fn assert_times(actual: &[Duration], expected: &[Duration]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert!(
            a.abs_diff(*e) < Duration::from_micros(1),
            "{actual:?} vs {expected:?}"
        );
    }
}

/// The AWS tunnel with its default options, DPD included (10 s, timeout 30 s, clear).
fn aws() -> EndpointConfig {
    let mut c = aws_config(PSK, None, None);
    c.dpd = Some(DpdConfig::aws(Duration::from_secs(30), DpdAction::Clear));
    c
}

/// A CGW speaking IKEv1, with one proposal per phase (it runs no DPD of its own, but
/// answers R-U-THERE).
fn cgw(ike: &str, esp: &str) -> EndpointConfig {
    let mut c = cgw_config(PSK, &[ike], &[esp]);
    c.ike_version = IkeVersion::V1;
    c
}

/// Lifetimes without fuzz, so the CGW's rekeys fall at known times.
fn lifetimes(ike: u64, child: u64, margin: u64) -> Lifetimes {
    Lifetimes {
        ike: Duration::from_secs(ike),
        child: Duration::from_secs(child),
        margin: Duration::from_secs(margin),
        fuzz_percent: 0,
        rekey: true,
    }
}

/// The CGW brings the tunnel up; one second of virtual time is plenty.
fn up(aws: EndpointConfig, cgw: EndpointConfig) -> Pair {
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(1));
    pair
}

fn run_for(pair: &mut Pair, d: Duration) {
    let limit = pair.now() + d;
    pair.drive_until(limit);
}

/// ESP traffic flows both ways: on-demand DPD stays quiet (no NAT), so long runs only
/// show the rekeys.
fn traffic_flows(pair: &mut Pair) {
    let now = pair.now();
    pair.aws.endpoint.set_peer_traffic(now, true);
    pair.cgw.endpoint.set_peer_traffic(now, true);
}

fn v1_ike_established(host: &Host) -> ((u64, u64), Selected) {
    host.events
        .iter()
        .find_map(|(_, e)| match e.kind {
            EventKind::IkeSaEstablished {
                spi_i,
                spi_r,
                selected,
            } => Some(((spi_i, spi_r), selected)),
            _ => None,
        })
        .expect("ISAKMP SA established")
}

fn v1_child_established(host: &Host) -> ((u32, u32), Selected) {
    host.events
        .iter()
        .find_map(|(_, e)| match e.kind {
            EventKind::ChildSaEstablished {
                spi_in,
                spi_out,
                selected,
            } => Some(((spi_in, spi_out), selected)),
            _ => None,
        })
        .expect("IPsec SA established")
}

/// Every event of `host` is an IKEv1 one, with DPD on or off as expected.
fn all_v1(host: &Host, dpd_enabled: bool) {
    for (t, e) in &host.events {
        assert_eq!(e.ike_version, IkeVersion::V1, "at {t:?}: {e:?}");
        assert_eq!(e.facts.dpd, dpd_enabled, "at {t:?}: {e:?}");
        assert!(
            !e.facts.nat.detected(),
            "no NAT between loopback addresses: {e:?}"
        );
    }
}

/// The events after the first `n`.
fn kinds_after(host: &Host, n: usize) -> Vec<EventKind> {
    host.kinds()[n..].to_vec()
}

fn states_after(host: &Host, n: usize) -> Vec<(SaState, SaState)> {
    host.states()[n..].to_vec()
}

fn types(payloads: &[Payload]) -> Vec<PayloadType> {
    payloads.iter().map(Payload::payload_type).collect()
}

fn exchange_and_e(d: &Datagram) -> (ExchangeType, bool) {
    let h = d.v1().header;
    (h.exchange, h.flags.is_encrypted())
}

fn plain(d: &Datagram) -> Vec<Payload> {
    match d.v1().body {
        Body::Plain(p) => p,
        Body::Encrypted(_) => panic!("encrypted: {:?}", d.v1().header),
    }
}

fn vendor_ids(payloads: &[Payload]) -> Vec<Vec<u8>> {
    payloads
        .iter()
        .filter_map(|p| {
            if let Payload::VendorId(v) = p {
                Some(v.clone())
            } else {
                None
            }
        })
        .collect()
}

fn nat_ds(payloads: &[Payload]) -> Vec<Vec<u8>> {
    payloads
        .iter()
        .filter_map(|p| {
            if let Payload::NatD(d) = p {
                Some(d.clone())
            } else {
                None
            }
        })
        .collect()
}

fn only_notification(payloads: &[Payload]) -> &Notification {
    match payloads {
        [Payload::Notification(n)] => n,
        // An encrypted informational: HASH(1) first (RFC 2409 §5.7).
        [Payload::Hash(_), Payload::Notification(n)] => n,
        other => panic!("expected a lone notification, got {other:?}"),
    }
}

fn only_delete(payloads: &[Payload]) -> &Delete {
    match payloads {
        [Payload::Hash(h), Payload::Delete(d)] => {
            assert_eq!(h.len(), 32, "HASH(1) with SHA2-256");
            d
        }
        other => panic!("expected HASH(1), DELETE; got {other:?}"),
    }
}

fn sa_of(payloads: &[Payload]) -> &v1::Sa {
    payloads
        .iter()
        .find_map(|p| {
            if let Payload::Sa(s) = p {
                Some(s)
            } else {
                None
            }
        })
        .expect("SA payload")
}

fn ke_of(payloads: &[Payload]) -> Option<&Vec<u8>> {
    payloads.iter().find_map(|p| {
        if let Payload::Ke(k) = p {
            Some(k)
        } else {
            None
        }
    })
}

fn ids_of(payloads: &[Payload]) -> Vec<Id> {
    payloads
        .iter()
        .filter_map(|p| {
            if let Payload::Id(i) = p {
                Some(i.clone())
            } else {
                None
            }
        })
        .collect()
}

fn cookies(spi: &[u8]) -> (u64, u64) {
    let (i, r) = spi.split_at(8);
    (
        u64::from_be_bytes(i.try_into().expect("8 bytes")),
        u64::from_be_bytes(r.try_into().expect("8 bytes")),
    )
}

/// AES-128-CBC / HMAC-SHA2-256 / MODP-2048 with the PRF of SHA2-256: what `IKE` selects.
fn assert_ike_selection(s: &Selected) {
    assert_eq!(s.encryption.id, EncrId::AES_CBC);
    assert_eq!(s.encryption.key_bits, Some(128));
    assert_eq!(
        (s.integrity, s.prf, s.dh),
        (
            Some(IntegId::HMAC_SHA2_256_128),
            Some(PrfId::HMAC_SHA2_256),
            Some(DhGroup::MODP_2048)
        )
    );
}

/// Main mode and quick mode with PFS: nine datagrams, the last five encrypted, and both
/// ends agree on the cookies and on each ESP SPI.
///
/// ```text
/// CGW (initiator)                                        AWS (responder)
///  |-- MM1  SA VID(DPD) VID(RFC 3947) ----------------------->|  IkeSaNegotiating     negotiating/down
///  |<- MM2  SA(1 transform) VID(DPD) VID(RFC 3947) -----------|
///  |-- MM3  KE Ni NAT-D(AWS) NAT-D(CGW) --------------------->|
///  |<- MM4  KE Nr NAT-D(CGW) NAT-D(AWS) ----------------------|  (SKEYID from the PSK)
///  |-- MM5* IDii HASH_I ------------------------------------->|  IkeSaEstablished     established/down
///  |<- MM6* IDir HASH_R --------------------------------------|
///  IkeSaEstablished
///  |-- QM1* HASH(1) SA Ni KE IDci IDcr ---------------------->|  ChildSaNegotiating   established/negotiating
///  |<- QM2* HASH(2) SA Nr KE IDci IDcr -----------------------|
///  ChildSaEstablished
///  |-- QM3* HASH(3) ----------------------------------------->|  ChildSaEstablished   established/established
///                                                (* = E flag set: encrypted)
/// ```
#[test]
fn main_mode_and_quick_mode_with_pfs() {
    let pair = up(aws(), cgw(IKE, ESP_PFS));

    // Events: AWS knows at message 5 and quick mode 3, the CGW at message 6 and quick mode 2.
    let ((ci, cr), aws_ike) = v1_ike_established(&pair.aws);
    let ((aws_in, aws_out), aws_child) = v1_child_established(&pair.aws);
    assert_eq!(
        pair.aws.kinds(),
        [
            EventKind::IkeSaNegotiating {
                spi_i: ci,
                spi_r: cr
            },
            EventKind::IkeSaEstablished {
                spi_i: ci,
                spi_r: cr,
                selected: aws_ike
            },
            EventKind::ChildSaNegotiating,
            EventKind::ChildSaEstablished {
                spi_in: aws_in,
                spi_out: aws_out,
                selected: aws_child
            },
        ]
    );
    assert_eq!(
        pair.aws.states(),
        [(Negotiating, Down), (Up, Down), (Up, Negotiating), (Up, Up)]
    );
    let times = |h: &Host| h.events.iter().map(|(t, _)| *t).collect::<Vec<_>>();
    assert_eq!(times(&pair.aws), [ms(10), ms(50), ms(70), ms(90)]);
    let (cgw_cookies, cgw_ike) = v1_ike_established(&pair.cgw);
    let ((cgw_in, cgw_out), cgw_child) = v1_child_established(&pair.cgw);
    assert_eq!(
        pair.cgw.kinds(),
        [
            EventKind::IkeSaNegotiating {
                spi_i: ci,
                spi_r: 0
            },
            EventKind::IkeSaEstablished {
                spi_i: ci,
                spi_r: cr,
                selected: cgw_ike
            },
            EventKind::ChildSaEstablished {
                spi_in: cgw_in,
                spi_out: cgw_out,
                selected: cgw_child
            },
        ]
    );
    assert_eq!(
        pair.cgw.states(),
        [(Negotiating, Down), (Up, Down), (Up, Up)]
    );
    assert_eq!(times(&pair.cgw), [ms(0), ms(60), ms(80)]);
    // AWS runs DPD (both sides sent the vendor ID); the CGW has none configured.
    all_v1(&pair.aws, true);
    all_v1(&pair.cgw, false);

    // Both ends agree: the cookies, the suites, and each side's inbound SPI is the
    // other's outbound one.
    assert_eq!(cgw_cookies, (ci, cr));
    assert_ne!(cr, 0);
    assert_eq!((aws_in, aws_out), (cgw_out, cgw_in));
    assert_eq!(aws_ike, cgw_ike);
    assert_ike_selection(&aws_ike);
    assert_eq!(aws_child, cgw_child);
    assert_eq!(aws_child.encryption.id, EncrId::AES_CBC);
    assert_eq!(
        (aws_child.integrity, aws_child.dh),
        (Some(IntegId::HMAC_SHA2_256_128), Some(DhGroup::MODP_2048))
    );
    assert_eq!(pair.aws.endpoint.ike_sas(), [(ci, cr)]);
    assert_eq!(pair.cgw.endpoint.ike_sas(), [(ci, cr)]);
    assert_eq!(pair.aws.endpoint.child_sas(), [(aws_in, aws_out)]);
    assert_eq!(pair.cgw.endpoint.child_sas(), [(cgw_in, cgw_out)]);

    // The wire: main mode in the clear up to message 4, the E flag from message 5 on.
    let (c, a) = (&pair.cgw.sent, &pair.aws.sent);
    assert_eq!((c.len(), a.len()), (5, 4));
    let mm = ExchangeType::IDENTITY_PROTECTION;
    let qm = ExchangeType::QUICK_MODE;
    let wire: Vec<_> = [
        &c[0], &a[0], &c[1], &a[1], &c[2], &a[2], &c[3], &a[3], &c[4],
    ]
    .map(exchange_and_e)
    .to_vec();
    assert_eq!(
        wire,
        [
            (mm, false),
            (mm, false),
            (mm, false),
            (mm, false),
            (mm, true),
            (mm, true),
            (qm, true),
            (qm, true),
            (qm, true)
        ]
    );
    assert_eq!(
        (c[0].v1().header.cky_i, c[0].v1().header.cky_r),
        (ci, 0),
        "the responder cookie is not known yet"
    );
    let quick_mid = c[3].v1().header.message_id;
    assert_ne!(quick_mid, 0);
    for d in c[1..].iter().chain(a.iter()) {
        let h = d.v1().header;
        assert_eq!((h.cky_i, h.cky_r, h.major, h.minor), (ci, cr, 1, 0));
        assert_eq!(h.message_id, if h.exchange == mm { 0 } else { quick_mid });
    }

    // Messages 1 and 2: one SA each, and both vendor IDs.
    let (mm1, mm2) = (plain(&c[0]), plain(&a[0]));
    assert_eq!(
        types(&mm1),
        [
            PayloadType::SA,
            PayloadType::VENDOR_ID,
            PayloadType::VENDOR_ID
        ]
    );
    assert_eq!(
        types(&mm2),
        [
            PayloadType::SA,
            PayloadType::VENDOR_ID,
            PayloadType::VENDOR_ID
        ]
    );
    for m in [&mm1, &mm2] {
        assert_eq!(vendor_ids(m), [DPD_VID.to_vec(), NAT_T_VID.to_vec()]);
    }
    let offered = sa_of(&mm1);
    assert_eq!(
        (offered.doi, offered.situation),
        (doi::IPSEC, doi::SIT_IDENTITY_ONLY)
    );
    let chosen = sa_of(&mm2);
    assert_eq!(chosen.proposals.len(), 1);
    assert_eq!(
        (
            chosen.proposals[0].protocol,
            chosen.proposals[0].transforms.len()
        ),
        (protocol::ISAKMP, 1)
    );
    let t = &chosen.proposals[0].transforms[0];
    assert_eq!(
        t, &offered.proposals[0].transforms[0],
        "AWS echoes the transform it chose"
    );
    for (attr, value) in [
        (ike_attr::ENCRYPTION_ALGORITHM, 7),
        (ike_attr::KEY_LENGTH, 128),
        (ike_attr::HASH_ALGORITHM, 4),
        (
            ike_attr::AUTHENTICATION_METHOD,
            u32::from(ike_auth::PRE_SHARED_KEY),
        ),
        (ike_attr::GROUP_DESCRIPTION, 14),
        (ike_attr::LIFE_TYPE, u32::from(life_type::SECONDS)),
        (ike_attr::LIFE_DURATION, 28_800),
    ] {
        assert_eq!(t.attr(attr), Some(value), "attribute {attr}");
    }

    // Messages 3 and 4: KE, nonce and NAT-D — the receiver's address first (RFC 3947 §3.2).
    let (mm3, mm4) = (plain(&c[1]), plain(&a[1]));
    let kex = [
        PayloadType::KE,
        PayloadType::NONCE,
        PayloadType::NAT_D,
        PayloadType::NAT_D,
    ];
    assert_eq!((types(&mm3), types(&mm4)), (kex.to_vec(), kex.to_vec()));
    let natd = |s: &str| nat_d(Hash::Sha256, ci, cr, addr(s));
    assert_eq!(nat_ds(&mm3), [natd(AWS_ADDR), natd(CGW_ADDR)]);
    assert_eq!(nat_ds(&mm4), [natd(CGW_ADDR), natd(AWS_ADDR)]);
    assert_eq!(ke_of(&mm3).map(Vec::len), Some(256), "MODP-2048");

    // Messages 5 and 6 (decrypted): each side's IP address as its ID, and its HASH; the
    // CGW's first ISAKMP SA with AWS says INITIAL-CONTACT (RFC 2407 §4.6.3.3), about the
    // new SA.
    let capture = V1Capture::of(&pair);
    let open = |d: &Datagram| capture.open(&pair.aws.secrets, &d.bytes);
    let ip = |s: &str| addr(s).ip();
    for (d, who) in [(&c[2], CGW_ADDR), (&a[2], AWS_ADDR)] {
        let p = open(d);
        assert_eq!(ids_of(&p), [Id::from_ip(ip(who))]);
        assert!(matches!(&p[1], Payload::Hash(h) if h.len() == 32));
    }
    let (mm5, mm6) = (open(&c[2]), open(&a[2]));
    assert_eq!(
        types(&mm5),
        [
            PayloadType::ID,
            PayloadType::HASH,
            PayloadType::NOTIFICATION
        ]
    );
    assert_eq!(types(&mm6), [PayloadType::ID, PayloadType::HASH]);
    let contact = only_notification(&mm5[2..]);
    assert_eq!(
        (contact.ty, contact.protocol),
        (NotifyType::INITIAL_CONTACT, protocol::ISAKMP)
    );
    assert_eq!(cookies(&contact.spi), v1_ike_established(&pair.aws).0);

    // Quick mode: the SAs carry the inbound SPIs, the KEs are PFS in MODP-2048, and the
    // client IDs are the route-based 0.0.0.0/0 on both sides.
    let (qm1, qm2, qm3) = (open(&c[3]), open(&a[3]), open(&c[4]));
    let quick = [
        PayloadType::HASH,
        PayloadType::SA,
        PayloadType::NONCE,
        PayloadType::KE,
        PayloadType::ID,
        PayloadType::ID,
    ];
    assert_eq!((types(&qm1), types(&qm2)), (quick.to_vec(), quick.to_vec()));
    assert_eq!(types(&qm3), [PayloadType::HASH]);
    assert_eq!(sa_of(&qm1).proposals[0].spi_u32(), Some(cgw_in));
    let answer = &sa_of(&qm2).proposals;
    assert_eq!(
        (answer.len(), answer[0].protocol, answer[0].spi_u32()),
        (1, protocol::IPSEC_ESP, Some(aws_in))
    );
    assert_eq!(answer[0].transforms.len(), 1);
    assert_eq!(
        answer[0].transforms[0].attr(v1::ipsec_attr::GROUP_DESCRIPTION),
        Some(14)
    );
    assert_eq!(
        (ke_of(&qm1).map(Vec::len), ke_of(&qm2).map(Vec::len)),
        (Some(256), Some(256))
    );
    let any = Id {
        id_type: id_type::IPV4_ADDR_SUBNET,
        protocol: 0,
        port: 0,
        data: vec![0; 8],
    };
    assert_eq!(ids_of(&qm1), [any.clone(), any.clone()]);
    assert_eq!(ids_of(&qm2), [any.clone(), any]);

    for host in [&pair.aws, &pair.cgw] {
        let s = host.endpoint.stats();
        assert_eq!(
            (
                s.retransmits,
                s.malformed,
                s.integrity_failures,
                s.unmatched
            ),
            (0, 0, 0, 0),
            "{s:?}"
        );
    }
}

/// Quick mode without PFS: no KE payloads, no group. AWS's own options cannot express
/// that (its phase 2 group list is never empty, so AWS requires PFS and refuses such a
/// CGW); a responder configured without groups — which only the core can be — accepts it.
///
/// ```text
/// CGW                                      AWS (phase 2 groups: none)
///  |== main mode =================================>|
///  |-- QM1* HASH(1) SA Ni IDci IDcr (no KE) ------->|
///  |<- QM2* HASH(2) SA Nr IDci IDcr (no KE) --------|
///  |-- QM3* HASH(3) ------------------------------->|  ChildSaEstablished (dh: none)
///
/// CGW                                      AWS (default options: PFS required)
///  |-- QM1* HASH(1) SA Ni IDci IDcr (no KE) ------->|  ChildSaFailed(NoProposalChosen, unsupported)
///  |<- INFORMATIONAL* HASH(1) N(NO_PROPOSAL_CHOSEN) -|
/// ```
#[test]
fn quick_mode_without_pfs() {
    let no_groups = spec(
        ProposalKind::Esp,
        "aes128-aes256-aes128gcm16-aes256gcm16-sha1-sha256-sha384-sha512",
    );
    let mut responder = aws();
    responder.esp.proposals = vec![no_groups];
    let pair = up(responder, cgw(IKE, ESP_NO_PFS));
    let ((aws_in, aws_out), aws_child) = v1_child_established(&pair.aws);
    let ((cgw_in, cgw_out), cgw_child) = v1_child_established(&pair.cgw);
    assert_eq!((aws_in, aws_out), (cgw_out, cgw_in));
    assert_eq!(aws_child, cgw_child);
    assert_eq!(
        (aws_child.encryption.id, aws_child.integrity),
        (EncrId::AES_CBC, Some(IntegId::HMAC_SHA2_256_128))
    );
    assert_eq!(aws_child.dh, None);
    assert_eq!(pair.aws.states().last(), Some(&(Up, Up)));
    let capture = V1Capture::of(&pair);
    for d in [&pair.cgw.sent[3], &pair.aws.sent[3]] {
        let p = capture.open(&pair.aws.secrets, &d.bytes);
        assert_eq!(d.v1().header.exchange, ExchangeType::QUICK_MODE);
        assert_eq!(ke_of(&p), None, "no KE without PFS");
        let t = &sa_of(&p).proposals[0].transforms;
        assert!(t
            .iter()
            .all(|t| t.attr(v1::ipsec_attr::GROUP_DESCRIPTION).is_none()));
    }

    // Against AWS's defaults: the CGW's only proposal has no group, so it is refused.
    let pair = up(aws(), cgw(IKE, ESP_NO_PFS));
    assert_eq!(
        kinds_after(&pair.aws, 2),
        [EventKind::ChildSaFailed {
            failure: ChildFailure::Incompatible(
                PeerIncompatible::NoProposalChosen { unsupported: true },
                Direction::Sent
            )
        }]
    );
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Down));
}

/// The CGW has another PSK: the keys of messages 5 and 6 derive from it (RFC 2409 §5), so
/// AWS cannot decrypt message 5, logs it and forgets the SA. The CGW resends message 5
/// with strongSwan's backoff (AWS drops each: it no longer knows the cookies) and gives up.
///
/// ```text
/// CGW                                       AWS
///  |-- MM1 / MM3 (clear) ------------------->|  IkeSaNegotiating          negotiating/down
///  |<- MM2 / MM4 (clear) --------------------|
///  |-- MM5* (keys from another PSK) -------->|  PayloadDecryptionFailed   down/down
///  |-- MM5* rtx at +4, +11.2, +24.16, … ---->|  (unknown cookies: dropped)
///  RetransmitsExhausted{main mode, 5}           t = 0.04 + 165.06112
/// ```
#[test]
fn wrong_psk_does_not_decrypt() {
    let mut cgw = cgw(IKE, ESP_PFS);
    cgw.psk = b"not.the_aws_psk".to_vec();
    let mut pair = Pair::new(aws(), cgw, 1, 2);
    pair.initiate();
    pair.drive();

    assert!(matches!(
        pair.aws.kinds()[..],
        [
            EventKind::IkeSaNegotiating { .. },
            EventKind::PayloadDecryptionFailed
        ]
    ));
    assert_eq!(pair.aws.states(), [(Negotiating, Down), (Down, Down)]);
    assert_eq!(pair.aws.events[1].0, ms(50), "when message 5 arrived");
    all_v1(&pair.aws, true);
    assert_eq!(pair.aws.sent.len(), 2, "AWS never sends message 6");
    assert_eq!(
        pair.aws.endpoint.stats().unmatched,
        5,
        "the retransmissions of message 5"
    );

    let exchange = ike_wire::ExchangeType(ExchangeType::IDENTITY_PROTECTION.0);
    assert_eq!(
        kinds_after(&pair.cgw, 1),
        [EventKind::RetransmitsExhausted {
            exchange,
            retransmits: 5
        }]
    );
    assert_eq!(pair.cgw.states(), [(Negotiating, Down), (Down, Down)]);
    assert_times(&[pair.cgw.events[1].0], &[secs(0.04 + 165.06112)]);
    let c = &pair.cgw.sent;
    assert_times(
        &pair.cgw.send_times(),
        &[
            secs(0.0),
            secs(0.02),
            secs(0.04),
            secs(4.04),
            secs(11.24),
            secs(24.2),
            secs(47.528),
            secs(89.5184),
        ],
    );
    assert!(c[2..]
        .iter()
        .all(|d| d.bytes == c[2].bytes && d.v1().header.flags.is_encrypted()));
    // Different PSKs, different keys: what the CGW encrypted is garbage to AWS.
    let key = |h: &Host| h.secrets.first().expect("exported keys").sk_ei.clone();
    assert_ne!(key(&pair.aws), key(&pair.cgw));
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Down, Down));
        assert_eq!(host.endpoint.poll_timeout(), None);
    }
}

/// 3DES and MD5 are nothing AWS supports: AWS answers message 1 with a plain
/// informational NO_PROPOSAL_CHOSEN and keeps nothing ("No Proposal Match Found by AWS").
///
/// ```text
/// CGW                                             AWS
///  |-- MM1 SA{3DES, MD5, MODP-2048} ---------------->|  IkeNoProposalChosen{unsupported, Sent}
///  |<- INFORMATIONAL N(NO_PROPOSAL_CHOSEN) (clear) --|  down/down, no state
///  IkeNoProposalChosen{Received}  down/down
/// ```
#[test]
fn phase1_refused_as_unsupported() {
    let pair = up(aws(), cgw("3des-md5-modp2048", ESP_PFS));
    assert_eq!(
        pair.aws.kinds(),
        [EventKind::IkeNoProposalChosen {
            unsupported: true,
            direction: Direction::Sent
        }]
    );
    assert_eq!(pair.aws.states(), [(Down, Down)]);
    all_v1(&pair.aws, false);
    let ci = pair.cgw.sent[0].v1().header.cky_i;
    assert_eq!(
        pair.cgw.kinds(),
        [
            EventKind::IkeSaNegotiating {
                spi_i: ci,
                spi_r: 0
            },
            EventKind::IkeNoProposalChosen {
                unsupported: false,
                direction: Direction::Received
            },
        ]
    );
    assert_eq!(pair.cgw.states(), [(Negotiating, Down), (Down, Down)]);

    assert_eq!((pair.cgw.sent.len(), pair.aws.sent.len()), (1, 1));
    let refusal = pair.aws.sent[0].v1();
    let h = refusal.header;
    assert_eq!(
        (h.exchange, h.flags.is_encrypted(), h.message_id),
        (ExchangeType::INFORMATIONAL, false, 0)
    );
    assert_eq!((h.cky_i, h.cky_r), (ci, 0), "AWS made no cookie for it");
    let n = only_notification(refusal.payloads());
    assert_eq!(
        (n.ty, n.protocol, n.doi),
        (NotifyType::NO_PROPOSAL_CHOSEN, protocol::ISAKMP, doi::IPSEC)
    );
    for host in [&pair.aws, &pair.cgw] {
        assert!(host.endpoint.ike_sas().is_empty());
        assert_eq!(host.endpoint.poll_timeout(), None);
    }
}

/// Phase 2 with a PFS group the tunnel does not allow (AWS's phase 2 groups set to 14, the
/// CGW proposes 15): AWS refuses the quick mode in an encrypted informational protected by
/// HASH(1); the ISAKMP SA stays up on both sides.
///
/// ```text
/// CGW                                               AWS (phase 2 group 14 only)
///  |== main mode ====================================>|  IkeSaEstablished
///  |-- QM1* HASH(1) SA{…, group 15} Ni KE(15) IDs ---->|  ChildSaFailed(NoProposalChosen{Sent})
///  |<- INFORMATIONAL* HASH(1) N(NO_PROPOSAL_CHOSEN) ---|  established/down
///  ChildSaFailed(NoProposalChosen{Received})  established/down
/// ```
#[test]
fn phase2_refused_for_its_pfs_group() {
    let group14 = spec(
        ProposalKind::Esp,
        "aes128-aes256-aes128gcm16-aes256gcm16-sha1-sha256-sha384-sha512-modp2048",
    );
    let mut tunnel = aws();
    tunnel.esp.proposals = vec![group14];
    let pair = up(tunnel, cgw(IKE, "aes128-sha256-modp3072"));

    let refused = |direction| EventKind::ChildSaFailed {
        failure: ChildFailure::Incompatible(
            PeerIncompatible::NoProposalChosen { unsupported: false },
            direction,
        ),
    };
    assert_eq!(kinds_after(&pair.aws, 2), [refused(Direction::Sent)]);
    assert_eq!(states_after(&pair.aws, 2), [(Up, Down)]);
    assert_eq!(kinds_after(&pair.cgw, 2), [refused(Direction::Received)]);
    assert_eq!(states_after(&pair.cgw, 2), [(Up, Down)]);
    all_v1(&pair.aws, true);
    all_v1(&pair.cgw, false);

    // The refusal: an INFORMATIONAL exchange of its own (new M-ID), encrypted, HASH(1)
    // first, naming the ESP SPI the CGW offered.
    assert_eq!(pair.aws.sent.len(), 4);
    let info = &pair.aws.sent[3];
    let h = info.v1().header;
    assert_eq!(
        (h.exchange, h.flags.is_encrypted()),
        (ExchangeType::INFORMATIONAL, true)
    );
    let quick_mid = pair.cgw.sent[3].v1().header.message_id;
    assert!(h.message_id != 0 && h.message_id != quick_mid);
    let capture = V1Capture::of(&pair);
    let payloads = capture.open(&pair.aws.secrets, &info.bytes);
    assert!(
        matches!(&payloads[0], Payload::Hash(hash) if hash.len() == 32),
        "HASH(1): {payloads:?}"
    );
    let n = only_notification(&payloads);
    let offered = capture.open(&pair.cgw.secrets, &pair.cgw.sent[3].bytes);
    let offered_spi = sa_of(&offered).proposals[0].spi.clone();
    assert_eq!(
        (n.ty, n.protocol, &n.spi),
        (
            NotifyType::NO_PROPOSAL_CHOSEN,
            protocol::IPSEC_ESP,
            &offered_spi
        )
    );

    let ((ci, cr), _) = v1_ike_established(&pair.aws);
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Up, Down));
        assert_eq!(host.endpoint.ike_sas(), [(ci, cr)]);
        assert!(host.endpoint.child_sas().is_empty());
    }
}

/// The CGW's administrator takes the tunnel down: a DELETE for its IPsec SA, then one for
/// the ISAKMP SA, each in an encrypted informational. AWS sees both and keeps nothing.
///
/// ```text
/// CGW                                                AWS
///  |-- INFORMATIONAL* HASH(1) D(ESP, CGW's SPI) ------->|  ChildSaDeleteReceived{spi}   established/down
///  |-- INFORMATIONAL* HASH(1) D(ISAKMP, CKY-I|CKY-R) -->|  IkeSaDeleteReceived          down/down
///  ChildSaDeleteSent, IkeSaDeleteSent
/// ```
#[test]
fn cgw_deletes_the_ipsec_sa_and_the_isakmp_sa() {
    let mut pair = up(aws(), cgw(IKE, ESP_PFS));
    let ((ci, cr), _) = v1_ike_established(&pair.aws);
    let ((cgw_in, _), _) = v1_child_established(&pair.cgw);
    let aws_sent = pair.aws.sent.len();
    pair.act(Side::Cgw, |e, now| e.delete_ike_sas(now));
    run_for(&mut pair, Duration::from_secs(60));

    assert_eq!(
        kinds_after(&pair.cgw, 3),
        [
            EventKind::ChildSaDeleteSent { spi_in: cgw_in },
            EventKind::IkeSaDeleteSent
        ]
    );
    assert_eq!(states_after(&pair.cgw, 3), [(Up, Down), (Down, Down)]);
    assert_eq!(
        kinds_after(&pair.aws, 4),
        [
            EventKind::ChildSaDeleteReceived { spi: cgw_in },
            EventKind::IkeSaDeleteReceived
        ]
    );
    assert_eq!(states_after(&pair.aws, 4), [(Up, Down), (Down, Down)]);
    all_v1(&pair.aws, true);

    let capture = V1Capture::of(&pair);
    let deletes: Vec<Delete> = pair.cgw.sent[5..]
        .iter()
        .map(|d| {
            assert_eq!(exchange_and_e(d), (ExchangeType::INFORMATIONAL, true));
            only_delete(&capture.open(&pair.cgw.secrets, &d.bytes)).clone()
        })
        .collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(
        (deletes[0].protocol, deletes[0].spi_size),
        (protocol::IPSEC_ESP, 4)
    );
    assert_eq!(deletes[0].spis, [cgw_in.to_be_bytes().to_vec()]);
    assert_eq!(
        (
            deletes[1].protocol,
            deletes[1].spi_size,
            deletes[1].spis.len()
        ),
        (protocol::ISAKMP, 16, 1)
    );
    assert_eq!(cookies(&deletes[1].spis[0]), (ci, cr));

    // Nothing left, nothing answered (IKEv1 informationals are not acknowledged), no DPD.
    assert_eq!(pair.aws.sent.len(), aws_sent);
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Down, Down));
        assert!(host.endpoint.ike_sas().is_empty() && host.endpoint.child_sas().is_empty());
        assert_eq!(host.endpoint.poll_timeout(), None);
    }
}

/// The R-U-THEREs AWS sent from datagram `from` on: (time, M-ID, sequence number).
fn r_u_theres(pair: &Pair, from: usize, cookies_of_sa: (u64, u64)) -> Vec<(Duration, u32, u32)> {
    let capture = V1Capture::of(pair);
    pair.aws.sent[from..]
        .iter()
        .map(|d| {
            assert_eq!(exchange_and_e(d), (ExchangeType::INFORMATIONAL, true));
            let p = capture.open(&pair.aws.secrets, &d.bytes);
            let n = only_notification(&p);
            assert_eq!(
                (n.ty, n.protocol),
                (NotifyType::R_U_THERE, protocol::ISAKMP)
            );
            assert_eq!(
                n.cookies(),
                Some(cookies_of_sa),
                "the SPI names the ISAKMP SA"
            );
            (
                d.at,
                d.v1().header.message_id,
                n.dpd_sequence().expect("a 4-byte sequence number"),
            )
        })
        .collect()
}

/// The CGW goes silent: AWS sends R-U-THERE after 10 s without hearing from it, resends
/// it every 10 s and declares the peer dead when the DPD timeout (30 s) has passed since
/// the first — 40 s after the CGW's last message.
///
/// ```text
/// CGW (silent)                                   AWS
///  |-- QM3* ------------------------------------->|  t = 0.09: last heard
///  |  x<-- INFORMATIONAL* N(R-U-THERE, seq 1) ----|  t = 10.09
///  |  x<-- (the same, resent) --------------------|  t = 20.09
///  |  x<-- (the same, resent) --------------------|  t = 30.09
///  |                                              |  t = 40.09: DpdTimeout{2, clear}   down/down
/// ```
#[test]
fn dpd_declares_a_silent_cgw_dead() {
    let mut pair = up(aws(), cgw(IKE, ESP_PFS));
    let ((ci, cr), _) = v1_ike_established(&pair.aws);
    // Both sides announced DPD in main mode.
    assert!(vendor_ids(&plain(&pair.cgw.sent[0])).contains(&DPD_VID.to_vec()));
    assert!(vendor_ids(&plain(&pair.aws.sent[0])).contains(&DPD_VID.to_vec()));
    pair.cgw.drop = drop_all();
    run_for(&mut pair, Duration::from_secs(120));

    let probes = r_u_theres(&pair, 4, (ci, cr));
    let at: Vec<Duration> = probes.iter().map(|p| p.0).collect();
    assert_times(&at, &[secs(10.09), secs(20.09), secs(30.09)]);
    assert!(
        probes.iter().all(|p| (p.1, p.2) == (probes[0].1, 1)),
        "one R-U-THERE, resent as is: {probes:?}"
    );
    assert!(pair.aws.sent[4..]
        .iter()
        .all(|d| d.bytes == pair.aws.sent[4].bytes));

    assert_eq!(
        kinds_after(&pair.aws, 4),
        [EventKind::DpdTimeout {
            retransmits: 2,
            action: DpdAction::Clear
        }]
    );
    assert_times(&[pair.aws.events[4].0], &[secs(40.09)]);
    assert_eq!(states_after(&pair.aws, 4), [(Down, Down)]);
    all_v1(&pair.aws, true);
    assert!(pair.aws.endpoint.ike_sas().is_empty());
    assert_eq!(pair.aws.endpoint.poll_timeout(), None);
}

/// A CGW that answers: each R-U-THERE gets an R-U-THERE-ACK with the same sequence
/// number (RFC 3706 §5.1); AWS probes again 10 s after each answer, with the next
/// sequence number, and nothing else happens.
///
/// ```text
/// CGW                                             AWS
///  |<-- INFORMATIONAL* N(R-U-THERE, seq n) ---------|  t = 10.09, 20.11, 30.13, …
///  |--- INFORMATIONAL* N(R-U-THERE-ACK, seq n) ---->|  (no event)
/// ```
#[test]
fn dpd_answered_changes_nothing() {
    let mut pair = up(aws(), cgw(IKE, ESP_PFS));
    let ((ci, cr), _) = v1_ike_established(&pair.aws);
    run_for(&mut pair, Duration::from_secs(105));

    let probes = r_u_theres(&pair, 4, (ci, cr));
    assert_eq!(probes.len(), 10);
    let expected: Vec<Duration> = (0..10)
        .map(|k| secs(10.09 + 10.02 * f64::from(k)))
        .collect();
    assert_times(&probes.iter().map(|p| p.0).collect::<Vec<_>>(), &expected);
    let capture = V1Capture::of(&pair);
    let acks: Vec<(Duration, u32)> = pair.cgw.sent[5..]
        .iter()
        .map(|d| {
            assert_eq!(exchange_and_e(d), (ExchangeType::INFORMATIONAL, true));
            let p = capture.open(&pair.cgw.secrets, &d.bytes);
            let n = only_notification(&p);
            assert_eq!(
                (n.ty, n.protocol, n.cookies()),
                (NotifyType::R_U_THERE_ACK, protocol::ISAKMP, Some((ci, cr)))
            );
            (d.at, n.dpd_sequence().expect("sequence number"))
        })
        .collect();
    assert_eq!(acks.len(), probes.len());
    for (k, (probe, ack)) in probes.iter().zip(&acks).enumerate() {
        assert_eq!(
            probe.2,
            u32::try_from(k).unwrap() + 1,
            "sequence numbers count up"
        );
        assert_eq!(ack.1, probe.2, "the ACK echoes the sequence number");
        assert_eq!(ack.0 - probe.0, ms(10), "answered on arrival");
    }

    assert_eq!(pair.aws.events.len(), 4, "{:?}", pair.aws.kinds());
    assert_eq!(pair.cgw.events.len(), 3, "{:?}", pair.cgw.kinds());
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Up, Up));
    }
}

/// A CGW that does not announce DPD (no RFC 3706 vendor ID in message 1): AWS must not
/// probe it, so a silent CGW is never declared dead, and AWS's events say DPD is off.
///
/// ```text
/// CGW (no DPD vendor ID)                      AWS
///  |-- MM1 SA VID(RFC 3947) ----------------->|  dpd_enabled = false
///  |<- MM2 SA VID(DPD) VID(RFC 3947) ----------|
///  … established, then silent for 120 s: no R-U-THERE, no DpdTimeout
/// ```
#[test]
fn no_dpd_without_the_vendor_id() {
    let mut quiet = cgw(IKE, ESP_PFS);
    quiet.impair.no_dpd_vendor_id = true;
    let mut pair = up(aws(), quiet);
    assert_eq!(vendor_ids(&plain(&pair.cgw.sent[0])), [NAT_T_VID.to_vec()]);
    assert_eq!(
        vendor_ids(&plain(&pair.aws.sent[0])),
        [DPD_VID.to_vec(), NAT_T_VID.to_vec()],
        "AWS still does DPD"
    );
    pair.cgw.drop = drop_all();
    run_for(&mut pair, Duration::from_secs(120));

    assert_eq!(pair.aws.events.len(), 4, "{:?}", pair.aws.kinds());
    all_v1(&pair.aws, false);
    assert_eq!(pair.aws.sent.len(), 4, "no R-U-THERE");
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
}

/// A phase 2 rekey by the CGW: a new quick mode for the same selectors (IKEv1 has no
/// REKEY_SA), then a DELETE for the old IPsec SA.
///
/// ```text
/// CGW (rekeys at 3,600 − 900 s)                       AWS
///  |-- QM1* HASH(1) SA(new SPI) Ni KE IDs ------------->|  ChildSaNegotiating
///  |<- QM2* HASH(2) SA(new SPI) Nr KE IDs --------------|
///  ChildSaRekeyed, ChildSaDeleteSent(old)
///  |-- QM3* HASH(3) ----------------------------------->|  ChildSaRekeyed
///  |-- INFORMATIONAL* HASH(1) D(ESP, old SPI) --------->|  ChildSaDeleteReceived(old)
///                                      (all established/established)
/// ```
#[test]
fn phase2_rekey_by_the_cgw() {
    let mut c = cgw(IKE, ESP_PFS);
    c.lifetimes = lifetimes(28_800, 3_600, 900);
    let mut pair = up(aws(), c);
    traffic_flows(&mut pair);
    let ((ci, cr), _) = v1_ike_established(&pair.aws);
    let ((aws_old, _), _) = v1_child_established(&pair.aws);
    let ((cgw_old, _), _) = v1_child_established(&pair.cgw);
    run_for(&mut pair, Duration::from_secs(3_000));

    let [(aws_new, aws_out)] = pair.aws.endpoint.child_sas()[..] else {
        panic!("one IPsec SA at AWS")
    };
    assert_eq!(pair.cgw.endpoint.child_sas(), [(aws_out, aws_new)]);
    assert!(aws_new != aws_old && aws_out != cgw_old);
    assert_eq!(
        kinds_after(&pair.cgw, 3),
        [
            EventKind::ChildSaRekeyed {
                old_spi_in: cgw_old,
                spi_in: aws_out,
                spi_out: aws_new
            },
            EventKind::ChildSaDeleteSent { spi_in: cgw_old },
        ]
    );
    assert_eq!(
        kinds_after(&pair.aws, 4),
        [
            EventKind::ChildSaNegotiating,
            EventKind::ChildSaRekeyed {
                old_spi_in: aws_old,
                spi_in: aws_new,
                spi_out: aws_out
            },
            EventKind::ChildSaDeleteReceived { spi: cgw_old },
        ]
    );
    for host in [&pair.aws, &pair.cgw] {
        assert!(
            host.states().iter().skip(3).all(|s| *s == (Up, Up)),
            "{:?}",
            host.states()
        );
        assert_eq!(
            host.endpoint.ike_sas(),
            [(ci, cr)],
            "the ISAKMP SA is untouched"
        );
    }
    assert_times(&[pair.aws.events[4].0], &[secs(0.08 + 2_700.0 + 0.01)]);

    // On the wire: quick mode 1–3 under the same ISAKMP SA with a new M-ID, PFS again,
    // then the DELETE in an informational of its own.
    let capture = V1Capture::of(&pair);
    let c = &pair.cgw.sent[5..];
    let wire: Vec<_> = c.iter().map(exchange_and_e).collect();
    let (qm, info) = (ExchangeType::QUICK_MODE, ExchangeType::INFORMATIONAL);
    assert_eq!(wire, [(qm, true), (qm, true), (info, true)]);
    let qm1 = capture.open(&pair.cgw.secrets, &c[0].bytes);
    assert_eq!(sa_of(&qm1).proposals[0].spi_u32(), Some(aws_out));
    assert_eq!(ke_of(&qm1).map(Vec::len), Some(256));
    assert_ne!(
        c[0].v1().header.message_id,
        pair.cgw.sent[3].v1().header.message_id
    );
    let delete = only_delete(&capture.open(&pair.cgw.secrets, &c[2].bytes)).clone();
    assert_eq!(
        (delete.protocol, delete.spis),
        (protocol::IPSEC_ESP, vec![cgw_old.to_be_bytes().to_vec()])
    );
}

/// A phase 2 rekey by AWS (the CGW's margin is shorter than AWS's 270 s): AWS runs the
/// quick mode as its initiator although it is main mode's responder.
///
/// ```text
/// CGW                                                 AWS (rekeys at 3,600 − 270 − fuzz)
///  |<- QM1* HASH(1) SA(new SPI) Ni KE IDs --------------|
///  |-- QM2* HASH(2) SA(new SPI) Nr KE IDs ------------->|  ChildSaRekeyed, ChildSaDeleteSent(old)
///  |<- QM3* HASH(3) ------------------------------------|
///  ChildSaNegotiating … ChildSaRekeyed
///  |<- INFORMATIONAL* HASH(1) D(ESP, AWS's old SPI) ----|
///  ChildSaDeleteReceived(old)
/// ```
#[test]
fn phase2_rekey_by_aws() {
    let mut c = cgw(IKE, ESP_PFS);
    c.lifetimes = lifetimes(28_800, 3_600, 60);
    let mut pair = up(aws(), c);
    traffic_flows(&mut pair);
    let ((aws_old, _), _) = v1_child_established(&pair.aws);
    let ((cgw_old, _), _) = v1_child_established(&pair.cgw);
    run_for(&mut pair, Duration::from_secs(3_400));

    let [(aws_new, aws_out)] = pair.aws.endpoint.child_sas()[..] else {
        panic!("one IPsec SA at AWS")
    };
    assert_eq!(pair.cgw.endpoint.child_sas(), [(aws_out, aws_new)]);
    assert_eq!(
        kinds_after(&pair.aws, 4),
        [
            EventKind::ChildSaRekeyed {
                old_spi_in: aws_old,
                spi_in: aws_new,
                spi_out: aws_out
            },
            EventKind::ChildSaDeleteSent { spi_in: aws_old },
        ]
    );
    assert_eq!(
        kinds_after(&pair.cgw, 3),
        [
            EventKind::ChildSaNegotiating,
            EventKind::ChildSaRekeyed {
                old_spi_in: cgw_old,
                spi_in: aws_out,
                spi_out: aws_new
            },
            EventKind::ChildSaDeleteReceived { spi: aws_old },
        ]
    );
    let rekeyed = pair.aws.events[4].0;
    assert!(
        (secs(3_060.0)..=secs(3_330.1)).contains(&rekeyed),
        "AWS's margin and fuzz: {rekeyed:?}"
    );
    // AWS started it: its first datagram after main mode is a quick mode 1.
    let capture = V1Capture::of(&pair);
    let a = &pair.aws.sent[4..];
    let wire: Vec<_> = a.iter().map(exchange_and_e).collect();
    let (qm, info) = (ExchangeType::QUICK_MODE, ExchangeType::INFORMATIONAL);
    assert_eq!(wire, [(qm, true), (qm, true), (info, true)]);
    let qm1 = capture.open(&pair.aws.secrets, &a[0].bytes);
    assert_eq!(
        types(&qm1)[..4],
        [
            PayloadType::HASH,
            PayloadType::SA,
            PayloadType::NONCE,
            PayloadType::KE
        ]
    );
    let delete = only_delete(&capture.open(&pair.aws.secrets, &a[2].bytes)).clone();
    assert_eq!(delete.spis, [aws_old.to_be_bytes().to_vec()]);
}

/// A phase 1 rekey by the CGW: a whole new main mode with new cookies; the IPsec SA moves
/// to the new ISAKMP SA and the CGW deletes the old one. The next quick mode (the IPsec
/// SA's own rekey) runs under the new ISAKMP SA — at both ends.
///
/// ```text
/// CGW (phase 1 rekey at 1,800 − 600 s)               AWS
///  |== MM1 … MM6, new cookies =========================>|  IkeSaNegotiating(new), IkeSaEstablished(new)
///  IkeSaRekeyed(new), IkeSaDeleteSent
///  |-- INFORMATIONAL*(old SA) D(ISAKMP, old cookies) --->|  IkeSaDeleteReceived
///  … t = 2,000 − 600 s: the IPsec SA's rekey
///  |-- QM1* (new cookies) ------------------------------>|  ChildSaNegotiating
///  |<- QM2* --------------------------------------------|
///  |-- QM3* ------------------------------------------->|  ChildSaRekeyed
///  |-- INFORMATIONAL* D(ESP, old SPI) ------------------>|  ChildSaDeleteReceived
/// ```
#[test]
fn phase1_rekey_by_the_cgw() {
    let mut c = cgw(IKE, ESP_PFS);
    c.lifetimes = lifetimes(1_800, 2_000, 600);
    let mut pair = up(aws(), c);
    traffic_flows(&mut pair);
    let (old, _) = v1_ike_established(&pair.aws);
    let ((aws_spi_in, aws_spi_out), _) = v1_child_established(&pair.aws);
    run_for(&mut pair, Duration::from_secs(1_300));

    let [new] = pair.aws.endpoint.ike_sas()[..] else {
        panic!("one ISAKMP SA at AWS")
    };
    assert_ne!(new, old);
    assert_eq!(pair.cgw.endpoint.ike_sas(), [new]);
    assert_eq!(
        pair.aws.endpoint.child_sas(),
        [(aws_spi_in, aws_spi_out)],
        "the IPsec SA carried over"
    );
    assert_eq!(pair.cgw.endpoint.child_sas(), [(aws_spi_out, aws_spi_in)]);
    let (new_i, new_r) = new;
    assert_eq!(
        kinds_after(&pair.cgw, 3),
        [
            // The replacing main mode starts: the old ISAKMP SA is rekeying.
            EventKind::IkeSaRekeying {
                spi_i: old.0,
                spi_r: old.1
            },
            EventKind::IkeSaRekeyed {
                spi_i: new_i,
                spi_r: new_r
            },
            EventKind::IkeSaDeleteSent
        ]
    );
    assert_eq!(states_after(&pair.cgw, 3)[0], (Rekeying, Up));
    let aws_new = kinds_after(&pair.aws, 4);
    assert!(
        matches!(aws_new[0], EventKind::IkeSaNegotiating { spi_i, spi_r } if (spi_i, spi_r) == new)
    );
    assert!(
        matches!(aws_new[1], EventKind::IkeSaEstablished { spi_i, spi_r, .. } if (spi_i, spi_r) == new)
    );
    assert_eq!(aws_new[2..], [EventKind::IkeSaDeleteReceived]);
    for host in [&pair.aws, &pair.cgw] {
        assert!(
            host.states()
                .iter()
                .skip(3)
                .all(|s| matches!(s, (Up | Rekeying, Up))),
            "the tunnel stays up: {:?}",
            host.states()
        );
    }
    assert_times(&[pair.aws.events[4].0], &[secs(0.06 + 1_200.0 + 0.01)]);

    // The wire: six main mode messages with the new cookies (the first without CKY-R),
    // then the DELETE under the old ones.
    let c = &pair.cgw.sent[5..];
    let last = c.last().expect("the DELETE").v1().header;
    assert_eq!(
        (last.exchange, last.cky_i, last.cky_r),
        (ExchangeType::INFORMATIONAL, old.0, old.1),
        "the old SA's DELETE goes under its own cookies"
    );
    let capture = V1Capture::of(&pair);
    let delete = only_delete(&capture.open(&pair.cgw.secrets, &c[c.len() - 1].bytes)).clone();
    assert_eq!(
        (delete.protocol, cookies(&delete.spis[0])),
        (protocol::ISAKMP, old)
    );
    let mm: Vec<_> = pair.cgw.sent[5..8]
        .iter()
        .chain(&pair.aws.sent[4..7])
        .map(|d| d.v1().header)
        .collect();
    assert!(mm
        .iter()
        .all(|h| h.exchange == ExchangeType::IDENTITY_PROTECTION && h.cky_i == new_i));
    assert_eq!(mm[0].cky_r, 0);

    // The IPsec SA's rekey runs under the new ISAKMP SA, and AWS finds the SA it replaces there.
    run_for(&mut pair, Duration::from_secs(200));
    let kinds = kinds_after(&pair.aws, 7);
    assert!(
        matches!(kinds[0], EventKind::ChildSaNegotiating),
        "{kinds:?}"
    );
    assert!(
        matches!(kinds[1], EventKind::ChildSaRekeyed { old_spi_in, .. } if old_spi_in == aws_spi_in),
        "{kinds:?}"
    );
    assert!(
        matches!(kinds[2..], [EventKind::ChildSaDeleteReceived { .. }]),
        "{kinds:?}"
    );
    let qm1 = pair.cgw.sent[9].v1().header;
    assert_eq!(
        (qm1.exchange, qm1.cky_i, qm1.cky_r),
        (ExchangeType::QUICK_MODE, new_i, new_r)
    );
    let [(rekeyed_in, rekeyed_out)] = pair.aws.endpoint.child_sas()[..] else {
        panic!("one IPsec SA at AWS")
    };
    assert_eq!(pair.cgw.endpoint.child_sas(), [(rekeyed_out, rekeyed_in)]);
}

/// A phase 1 rekey by AWS (the CGW's margin is shorter): AWS, main mode's responder so
/// far, initiates the new main mode. The CGW learns that the old ISAKMP SA is replaced
/// from its DELETE, and moves the IPsec SA over then. When the CGW's administrator ends
/// the tunnel afterwards, its DELETEs go under the new ISAKMP SA, where AWS finds both SAs.
///
/// ```text
/// CGW                                                AWS (rekeys at 1,800 − 270 − fuzz)
///  |<= MM1 … MM6, new cookies (AWS initiates) =========|  IkeSaRekeyed(new), IkeSaDeleteSent
///  IkeSaNegotiating(new), IkeSaEstablished(new)
///  |<- INFORMATIONAL*(old SA) D(ISAKMP, old cookies) --|
///  IkeSaDeleteReceived (the IPsec SA moves to the new SA)
///  … terminate:
///  |-- INFORMATIONAL*(new SA) D(ESP) ------------------>|  ChildSaDeleteReceived
///  |-- INFORMATIONAL*(new SA) D(ISAKMP, new cookies) -->|  IkeSaDeleteReceived
/// ```
#[test]
fn phase1_rekey_by_aws() {
    let mut c = cgw(IKE, ESP_PFS);
    c.lifetimes = lifetimes(1_800, 3_600, 60);
    let mut pair = up(aws(), c);
    traffic_flows(&mut pair);
    let (old, _) = v1_ike_established(&pair.aws);
    let ((aws_spi_in, aws_spi_out), _) = v1_child_established(&pair.aws);
    let ((cgw_spi_in, _), _) = v1_child_established(&pair.cgw);
    run_for(&mut pair, Duration::from_secs(1_600));

    let [new] = pair.aws.endpoint.ike_sas()[..] else {
        panic!("one ISAKMP SA at AWS")
    };
    assert_ne!(new, old);
    assert_eq!(pair.cgw.endpoint.ike_sas(), [new]);
    assert_eq!(pair.aws.endpoint.child_sas(), [(aws_spi_in, aws_spi_out)]);
    assert_eq!(pair.cgw.endpoint.child_sas(), [(aws_spi_out, aws_spi_in)]);
    assert_eq!(
        kinds_after(&pair.aws, 4),
        [
            // The replacing main mode starts: the old ISAKMP SA is rekeying.
            EventKind::IkeSaRekeying {
                spi_i: old.0,
                spi_r: old.1
            },
            EventKind::IkeSaRekeyed {
                spi_i: new.0,
                spi_r: new.1
            },
            EventKind::IkeSaDeleteSent
        ]
    );
    assert_eq!(states_after(&pair.aws, 4)[0], (Rekeying, Up));
    let cgw_new = kinds_after(&pair.cgw, 3);
    assert!(
        matches!(cgw_new[0], EventKind::IkeSaNegotiating { spi_i, spi_r } if (spi_i, spi_r) == new)
    );
    assert!(
        matches!(cgw_new[1], EventKind::IkeSaEstablished { spi_i, spi_r, .. } if (spi_i, spi_r) == new)
    );
    assert_eq!(cgw_new[2..], [EventKind::IkeSaDeleteReceived]);
    for host in [&pair.aws, &pair.cgw] {
        assert!(
            host.states()
                .iter()
                .skip(3)
                .all(|s| matches!(s, (Up | Rekeying, Up))),
            "the tunnel stays up: {:?}",
            host.states()
        );
    }
    let rekeyed = pair.aws.events[4].0;
    assert!(
        (secs(1_260.0)..=secs(1_530.1)).contains(&rekeyed),
        "AWS's margin and fuzz: {rekeyed:?}"
    );
    // AWS's cookie is now CKY-I: its new main mode's first message has no CKY-R.
    let mm1 = pair.aws.sent[4].v1().header;
    assert_eq!(
        (mm1.exchange, mm1.cky_i, mm1.cky_r),
        (ExchangeType::IDENTITY_PROTECTION, new.0, 0)
    );

    let (aws_events, aws_sent) = (pair.aws.events.len(), pair.aws.sent.len());
    pair.act(Side::Cgw, |e, now| e.delete_ike_sas(now));
    run_for(&mut pair, Duration::from_secs(1));
    assert_eq!(
        kinds_after(&pair.aws, aws_events),
        [
            EventKind::ChildSaDeleteReceived { spi: cgw_spi_in },
            EventKind::IkeSaDeleteReceived
        ]
    );
    let deletes: Vec<_> = pair.cgw.sent[pair.cgw.sent.len() - 2..]
        .iter()
        .map(|d| d.v1().header)
        .collect();
    assert!(deletes.iter().all(|h| (h.cky_i, h.cky_r) == new));
    assert_eq!(pair.aws.sent.len(), aws_sent);
    assert_eq!(pair.aws.endpoint.phase_states(), (Down, Down));
}

/// Lost datagrams: AWS's main mode 2, 4 and 6 are each lost once, and so is the CGW's
/// quick mode 3. The CGW resends 1, 3 and 5 after 4 s; AWS answers each from its cache
/// (bitwise the same answer, no second SA). AWS resends quick mode 2 until quick mode 3
/// arrives, and the CGW answers that from its cache too.
///
/// ```text
/// CGW                                           AWS
///  |-- MM1 --------------------------------------->|  0.01  IkeSaNegotiating
///  |        X------------------------------- MM2 --|
///  |-- MM1 (rtx, t = 4) ------------------------->|        (cached MM2)
///  |<-------------------------------------- MM2 --|
///  |-- MM3 --------------------------------------->|
///  |        X------------------------------- MM4 --|
///  |-- MM3 (rtx, t = 8.02) ---------------------->|        (cached MM4)
///  |<-------------------------------------- MM4 --|
///  |-- MM5* -------------------------------------->|  8.05  IkeSaEstablished
///  |        X------------------------------ MM6* --|
///  |-- MM5* (rtx, t = 12.04) -------------------->|        (cached MM6)
///  |<------------------------------------- MM6* --|
///  |-- QM1* -------------------------------------->|  12.07 ChildSaNegotiating
///  |<------------------------------------- QM2* --|
///  |-- QM3* ----------------------X                |
///  |<----------------------- QM2* (rtx, t = 16.07) |
///  |-- QM3* (cached) ----------------------------->|  16.09 ChildSaEstablished
/// ```
#[test]
fn retransmissions_recover_every_lost_message() {
    let mut pair = Pair::new(aws(), cgw(IKE, ESP_PFS), 1, 2);
    pair.aws.drop = drop_nth(&[0, 2, 4]);
    pair.cgw.drop = drop_nth(&[7]);
    pair.initiate();
    run_for(&mut pair, Duration::from_secs(20));

    let (c, a) = (&pair.cgw.sent, &pair.aws.sent);
    assert_times(
        &pair.cgw.send_times(),
        &[
            secs(0.0),
            secs(4.0),
            secs(4.02),
            secs(8.02),
            secs(8.04),
            secs(12.04),
            secs(12.06),
            secs(12.08),
            secs(16.08),
        ],
    );
    assert_times(
        &pair.aws.send_times(),
        &[
            secs(0.01),
            secs(4.01),
            secs(4.03),
            secs(8.03),
            secs(8.05),
            secs(12.05),
            secs(12.07),
            secs(16.07),
        ],
    );
    for (x, y) in [(0, 1), (2, 3), (4, 5), (7, 8)] {
        assert_eq!(c[x].bytes, c[y].bytes, "the CGW's datagrams {x} and {y}");
    }
    for (x, y) in [(0, 1), (2, 3), (4, 5), (6, 7)] {
        assert_eq!(a[x].bytes, a[y].bytes, "AWS's datagrams {x} and {y}");
    }
    assert_eq!(exchange_and_e(&a[7]), (ExchangeType::QUICK_MODE, true));
    assert_eq!(exchange_and_e(&c[8]), (ExchangeType::QUICK_MODE, true));

    assert!(matches!(
        pair.aws.kinds()[..],
        [
            EventKind::IkeSaNegotiating { .. },
            EventKind::IkeSaEstablished { .. },
            EventKind::ChildSaNegotiating,
            EventKind::ChildSaEstablished { .. }
        ]
    ));
    let at = |h: &Host| h.events.iter().map(|(t, _)| *t).collect::<Vec<_>>();
    assert_times(
        &at(&pair.aws),
        &[secs(0.01), secs(8.05), secs(12.07), secs(16.09)],
    );
    assert_eq!(
        pair.aws.states(),
        [(Negotiating, Down), (Up, Down), (Up, Negotiating), (Up, Up)]
    );
    assert_times(&at(&pair.cgw), &[secs(0.0), secs(12.06), secs(12.08)]);
    assert_eq!(
        pair.cgw.states(),
        [(Negotiating, Down), (Up, Down), (Up, Up)]
    );
    let ((aws_in, aws_out), _) = v1_child_established(&pair.aws);
    assert_eq!(pair.cgw.endpoint.child_sas(), [(aws_out, aws_in)]);
    assert_eq!(pair.aws.endpoint.child_sas(), [(aws_in, aws_out)]);

    let (aws, cgw) = (pair.aws.endpoint.stats(), pair.cgw.endpoint.stats());
    assert_eq!(
        (aws.retransmits, cgw.retransmits),
        (4, 4),
        "three cached answers and one resend each"
    );
    assert_eq!(
        (
            aws.unmatched,
            aws.integrity_failures,
            cgw.unmatched,
            cgw.integrity_failures
        ),
        (0, 0, 0, 0)
    );
}

/// Aggressive mode (RFC 2409 §5.4 with a PSK): AWS offers main mode only and answers with
/// UNSUPPORTED-EXCHANGE-TYPE, keeping nothing; the CGW can still come up in main mode.
///
/// ```text
/// CGW                                                        AWS
///  |-- AGGRESSIVE SA KE Ni IDii VID(DPD) VID(RFC 3947) --------->|
///  |<- INFORMATIONAL N(UNSUPPORTED-EXCHANGE-TYPE) (clear) -------|  no event, no SA, no timer
///  |-- AGGRESSIVE (again) -------------------------------------->|
///  |<- INFORMATIONAL N(UNSUPPORTED-EXCHANGE-TYPE) (clear) -------|
///  |== main mode + quick mode ==================================>|  established
/// ```
#[test]
fn aggressive_mode_is_refused() {
    let mut pair = Pair::new(aws(), cgw(IKE, ESP_PFS), 1, 2);
    // The CGW's main mode 1 turned into aggressive mode 1: its SA, a KE of the group,
    // a nonce and its ID.
    let mut probe = Pair::new(aws(), cgw(IKE, ESP_PFS), 1, 9);
    probe.cgw.drop = drop_all();
    probe.initiate();
    let mm1 = probe.cgw.sent[0].v1();
    let mut payloads = vec![
        Payload::Sa(sa_of(mm1.payloads()).clone()),
        Payload::Ke(vec![0x5a; 256]),
        Payload::Nonce(vec![7; 32]),
        Payload::Id(Id::from_ip(addr(CGW_ADDR).ip())),
    ];
    payloads.extend(
        mm1.payloads()
            .iter()
            .filter(|p| matches!(p, Payload::VendorId(_)))
            .cloned(),
    );
    let header = v1::Header {
        exchange: ExchangeType::AGGRESSIVE,
        ..mm1.header
    };
    let aggressive = v1::Message {
        header,
        body: Body::Plain(payloads),
    }
    .encode();

    for round in 1..=2 {
        pair.inject(Side::Aws, &aggressive);
        assert_eq!(pair.aws.sent.len(), round);
        let answer = pair.aws.sent[round - 1].v1();
        let h = answer.header;
        assert_eq!(
            (h.exchange, h.flags.is_encrypted(), h.message_id),
            (ExchangeType::INFORMATIONAL, false, 0)
        );
        assert_eq!((h.cky_i, h.cky_r), (mm1.header.cky_i, 0));
        let n = only_notification(answer.payloads());
        assert_eq!(
            (n.ty, n.protocol),
            (NotifyType::UNSUPPORTED_EXCHANGE_TYPE, protocol::ISAKMP)
        );
        assert!(pair.aws.events.is_empty(), "{:?}", pair.aws.kinds());
        assert!(pair.aws.endpoint.ike_sas().is_empty());
        assert_eq!(pair.aws.endpoint.phase_states(), (Down, Down));
        assert_eq!(pair.aws.endpoint.poll_timeout(), None);
    }
    assert_eq!(pair.aws.endpoint.stats().unmatched, 2);

    // The refusal is AWS's policy, not IKEv1's: an endpoint without it (the simulated CGW)
    // drops the request and counts it, and answers nothing.
    pair.inject(Side::Cgw, &aggressive);
    assert!(pair.cgw.sent.is_empty(), "{:?}", pair.cgw.sent.len());
    assert_eq!(pair.cgw.endpoint.stats().unmatched, 1);

    pair.initiate();
    run_for(&mut pair, Duration::from_secs(1));
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
    assert_eq!(pair.cgw.endpoint.phase_states(), (Up, Up));
}
