//! Timelines built by hand, shaped like what `sim` records: an IKEv2 PSK mismatch (with a
//! lost IKE_AUTH, its retransmission, a duplicate and a delay), a CHILD SA rekey collision
//! after 47 minutes of DPD, a generated month of rekeys, and a hostile one whose strings try
//! to break out of the page. One file for the renderer's unit tests (crates/timeline) and
//! the browser test (tests/timeline.rs): each includes it with `#[path]`, the includer
//! bringing the model's types and chrono into scope (`use super::…` below).

#![allow(dead_code)]

use super::{
    Datagram, DateTime, Event, Fate, Lane, LaneKind, Message, PayloadView, Protection, RecordMark,
    Timeline, TimerMark, Utc, What,
};

/// 2026-01-01 00:00:00 UTC, the golden logs' start.
pub fn origin() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

pub const CGW: usize = 0;
pub const AWS: usize = 1;
/// The hosts' loopback addresses (the datagrams'), and what the lanes and records present
/// (docs/scenario-format.md, "Addresses").
const CGW_ADDR: &str = "127.0.2.1";
const AWS_ADDR: &str = "127.0.3.1";
const CGW_LANE: &str = "198.51.100.1 (on 127.0.2.1:500, :4500)";
const AWS_LANE: &str = "192.0.2.1 (on 127.0.3.1:500, :4500)";
const STREAM: &str = "vpn-0123456789abcdef0-192.0.2.1";
const SPIS: &str = "a5ffaaa3e15527f1/d2158d75347f864b";

fn lanes() -> Vec<Lane> {
    vec![
        Lane {
            name: "CGW (tunnel 1)".into(),
            kind: LaneKind::Cgw,
            address: CGW_LANE.into(),
            tunnel: Some(0),
        },
        Lane {
            name: "AWS tunnel 1".into(),
            kind: LaneKind::Aws,
            address: AWS_LANE.into(),
            tunnel: Some(0),
        },
    ]
}

pub fn payload(name: &str, summary: &str, detail: &str, encrypted: bool) -> PayloadView {
    PayloadView {
        name: name.into(),
        summary: summary.into(),
        detail: detail.into(),
        encrypted,
    }
}

fn sk(len: usize) -> PayloadView {
    payload(
        "SK",
        &format!("{len} bytes"),
        "Encrypted and Authenticated (RFC 7296 §3.14)",
        false,
    )
}

/// An IKEv2 message.
pub fn v2(
    exchange: &str,
    message_id: u32,
    response: bool,
    initiator: bool,
    payloads: Vec<PayloadView>,
) -> Message {
    let protection = if payloads.iter().any(|p| p.encrypted) || exchange != "IKE_SA_INIT" {
        Protection::Decrypted
    } else {
        Protection::Plain
    };
    Message {
        ike_version: 2,
        exchange: exchange.into(),
        message_id,
        response,
        initiator,
        spis: SPIS.into(),
        payloads,
        protection,
    }
}

/// A datagram event from `from` to the other lane of a two-lane timeline.
pub fn send(at_us: u64, from: usize, fate: Fate, transmission: u32, message: Message) -> Event {
    let to = 1 - from;
    let addr = |lane| if lane == CGW { CGW_ADDR } else { AWS_ADDR };
    Event {
        at_us,
        what: What::Datagram(Box::new(Datagram {
            from,
            to,
            via: None,
            src: format!("{}:500", addr(from)),
            dst: format!("{}:500", addr(to)),
            len: 28 + 40 * message.payloads.len(),
            transmission,
            duplicate: false,
            fate,
            message,
        })),
    }
}

pub fn delivered(at_us: u64) -> Fate {
    Fate::Delivered { at_us }
}

pub fn timer(at_us: u64, lane: usize, timer: &str, sa: &str) -> Event {
    Event {
        at_us,
        what: What::Timer(TimerMark {
            lane,
            timer: timer.into(),
            sa: sa.into(),
        }),
    }
}

