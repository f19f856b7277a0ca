//! An AWS tunnel endpoint (responder) and a CGW (initiator) negotiating over a simulated
//! network on a virtual clock (quinn-proto's pair tests; strongSwan's exchange tests for
//! the sequence diagrams). Assertions are on what a user sees: events with their phase
//! states, and the datagrams on the wire (decrypted with the exported IKE SA keys where
//! the content matters).

mod common;

use std::time::Duration;

use common::*;
use ike_core::ts::parse_cidr;
use ike_core::{
    ChildFailure, Direction, EndpointConfig, EventKind, PeerIncompatible, PeerMisbehaved,
    ProposalKind, SaState, Selected,
};
use ike_wire::{
    Delete, DhGroup, EncrId, ExchangeType, Identification, Message, Notify, NotifyType, Payload,
    PrfId, ProtocolId, TrafficSelector,
};

use SaState::{Down, Established as Up, Negotiating};

const IKE_GCM: &str = "aes256gcm16-prfsha384-ecp384";
const ESP_GCM: &str = "aes256gcm16";
const IKE_CBC: &str = "aes128-sha256-ecp256";
const ESP_CBC: &str = "aes128-sha256";

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

fn cidr(s: &str) -> TrafficSelector {
    parse_cidr(s).expect("literal CIDR")
}

fn default_pair(aws_seed: u64, cgw_seed: u64) -> Pair {
    Pair::new(
        aws_config(PSK, None, None),
        cgw_config(PSK, &[IKE_GCM], &[ESP_GCM]),
        aws_seed,
        cgw_seed,
    )
}

fn run(aws: EndpointConfig, cgw: EndpointConfig) -> Pair {
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.initiate();
    pair.drive();
    pair
}

/// The IKE SA's SPIs and the CHILD SA's inbound/outbound SPIs one side reported.
fn spis(host: &Host) -> ((u64, u64), (u32, u32)) {
    let ike = host.events.iter().find_map(|(_, e)| match e.kind {
        EventKind::IkeSaEstablished { spi_i, spi_r, .. } => Some((spi_i, spi_r)),
        _ => None,
    });
    let child = host.events.iter().find_map(|(_, e)| match e.kind {
        EventKind::ChildSaEstablished {
            spi_in, spi_out, ..
        } => Some((spi_in, spi_out)),
        _ => None,
    });
    (
        ike.expect("IKE SA established"),
        child.expect("CHILD SA established"),
    )
}

fn selected(host: &Host) -> Selected {
    host.events
        .iter()
        .find_map(|(_, e)| match e.kind {
            EventKind::IkeSaEstablished { selected, .. } => Some(selected),
            _ => None,
        })
        .expect("IKE SA established")
}

fn last_state(host: &Host) -> (SaState, SaState) {
    *host.merged.last().expect("an event")
}

fn header_of(bytes: &[u8]) -> (ExchangeType, bool, bool, u32) {
    let h = Message::parse(bytes).expect("parses").header;
    (
        h.exchange,
        h.flags.is_initiator(),
        h.flags.is_response(),
        h.message_id,
    )
}

fn nonce(msg: &Message) -> Vec<u8> {
    msg.payloads
        .iter()
        .find_map(|p| {
            if let Payload::Nonce(n) = p {
                Some(n.clone())
            } else {
                None
            }
        })
        .expect("Nonce")
}

fn ke(msg: &Message) -> ike_wire::KeyExchange {
    msg.payloads
        .iter()
        .find_map(|p| {
            if let Payload::Ke(k) = p {
                Some(k.clone())
            } else {
                None
            }
        })
        .expect("KE")
}

fn only_notify(msg: &Message) -> &Notify {
    match msg.payloads.as_slice() {
        [Payload::Notify(n)] => n,
        other => panic!("expected a lone notify, got {other:?}"),
    }
}

fn ts_of(payloads: &[Payload]) -> (Vec<TrafficSelector>, Vec<TrafficSelector>) {
    let tsi = payloads.iter().find_map(|p| {
        if let Payload::TsI(t) = p {
            Some(t.clone())
        } else {
            None
        }
    });
    let tsr = payloads.iter().find_map(|p| {
        if let Payload::TsR(t) = p {
            Some(t.clone())
        } else {
            None
        }
    });
    (tsi.expect("TSi"), tsr.expect("TSr"))
}

