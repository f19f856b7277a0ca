//! The timeline of real runs through `sim::run`: lanes, arrows with decoded (and
//! decrypted) payloads, retransmissions, losses with their reason, the NAT, timers and the
//! AWS records at the instants they were written — and `--timeline` changing nothing else.

use sim::{RunOptions, RunOutput, Scenario};
use timeline::{Datagram, Fate, LaneKind, Protection, Timeline, What};

fn run(name: &str, timeline: bool, pcap: Option<std::path::PathBuf>) -> RunOutput {
    let scenario = Scenario::load(name).expect("a built-in scenario");
    let options = RunOptions {
        timeline,
        pcap,
        ..RunOptions::default()
    };
    sim::run(&scenario, &options).expect("the run completes")
}

fn timeline_of(name: &str) -> (Timeline, RunOutput) {
    let mut out = run(name, true, None);
    let t = out.timeline.take().expect("asked for a timeline");
    (t, out)
}

fn datagrams(t: &Timeline) -> Vec<(u64, &Datagram)> {
    t.events
        .iter()
        .filter_map(|e| match &e.what {
            What::Datagram(d) => Some((e.at_us, &**d)),
            _ => None,
        })
        .collect()
}

fn names(d: &Datagram) -> Vec<&str> {
    d.message.payloads.iter().map(|p| p.name.as_str()).collect()
}

fn summary<'a>(d: &'a Datagram, name: &str) -> &'a str {
    d.message
        .payloads
        .iter()
        .find(|p| p.name == name)
        .map_or_else(
            || panic!("no {name} in {:?}", names(d)),
            |p| p.summary.as_str(),
        )
}

fn lanes(t: &Timeline) -> Vec<(&str, LaneKind)> {
    t.lanes.iter().map(|l| (l.name.as_str(), l.kind)).collect()
}

fn delivered_at(d: &Datagram) -> u64 {
    match d.fate {
        Fate::Delivered { at_us } => at_us,
        Fate::Lost { ref reason } => panic!("lost ({reason}): {d:?}"),
    }
}

/// ```text
/// CGW (tunnel 1)                          AWS tunnel 1
///  |-- IKE_SA_INIT {SA, KE, Ni, N(NAT_DETECTION_*)} -->|  record: negotiating
///  |<- IKE_SA_INIT {SA, KE, Nr, N(NAT_DETECTION_*)} ---|
///  |-- IKE_AUTH SK{IDi, N(INITIAL_CONTACT), AUTH, SA, TSi, TSr} -->|  records: PSK mismatch…
///  |<- IKE_AUTH SK{N(AUTHENTICATION_FAILED)} ----------|
/// ```
#[test]
fn psk_mismatch_shows_both_exchanges_decoded_and_the_records_where_they_were_written() {
    let (t, out) = timeline_of("ikev2-psk-mismatch");
    assert_eq!(t.title, "ikesim run ikev2-psk-mismatch --seed 1");
    assert_eq!(
        lanes(&t),
        [
            ("CGW (tunnel 1)", LaneKind::Cgw),
            ("AWS tunnel 1", LaneKind::Aws)
        ]
    );
    let d = datagrams(&t);
    let ex: Vec<(usize, usize, &str, u32, bool)> = d
        .iter()
        .map(|(_, d)| {
            (
                d.from,
                d.to,
                d.message.exchange.as_str(),
                d.message.message_id,
                d.message.response,
            )
        })
        .collect();
    assert_eq!(
        ex[..4],
        [
            (0, 1, "IKE_SA_INIT", 0, false),
            (1, 0, "IKE_SA_INIT", 0, true),
            (0, 1, "IKE_AUTH", 1, false),
            (1, 0, "IKE_AUTH", 1, true),
        ]
    );
    let (init, init_r, auth, auth_r) = (d[0].1, d[1].1, d[2].1, d[3].1);
    assert_eq!(init.message.protection, Protection::Plain);
    assert_eq!(
        names(init),
        [
            "SA",
            "KE",
            "Ni",
            "N(NAT_DETECTION_SOURCE_IP)",
            "N(NAT_DETECTION_DESTINATION_IP)"
        ]
    );
    assert_eq!(
        summary(init, "SA"),
        "ENCR_AES_GCM_16-256, PRF_HMAC_SHA2_384, ECP_384 (group 20)"
    );
    assert_eq!(summary(init, "KE"), "group 20 (ECP_384)");
    assert!(names(init_r).contains(&"Nr"));
    assert!(init.message.initiator && !init_r.message.initiator);

    assert_eq!(auth.message.protection, Protection::Decrypted);
    assert_eq!(
        names(auth),
        ["IDi", "N(INITIAL_CONTACT)", "AUTH", "SA", "TSi", "TSr"]
    );
    assert!(auth.message.payloads.iter().all(|p| p.encrypted));
    assert_eq!(summary(auth, "IDi"), "127.0.2.1");
    assert_eq!(summary(auth, "AUTH"), "SHARED_KEY_MIC");
    assert_eq!(summary(auth, "TSi"), "0.0.0.0/0");
    assert_eq!(auth_r.message.protection, Protection::Decrypted);
    assert_eq!(names(auth_r), ["N(AUTHENTICATION_FAILED)"]);

    // Every record, on AWS's lane, at the instant it was written (its own timestamp), in
    // the order written; the mismatch is found when the IKE_AUTH request arrives.
    let marks: Vec<(u64, &timeline::RecordMark)> = t
        .events
        .iter()
        .filter_map(|e| match &e.what {
            What::Record(r) => Some((e.at_us, r)),
            _ => None,
        })
        .collect();
    assert_eq!(marks.len(), out.records.len());
    for ((at_us, mark), (_, record)) in marks.iter().zip(&out.records) {
        assert_eq!(mark.lane, 1);
        assert_eq!(mark.json, record.to_json(vpn_log::Schema::Current));
        let since = record.time - t.origin;
        assert_eq!(
            i64::try_from(*at_us).ok(),
            since.num_microseconds(),
            "{}",
            mark.details
        );
    }
    let mismatch = marks
        .iter()
        .find(|(_, m)| m.details.contains("pre-shared key mismatch"))
        .expect("the mismatch record");
    assert_eq!(mismatch.0, delivered_at(auth));
    assert_eq!(mismatch.1.phase1, "negotiating");
}

