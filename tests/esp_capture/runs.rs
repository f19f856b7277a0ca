//! Whole runs: `ikesim run` with pings through the tunnel, `--pcap` and `--keys`, read
//! by tshark — the data plane's datagrams as the capture shows them and the esp_sa lines
//! the runner writes.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::{can_run, run_ok, temp_dir, Need};

/// A tunnel with pings from the on-premises host for two minutes: plain ESP with AES-GCM-256,
/// or, behind a NAT, UDP-encapsulated with AES-CBC-128 and HMAC-SHA-256-128.
fn flow_scenario(behind_nat: bool) -> String {
    let (nat, esp) = if behind_nat {
        (
            "[network.nat]\noutside_ip = \"203.0.113.1\"\n",
            "aes128-sha256-ecp256",
        )
    } else {
        ("", "aes256gcm16-ecp384")
    };
    format!(
        r#"description = "pings through the tunnel"
produces = []
seed = 1
start = "2026-01-01T00:00:00Z"
duration = "2m"
{nat}
[vpn_connection]
id = "vpn-0a1b2c3d4e5f60718"

[cgw]
outside_ip = "198.51.100.1"

[[tunnel]]
outside_ip = "192.0.2.1"

[tunnel.aws]
pre_shared_key = "ikesim.example_psk_1"

[tunnel.cgw]
ike_proposals = ["aes256gcm16-prfsha384-ecp384"]
esp_proposals = ["{esp}"]

[[flow]]
kind = "icmp"
from = "onprem"
rate = "1/s"
"#
    )
}

/// Runs the scenario with `--pcap` and `--keys`, and checks that tshark decrypts every ESP
/// packet of the run's SAs into an ICMP echo, with a good ICV, carried as IP protocol 50
/// or (behind the NAT) in UDP.
fn run_decrypts(name: &str, behind_nat: bool) {
    let dir = temp_dir(name);
    let scenario = dir.join("pings.toml");
    std::fs::write(&scenario, flow_scenario(behind_nat)).unwrap();
    let pcap = dir.join("run.pcap");
    let profile = dir.join(".config/wireshark");
    run_ok(&[
        "run",
        scenario.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
        "--keys",
        profile.to_str().unwrap(),
    ]);
    let table = std::fs::read_to_string(profile.join("esp_sa")).expect("esp_sa");
    // One CHILD SA, two directions; behind the NAT also the CGW's end, with its inside
    // address (AWS's end has the NAT's outside address, which the capture shows).
    let spis: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.split("\",\"").nth(3).map(str::to_owned))
        .collect();
    assert_eq!(spis.len(), 2, "one CHILD SA: {table}");
    // The hosts' ports are the OS's: every UDP port is decoded as UDP encapsulation, which
    // hands IKE (behind the non-ESP marker) on to ISAKMP and the rest to ESP.
    let ports = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args(["-T", "fields", "-e", "udp.srcport"])
        .output()
        .expect("run tshark");
    let ports: BTreeSet<String> = String::from_utf8_lossy(&ports.stdout)
        .lines()
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let mut cmd = Command::new("tshark");
    cmd.env("HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .arg("-r")
        .arg(&pcap);
    for p in &ports {
        cmd.args(["-d", &format!("udp.port=={p},udpencap")]);
    }
    let out = cmd
        .args(["-Y", "esp", "-T", "fields", "-E", "separator=|"])
        .args(["-e", "esp.spi", "-e", "ip.proto", "-e", "icmp.type"])
        .args(["-e", "esp.icv_good"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outer = if behind_nat { "17" } else { "50" };
    let (mut requests, mut replies) = (0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('|').collect();
        if !spis.contains(f[0]) {
            // IKE_SA_INIT's port decoded as UDP encapsulation: not ESP at all.
            continue;
        }
        assert_eq!(f[1], format!("{outer},1"), "ESP carrying ICMP: {line}");
        assert_eq!(f[3], "1", "a good ICV: {line}");
        match f[2] {
            "8" => requests += 1,
            "0" => replies += 1,
            other => panic!("not an ICMP echo ({other}): {line}"),
        }
    }
    // A ping a second for two minutes, the first sent before the tunnel was up; each
    // request and reply captured once (behind the NAT, between the NAT and AWS).
    assert!(requests >= 100, "{requests} requests");
    assert!(replies >= 100, "{replies} replies");
}

#[test]
fn a_run_with_pings_is_decrypted_by_tshark() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    run_decrypts("esp-run-plain", false);
}

#[test]
fn a_run_with_pings_behind_a_nat_is_decrypted_by_tshark() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    run_decrypts("esp-run-nat", true);
}