/// The tunnel comes up in two round trips and both sides agree on every SPI.
///
/// ```text
/// CGW (initiator)                                  AWS (responder)
///  |--- IKE_SA_INIT  SA KE Ni N(NAT_D) x2 --------->|  IkeSaNegotiating    negotiating/down
///  |<-- IKE_SA_INIT  SA KE Nr N(NAT_D) x2 ----------|
///  |--- IKE_AUTH  SK{IDi N(INITIAL_CONTACT) AUTH    |
///  |               SA TSi TSr} -------------------->|  IkeSaEstablished    established/negotiating
///  |                                                |  ChildSaEstablished  established/established
///  |<-- IKE_AUTH  SK{IDr AUTH SA TSi TSr} ----------|
///  IkeSaEstablished, ChildSaEstablished
/// ```
#[test]
fn happy_path() {
    let mut pair = default_pair(1, 2);
    pair.initiate();
    pair.drive();

    let ((spi_i, spi_r), (aws_in, aws_out)) = spis(&pair.aws);
    let ((cgw_spi_i, cgw_spi_r), (cgw_in, cgw_out)) = spis(&pair.cgw);
    assert_eq!(
        (spi_i, spi_r),
        (cgw_spi_i, cgw_spi_r),
        "both sides name the IKE SA alike"
    );
    assert_ne!(spi_r, 0);
    assert_eq!(
        (aws_in, aws_out),
        (cgw_out, cgw_in),
        "each side sends with the SPI the other receives with"
    );

    let ike = selected(&pair.aws);
    assert_eq!(ike, selected(&pair.cgw));
    assert_eq!(
        (ike.encryption.id, ike.encryption.key_bits),
        (EncrId::AES_GCM_16, Some(256))
    );
    assert_eq!(
        (ike.integrity, ike.prf, ike.dh),
        (None, Some(PrfId::HMAC_SHA2_384), Some(DhGroup::ECP_384))
    );

    // The responder's records: negotiating → established/negotiating → established/established.
    let aws = pair.aws.kinds();
    assert!(
        matches!(aws[0], EventKind::IkeSaNegotiating { spi_i: i, spi_r: r } if (i, r) == (spi_i, spi_r))
    );
    assert!(matches!(aws[1], EventKind::IkeSaEstablished { .. }));
    assert!(matches!(aws[2], EventKind::ChildSaEstablished { spi_in, .. } if spi_in == aws_in));
    assert_eq!(aws.len(), 3, "{aws:?}");
    assert_eq!(
        pair.aws.states(),
        [(Negotiating, Down), (Up, Negotiating), (Up, Up)]
    );
    // The initiator does not know the responder's SPI when it starts.
    let cgw = pair.cgw.kinds();
    assert!(matches!(cgw[0], EventKind::IkeSaNegotiating { spi_i: i, spi_r: 0 } if i == spi_i));
    assert_eq!(cgw.len(), 3, "{cgw:?}");
    assert_eq!(
        pair.cgw.states(),
        [(Negotiating, Down), (Up, Negotiating), (Up, Up)]
    );

    // Each side knows at the end of its last exchange: AWS after 1.5 round trips, the CGW after 2.
    let times = |h: &Host| h.events.iter().map(|(t, _)| *t).collect::<Vec<_>>();
    assert_eq!(times(&pair.aws), [ms(10), ms(30), ms(30)]);
    assert_eq!(times(&pair.cgw), [ms(0), ms(40), ms(40)]);

    // Four datagrams, and IKE_AUTH travels inside an SK payload.
    let wire: Vec<_> = [
        &pair.cgw.sent[0],
        &pair.aws.sent[0],
        &pair.cgw.sent[1],
        &pair.aws.sent[1],
    ]
    .iter()
    .map(|d| header_of(&d.bytes))
    .collect();
    assert_eq!(
        wire,
        [
            (ExchangeType::IKE_SA_INIT, true, false, 0),
            (ExchangeType::IKE_SA_INIT, false, true, 0),
            (ExchangeType::IKE_AUTH, true, false, 1),
            (ExchangeType::IKE_AUTH, false, true, 1),
        ]
    );
    assert_eq!((pair.cgw.sent.len(), pair.aws.sent.len()), (2, 2));
    let response = decrypt(&pair.cgw.secrets, &pair.aws.sent[1].bytes);
    let sa = response
        .iter()
        .find_map(|p| {
            if let Payload::Sa(s) = p {
                Some(s)
            } else {
                None
            }
        })
        .expect("SAr2");
    assert_eq!(sa.len(), 1);
    assert_eq!(
        (sa[0].protocol, sa[0].spi.as_slice()),
        (ProtocolId::ESP, &aws_in.to_be_bytes()[..])
    );
    assert!(response.iter().any(|p| matches!(p, Payload::IdR(_))));
    assert!(response.iter().any(|p| matches!(p, Payload::Auth(_))));
    assert_eq!(
        ts_of(&response),
        (vec![cidr("0.0.0.0/0")], vec![cidr("0.0.0.0/0")])
    );

    // AWS identifies both ends by their IP addresses; the CGW claims a first contact.
    let request = decrypt(&pair.aws.secrets, &pair.cgw.sent[1].bytes);
    let idi = request.iter().find_map(|p| {
        if let Payload::IdI(i) = p {
            Some(i.clone())
        } else {
            None
        }
    });
    assert_eq!(idi, Some(Identification::from_ip(addr(CGW_ADDR).ip())));
    assert!(request.contains(&Payload::Notify(Notify::new(
        NotifyType::INITIAL_CONTACT,
        Vec::new()
    ))));
    let idr = response.iter().find_map(|p| {
        if let Payload::IdR(i) = p {
            Some(i.clone())
        } else {
            None
        }
    });
    assert_eq!(idr, Some(Identification::from_ip(addr(AWS_ADDR).ip())));
    // No NAT between loopback addresses, and each side names the other as its peer.
    for (host, peer) in [(&pair.aws, CGW_ADDR), (&pair.cgw, AWS_ADDR)] {
        assert!(host
            .events
            .iter()
            .all(|(_, e)| !e.facts.nat.detected() && e.peer == addr(peer)));
    }

    // Both idle: nothing more until the CHILD SA's rekey (3,600 s - 270 s margin - fuzz).
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Up, Up));
        let next = host.endpoint.poll_timeout().expect("rekey timer") - pair.now();
        assert!(
            (secs(3_600.0 - 540.0)..=secs(3_330.0)).contains(&next),
            "{next:?}"
        );
        let stats = host.endpoint.stats();
        assert_eq!(
            (stats.datagrams_in, stats.datagrams_out, stats.retransmits),
            (2, 2, 0)
        );
        assert_eq!(
            (stats.malformed, stats.integrity_failures, stats.unmatched),
            (0, 0, 0)
        );
    }
}

/// The seeds fix every SPI and nonce (so the logs of a scenario repeat); the DH private
/// keys come from the OS, so the KE payloads never do.
///
/// ```text
/// run 1 (seeds 1, 2)   run 2 (seeds 1, 2)   run 3 (seeds 3, 4)
///   SPIs, Ni  ======== SPIs, Ni  ≠≠≠≠≠≠≠≠≠≠ SPIs, Ni
///   KE        ≠≠≠≠≠≠≠≠ KE
/// ```
#[test]
fn seeds_fix_spis_and_nonces_but_not_dh_keys() {
    let run = |aws_seed, cgw_seed| {
        let mut pair = default_pair(aws_seed, cgw_seed);
        pair.initiate();
        pair.drive();
        let init = pair.cgw.sent[0].message();
        (
            spis(&pair.aws),
            spis(&pair.cgw),
            nonce(&init),
            ke(&init).data,
            nonce(&pair.aws.sent[0].message()),
        )
    };
    let one = run(1, 2);
    let again = run(1, 2);
    let other = run(3, 4);
    assert_eq!(
        (one.0, one.1, &one.2, &one.4),
        (again.0, again.1, &again.2, &again.4)
    );
    assert_ne!(
        one.3, again.3,
        "the KE public value must not come from the seed"
    );
    assert_ne!(one.0 .0, other.0 .0, "IKE SPIs follow the seeds");
    assert_ne!(one.0 .1, other.0 .1, "CHILD SPIs follow the seeds");
    assert_ne!(one.2, other.2, "Ni follows the CGW's seed");
    assert_ne!(one.4, other.4, "Nr follows AWS's seed");
}

