//! Golden logs: every built-in scenario's exact output for its default seed is checked in
//! (tests/golden/<name>.jsonl) and compared byte for byte. `UPDATE_GOLDEN=1 cargo test`
//! rewrites them — then read the diff before committing it.

mod common;

use common::{builtin_scenarios, repo, run_ok, temp_dir};
use vpn_log::{PhaseState, TunnelRecord};

#[test]
fn every_builtin_scenario_matches_its_golden_log() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    let scenarios = builtin_scenarios();
    assert!(
        scenarios.iter().any(|s| s == "ikev2-happy"),
        "{scenarios:?}"
    );
    for name in &scenarios {
        let out = run_ok(&["run", name]);
        let path = repo().join("tests/golden").join(format!("{name}.jsonl"));
        if update {
            std::fs::write(&path, &out).expect("write golden log");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == out => {}
            Ok(expected) => failures.push(format!(
                "{name}: output differs from {}\n--- expected\n{expected}--- got\n{out}",
                path.display()
            )),
            Err(_) => failures.push(format!(
                "{name}: no golden log at {} (run with UPDATE_GOLDEN=1)",
                path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn same_seed_gives_identical_output_and_another_seed_the_same_story() {
    for name in ["ikev2-happy", "ikev2-psk-mismatch"] {
        let a = run_ok(&["run", name]);
        let b = run_ok(&["run", name]);
        assert_eq!(a, b, "{name}: two runs with the same seed differ");
        let c = run_ok(&["run", name, "--seed", "7"]);
        let story = |out: &str| -> Vec<(&'static str, PhaseState, PhaseState)> {
            out.lines()
                .map(|l| {
                    let r = TunnelRecord::parse_json(l).expect("record");
                    let entry = vpn_log::lookup(&r.details).expect("catalogue message");
                    (entry.id, r.ike_phase1_state, r.ike_phase2_state)
                })
                .collect()
        };
        assert_eq!(
            story(&a),
            story(&c),
            "{name}: another seed changed the story"
        );
        if name == "ikev2-happy" {
            assert_ne!(a, c, "another seed should change the SPIs");
        }
    }
}

/// Every built-in scenario's streams, one file each (`run --out`), keep the record
/// invariants the fleet's files are held to too (tests/common/records.rs): catalogue
/// messages only, time order, never down → established without negotiating. Per stream,
/// not per golden log: a golden log interleaves both tunnels.
#[test]
fn golden_logs_never_skip_negotiating() {
    let dir = temp_dir("golden-streams");
    let mut streams = 0;
    for name in builtin_scenarios() {
        let out = dir.join(&name);
        run_ok(&["run", &name, "--out", &out.to_string_lossy()]);
        for entry in std::fs::read_dir(&out).expect("the run's --out directory") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            let what = format!("{name}: {}", path.display());
            if let Err(e) = common::records::check_stream(&what, &text) {
                panic!("{e}");
            }
            streams += 1;
        }
    }
    assert!(streams > 40, "{streams} streams");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every catalogue entry is written by at least one built-in scenario, through the
/// protocol (scenarios hold no log text).
#[test]
fn golden_logs_cover_the_whole_catalogue() {
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("tests/golden")).expect("tests/golden") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        for line in text.lines() {
            let r = TunnelRecord::parse_json(line).expect("record");
            if let Some(e) = vpn_log::lookup(&r.details) {
                seen.insert(e.id);
            }
        }
    }
    let missing: Vec<&str> = vpn_log::CATALOGUE
        .iter()
        .map(|e| e.id)
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "no golden log in tests/golden/ has a record of these catalogue entries: {missing:?} \
         (give each a scenario that produces it, or take it out of the catalogue)"
    );
}

/// Each scenario's `produces` list (the AWS catalogue messages it is meant to show) is
/// exactly what its golden log contains.
#[test]
fn scenarios_produce_what_they_say() {
    for name in builtin_scenarios() {
        let scenario = sim::Scenario::load(&name).expect("built-in scenario");
        let text =
            std::fs::read_to_string(repo().join("tests/golden").join(format!("{name}.jsonl")))
                .expect("golden log");
        let mut seen = std::collections::BTreeSet::new();
        for line in text.lines() {
            let r = TunnelRecord::parse_json(line).expect("record");
            if let Some(e) =
                vpn_log::lookup(&r.details).filter(|e| e.origin == vpn_log::Origin::Aws)
            {
                seen.insert(e.id.to_owned());
            }
        }
        let said: std::collections::BTreeSet<String> = scenario.produces.iter().cloned().collect();
        assert_eq!(
            said, seen,
            "{name}: `produces` in the scenario file vs its golden log"
        );
    }
}

/// Built-in scenarios present documentation addresses (RFC 5737), one range per role, so
/// their logs look real and stay obviously simulated (docs/scenario-format.md,
/// "Addresses"): AWS's tunnels in 192.0.2.0/24, the CGW in 198.51.100.0/24, a NAT in
/// 203.0.113.0/24 — and no golden log names a loopback address.
#[test]
fn builtin_scenarios_present_documentation_addresses() {
    let in_range = |ip: std::net::IpAddr, prefix: [u8; 3]| match ip {
        std::net::IpAddr::V4(v4) => v4.octets()[..3] == prefix,
        std::net::IpAddr::V6(_) => false,
    };
    for name in builtin_scenarios() {
        let s = sim::Scenario::load(&name).expect("built-in scenario");
        let mut hosts: Vec<(&str, std::net::IpAddr, [u8; 3])> = s
            .tunnel
            .iter()
            .map(|t| ("[[tunnel]]", t.outside_ip.0, [192, 0, 2]))
            .collect();
        hosts.push(("[cgw]", s.cgw.outside_ip.0, [198, 51, 100]));
        if let Some(nat) = &s.network.nat {
            hosts.push(("[network.nat]", nat.outside_ip.0, [203, 0, 113]));
        }
        for (table, ip, prefix) in hosts {
            assert!(
                in_range(ip, prefix),
                "{name}: {table} outside_ip {ip} is not in {}.{}.{}.0/24 (RFC 5737)",
                prefix[0],
                prefix[1],
                prefix[2]
            );
        }
        let golden =
            std::fs::read_to_string(repo().join("tests/golden").join(format!("{name}.jsonl")))
                .expect("golden log");
        assert!(
            !golden.contains("127.0."),
            "{name}: its golden log names a loopback address"
        );
    }
}
