//! The responder's flood defences (`ike_core::dos`, docs/flood-defence.md): COOKIE
//! challenges once half-open SAs reach the threshold (RFC 7296 §2.6), the half-open
//! bounds per source IP and in all, their expiry whatever the load, the expensive-DH
//! policy under pressure, INVALID_MAJOR_VERSION (§1.5, §2.5), replayed IKE_SA_INIT
//! requests, and liveness that only authenticated traffic earns.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use ike_core::{DosConfig, DpdAction, DpdConfig, Endpoint, EndpointConfig, EventKind, SaState};
use ike_wire::{ExchangeType, Flags, Message, NotifyType, Payload};

const CGW_IKE: &[&str] = &["aes128-sha256-ecp256"];
const CGW_ESP: &[&str] = &["aes128-sha256"];

fn aws_with(dos: DosConfig) -> EndpointConfig {
    let mut aws = aws_config(PSK, None, None);
    aws.dos = dos;
    aws
}

/// No cookies, no bounds: the defences one test at a time.
fn open_door() -> DosConfig {
    DosConfig {
        cookie_threshold: usize::MAX,
        block_threshold: 0,
        half_open_limit: 0,
        ..DosConfig::default()
    }
}

/// The IKE_SA_INIT request a CGW at `from` sends first (its seed picks its SPI).
fn init_request(from: SocketAddr, seed: u64, ike: &[&str]) -> Vec<u8> {
    let mut cgw = Endpoint::new(cgw_config(PSK, ike, CGW_ESP), from, seed);
    cgw.initiate(std::time::Instant::now(), addr(AWS_ADDR));
    cgw.poll_transmit().expect("an IKE_SA_INIT request").payload
}

/// A spoofed source on 127.0.9.0/24 (or further), port 500.
fn spoofed(n: u32) -> SocketAddr {
    let [_, _, b, c] = (0x7f_00_09_00u32 + n).to_be_bytes();
    SocketAddr::from(([127, 0, b, c], 500))
}

/// Hands `bytes` from `from` to the AWS endpoint of the pair; returns what it answered.
fn spoof(pair: &mut Pair, from: SocketAddr, bytes: &[u8]) -> Vec<Message> {
    let (now, local) = (pair.now(), pair.aws.addr);
    let ep = &mut pair.aws.endpoint;
    ep.handle(now, local, from, bytes);
    let mut answers = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        assert_eq!(t.dst, from, "answered where the request came from");
        answers.push(Message::parse(&t.payload).expect("our answer parses"));
    }
    answers
}

fn notify_types(m: &Message) -> Vec<NotifyType> {
    m.payloads
        .iter()
        .filter_map(|p| match p {
            Payload::Notify(n) => Some(n.ty),
            _ => None,
        })
        .collect()
}