/// A PSK mismatch: the responder cannot verify the initiator's AUTH and says so inside
/// the protected IKE_AUTH response (RFC 7296 §2.21.2); neither side keeps an SA.
///
/// ```text
/// CGW (other PSK)                                  AWS
///  |--- IKE_SA_INIT --------------------------->|  IkeSaNegotiating          negotiating/down
///  |<-- IKE_SA_INIT ----------------------------|
///  |--- IKE_AUTH  SK{IDi AUTH SA TSi TSr} ----->|  AUTH does not verify
///  |                                            |  AuthenticationFailed{Sent}   down/down
///  |<-- IKE_AUTH  SK{N(AUTHENTICATION_FAILED)} -|
///  AuthenticationFailed{Received}   down/down
/// ```
#[test]
fn wrong_psk() {
    let pair = run(
        aws_config(PSK, None, None),
        cgw_config("not-the-psk", &[IKE_GCM], &[ESP_GCM]),
    );

    assert!(matches!(
        pair.aws.kinds()[0],
        EventKind::IkeSaNegotiating { .. }
    ));
    assert_eq!(
        pair.aws.kinds()[1..],
        [EventKind::AuthenticationFailed {
            direction: Direction::Sent
        }]
    );
    assert_eq!(pair.aws.states(), [(Negotiating, Down), (Down, Down)]);
    assert!(matches!(
        pair.cgw.kinds()[0],
        EventKind::IkeSaNegotiating { .. }
    ));
    assert_eq!(
        pair.cgw.kinds()[1..],
        [EventKind::AuthenticationFailed {
            direction: Direction::Received
        }]
    );
    assert_eq!(last_state(&pair.cgw), (Down, Down));

    // The refusal is encrypted: on the wire the IKE_AUTH response is an SK payload only.
    let response = pair.aws.sent[1].message();
    assert_eq!(
        header_of(&pair.aws.sent[1].bytes),
        (ExchangeType::IKE_AUTH, false, true, 1)
    );
    assert!(
        matches!(response.payloads.as_slice(), [Payload::Encrypted(_)]),
        "{:?}",
        response.payloads
    );
    let inner = decrypt(&pair.cgw.secrets, &pair.aws.sent[1].bytes);
    assert_eq!(
        inner,
        [Payload::Notify(Notify::new(
            NotifyType::AUTHENTICATION_FAILED,
            Vec::new()
        ))]
    );

    // Nothing left: no SA, no timer, no further datagram.
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Down, Down));
        assert_eq!(host.endpoint.poll_timeout(), None);
        assert_eq!(host.sent.len(), 2);
    }
}

/// IKE_SA_INIT finds no common proposal; the responder answers with a lone unencrypted
/// NO_PROPOSAL_CHOSEN and keeps no state (RFC 7296 §2.6, §2.21.1). AWS tells "nothing I
/// support" (`unsupported`) from "nothing this tunnel allows".
///
/// ```text
/// CGW                                              AWS
///  |--- IKE_SA_INIT  SA{...} KE Ni ------------->|  no match: IkeNoProposalChosen{unsupported?, Sent}
///  |<-- IKE_SA_INIT  N(NO_PROPOSAL_CHOSEN) ------|  (SPIr = 0, no SA kept)            down/down
///  IkeNoProposalChosen{Received}   down/down
/// ```
#[test]
fn no_proposal_chosen() {
    let aes128_only = || Some(spec(ProposalKind::Ike, "aes128-sha256-modp2048"));
    let cases: [(&str, Option<_>, &[&str], bool); 4] = [
        (
            "3DES is nothing AWS supports",
            None,
            &["3des-sha1-modp2048"],
            true,
        ),
        (
            "MD5 integrity neither",
            None,
            &["aes128-md5-modp2048"],
            true,
        ),
        (
            "supported, but not allowed on this tunnel",
            aes128_only(),
            &[IKE_GCM],
            false,
        ),
        (
            "one unsupported and one merely not allowed",
            aes128_only(),
            &["3des-sha1-modp2048", IKE_GCM],
            false,
        ),
    ];
    for (case, aws_ike, cgw_ike, unsupported) in cases {
        let pair = run(
            aws_config(PSK, aws_ike, None),
            cgw_config(PSK, cgw_ike, &[ESP_GCM]),
        );

        assert_eq!(
            pair.aws.kinds(),
            [EventKind::IkeNoProposalChosen {
                unsupported,
                direction: Direction::Sent
            }],
            "{case}"
        );
        assert_eq!(pair.aws.states(), [(Down, Down)], "{case}");
        let cgw = pair.cgw.kinds();
        assert!(
            matches!(cgw[0], EventKind::IkeSaNegotiating { .. }),
            "{case}: {cgw:?}"
        );
        assert!(
            matches!(
                cgw[1..],
                [EventKind::IkeNoProposalChosen {
                    direction: Direction::Received,
                    ..
                }]
            ),
            "{case}: {cgw:?}"
        );
        assert_eq!(last_state(&pair.cgw), (Down, Down), "{case}");

        let [response] = pair.aws.sent.as_slice() else {
            panic!("{case}: {:?}", pair.aws.sent)
        };
        let response = response.message();
        assert_eq!(
            response.header.spi_i,
            pair.cgw.sent[0].message().header.spi_i,
            "{case}"
        );
        assert_eq!(
            (response.header.spi_r, response.header.exchange),
            (0, ExchangeType::IKE_SA_INIT),
            "{case}"
        );
        assert_eq!(
            only_notify(&response).ty,
            NotifyType::NO_PROPOSAL_CHOSEN,
            "{case}"
        );
        for host in [&pair.aws, &pair.cgw] {
            assert_eq!(host.endpoint.poll_timeout(), None, "{case}");
        }
        assert_eq!(
            pair.cgw.sent.len(),
            1,
            "{case}: the CGW gives up, it does not retry"
        );
    }
}