/// Lost datagrams carry the reason the path gave, and each resend of the same bytes is the
/// next transmission of the same message, right after the sender's retransmit timer.
#[test]
fn lossy_path_shows_losses_and_numbered_retransmissions_after_their_timer() {
    let (t, _) = timeline_of("ikev2-lossy-path");
    let d = datagrams(&t);
    let lost: Vec<&Datagram> = d
        .iter()
        .map(|(_, d)| *d)
        .filter(|d| matches!(&d.fate, Fate::Lost { reason } if reason == "loss"))
        .collect();
    assert!(!lost.is_empty(), "the lossy path lost nothing?");
    let resent: Vec<(u64, &Datagram)> = d
        .iter()
        .copied()
        .filter(|(_, d)| d.transmission >= 2)
        .collect();
    assert!(resent.iter().any(|(_, d)| d.transmission >= 3));
    for (at, r) in &resent {
        let first = d
            .iter()
            .find(|(_, o)| o.transmission == 1 && o.from == r.from && o.message == r.message)
            .unwrap_or_else(|| panic!("no first transmission of {r:?}"));
        assert!(first.0 < *at);
        if r.message.response {
            // A responder resends its last response when the request comes again.
            let asked = d.iter().any(|(_, q)| {
                q.transmission >= 2
                    && !q.message.response
                    && q.to == r.from
                    && q.message.message_id == r.message.message_id
                    && matches!(q.fate, Fate::Delivered { at_us } if at_us == *at)
            });
            assert!(asked, "a resent request arrived when {r:?} was resent");
        } else {
            let timer = t.events.iter().any(|e| {
                e.at_us == *at
                    && matches!(&e.what, What::Timer(m) if m.timer == "retransmit" && m.lane == r.from)
            });
            assert!(timer, "a retransmit timer on lane {} at {at}", r.from);
        }
    }
    // A lost IKE_SA_INIT is sent again until one gets through, numbered 1, 2, 3….
    let init: Vec<u32> = d
        .iter()
        .filter(|(_, d)| d.message.exchange == "IKE_SA_INIT" && !d.message.response)
        .map(|(_, d)| d.transmission)
        .collect();
    assert_eq!(
        init,
        (1..=u32::try_from(init.len()).unwrap_or(0)).collect::<Vec<_>>()
    );
}