/// ```text
/// spoofed ×3 ---- IKE_SA_INIT ------------>|  answered: 3 half-open SAs (threshold 3)
/// spoofed #4 ---- IKE_SA_INIT ------------>|
///            <--- N(COOKIE) ---------------|  no DH, no SA, no event
/// CGW        ---- IKE_SA_INIT ------------>|
///            <--- N(COOKIE) ---------------|
///            ---- N(COOKIE), SA, KE, Ni -->|  the cookie verifies: a half-open SA
///            <--- SA, KE, Nr --------------|
///            ---- IKE_AUTH --------------->|  up
/// ```
#[test]
fn cookies_are_asked_for_at_the_threshold_and_the_cgw_comes_back_with_one() {
    let aws = aws_with(DosConfig {
        cookie_threshold: 3,
        ..open_door()
    });
    let mut pair = Pair::new(aws, cgw_config(PSK, CGW_IKE, CGW_ESP), 1, 2);
    for n in 0..3 {
        let answers = spoof(
            &mut pair,
            spoofed(n),
            &init_request(spoofed(n), 100 + n as u64, CGW_IKE),
        );
        assert_eq!(answers.len(), 1);
        assert!(answers[0]
            .payloads
            .iter()
            .any(|p| matches!(p, Payload::Ke(_))));
    }
    assert_eq!(pair.aws.endpoint.half_open(), 3);
    let events = pair.aws.endpoint.stats();
    let drained_events = {
        let mut n = 0;
        while pair.aws.endpoint.poll_event().is_some() {
            n += 1;
        }
        n
    };
    assert_eq!(drained_events, 3, "one IkeSaNegotiating per half-open SA");

    let answers = spoof(
        &mut pair,
        spoofed(3),
        &init_request(spoofed(3), 103, CGW_IKE),
    );
    assert_eq!(answers.len(), 1);
    let cookie = &answers[0];
    assert_eq!(cookie.header.exchange, ExchangeType::IKE_SA_INIT);
    assert_eq!(cookie.header.flags, Flags::RESPONSE);
    assert_eq!(cookie.header.spi_r, 0, "no SA behind a cookie (§2.6)");
    assert_eq!(notify_types(cookie), [NotifyType::COOKIE]);
    assert_eq!(cookie.payloads.len(), 1);
    assert_eq!(pair.aws.endpoint.half_open(), 3);
    assert!(
        pair.aws.endpoint.poll_event().is_none(),
        "a cookie is no event"
    );
    assert_eq!(
        pair.aws.endpoint.stats().cookies_sent,
        events.cookies_sent + 1
    );

    // The real CGW: challenged, comes back with the cookie, and gets its tunnel.
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(5));
    let requests = pair.cgw.sent_of(ExchangeType::IKE_SA_INIT, false);
    assert_eq!(
        requests.len(),
        2,
        "the first request, then one with the cookie"
    );
    let retry = requests[1].message();
    assert!(matches!(&retry.payloads[0], Payload::Notify(n) if n.ty == NotifyType::COOKIE));
    assert_eq!(
        pair.cgw.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
    assert_eq!(pair.aws.endpoint.stats().cookies_sent, 2);
    // AWS told one negotiation for the CGW: none for the request the cookie answered.
    let negotiating = pair
        .aws
        .kinds()
        .iter()
        .filter(|k| matches!(k, EventKind::IkeSaNegotiating { .. }))
        .count();
    assert_eq!(negotiating, 1);
}

/// A forged or stale cookie is no cookie: the request gets a fresh one, and still no SA.
#[test]
fn a_request_with_a_forged_cookie_gets_a_new_cookie_and_no_sa() {
    let aws = aws_with(DosConfig {
        cookie_threshold: 0,
        ..open_door()
    });
    let mut pair = Pair::new(aws, cgw_config(PSK, CGW_IKE, CGW_ESP), 1, 2);
    let from = spoofed(1);
    let answer = spoof(&mut pair, from, &init_request(from, 7, CGW_IKE));
    let Some(Payload::Notify(cookie)) = answer[0].payloads.first() else {
        panic!("a cookie: {answer:?}");
    };
    // The same request with the cookie, from another address: it does not verify there.
    let mut msg = Message::parse(&init_request(from, 7, CGW_IKE)).expect("parses");
    msg.payloads.insert(0, Payload::Notify(cookie.clone()));
    let with_cookie = msg.encode();
    let elsewhere = spoofed(2);
    let answer = spoof(&mut pair, elsewhere, &with_cookie);
    assert_eq!(notify_types(&answer[0]), [NotifyType::COOKIE]);
    assert_eq!(pair.aws.endpoint.half_open(), 0);
    // From where the cookie was sent, it does.
    let answer = spoof(&mut pair, from, &with_cookie);
    assert!(answer[0]
        .payloads
        .iter()
        .any(|p| matches!(p, Payload::Ke(_))));
    assert_eq!(pair.aws.endpoint.half_open(), 1);
}