/// The CGW guesses the KE group from its own order (19), AWS picks by its own (lowest
/// value first: 14) and asks for another KE (RFC 7296 §1.2, §2.7); the CGW retries.
///
/// ```text
/// CGW (proposes DH 19, 14)                         AWS (allows DH 14, 19)
///  |--- IKE_SA_INIT  SA{DH 19,14} KE(19) Ni ----->|  selects 14: InvalidKePayload{14, Sent}
///  |<-- IKE_SA_INIT  N(INVALID_KE_PAYLOAD: 14) ---|  (no state)                 down/down
///  InvalidKePayload{14, Received}
///  |--- IKE_SA_INIT  SA{DH 19,14} KE(14) Ni ----->|  IkeSaNegotiating
///  |<-- IKE_SA_INIT  SA{DH 14} KE(14) Nr ---------|
///  |--- IKE_AUTH -------------------------------->|  IkeSaEstablished (group 14), ChildSaEstablished
///  |<-- IKE_AUTH ---------------------------------|
///  IkeSaEstablished (group 14), ChildSaEstablished
/// ```
#[test]
fn invalid_ke_payload_then_retry() {
    let mut aws_ike = aws_universe(ProposalKind::Ike);
    aws_ike.dh = vec![DhGroup::MODP_2048, DhGroup::ECP_256];
    let cgw = cgw_config(PSK, &["aes256gcm16-prfsha256-ecp256-modp2048"], &[ESP_GCM]);
    let pair = run(aws_config(PSK, Some(aws_ike), None), cgw);

    let aws = pair.aws.kinds();
    assert_eq!(
        aws[0],
        EventKind::InvalidKePayload {
            group: DhGroup::MODP_2048,
            direction: Direction::Sent
        }
    );
    assert!(matches!(aws[1], EventKind::IkeSaNegotiating { .. }));
    assert!(matches!(aws[2], EventKind::IkeSaEstablished { .. }));
    assert!(matches!(aws[3], EventKind::ChildSaEstablished { .. }));
    assert_eq!(
        pair.aws.states(),
        [
            (Down, Down),
            (Negotiating, Down),
            (Up, Negotiating),
            (Up, Up)
        ]
    );
    let cgw = pair.cgw.kinds();
    assert!(matches!(cgw[0], EventKind::IkeSaNegotiating { .. }));
    assert_eq!(
        cgw[1],
        EventKind::InvalidKePayload {
            group: DhGroup::MODP_2048,
            direction: Direction::Received
        }
    );
    assert!(matches!(cgw[2], EventKind::IkeSaEstablished { .. }));
    assert!(matches!(cgw[3], EventKind::ChildSaEstablished { .. }));
    assert_eq!(
        pair.cgw.states(),
        [
            (Negotiating, Down),
            (Negotiating, Down),
            (Up, Negotiating),
            (Up, Up)
        ]
    );
    assert_eq!(selected(&pair.aws).dh, Some(DhGroup::MODP_2048));
    assert_eq!(selected(&pair.cgw).dh, Some(DhGroup::MODP_2048));

    // On the wire: the refusal names group 14; the retry keeps the proposals and the
    // initiator's SPI and carries a 2048-bit KE.
    let refusal = pair.aws.sent[0].message();
    assert_eq!(refusal.header.spi_r, 0);
    assert_eq!(only_notify(&refusal).ty, NotifyType::INVALID_KE_PAYLOAD);
    assert_eq!(only_notify(&refusal).data, 14u16.to_be_bytes());
    let (first, retry) = (pair.cgw.sent[0].message(), pair.cgw.sent[1].message());
    assert_eq!(ke(&first).group, DhGroup::ECP_256);
    assert_eq!(
        (ke(&retry).group, ke(&retry).data.len()),
        (DhGroup::MODP_2048, 256)
    );
    assert_eq!(
        (retry.header.spi_i, retry.header.message_id),
        (first.header.spi_i, 0)
    );
    let sa = |m: &Message| {
        m.payloads
            .iter()
            .find(|p| matches!(p, Payload::Sa(_)))
            .cloned()
    };
    assert_eq!(sa(&first), sa(&retry));
    assert_eq!(pair.cgw.endpoint.phase_states(), (Up, Up));
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
}

/// AWS ranks across the CGW's proposals by its own lists too: the CGW's second IKE
/// proposal (AES128, group 14) beats its first (AES256-GCM, group 20), so the KE guess
/// from the first is refused; the chosen proposals' numbers are echoed (RFC 7296 §3.3.1).
///
/// ```text
/// CGW  IKE: #1 aes256gcm16/prfsha384/ecp384, #2 aes128/sha256/modp2048     AWS (defaults)
///      ESP: #1 3des/sha1, #2 aes128/sha256
///  |--- IKE_SA_INIT  SA{#1, #2} KE(20) ------------>|  selects #2: InvalidKePayload{14, Sent}
///  |<-- IKE_SA_INIT  N(INVALID_KE_PAYLOAD: 14) -----|
///  |--- IKE_SA_INIT  SA{#1, #2} KE(14) ------------>|
///  |<-- IKE_SA_INIT  SA{#2} KE(14) -----------------|
///  |--- IKE_AUTH  SK{... SA{#1, #2} ...} ---------->|  selects ESP #2
///  |<-- IKE_AUTH  SK{... SA{#2, SPI} ...} ----------|
/// ```
#[test]
fn aws_prefers_its_lowest_values_across_proposals() {
    let cgw = cgw_config(
        PSK,
        &[IKE_GCM, "aes128-sha256-modp2048"],
        &["3des-sha1", ESP_CBC],
    );
    let pair = run(aws_config(PSK, None, None), cgw);

    assert_eq!(
        pair.aws.kinds()[0],
        EventKind::InvalidKePayload {
            group: DhGroup::MODP_2048,
            direction: Direction::Sent
        }
    );
    let ike = selected(&pair.cgw);
    assert_eq!(ike, selected(&pair.aws));
    assert_eq!(
        (ike.number, ike.encryption.id, ike.encryption.key_bits),
        (2, EncrId::AES_CBC, Some(128))
    );
    assert_eq!(ike.dh, Some(DhGroup::MODP_2048));
    let (_, (aws_in, _)) = spis(&pair.aws);
    let answer = decrypt(
        &pair.cgw.secrets,
        &pair.aws.sent.last().expect("IKE_AUTH response").bytes,
    );
    let sa = answer.iter().find_map(|p| {
        if let Payload::Sa(s) = p {
            Some(s.clone())
        } else {
            None
        }
    });
    let [esp] = sa.expect("SAr2").try_into().expect("one proposal");
    assert_eq!((esp.number, esp.spi), (2, aws_in.to_be_bytes().to_vec()));
    assert_eq!(pair.cgw.states().last(), Some(&(Up, Up)));
}