/// An AWS record written at `at_us`, its JSON line as vpn-log writes it.
pub fn record(at_us: u64, phase1: &str, phase2: &str, details: &str) -> Event {
    let at = origin() + chrono::Duration::microseconds(i64::try_from(at_us).unwrap_or(0));
    let json = serde_json::json!({
        "event_timestamp": at.timestamp_millis(),
        "timestamp": at.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
        "dpd_enabled": true,
        "nat_t_detected": false,
        "ike_phase1_state": phase1,
        "ike_phase2_state": phase2,
        "details": details,
    });
    Event {
        at_us,
        what: What::Record(RecordMark {
            lane: AWS,
            stream: STREAM.into(),
            details: details.into(),
            phase1: phase1.into(),
            phase2: phase2.into(),
            json: json.to_string(),
        }),
    }
}

fn init_request() -> Vec<PayloadView> {
    vec![
        payload(
            "SA",
            "AES-GCM-16-256, PRF_HMAC_SHA2_256, group 19",
            "Proposal 1 (IKE): ENCR_AES_GCM_16 256, PRF_HMAC_SHA2_256, DH 19 (ECP-256)",
            false,
        ),
        payload("KE", "group 19", "DH group 19, 64 bytes", false),
        payload("Ni", "32 bytes", "nonce 3f1c…", false),
        payload(
            "N(NAT_DETECTION_SOURCE_IP)",
            "",
            "SHA-1 of SPIs, 127.0.2.1:500",
            false,
        ),
        payload(
            "N(NAT_DETECTION_DESTINATION_IP)",
            "",
            "SHA-1 of SPIs, 127.0.3.1:500",
            false,
        ),
    ]
}

fn init_response() -> Vec<PayloadView> {
    vec![
        payload(
            "SA",
            "AES-GCM-16-256, PRF_HMAC_SHA2_256, group 19",
            "Proposal 1 (IKE) chosen",
            false,
        ),
        payload("KE", "group 19", "DH group 19, 64 bytes", false),
        payload("Nr", "32 bytes", "nonce 9a07…", false),
        payload("N(NAT_DETECTION_SOURCE_IP)", "", "matches", false),
        payload("N(NAT_DETECTION_DESTINATION_IP)", "", "matches", false),
    ]
}

fn auth_request(id: &str) -> Vec<PayloadView> {
    vec![
        sk(240),
        payload("IDi", id, &format!("ID_IPV4_ADDR {id}"), true),
        payload(
            "AUTH",
            "shared key MIC",
            "method 2 (Shared Key Message Integrity Code), 32 bytes",
            true,
        ),
        payload(
            "SA",
            "ESP AES-GCM-16-256",
            "Proposal 1 (ESP) SPI c0ffee01: ENCR_AES_GCM_16 256, ESN off",
            true,
        ),
        payload(
            "TSi",
            "0.0.0.0/0",
            "TS_IPV4_ADDR_RANGE 0.0.0.0–255.255.255.255, any protocol, ports 0–65535",
            true,
        ),
        payload(
            "TSr",
            "0.0.0.0/0",
            "TS_IPV4_ADDR_RANGE 0.0.0.0–255.255.255.255, any protocol, ports 0–65535",
            true,
        ),
        payload("N(INITIAL_CONTACT)", "", "status 16384", true),
    ]
}