/// Behind a NAT: its lane between the CGW and AWS, every arrow through it; AWS's DPD
/// timer on AWS's lane, each followed by an INFORMATIONAL request and the CGW's answer.
#[test]
fn nat_lane_and_dpd_exchanges() {
    let (t, _) = timeline_of("ikev2-nat");
    assert_eq!(
        lanes(&t),
        [
            ("CGW (tunnel 1)", LaneKind::Cgw),
            ("NAT", LaneKind::Nat),
            ("AWS tunnel 1", LaneKind::Aws)
        ]
    );
    let d = datagrams(&t);
    assert!(
        d.iter().all(|(_, d)| d.via == Some(1)),
        "every datagram passes the NAT"
    );
    // The NAT's lane shows its presented address, then the loopback one it binds; AWS
    // writes to that one (the datagrams' addresses are real), for the CGW behind it.
    let nat = &t.lanes[1].address;
    assert!(
        nat.starts_with("203.0.113.1 (on 127.0.3.1, inside 127.0.3.1:"),
        "{nat}"
    );
    assert!(t.lanes[2].address.starts_with("192.0.2.1 (on 127.0.1.1:"));
    let nat_ip = "127.0.3.1";
    assert!(d
        .iter()
        .filter(|(_, d)| d.from == 2)
        .all(|(_, d)| d.to == 0 && d.dst.starts_with(&format!("{nat_ip}:"))));
    let dpd: Vec<u64> = t
        .events
        .iter()
        .filter(|e| matches!(&e.what, What::Timer(m) if m.timer == "DPD" && m.lane == 2))
        .map(|e| e.at_us)
        .collect();
    assert!(
        dpd.len() >= 5,
        "AWS probes every 10 s behind a NAT: {dpd:?}"
    );
    for at in dpd {
        let (_, probe) = d
            .iter()
            .find(|(t, d)| *t == at && d.from == 2)
            .expect("a probe when the DPD timer fires");
        assert_eq!(probe.message.exchange, "INFORMATIONAL");
        assert!(!probe.message.response);
        assert_eq!(probe.message.protection, Protection::Decrypted);
        assert!(probe.message.payloads.is_empty(), "an empty INFORMATIONAL");
        let answered = d.iter().any(|(t, a)| {
            *t == delivered_at(probe)
                && a.from == 0
                && a.message.response
                && a.message.message_id == probe.message.message_id
                && a.message.spis == probe.message.spis
        });
        assert!(answered, "the CGW answers the probe at {at}");
    }
}

/// A crashed CGW: AWS's DPD probes and their resends reach nobody.
#[test]
fn dpd_towards_a_crashed_cgw_is_lost_at_a_host_that_is_down() {
    let (t, _) = timeline_of("ikev2-dpd-restart");
    let d = datagrams(&t);
    let dpd = t
        .events
        .iter()
        .find(|e| matches!(&e.what, What::Timer(m) if m.timer == "DPD" && m.lane == 1))
        .expect("AWS's DPD timer");
    let probes: Vec<&Datagram> = d
        .iter()
        .filter(|(at, d)| *at >= dpd.at_us && d.message.exchange == "INFORMATIONAL")
        .map(|(_, d)| *d)
        .collect();
    assert!(probes.len() >= 2);
    for (i, p) in probes.iter().enumerate() {
        assert_eq!(p.transmission, u32::try_from(i + 1).unwrap_or(0));
        assert_eq!(
            p.fate,
            Fate::Lost {
                reason: "host down".to_owned()
            }
        );
    }
}

/// IKEv1: main mode 1–4 in the clear, 5 and 6 decrypted (ID, HASH), quick mode's three
/// messages decrypted (HASH first, then SA, NONCE, KE, IDs).
#[test]
fn ikev1_main_mode_5_6_and_quick_mode_are_decrypted() {
    let (t, _) = timeline_of("ikev1-happy");
    let d = datagrams(&t);
    let mm: Vec<&Datagram> = d
        .iter()
        .map(|(_, d)| *d)
        .filter(|d| d.message.exchange == "Identity Protection (Main Mode)")
        .take(6)
        .collect();
    assert_eq!(mm.len(), 6);
    let shape: Vec<(usize, bool, Protection)> = mm
        .iter()
        .map(|d| (d.from, d.message.response, d.message.protection))
        .collect();
    use Protection::{Decrypted, Plain};
    assert_eq!(
        shape,
        [
            (0, false, Plain),
            (1, true, Plain),
            (0, false, Plain),
            (1, true, Plain),
            (0, false, Decrypted),
            (1, true, Decrypted),
        ]
    );
    assert!(mm.iter().all(|d| d.message.ike_version == 1));
    assert!(names(mm[0]).contains(&"SA"));
    assert!(
        summary(mm[0], "SA").contains("AES-CBC"),
        "{}",
        summary(mm[0], "SA")
    );
    assert!(names(mm[2]).starts_with(&["KE", "NONCE"]));
    assert_eq!(names(mm[4])[..2], ["ID", "HASH"]);
    assert_eq!(summary(mm[4], "ID"), "127.0.2.1");
    assert_eq!(names(mm[5]), ["ID", "HASH"]);
    assert!(mm[4].message.payloads.iter().all(|p| p.encrypted));

    let qm: Vec<&Datagram> = d
        .iter()
        .map(|(_, d)| *d)
        .filter(|d| d.message.exchange == "Quick Mode")
        .take(3)
        .collect();
    assert_eq!(qm.len(), 3);
    assert!(qm.iter().all(|d| d.message.protection == Decrypted));
    assert_eq!(names(qm[0]), ["HASH", "SA", "NONCE", "KE", "ID", "ID"]);
    assert!(
        summary(qm[0], "SA").starts_with("ESP AES-CBC"),
        "{}",
        summary(qm[0], "SA")
    );
    assert_eq!(names(qm[2]), ["HASH"]);
    let roles: Vec<(usize, bool)> = qm.iter().map(|d| (d.from, d.message.response)).collect();
    assert_eq!(roles, [(0, false), (1, true), (0, false)]);
}