/// Lost datagrams are made good by the initiator's retransmissions (RFC 7296 §2.1):
/// backoff 4 s, then 7.2 s; the responder answers a retransmitted request with its
/// cached response, byte for byte, and does not start a second SA.
///
/// ```text
/// CGW                                         AWS
///  |--- IKE_SA_INIT ------------X              t = 0
///  |--- IKE_SA_INIT (rtx 1) -------------->|  t = 4      IkeSaNegotiating
///  |         X--------------- IKE_SA_INIT -|
///  |--- IKE_SA_INIT (rtx 2) -------------->|  t = 11.2   (cached response)
///  |<-------------------------- IKE_SA_INIT -|
///  |--- IKE_AUTH ------------------------->|  t = 11.22  IkeSaEstablished, ChildSaEstablished
///  |         X------------------ IKE_AUTH -|
///  |--- IKE_AUTH (rtx 1) ----------------->|  t = 15.22  (cached response)
///  |<----------------------------- IKE_AUTH -|
///  IkeSaEstablished, ChildSaEstablished (t = 15.24)
/// ```
#[test]
fn retransmissions_recover_lost_datagrams() {
    let mut pair = Pair::new(
        aws_config(PSK, None, None),
        cgw_config(PSK, &[IKE_CBC], &[ESP_CBC]),
        1,
        2,
    );
    pair.cgw.drop = drop_nth(&[0]);
    pair.aws.drop = drop_nth(&[0, 2]);
    pair.initiate();
    pair.drive();

    assert_times(
        &pair.cgw.send_times(),
        &[secs(0.0), secs(4.0), secs(11.2), secs(11.22), secs(15.22)],
    );
    let cgw = &pair.cgw.sent;
    assert!(
        cgw[0].bytes == cgw[1].bytes && cgw[1].bytes == cgw[2].bytes,
        "retransmissions are bitwise identical"
    );
    assert_eq!(cgw[3].bytes, cgw[4].bytes);
    assert_eq!(
        header_of(&cgw[4].bytes),
        (ExchangeType::IKE_AUTH, true, false, 1)
    );
    let aws = &pair.aws.sent;
    assert_eq!(aws.len(), 4);
    assert_eq!(
        aws[0].bytes, aws[1].bytes,
        "IKE_SA_INIT answered from the cache"
    );
    assert_eq!(
        aws[2].bytes, aws[3].bytes,
        "IKE_AUTH answered from the cache"
    );
    assert_eq!(
        header_of(&aws[3].bytes),
        (ExchangeType::IKE_AUTH, false, true, 1)
    );

    let aws_kinds = pair.aws.kinds();
    assert_eq!(
        aws_kinds.len(),
        3,
        "one IKE SA despite three requests: {aws_kinds:?}"
    );
    assert_eq!(
        pair.aws.states(),
        [(Negotiating, Down), (Up, Negotiating), (Up, Up)]
    );
    assert_eq!(
        pair.cgw.states(),
        [(Negotiating, Down), (Up, Negotiating), (Up, Up)]
    );
    let at = |h: &Host, i: usize| h.events[i].0;
    assert_times(
        &[at(&pair.aws, 0), at(&pair.aws, 2)],
        &[secs(4.01), secs(11.23)],
    );
    assert_times(&[at(&pair.cgw, 2)], &[secs(15.24)]);
    let (aws_spis, cgw_spis) = (spis(&pair.aws), spis(&pair.cgw));
    assert_eq!(aws_spis.0, cgw_spis.0);
    assert_eq!(
        (aws_spis.1 .0, aws_spis.1 .1),
        (cgw_spis.1 .1, cgw_spis.1 .0)
    );

    assert_eq!(pair.cgw.endpoint.stats().retransmits, 3);
    assert_eq!(pair.aws.endpoint.stats().retransmits, 2);
    assert_eq!(pair.aws.endpoint.stats().unmatched, 0);
}

/// A blackhole: the initiator retransmits five times with exponential backoff and gives
/// up ~165 s after the first try (strongSwan's defaults).
///
/// ```text
/// CGW                                         AWS
///  |--- IKE_SA_INIT ------------X              t = 0
///  |--- IKE_SA_INIT ------------X              t = 4        (+4)
///  |--- IKE_SA_INIT ------------X              t = 11.2     (+7.2)
///  |--- IKE_SA_INIT ------------X              t = 24.16    (+12.96)
///  |--- IKE_SA_INIT ------------X              t = 47.488   (+23.328)
///  |--- IKE_SA_INIT ------------X              t = 89.4784  (+41.9904)
///  RetransmitsExhausted{IKE_SA_INIT, 5}        t = 165.0611 (+75.5827)   down/down
/// ```
#[test]
fn retransmits_exhausted() {
    let mut pair = default_pair(1, 2);
    pair.cgw.drop = drop_all();
    pair.initiate();
    pair.drive();

    assert_times(
        &pair.cgw.send_times(),
        &[
            secs(0.0),
            secs(4.0),
            secs(11.2),
            secs(24.16),
            secs(47.488),
            secs(89.4784),
        ],
    );
    let kinds = pair.cgw.kinds();
    assert!(matches!(kinds[0], EventKind::IkeSaNegotiating { .. }));
    assert_eq!(
        kinds[1..],
        [EventKind::RetransmitsExhausted {
            exchange: ExchangeType::IKE_SA_INIT,
            retransmits: 5
        }]
    );
    assert_times(&[pair.cgw.events[1].0], &[secs(165.06112)]);
    assert_eq!(pair.cgw.states(), [(Negotiating, Down), (Down, Down)]);
    assert_eq!(pair.cgw.endpoint.stats().retransmits, 5);
    assert_eq!(pair.cgw.endpoint.poll_timeout(), None);
    assert!(pair.aws.events.is_empty());
    assert_eq!(pair.aws.endpoint.stats().datagrams_in, 0);
}