/// An IKEv2 PSK mismatch: the CGW's IKE_AUTH is lost once, retransmitted after its
/// retransmit timer, and answered with AUTHENTICATION_FAILED; AWS's IKE_SA_INIT answer is
/// duplicated by the path, and the CGW's second attempt 10 s later is delayed 180 ms.
pub fn psk_mismatch() -> Timeline {
    let mut events = vec![
        send(
            5_000,
            CGW,
            delivered(15_000),
            1,
            v2("IKE_SA_INIT", 0, false, true, init_request()),
        ),
        record(
            15_000,
            "negotiating",
            "down",
            "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 198.51.100.1",
        ),
        send(
            15_000,
            AWS,
            delivered(25_000),
            1,
            v2("IKE_SA_INIT", 0, true, false, init_response()),
        ),
    ];
    let mut dup = send(
        15_000,
        AWS,
        delivered(26_000),
        1,
        v2("IKE_SA_INIT", 0, true, false, init_response()),
    );
    if let What::Datagram(d) = &mut dup.what {
        d.duplicate = true;
    }
    events.push(dup);
    events.extend([
        send(
            25_000,
            CGW,
            Fate::Lost {
                reason: "loss".into(),
            },
            1,
            v2("IKE_AUTH", 1, false, true, auth_request("127.0.2.1")),
        ),
        timer(2_025_000, CGW, "retransmit", "IKE SA a5ffaaa3…/d2158d75…"),
        send(
            2_025_000,
            CGW,
            delivered(2_035_000),
            2,
            v2("IKE_AUTH", 1, false, true, auth_request("127.0.2.1")),
        ),
        record(
            2_035_000,
            "negotiating",
            "down",
            "AWS tunnel detected a pre-shared key mismatch with cgw: 198.51.100.1",
        ),
        record(
            2_035_000,
            "down",
            "down",
            "AWS tunnel is sending AUTHENTICATION_FAILED as the response",
        ),
        send(
            2_035_000,
            AWS,
            delivered(2_045_000),
            1,
            v2(
                "IKE_AUTH",
                1,
                true,
                false,
                vec![
                    sk(80),
                    payload("N(AUTHENTICATION_FAILED)", "", "error 24", true),
                ],
            ),
        ),
        send(
            12_045_000,
            CGW,
            delivered(12_225_000),
            1,
            v2("IKE_SA_INIT", 0, false, true, init_request()),
        ),
        record(
            12_225_000,
            "negotiating",
            "down",
            "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 198.51.100.1",
        ),
        send(
            12_225_000,
            AWS,
            delivered(12_235_000),
            1,
            v2("IKE_SA_INIT", 0, true, false, init_response()),
        ),
        timer(42_235_000, AWS, "half-open", "IKE SA 7e1d…/51aa…"),
        record(
            42_235_000,
            "down",
            "down",
            "AWS tunnel Phase 1 IKE_SA negotiation timed out (half-open)",
        ),
    ]);
    Timeline {
        title: "ikesim run ikev2-psk-mismatch --seed 1".into(),
        origin: origin(),
        lanes: lanes(),
        events,
        esp: Vec::new(),
    }
}

/// A DPD exchange started by AWS at `at_us` (its timer, the empty INFORMATIONAL, the answer).
pub fn dpd(events: &mut Vec<Event>, at_us: u64, message_id: u32) {
    events.push(timer(at_us, AWS, "DPD", "IKE SA a5ffaaa3…/d2158d75…"));
    events.push(send(
        at_us,
        AWS,
        delivered(at_us + 10_000),
        1,
        v2("INFORMATIONAL", message_id, false, false, vec![sk(0)]),
    ));
    events.push(send(
        at_us + 10_000,
        CGW,
        delivered(at_us + 20_000),
        1,
        v2("INFORMATIONAL", message_id, true, true, vec![sk(0)]),
    ));
}

fn setup(events: &mut Vec<Event>) {
    events.extend([
        send(5_000, CGW, delivered(15_000), 1, v2("IKE_SA_INIT", 0, false, true, init_request())),
        record(15_000, "negotiating", "down", "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 198.51.100.1"),
        send(15_000, AWS, delivered(25_000), 1, v2("IKE_SA_INIT", 0, true, false, init_response())),
        send(25_000, CGW, delivered(35_000), 1, v2("IKE_AUTH", 1, false, true, auth_request("127.0.2.1"))),
        record(35_000, "established", "negotiating", "AWS tunnel Phase 1 IKE_SA established with cgw: 198.51.100.1, SPIs: a5ffaaa3e15527f1_i d2158d75347f864b_r"),
        record(35_000, "established", "established", "AWS tunnel Phase 2 CHILD_SA established with SPIs: 8ded6515_i 87be839f_o"),
        send(35_000, AWS, delivered(45_000), 1, v2("IKE_AUTH", 1, true, false, vec![
            sk(200),
            payload("IDr", "127.0.3.1", "ID_IPV4_ADDR 127.0.3.1", true),
            payload("AUTH", "shared key MIC", "method 2, 32 bytes", true),
            payload("SA", "ESP AES-GCM-16-256", "Proposal 1 (ESP) SPI 8ded6515 chosen", true),
            payload("TSi", "0.0.0.0/0", "any", true),
            payload("TSr", "0.0.0.0/0", "any", true),
        ])),
    ]);
}