/// What of a capture is the same from run to run: each packet's time, length, IP
/// addresses and the first 8 bytes of its UDP or ESP payload (the IKE SPIi, or the marker
/// and half of it; an ESP SPI and sequence number) — the ports are the OS's, the DH
/// values and ESP's IVs the OS RNG's (DESIGN.md principle 3).
fn capture_shape(pcap: &[u8]) -> Vec<(std::time::Duration, Vec<u8>)> {
    let mut reader = pcap_file::pcap::PcapReader::new(pcap).expect("a pcap");
    let mut shape = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let p = packet.expect("a packet");
        let data = &p.data;
        let mut key = (data.len() as u64).to_be_bytes().to_vec();
        key.extend_from_slice(&data[12..20]);
        let payload = if data[9] == 50 { 20 } else { 28 };
        key.extend_from_slice(&data[payload..(payload + 8).min(data.len())]);
        shape.push((p.timestamp, key));
    }
    shape
}

/// `--timeline` turns on the endpoints' trace: not a record, not a packet of the capture
/// may change.
#[test]
fn the_timeline_changes_no_record_and_no_captured_packet() {
    let dir = std::env::temp_dir().join(format!("ikesim-timeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    for name in ["ikev2-lossy-path", "ikev1-nat"] {
        let (with, without) = (dir.join("with.pcap"), dir.join("without.pcap"));
        let a = run(name, true, Some(with.clone()));
        let b = run(name, false, Some(without.clone()));
        assert!(a.timeline.is_some() && b.timeline.is_none());
        assert_eq!(a.records, b.records, "{name}: records");
        let a = capture_shape(&std::fs::read(&with).expect("the capture"));
        let b = capture_shape(&std::fs::read(&without).expect("the capture"));
        assert!(a.len() > 10, "{name}: a capture");
        assert_eq!(a, b, "{name}: the capture");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// IKEv1 behind a NAT: AWS's DPD (RFC 3706) on its lane, each R-U-THERE an Informational
/// request through the NAT, decrypted, answered by an R-U-THERE-ACK.
#[test]
fn ikev1_dpd_is_r_u_there_answered_by_an_ack() {
    let (t, _) = timeline_of("ikev1-nat");
    let d = datagrams(&t);
    let probes: Vec<&Datagram> = d
        .iter()
        .map(|(_, d)| *d)
        .filter(|d| names(d).contains(&"N(R_U_THERE)"))
        .collect();
    let acks: Vec<&Datagram> = d
        .iter()
        .map(|(_, d)| *d)
        .filter(|d| names(d).contains(&"N(R_U_THERE_ACK)"))
        .collect();
    assert!(probes.len() >= 5, "{}", probes.len());
    for p in &probes {
        assert_eq!(
            (p.message.exchange.as_str(), p.message.response),
            ("Informational", false)
        );
        assert_eq!(p.message.protection, Protection::Decrypted);
        assert_eq!(p.via, Some(1));
        assert_eq!(names(p)[0], "HASH");
        let seq = summary(p, "N(R_U_THERE)");
        assert!(
            acks.iter().any(|a| a.from != p.from
                && a.message.response
                && summary(a, "N(R_U_THERE_ACK)") == seq),
            "{seq} acknowledged"
        );
    }
    let aws_dpd = t
        .events
        .iter()
        .filter(|e| matches!(&e.what, What::Timer(m) if m.timer == "DPD" && m.lane == 2))
        .count();
    assert!(aws_dpd >= 5);
}