/// Only IKE_SA_INIT gets through: AWS drops its half-open SA after 30 s, the CGW gives up
/// on IKE_AUTH after its five retransmissions.
///
/// ```text
/// CGW                                         AWS
///  |--- IKE_SA_INIT ---------------------->|  t = 0.01   IkeSaNegotiating        negotiating/down
///  |<-- IKE_SA_INIT -----------------------|
///  |--- IKE_AUTH ---------------X              t = 0.02
///  |--- IKE_AUTH (rtx 1..5) ----X              t = 4.02 … 89.4984
///  |                                         |  t = 30.01  HalfOpenTimeout         down/down
///  RetransmitsExhausted{IKE_AUTH, 5}           t = 165.0811                         down/down
/// ```
#[test]
fn ike_auth_blackholed() {
    let mut pair = default_pair(1, 2);
    pair.cgw.drop = Box::new(|d| d.index >= 1);
    pair.initiate();
    pair.drive();

    assert!(matches!(
        pair.aws.kinds()[..],
        [
            EventKind::IkeSaNegotiating { .. },
            EventKind::HalfOpenTimeout
        ]
    ));
    assert_eq!(pair.aws.states(), [(Negotiating, Down), (Down, Down)]);
    assert_times(&[pair.aws.events[1].0], &[secs(30.01)]);
    let kinds = pair.cgw.kinds();
    assert_eq!(
        kinds[1..],
        [EventKind::RetransmitsExhausted {
            exchange: ExchangeType::IKE_AUTH,
            retransmits: 5
        }]
    );
    assert_times(&[pair.cgw.events[1].0], &[secs(0.02 + 165.06112)]);
    assert_eq!(pair.cgw.states(), [(Negotiating, Down), (Down, Down)]);
    assert_eq!(pair.cgw.sent.len(), 1 + 6);
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Down, Down));
        assert_eq!(host.endpoint.poll_timeout(), None);
    }
}

/// Flips one byte of `bytes` inside its SK payload's encrypted body.
fn corrupt_sk(bytes: &[u8]) -> Vec<u8> {
    let mut bad = bytes.to_vec();
    let mid = 28 + 4 + (bytes.len() - 32) / 2;
    bad[mid] ^= 0x01;
    bad
}

/// The initiator drops junk and a response whose SK payload fails its integrity check
/// (RFC 7296 §2.21.1) like a lost one: its retransmission brings the cached response.
///
/// ```text
/// CGW                                         AWS
///  |<~~ garbage ~~~~~~~~~~~~~~~~~~~~~~~~~~~~|   malformed += 1 (CGW)
///  |--- IKE_SA_INIT ---------------------->|
///  |<-- IKE_SA_INIT -----------------------|
///  |--- IKE_AUTH ------------------------->|  IkeSaEstablished, ChildSaEstablished
///  |<~~ IKE_AUTH, one byte flipped in SK ~~|   integrity_failures += 1 (CGW), no event
///  |--- IKE_AUTH (rtx 1) ----------------->|  (cached response)
///  |<-- IKE_AUTH --------------------------|
///  IkeSaEstablished, ChildSaEstablished
/// ```
#[test]
fn initiator_drops_a_corrupted_response() {
    let mut pair = Pair::new(
        aws_config(PSK, None, None),
        cgw_config(PSK, &[IKE_CBC], &[ESP_CBC]),
        1,
        2,
    );
    pair.aws.drop = drop_nth(&[1]);
    pair.initiate();
    pair.inject(Side::Cgw, b"\x01\x02\x03");
    while pair.aws.sent.len() < 2 {
        assert!(pair.step(), "AWS never answered IKE_AUTH");
    }
    let response = pair.aws.sent[1].bytes.clone();
    pair.inject(Side::Cgw, &corrupt_sk(&response));
    assert_eq!(pair.cgw.events.len(), 1, "{:?}", pair.cgw.kinds());
    assert_eq!(pair.cgw.endpoint.phase_states(), (Negotiating, Negotiating));
    pair.drive();

    let stats = pair.cgw.endpoint.stats();
    assert_eq!(
        (stats.malformed, stats.integrity_failures, stats.retransmits),
        (1, 1, 1)
    );
    assert_eq!(pair.cgw.sent[1].bytes, pair.cgw.sent[2].bytes);
    assert_eq!(pair.aws.sent[2].bytes, response);
    assert_eq!(
        pair.cgw.states(),
        [(Negotiating, Down), (Up, Negotiating), (Up, Up)]
    );
    assert_eq!(spis(&pair.aws).0, spis(&pair.cgw).0);
}