fn child_rekey_payloads(spi: &str) -> Vec<PayloadView> {
    vec![
        sk(180),
        payload(
            "N(REKEY_SA)",
            "ESP 87be839f",
            "status 16393, protocol ESP, SPI 87be839f",
            true,
        ),
        payload(
            "SA",
            "ESP AES-GCM-16-256",
            &format!("Proposal 1 (ESP) SPI {spi}"),
            true,
        ),
        payload("Ni", "32 bytes", "nonce", true),
        payload("TSi", "0.0.0.0/0", "any", true),
        payload("TSr", "0.0.0.0/0", "any", true),
    ]
}

/// A CHILD SA rekey collision (RFC 7296 §2.8.1) after 47 minutes of AWS's DPD every 10 s:
/// both sides send CREATE_CHILD_SA at 00:55:30, both answer, and the redundant SA is deleted.
pub fn rekey_collision() -> Timeline {
    let mut events = Vec::new();
    setup(&mut events);
    let mut id = 0;
    let mut at = 480_000_000; // 8 min: DPD from then on, every 10 s…
    while at < 3_310_000_000 {
        dpd(&mut events, at, id);
        id += 1;
        at += 10_000_000;
    }
    let t = 3_330_045_000; // … until both sides rekey the CHILD SA at once.
    events.extend([
        timer(t, AWS, "CHILD SA rekey", "CHILD SA 8ded6515"),
        timer(t, CGW, "CHILD SA rekey", "CHILD SA 87be839f"),
        record(
            t,
            "established",
            "rekeying",
            &format!("AWS tunnel is sending request (id={id}) for CREATE_CHILD_SA"),
        ),
        send(
            t,
            AWS,
            delivered(t + 10_000),
            1,
            v2(
                "CREATE_CHILD_SA",
                id,
                false,
                false,
                child_rekey_payloads("cf8dcee2"),
            ),
        ),
        send(
            t + 5_000,
            CGW,
            delivered(t + 20_000),
            1,
            v2(
                "CREATE_CHILD_SA",
                2,
                false,
                true,
                child_rekey_payloads("91ba7fa4"),
            ),
        ),
        record(
            t + 20_000,
            "established",
            "rekeying",
            "AWS tunnel processed request (id=2) for CREATE_CHILD_SA",
        ),
        record(
            t + 20_000,
            "established",
            "established",
            "AWS tunnel is sending response (id=2) for CREATE_CHILD_SA",
        ),
        record(
            t + 20_000,
            "established",
            "established",
            "AWS tunnel Phase 2 CHILD_SA rekeyed, new SPIs: cf8dcee2_i 70d157b0_o",
        ),
        send(
            t + 20_000,
            AWS,
            delivered(t + 30_000),
            1,
            v2(
                "CREATE_CHILD_SA",
                2,
                true,
                false,
                child_rekey_payloads("70d157b0"),
            ),
        ),
        send(
            t + 10_000,
            CGW,
            delivered(t + 30_000),
            1,
            v2(
                "CREATE_CHILD_SA",
                id,
                true,
                true,
                child_rekey_payloads("91ba7fa4"),
            ),
        ),
        record(
            t + 30_000,
            "established",
            "established",
            &format!("AWS tunnel processed response (id={id}) for CREATE_CHILD_SA"),
        ),
        record(
            t + 30_000,
            "established",
            "established",
            "AWS tunnel (CHILD_SA) redundant SA is being deleted due to detected collision",
        ),
        send(
            t + 30_000,
            AWS,
            delivered(t + 40_000),
            1,
            v2(
                "INFORMATIONAL",
                id + 1,
                false,
                false,
                vec![
                    sk(40),
                    payload(
                        "D",
                        "ESP 91ba7fa4",
                        "Delete: protocol ESP, 1 SPI: 91ba7fa4",
                        true,
                    ),
                ],
            ),
        ),
        send(
            t + 40_000,
            CGW,
            delivered(t + 50_000),
            1,
            v2(
                "INFORMATIONAL",
                id + 1,
                true,
                true,
                vec![
                    sk(40),
                    payload(
                        "D",
                        "ESP 87be839f",
                        "Delete: protocol ESP, 1 SPI: 87be839f",
                        true,
                    ),
                ],
            ),
        ),
        record(
            t + 50_000,
            "established",
            "established",
            "AWS tunnel received DELETE for Phase 2 SA with SPI: 87be839f",
        ),
        record(
            t + 60_000,
            "established",
            "established",
            "AWS tunnel Phase 2 CHILD_SA deleted with SPI: 91ba7fa4",
        ),
    ]);
    events.sort_by_key(|e| e.at_us);
    Timeline {
        title: "ikesim run ikev2-child-rekey-collision --seed 1".into(),
        origin: origin(),
        lanes: lanes(),
        events,
        esp: Vec::new(),
    }
}

