//! The datagrams are genuine IKEv2 and IKEv1: a capture of a real run is read by
//! Wireshark's dissector (tshark), which decrypts the SK payloads with the keys ikesim
//! derived and verifies their integrity. A wrong key must make that check fail. Behind a
//! NAT, the move to the NAT-T ports and the non-ESP marker there are what Wireshark's
//! UDP-encapsulation dissector expects. The runs keep the traffic model (`--traffic-model`):
//! IKE alone, as the pings' ESP is tests/esp_capture.rs's to read.
//!
//! Needs tshark: without it each test says `skipped: needs tshark, install with …` on stderr
//! and passes, or fails with `IKESIM_REQUIRE_PEERS=1` (as in CI); see `common::can_run`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{can_run, repo, run_ok, temp_dir, Need};

/// One decoded frame: exchange type, payload types (outer and decrypted), IDs.
#[derive(Debug)]
struct Frame {
    version: String,
    exchange: String,
    payloads: Vec<u32>,
    ids: String,
    problems: String,
}

/// The UDP ports in a capture: those whose datagrams carry the non-ESP marker (NAT-T
/// ports) and the others (IKE ports).
fn ports(pcap: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(pcap)
        .args([
            "-T",
            "fields",
            "-e",
            "udp.srcport",
            "-e",
            "udp.dstport",
            "-e",
            "data.data",
        ])
        .output();
    let out = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!("tshark failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("cannot run tshark: {e}"),
    };
    let (mut marked, mut plain) = (BTreeSet::new(), BTreeSet::new());
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let set = if f.get(2).is_some_and(|d| d.starts_with("00000000")) {
            &mut marked
        } else {
            &mut plain
        };
        set.extend(f.iter().take(2).map(|p| p.to_string()));
    }
    assert!(
        marked.is_disjoint(&plain),
        "a port with and without the marker: {marked:?} {plain:?}"
    );
    (marked, plain)
}

/// Whether tshark's `_ws.expert.severity` for a frame (comma-separated) names a problem: a
/// note, a warning or an error. Chat-level items (`PI_CHAT`, 0x00200000) are Wireshark's
/// "usual workflow" remarks, not problems, and come and go with random ports.
fn expert_problem(severities: &str) -> bool {
    const PI_NOTE: u32 = 0x0040_0000;
    severities
        .split(',')
        .filter(|s| !s.is_empty())
        .any(|s| s.parse::<u32>().map_or(true, |v| v >= PI_NOTE))
}