/// Junk never hurts an established tunnel: every malformed datagram is dropped and
/// counted, without an event or an answer (RFC 7296 §2.21.1), and the SA goes on to
/// answer the next valid request — here the CGW's retransmitted DELETE.
///
/// ```text
/// CGW                                         AWS (established)
///  |~~~ garbage, empty, truncated, IKEv1, ~~~>|  malformed += 4
///  |~~~ unknown SPI ~~~~~~~~~~~~~~~~~~~~~~~~~>|  unmatched += 1
///  |--- INFORMATIONAL SK{D(IKE)} ----X        |  IkeSaDeleteSent (CGW)
///  |~~~ the same, one byte flipped in SK ~~~~>|  integrity_failures += 1
///  |~~~ IKE_AUTH replayed, byte flipped ~~~~~>|  not a retransmission: no answer
///  |--- INFORMATIONAL SK{D(IKE)} (rtx) ------>|  IkeSaDeleteReceived        down/down
///  |<-- INFORMATIONAL SK{} -------------------|
///  IkeSaDeleted   down/down
/// ```
#[test]
fn malformed_datagrams_are_dropped_and_counted() {
    let mut pair = Pair::new(
        aws_config(PSK, None, None),
        cgw_config(PSK, &[IKE_CBC], &[ESP_CBC]),
        1,
        2,
    );
    pair.initiate();
    pair.drive();
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
    let (events, sent, before) = (
        pair.aws.events.len(),
        pair.aws.sent.len(),
        pair.aws.endpoint.stats(),
    );

    let init_request = pair.cgw.sent[0].bytes.clone();
    let auth_request = pair.cgw.sent[1].bytes.clone();
    let mut ikev1 = init_request.clone();
    ikev1[17] = 0x10; // version 1.0
    let mut unknown_spi = auth_request.clone();
    unknown_spi[15] ^= 0xff; // SPIr
    for junk in [
        &b"\x00\x00\x00\x00not IKE at all"[..],
        &[],
        &auth_request[..60],
        &ikev1[..],
        &unknown_spi[..],
    ] {
        pair.inject(Side::Aws, junk);
    }
    let stats = pair.aws.endpoint.stats();
    // The version-1 header goes to the IKEv1 machinery, which finds no ISAKMP SA for it.
    assert_eq!(stats.malformed, before.malformed + 3);
    assert_eq!(stats.unmatched, before.unmatched + 2);

    // The CGW deletes the IKE SA; its first DELETE is lost and a corrupted copy arrives.
    pair.cgw.drop = drop_nth(&[2]);
    pair.act(Side::Cgw, |ep, now| ep.delete_ike_sas(now));
    assert_eq!(pair.cgw.kinds().last(), Some(&EventKind::IkeSaDeleteSent));
    let delete = pair.cgw.sent[2].bytes.clone();
    assert_eq!(
        header_of(&delete),
        (ExchangeType::INFORMATIONAL, true, false, 2)
    );
    pair.inject(Side::Aws, &corrupt_sk(&delete));
    assert_eq!(
        pair.aws.endpoint.stats().integrity_failures,
        before.integrity_failures + 1
    );
    // A damaged copy of the last request is no retransmission (§2.1: those are bitwise
    // identical): it must not make AWS resend its IKE_AUTH response.
    pair.inject(Side::Aws, &corrupt_sk(&auth_request));
    assert_eq!(pair.aws.sent.len(), sent, "junk was answered");
    assert_eq!(pair.aws.events.len(), events, "junk made an event");
    assert_eq!(pair.aws.endpoint.phase_states(), (Up, Up));
    assert_eq!(pair.aws.endpoint.stats().retransmits, before.retransmits);

    let t = pair.elapsed();
    pair.drive();
    assert_eq!(
        pair.aws.kinds().last(),
        Some(&EventKind::IkeSaDeleteReceived)
    );
    assert_eq!(last_state(&pair.aws), (Down, Down));
    assert_eq!(pair.cgw.kinds().last(), Some(&EventKind::IkeSaDeleted));
    assert_eq!(last_state(&pair.cgw), (Down, Down));
    assert_eq!(
        pair.cgw.events.last().map(|(at, _)| *at - t),
        Some(secs(4.02))
    );
    // The DELETE that got through was the original (a retransmission), answered empty (§1.4.1).
    assert_eq!(pair.cgw.sent[3].bytes, delete);
    let deleted = decrypt(&pair.aws.secrets, &delete);
    assert_eq!(
        deleted,
        [Payload::Delete(Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: vec![]
        })]
    );
    let answer = &pair.aws.sent.last().expect("a response").bytes;
    assert_eq!(
        header_of(answer),
        (ExchangeType::INFORMATIONAL, false, true, 2)
    );
    assert_eq!(decrypt(&pair.cgw.secrets, answer), []);
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(host.endpoint.phase_states(), (Down, Down));
        assert_eq!(host.endpoint.poll_timeout(), None);
    }
}

/// The IKE SA comes up but its first CHILD SA cannot: the IKE_AUTH response carries the
/// error notify instead of SA/TS (RFC 7296 §1.2, §2.21.3) and phase 2 stays down.
///
/// ```text
/// CGW                                              AWS
///  |--- IKE_SA_INIT ------------------------------>|
///  |<-- IKE_SA_INIT -------------------------------|
///  |--- IKE_AUTH  SK{IDi AUTH SA TSi TSr} -------->|  IkeSaEstablished        established/negotiating
///  |                                               |  ChildSaFailed{.., Sent} established/down
///  |<-- IKE_AUTH  SK{IDr AUTH N(NO_PROPOSAL_CHOSEN |
///  |                      or TS_UNACCEPTABLE)} ----|
///  IkeSaEstablished, ChildSaFailed{.., Received}   established/down
/// ```
/// A responder that answers with a proposal the initiator did not offer misbehaves (RFC
/// 7296 §2.7): the initiator says so precisely and counts it, where a refusal (above) is
/// the peer being incompatible. The responder's impairment answers AES-256 to an offer
/// of AES-128 only.
///
/// ```text
/// CGW (offers aes128-sha256 only)              AWS (select_unoffered_esp)
///  |--- IKE_SA_INIT / IKE_AUTH  SK{.. SA(aes128) ..} -->|
///  |<-- IKE_AUTH  SK{IDr AUTH SA(aes256) TSi TSr} ------|  ChildSaEstablished (its own view)
///  IkeSaEstablished,
///  ChildSaFailed{Misbehaved(SelectedUnofferedProposal)}   established/down
/// ```
#[test]
fn a_response_selecting_an_unoffered_proposal_is_misbehaviour() {
    let mut aws = aws_config(PSK, None, None);
    aws.impair.select_unoffered_esp = true;
    let pair = run(aws, cgw_config(PSK, &[IKE_GCM], &[ESP_CBC]));

    let unoffered = PeerMisbehaved::SelectedUnofferedProposal;
    let cgw = pair.cgw.kinds();
    assert!(
        matches!(cgw[1], EventKind::IkeSaEstablished { .. }),
        "{cgw:?}"
    );
    assert_eq!(
        cgw[2..],
        [EventKind::ChildSaFailed {
            failure: ChildFailure::Misbehaved(unoffered)
        }]
    );
    let stats = pair.cgw.endpoint.stats();
    assert_eq!(stats.misbehaved.get(&unoffered), 1);
    assert_eq!(stats.misbehaved.total(), 1);
    assert_eq!(
        stats.incompatible.total(),
        0,
        "misbehaviour is no incompatibility"
    );
    // A refusal is no misbehaviour: the responder that said NO_PROPOSAL_CHOSEN (or
    // TS_UNACCEPTABLE) in `child_sa_refused` leaves the count at zero.
    assert_eq!(pair.aws.endpoint.stats().misbehaved.total(), 0);
}