/// `days` of a healthy tunnel: the CGW rekeys its CHILD SA every 55 minutes and AWS its IKE
/// SA every 7.5 hours; with `dpd_every_s`, AWS's DPD runs at that interval too.
pub fn month(days: u64, dpd_every_s: Option<u64>) -> Timeline {
    let mut events = Vec::new();
    setup(&mut events);
    let end = days * 86_400_000_000;
    let mut cgw_id = 2;
    let mut aws_id = 0;
    let child_every = 3_300_000_000;
    let ike_every = 27_000_000_000;
    let mut next_child = child_every;
    let mut next_ike = ike_every;
    let mut next_dpd = dpd_every_s.map(|s| s * 1_000_000);
    loop {
        let at = next_child.min(next_ike).min(next_dpd.unwrap_or(u64::MAX));
        if at >= end {
            break;
        }
        if at == next_child {
            events.push(timer(at, CGW, "CHILD SA rekey", "CHILD SA 87be839f"));
            events.push(send(
                at,
                CGW,
                delivered(at + 10_000),
                1,
                v2(
                    "CREATE_CHILD_SA",
                    cgw_id,
                    false,
                    true,
                    child_rekey_payloads("91ba7fa4"),
                ),
            ));
            events.push(record(
                at + 10_000,
                "established",
                "rekeying",
                &format!("AWS tunnel processed request (id={cgw_id}) for CREATE_CHILD_SA"),
            ));
            events.push(send(
                at + 10_000,
                AWS,
                delivered(at + 20_000),
                1,
                v2(
                    "CREATE_CHILD_SA",
                    cgw_id,
                    true,
                    false,
                    child_rekey_payloads("cf8dcee2"),
                ),
            ));
            events.push(record(
                at + 10_000,
                "established",
                "established",
                "AWS tunnel Phase 2 CHILD_SA rekeyed, new SPIs: cf8dcee2_i 70d157b0_o",
            ));
            events.push(send(
                at + 20_000,
                CGW,
                delivered(at + 30_000),
                1,
                v2(
                    "INFORMATIONAL",
                    cgw_id + 1,
                    false,
                    true,
                    vec![sk(40), payload("D", "ESP 87be839f", "Delete", true)],
                ),
            ));
            events.push(send(
                at + 30_000,
                AWS,
                delivered(at + 40_000),
                1,
                v2(
                    "INFORMATIONAL",
                    cgw_id + 1,
                    true,
                    false,
                    vec![sk(40), payload("D", "ESP 8ded6515", "Delete", true)],
                ),
            ));
            events.push(record(
                at + 30_000,
                "established",
                "established",
                "AWS tunnel received DELETE for Phase 2 SA with SPI: 87be839f",
            ));
            cgw_id += 2;
            next_child += child_every;
        } else if at == next_ike {
            events.push(timer(at, AWS, "IKE SA rekey", "IKE SA a5ffaaa3…/d2158d75…"));
            events.push(record(
                at,
                "rekeying",
                "established",
                &format!("AWS tunnel is sending request (id={aws_id}) for CREATE_CHILD_SA"),
            ));
            events.push(send(
                at,
                AWS,
                delivered(at + 10_000),
                1,
                v2(
                    "CREATE_CHILD_SA",
                    aws_id,
                    false,
                    false,
                    vec![
                        sk(120),
                        payload("SA", "AES-GCM-16-256, group 19", "Proposal 1 (IKE)", true),
                        payload("Ni", "32 bytes", "nonce", true),
                        payload("KE", "group 19", "64 bytes", true),
                    ],
                ),
            ));
            events.push(send(
                at + 10_000,
                CGW,
                delivered(at + 20_000),
                1,
                v2(
                    "CREATE_CHILD_SA",
                    aws_id,
                    true,
                    true,
                    vec![
                        sk(120),
                        payload("SA", "AES-GCM-16-256, group 19", "chosen", true),
                        payload("Nr", "32 bytes", "nonce", true),
                        payload("KE", "group 19", "64 bytes", true),
                    ],
                ),
            ));
            events.push(record(
                at + 20_000,
                "established",
                "established",
                "AWS tunnel Phase 1 IKE_SA rekeyed",
            ));
            aws_id += 1;
            next_ike += ike_every;
        } else if let Some(d) = next_dpd {
            dpd(&mut events, at, aws_id);
            aws_id += 1;
            next_dpd = Some(d + dpd_every_s.unwrap_or(10) * 1_000_000);
        }
    }
    events.sort_by_key(|e| e.at_us);
    Timeline {
        title: format!("ikesim run ikev2-happy --duration {days}d"),
        origin: origin(),
        lanes: lanes(),
        events,
        esp: Vec::new(),
    }
}