/// ```text
/// 127.0.9.1 ×3 -- IKE_SA_INIT -->|  2 answered, the 3rd dropped (block_threshold 2)
/// 127.0.9.2..5 -- IKE_SA_INIT -->|  2 answered, then dropped (half_open_limit 4)
///                                |  +30 s: all four expire, no other traffic needed
/// ```
#[test]
fn half_open_sas_are_bounded_per_ip_and_in_all_and_expire_on_time() {
    let aws = aws_with(DosConfig {
        block_threshold: 2,
        half_open_limit: 4,
        ..open_door()
    });
    let mut pair = Pair::new(aws, cgw_config(PSK, CGW_IKE, CGW_ESP), 1, 2);
    let one = spoofed(1);
    for seed in 0..3 {
        let answers = spoof(&mut pair, one, &init_request(one, seed, CGW_IKE));
        assert_eq!(
            answers.len(),
            usize::from(seed < 2),
            "request {seed} from one IP"
        );
    }
    assert_eq!(pair.aws.endpoint.stats().half_open_refused, 1);
    for n in 2..6 {
        let answers = spoof(
            &mut pair,
            spoofed(n),
            &init_request(spoofed(n), 10 + u64::from(n), CGW_IKE),
        );
        assert_eq!(
            answers.len(),
            usize::from(n < 4),
            "request from 127.0.9.{n}"
        );
    }
    assert_eq!(pair.aws.endpoint.half_open(), 4);
    assert_eq!(pair.aws.endpoint.stats().half_open_refused, 3);
    // The half-open timeout (30 s) fires from the endpoint's own deadline.
    let deadline = pair
        .aws
        .endpoint
        .poll_timeout()
        .expect("a half-open deadline");
    assert_eq!(deadline, pair.now() + Duration::from_secs(30));
    pair.run_to(pair.elapsed() + Duration::from_secs(30));
    assert_eq!(pair.aws.endpoint.half_open(), 0);
    assert_eq!(pair.aws.endpoint.stats().half_open_expired, 4);
    assert_eq!(pair.aws.endpoint.poll_timeout(), None);
    // With the flood gone, the CGW gets in.
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(5));
    assert_eq!(
        pair.aws.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
}

/// Under pressure (cookies required), MODP-3072 is not computed when the CGW also offered
/// ECP-256: INVALID_KE_PAYLOAD names ECP-256, the CGW retries with it (RFC 7296 §1.3).
#[test]
fn under_pressure_an_expensive_group_is_turned_down_for_a_cheaper_one_offered() {
    let ike = &["aes128-sha256-modp3072", "aes128-sha256-ecp256"];
    let aws = aws_with(DosConfig {
        cookie_threshold: 0,
        ..open_door()
    });
    let mut pair = Pair::new(aws, cgw_config(PSK, ike, CGW_ESP), 1, 2);
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(5));
    assert_eq!(
        pair.cgw.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
    assert_eq!(pair.aws.endpoint.stats().expensive_dh_deflected, 1);
    let groups: Vec<u16> = pair
        .cgw
        .sent_of(ExchangeType::IKE_SA_INIT, false)
        .iter()
        .filter_map(|d| {
            d.message().payloads.iter().find_map(|p| match p {
                Payload::Ke(ke) => Some(ke.group.0),
                _ => None,
            })
        })
        .collect();
    assert_eq!(
        groups,
        [15, 15, 19],
        "MODP-3072, again with the cookie, then ECP-256"
    );
    let selected = pair.aws.kinds().into_iter().find_map(|k| match k {
        EventKind::IkeSaEstablished { selected, .. } => Some(selected),
        _ => None,
    });
    assert_eq!(selected.and_then(|s| s.dh).map(|g| g.0), Some(19));

    // Without pressure the CGW's choice stands.
    let aws = aws_with(open_door());
    let mut calm = Pair::new(aws, cgw_config(PSK, ike, CGW_ESP), 1, 2);
    calm.initiate();
    calm.drive_until(calm.now() + Duration::from_secs(5));
    assert_eq!(calm.aws.endpoint.stats().expensive_dh_deflected, 0);
    assert_eq!(calm.cgw.sent_of(ExchangeType::IKE_SA_INIT, false).len(), 1);
}