#[test]
fn child_sa_refused() {
    let (sent, received) = (Direction::Sent, Direction::Received);
    let npc = |unsupported, direction| {
        ChildFailure::Incompatible(
            PeerIncompatible::NoProposalChosen { unsupported },
            direction,
        )
    };
    let aws_esp_aes128 = || Some(spec(ProposalKind::Esp, "aes128-sha256"));
    let aws_with_ts = |local: &str, remote: &str| {
        let mut c = aws_config(PSK, None, aws_esp_aes128());
        (c.local_ts, c.remote_ts) = (vec![cidr(local)], vec![cidr(remote)]);
        c
    };
    let cgw_with_ts = |local: &str, remote: &str| {
        let mut c = cgw_config(PSK, &[IKE_GCM], &[ESP_CBC]);
        (c.local_ts, c.remote_ts) = (vec![cidr(local)], vec![cidr(remote)]);
        c
    };
    let cases = [
        (
            "ESP proposal not allowed on the tunnel",
            aws_config(PSK, None, aws_esp_aes128()),
            cgw_config(PSK, &[IKE_GCM], &[ESP_GCM]),
            NotifyType::NO_PROPOSAL_CHOSEN,
            npc(false, sent),
            npc(false, received),
        ),
        (
            "ESP proposal AWS does not support",
            aws_config(PSK, None, None),
            cgw_config(PSK, &[IKE_GCM], &["3des-md5"]),
            NotifyType::NO_PROPOSAL_CHOSEN,
            npc(true, sent),
            npc(false, received),
        ),
        (
            "CGW network outside AWS's remote network",
            aws_with_ts("172.31.0.0/16", "10.1.0.0/16"),
            cgw_with_ts("192.168.0.0/16", "172.31.0.0/16"),
            NotifyType::TS_UNACCEPTABLE,
            ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, sent),
            ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, received),
        ),
    ];
    for (case, aws, cgw, notify, aws_failure, cgw_failure) in cases {
        let pair = run(aws, cgw);

        let aws = pair.aws.kinds();
        assert!(
            matches!(aws[1], EventKind::IkeSaEstablished { .. }),
            "{case}: {aws:?}"
        );
        assert_eq!(
            aws[2..],
            [EventKind::ChildSaFailed {
                failure: aws_failure
            }],
            "{case}"
        );
        assert_eq!(
            pair.aws.states(),
            [(Negotiating, Down), (Up, Negotiating), (Up, Down)],
            "{case}"
        );
        let cgw = pair.cgw.kinds();
        assert!(
            matches!(cgw[1], EventKind::IkeSaEstablished { .. }),
            "{case}: {cgw:?}"
        );
        assert_eq!(
            cgw[2..],
            [EventKind::ChildSaFailed {
                failure: cgw_failure
            }],
            "{case}"
        );
        assert_eq!(
            pair.cgw.states(),
            [(Negotiating, Down), (Up, Negotiating), (Up, Down)],
            "{case}"
        );

        // A refusal is the peer being incompatible, counted so on both sides; no
        // misbehaviour.
        let ChildFailure::Incompatible(kind, _) = aws_failure else {
            panic!("{case}: {aws_failure:?}")
        };
        for host in [&pair.aws, &pair.cgw] {
            let stats = host.endpoint.stats();
            assert_eq!(stats.incompatible.get(&kind), 1, "{case}");
            assert_eq!(stats.incompatible.total(), 1, "{case}");
            assert_eq!(
                stats.misbehaved.total(),
                0,
                "{case}: a refusal is no misbehaviour"
            );
        }
        let response = decrypt(&pair.cgw.secrets, &pair.aws.sent[1].bytes);
        assert!(
            matches!(response[..2], [Payload::IdR(_), Payload::Auth(_)]),
            "{case}: {response:?}"
        );
        assert_eq!(
            response[2..],
            [Payload::Notify(Notify::new(notify, Vec::new()))],
            "{case}"
        );
        for host in [&pair.aws, &pair.cgw] {
            assert_eq!(
                host.endpoint.phase_states(),
                (Up, Down),
                "{case}: the IKE SA lives on"
            );
            assert!(
                host.endpoint.poll_timeout().is_some(),
                "{case}: the IKE SA keeps its timers"
            );
        }
    }
}

/// The responder narrows the initiator's selectors to its policy (RFC 7296 §2.9) and the
/// initiator accepts the narrower CHILD SA.
///
/// ```text
/// CGW                                              AWS
///  |--- IKE_AUTH  SK{... TSi(offered) TSr(0/0)} -->|  TSi ∩ remote network, TSr ∩ local network
///  |<-- IKE_AUTH  SK{... TSi(narrowed) TSr(0/0)} --|  ChildSaEstablished
///  ChildSaEstablished
/// ```
#[test]
fn traffic_selectors_narrowed() {
    // (AWS's remote network, the CGW's local network, the TSi AWS answers with)
    let cases = [
        ("0.0.0.0/0", "10.1.0.0/16", "10.1.0.0/16"),
        ("10.1.0.0/16", "10.0.0.0/8", "10.1.0.0/16"),
        ("10.0.0.0/8", "10.1.2.0/24", "10.1.2.0/24"),
    ];
    for (aws_remote, cgw_local, tsi) in cases {
        let mut aws = aws_config(PSK, None, None);
        aws.remote_ts = vec![cidr(aws_remote)];
        let mut cgw = cgw_config(PSK, &[IKE_GCM], &[ESP_GCM]);
        cgw.local_ts = vec![cidr(cgw_local)];
        let pair = run(aws, cgw);

        let case = format!("AWS remote {aws_remote}, CGW local {cgw_local}");
        assert_eq!(pair.aws.states().last(), Some(&(Up, Up)), "{case}");
        assert_eq!(pair.cgw.states().last(), Some(&(Up, Up)), "{case}");
        assert!(
            matches!(
                pair.cgw.kinds().last(),
                Some(EventKind::ChildSaEstablished { .. })
            ),
            "{case}"
        );
        let (offered_tsi, _) = ts_of(&decrypt(&pair.aws.secrets, &pair.cgw.sent[1].bytes));
        assert_eq!(offered_tsi, [cidr(cgw_local)], "{case}");
        let answer = decrypt(&pair.cgw.secrets, &pair.aws.sent[1].bytes);
        assert_eq!(
            ts_of(&answer),
            (vec![cidr(tsi)], vec![cidr("0.0.0.0/0")]),
            "{case}"
        );
    }
}