/// `t` with a NAT between the CGW and AWS: a lane in the middle that every datagram passes
/// (the CGW's source rewritten to the NAT's address and NAT-T port 4500).
pub fn behind_nat(mut t: Timeline) -> Timeline {
    const NAT: usize = 1;
    t.lanes.insert(
        NAT,
        Lane {
            name: "NAT".into(),
            kind: LaneKind::Nat,
            address: "203.0.113.1 (on 127.0.4.1)".into(),
            tunnel: Some(0),
        },
    );
    let moved = |lane: usize| if lane >= NAT { lane + 1 } else { lane };
    for event in &mut t.events {
        match &mut event.what {
            What::Datagram(d) => {
                d.from = moved(d.from);
                d.to = moved(d.to);
                d.via = Some(NAT);
                if d.from == CGW {
                    d.dst = "127.0.3.1:4500".into();
                } else {
                    d.dst = "127.0.4.1:4500".into();
                }
            }
            What::Timer(m) => m.lane = moved(m.lane),
            What::Record(r) => r.lane = moved(r.lane),
        }
    }
    t
}

/// The hostile ID a real CGW could send in `serve`.
pub const HOSTILE: &str =
    "</script><img src=x onerror=\"document.title='pwned'\"><!--\u{2028}&amp;";

/// The PSK mismatch with hostile strings everywhere a peer or a file could put them.
pub fn hostile() -> Timeline {
    let mut t = psk_mismatch();
    t.title = format!("serve {HOSTILE}");
    t.lanes[0].name = format!("CGW {HOSTILE}");
    for event in &mut t.events {
        match &mut event.what {
            What::Datagram(d) => {
                for p in &mut d.message.payloads {
                    if p.name == "IDi" {
                        p.summary = HOSTILE.into();
                        p.detail = format!("ID_FQDN {HOSTILE}");
                    }
                }
                d.src = HOSTILE.into();
            }
            What::Record(r) => {
                r.details = format!("{} {HOSTILE}", r.details);
                r.json = format!(
                    "{{\"details\":{}}}",
                    serde_json::Value::String(r.details.clone())
                );
            }
            What::Timer(m) => m.sa = HOSTILE.into(),
        }
    }
    t
}