fn tshark(home: &Path, pcap: &Path, fields: &[&str]) -> String {
    // ikesim's hosts use OS-assigned ports: decode them all as ISAKMP, the NAT-T ones
    // (marked datagrams) as UDP encapsulation (RFC 3948), which hands IKE on to ISAKMP.
    let (marked, plain) = ports(pcap);
    let mut cmd = Command::new("tshark");
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .arg("-r")
        .arg(pcap);
    for p in plain {
        cmd.args(["-d", &format!("udp.port=={p},isakmp")]);
    }
    for p in marked {
        cmd.args(["-d", &format!("udp.port=={p},udpencap")]);
    }
    cmd.args(["-T", "fields", "-E", "separator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `scenario` with a capture and the key table, and returns tshark's view, decrypting
/// with the key table after `tamper` has had its way with it.
fn capture(name: &str, scenario: &Path, tamper: impl Fn(String) -> String) -> Vec<Frame> {
    let dir = temp_dir(name);
    let pcap = dir.join("ike.pcap");
    let profile = dir.join(".config/wireshark");
    run_ok(&[
        "run",
        scenario.to_str().unwrap(),
        // IKE alone: the pings' ESP is tests/esp_capture.rs's.
        "--traffic-model",
        "--pcap",
        pcap.to_str().unwrap(),
        "--keys",
        profile.to_str().unwrap(),
    ]);
    let table = std::fs::read_to_string(profile.join("ikev2_decryption_table")).expect("key table");
    assert_eq!(
        table.lines().count(),
        1,
        "one IKE SA, one key line: {table}"
    );
    std::fs::write(profile.join("ikev2_decryption_table"), tamper(table)).unwrap();
    let fields = [
        "isakmp.version",
        "isakmp.exchangetype",
        "isakmp.typepayload",
        "isakmp.id.data.ipv4_addr",
        "_ws.malformed",
        "isakmp.ikev2.integrity_checksum",
        "_ws.expert.severity",
    ];
    tshark(&dir, &pcap, &fields)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            Frame {
                version: f[0].into(),
                exchange: f[1].into(),
                payloads: f[2].split(',').filter_map(|p| p.parse().ok()).collect(),
                ids: f[3].into(),
                problems: f[4..].join("|").trim_matches('|').into(),
            }
        })
        .collect()
}

fn check_genuine(frames: &[Frame]) {
    let exchanges: Vec<&str> = frames.iter().map(|f| f.exchange.as_str()).collect();
    assert_eq!(exchanges, ["34", "34", "35", "35"], "{frames:#?}");
    for f in frames {
        assert_eq!(f.version, "0x20", "IKE version 2.0: {f:?}");
        assert!(f.problems.is_empty(), "tshark found problems: {f:?}");
    }
    // IKE_SA_INIT: SA, KE, Nonce, NAT detection notifies.
    for p in [33, 34, 40, 41] {
        assert!(
            frames[0].payloads.contains(&p) && frames[1].payloads.contains(&p),
            "{frames:#?}"
        );
    }
    // IKE_AUTH, decrypted: SK holding IDi/IDr, AUTH, SA, TSi, TSr.
    for (f, id_payload, id) in [(&frames[2], 35, "127.0.2.1"), (&frames[3], 36, "127.0.1.1")] {
        assert_eq!(f.payloads.first(), Some(&46), "{f:?}");
        for p in [id_payload, 39, 33, 44, 45] {
            assert!(
                f.payloads.contains(&p),
                "decrypted payload {p} missing: {f:?}"
            );
        }
        assert_eq!(f.ids, id);
    }
}

#[test]
fn ikev2_datagrams_dissect_and_decrypt_in_wireshark() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    let gcm = repo().join("scenarios/ikev2-happy.toml");
    check_genuine(&capture("wire-gcm", &gcm, |t| t));

    // AES-CBC + HMAC-SHA2-256 with MODP-2048: Wireshark checks the ICV itself.
    let dir = temp_dir("wire-cbc-scenario");
    let cbc = dir.join("cbc.toml");
    let text = std::fs::read_to_string(&gcm).unwrap();
    let text = text
        .replace("aes256gcm16-prfsha384-ecp384", "aes128-sha256-modp2048")
        .replace("[\"aes256gcm16\"]", "[\"aes128-sha256\"]");
    std::fs::write(&cbc, text).unwrap();
    check_genuine(&capture("wire-cbc", &cbc, |t| t));

    // A wrong integrity key must be noticed, or the checks above prove nothing.
    let broken = capture("wire-cbc-broken", &cbc, |t| {
        let mut fields: Vec<String> = t.trim_end().split(',').map(str::to_owned).collect();
        let sk_ai = &mut fields[5];
        let flipped = if sk_ai.starts_with('0') { "1" } else { "0" };
        sk_ai.replace_range(0..1, flipped);
        fields.join(",") + "\n"
    });
    assert!(
        broken[2].problems.contains("isakmp") || !broken[2].problems.is_empty(),
        "{broken:#?}"
    );
}

#[test]
fn ikev1_main_mode_and_quick_mode_dissect_in_wireshark() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    let dir = temp_dir("wire-v1");
    let pcap = dir.join("ike.pcap");
    let profile = dir.join(".config/wireshark");
    run_ok(&[
        "run",
        "ikev1-happy",
        // IKE alone: the pings' ESP is tests/esp_capture.rs's.
        "--traffic-model",
        "--pcap",
        pcap.to_str().unwrap(),
        "--keys",
        profile.to_str().unwrap(),
    ]);
    let table =
        std::fs::read_to_string(profile.join("ikev1_decryption_table")).expect("IKEv1 key table");
    assert_eq!(table.lines().count(), 1, "one ISAKMP SA: {table}");
    let fields = [
        "isakmp.version",
        "isakmp.exchangetype",
        "isakmp.typepayload",
        "isakmp.flags",
        "_ws.malformed",
        "_ws.expert.severity",
        "isakmp.id.data.ipv4_addr",
        "isakmp.hash",
    ];
    let out = tshark(&dir, &pcap, &fields);
    let frames: Vec<Vec<&str>> = out.lines().map(|l| l.split('|').collect()).collect();
    let exchanges: Vec<&str> = frames.iter().map(|f| f[1]).collect();
    // Main mode (2) ×6, quick mode (32) ×3.
    assert_eq!(
        exchanges,
        ["2", "2", "2", "2", "2", "2", "32", "32", "32"],
        "{out}"
    );
    for f in &frames {
        assert_eq!(f[0], "0x10", "ISAKMP version 1.0: {f:?}");
        assert!(
            f[4].is_empty() && !expert_problem(f[5]),
            "tshark found problems: {f:?}"
        );
    }
    // Message 1: SA with vendor IDs; message 3: KE, nonce, NAT-D (RFC 3947 type 20).
    let payloads = |i: usize| -> Vec<&str> { frames[i][2].split(',').collect() };
    assert!(
        payloads(0).contains(&"1") && payloads(0).contains(&"13"),
        "{:?}",
        frames[0]
    );
    for p in ["4", "10", "20"] {
        assert!(payloads(2).contains(&p), "{:?}", frames[2]);
    }
    // From message 5 on everything is encrypted (flags bit 0); with the key table Wireshark
    // decrypts it: message 5/6 hold ID + HASH, quick mode HASH, SA, nonce, KE, IDs.
    for f in &frames[4..] {
        let flags = u8::from_str_radix(f[3].trim_start_matches("0x"), 16).unwrap_or(0);
        assert_eq!(flags & 1, 1, "encryption flag: {f:?}");
        assert!(!f[7].is_empty(), "decrypted HASH payload: {f:?}");
    }
    assert_eq!(frames[4][6], "127.0.2.1", "{:?}", frames[4]);
    assert_eq!(frames[5][6], "127.0.1.1", "{:?}", frames[5]);
    for p in ["8", "1", "10", "4", "5"] {
        assert!(
            payloads(6).contains(&p),
            "quick mode 1 decrypted: {:?}",
            frames[6]
        );
    }
}