/// A request of major version 3 gets an unprotected INFORMATIONAL response with
/// INVALID_MAJOR_VERSION, major version 2 and the request's SPIs and message id
/// (RFC 7296 §1.5, §2.5); a response gets nothing; the answers are rate-limited.
#[test]
fn a_higher_major_version_is_answered_with_invalid_major_version() {
    let aws = aws_with(DosConfig {
        stateless_answers_per_second: 2,
        ..open_door()
    });
    let mut pair = Pair::new(aws, cgw_config(PSK, CGW_IKE, CGW_ESP), 1, 2);
    let from = spoofed(1);
    let mut v3 = init_request(from, 5, CGW_IKE);
    v3[17] = 0x30;
    let spi_i = u64::from_be_bytes(v3[..8].try_into().expect("8 bytes"));
    let answers = spoof(&mut pair, from, &v3);
    assert_eq!(answers.len(), 1);
    let a = &answers[0];
    assert_eq!((a.header.major, a.header.minor), (2, 0));
    assert_eq!(a.header.exchange, ExchangeType::INFORMATIONAL);
    assert_eq!(a.header.flags, Flags::RESPONSE);
    assert_eq!(
        (a.header.spi_i, a.header.spi_r, a.header.message_id),
        (spi_i, 0, 0)
    );
    let [Payload::Notify(n)] = a.payloads.as_slice() else {
        panic!("one notify: {a:?}");
    };
    assert_eq!(n.ty, NotifyType::INVALID_MAJOR_VERSION);
    assert!(n.data.is_empty() && n.spi.is_empty());
    // The bytes: header (28) + a notify payload of 8 bytes.
    let raw = ike_wire::Message::encode(a);
    assert_eq!(raw.len(), 36);
    assert_eq!(raw[17], 0x20, "major version 2, minor 0");
    assert_eq!(
        &raw[28..36],
        &[0, 0, 0, 8, 0, 0, 0, 5],
        "N(INVALID_MAJOR_VERSION)"
    );

    // A response of version 3 is not answered (no reflection of answers).
    let mut response = v3.clone();
    response[19] = Flags::RESPONSE.0;
    assert!(spoof(&mut pair, from, &response).is_empty());
    // The budget: 2 per second, one spent.
    let answered = (0..5)
        .filter(|_| !spoof(&mut pair, from, &v3).is_empty())
        .count();
    assert_eq!(answered, 1);
    let stats = pair.aws.endpoint.stats();
    assert_eq!(stats.invalid_major_version, 7);
    assert_eq!(stats.stateless_answers_limited, 4);
    assert_eq!(pair.aws.endpoint.half_open(), 0);
    assert!(pair.aws.endpoint.poll_event().is_none());
    pair.advance(Duration::from_secs(1));
    assert_eq!(spoof(&mut pair, from, &v3).len(), 1, "the budget refills");
}