/// Behind a NAT both versions move to the NAT-T ports after the plain part of the
/// handshake (IKE_SA_INIT, main mode 1–4): the rest travels between two other ports, each
/// message behind the non-ESP marker, and Wireshark still decrypts it with the key table.
#[test]
fn behind_a_nat_ike_moves_to_the_nat_t_ports_with_the_non_esp_marker() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    for (scenario, version, plain, exchanges) in [
        ("ikev2-nat", "0x20", 2, &["34", "34", "35", "35"][..]),
        (
            "ikev1-nat",
            "0x10",
            4,
            &["2", "2", "2", "2", "2", "2", "32", "32", "32"][..],
        ),
    ] {
        let dir = temp_dir(&format!("wire-{scenario}"));
        let pcap = dir.join("ike.pcap");
        let profile = dir.join(".config/wireshark");
        let args = [
            "run",
            scenario,
            "--duration",
            "5s",
            "--traffic-model",
            "--pcap",
            pcap.to_str().unwrap(),
        ];
        let records = run_ok(&[&args[..], &["--keys", profile.to_str().unwrap()]].concat());
        let (marked, _) = ports(&pcap);
        let fields = [
            "udp.srcport",
            "udp.dstport",
            "isakmp.version",
            "isakmp.exchangetype",
            "isakmp.typepayload",
            "isakmp.id.data.ipv4_addr",
            "_ws.malformed",
            "_ws.expert.severity",
            "ip.src",
            "ip.dst",
        ];
        let out = tshark(&dir, &pcap, &fields);
        let frames: Vec<Vec<&str>> = out.lines().map(|l| l.split('|').collect()).collect();
        let got: Vec<&str> = frames.iter().map(|f| f[3]).collect();
        assert_eq!(got, exchanges, "{scenario}: {out}");
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f[2], version, "{scenario}: {f:?}");
            assert!(
                f[6].is_empty() && !expert_problem(f[7]),
                "{scenario}: tshark found problems: {f:?}"
            );
            let on_nat_t = marked.contains(f[0]) && marked.contains(f[1]);
            assert_eq!(
                on_nat_t,
                i >= plain,
                "{scenario}: frame {i} on the wrong ports: {f:?} (NAT-T: {marked:?})"
            );
        }
        // The first encrypted messages decrypt: each side's ID is its own (inside) address.
        assert_eq!(
            (frames[plain][5], frames[plain + 1][5]),
            ("127.0.2.1", "127.0.1.1"),
            "{scenario}: {out}"
        );
        // The capture (taken between the NAT and AWS) holds the addresses that went over the
        // wire — the loopback ones AWS and the NAT bind — while the records name the NAT by
        // the address the scenario presents it with (docs/scenario-format.md, "Addresses").
        let wire: BTreeSet<&str> = frames.iter().flat_map(|f| [f[8], f[9]]).collect();
        assert_eq!(
            wire,
            BTreeSet::from(["127.0.1.1", "127.0.3.1"]),
            "{scenario}: {out}"
        );
        assert!(
            records.contains("cgw: 203.0.113.1 is behind NAT") && !records.contains("127.0."),
            "{scenario}: {records}"
        );
    }
}