/// ```text
/// CGW (behind a NAT)                 AWS
///  |---- IKE_SA_INIT (500) --------->|
///  |---- IKE_AUTH (4500) ----------->|  up, the SA moved to 4500
///  |==== copy of IKE_SA_INIT (500) =>|  dropped: its SPIi is an SA past IKE_SA_INIT
///  |==== copy, from 4500 ===========>|  dropped
///  ... IKE SA rekeyed: the first SA is gone ...
///  |==== copy of IKE_SA_INIT (500) =>|  dropped: an SPIi we had
/// ```
#[test]
fn a_replayed_ike_sa_init_creates_no_sa_and_no_event() {
    let cgw = cgw_config(PSK, CGW_IKE, CGW_ESP).with_lifetimes(exact_lifetimes(
        Duration::from_secs(600),
        Duration::from_secs(3_600),
        Duration::from_secs(60),
    ));
    let mut pair = Pair::new(aws_config(PSK, None, None), cgw, 1, 2).behind_nat();
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(5));
    assert_eq!(
        pair.aws.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
    let first = pair.cgw.sent[0].bytes.clone();
    let ike_sas = pair.aws.endpoint.ike_sas();
    let replay = |pair: &mut Pair, from: SocketAddr| {
        let (events, sent) = (pair.aws.events.len(), pair.aws.sent.len());
        let local = pair.aws.addr;
        let now = pair.now();
        pair.aws.endpoint.handle(now, local, from, &first);
        pair.drive_until(pair.now() + Duration::from_secs(1));
        assert_eq!(pair.aws.endpoint.half_open(), 0, "no half-open SA");
        assert_eq!(pair.aws.events.len(), events, "no event");
        assert_eq!(pair.aws.sent.len(), sent, "no answer");
    };
    let nat = pair.nat.as_ref().expect("a NAT");
    let from_500 = nat
        .outside(addr(CGW_ADDR))
        .expect("the NAT mapped port 500");
    let cgw_4500 = SocketAddr::new(addr(CGW_ADDR).ip(), NAT_T_PORT);
    let from_4500 = nat.outside(cgw_4500).expect("the NAT mapped port 4500");
    replay(&mut pair, from_500);
    replay(&mut pair, from_4500);
    assert_eq!(pair.aws.endpoint.ike_sas(), ike_sas);
    assert_eq!(pair.aws.endpoint.stats().replays_dropped, 2);

    pair.run_to(Duration::from_secs(700));
    let rekeyed = pair.aws.endpoint.ike_sas();
    assert_eq!(rekeyed.len(), 1);
    assert_ne!(rekeyed, ike_sas, "the IKE SA was rekeyed");
    replay(&mut pair, from_500);
    assert_eq!(pair.aws.endpoint.ike_sas(), rekeyed);
    assert_eq!(pair.aws.endpoint.stats().replays_dropped, 3);
}

/// Only what verifies counts as hearing from the peer: a message for the IKE SA from the
/// CGW's own address whose integrity check fails does not put DPD off.
#[test]
fn a_message_that_fails_integrity_does_not_postpone_dpd() {
    let mut aws = aws_config(PSK, None, None);
    aws.dpd = Some(DpdConfig::aws(Duration::from_secs(30), DpdAction::Clear));
    let mut pair = Pair::new(aws, cgw_config(PSK, CGW_IKE, CGW_ESP), 1, 2);
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(1));
    let heard = pair.aws.sent.last().expect("AWS answered IKE_AUTH").at;
    // The CGW falls silent; a forger sends its next request id with a broken SK payload.
    pair.cgw.drop = drop_all();
    let auth = pair.cgw.sent_of(ExchangeType::IKE_AUTH, false)[0]
        .bytes
        .clone();
    let mut forged = auth;
    forged[20..24].copy_from_slice(&2u32.to_be_bytes());
    forged[19] = Flags::INITIATOR.0;
    forged[4 + 5 * 8] ^= 0xff;
    pair.run_to(heard + Duration::from_secs(5));
    let failures = pair.aws.endpoint.stats().integrity_failures;
    let mut bytes = forged.clone();
    bytes[18] = ExchangeType::INFORMATIONAL.0;
    pair.inject(Side::Aws, &bytes);
    assert_eq!(pair.aws.endpoint.stats().integrity_failures, failures + 1);
    let sent = pair.aws.sent.len();
    pair.run_to(heard + Duration::from_secs(11));
    let probe = pair.aws.sent.get(sent).expect("a liveness check");
    assert_eq!(probe.message().header.exchange, ExchangeType::INFORMATIONAL);
    assert!(
        probe.at - heard <= Duration::from_secs(10),
        "probed at {:?}",
        probe.at - heard
    );
}
