//! ESP in the timeline (issue 15 §3): `ikesim run SCENARIO -v --timeline` for the
//! data-plane scenarios draws a density band per tunnel and direction whose totals are
//! the `-v` counters' — delivered, and dropped by reason (replay, MTU) — and a scenario
//! without flows has none. The plan's numbers are checked without a browser; headless
//! Chromium then checks the bands are painted (skipped without it, as the other tests).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::browser::{check_painted, escaped, plan_of, screenshot};
use super::common::{can_run, run, temp_dir, Need};

/// One host's `esp host=…` line of `-v`: its counters, its drops as `drop:REASON`.
type Counters = HashMap<String, u64>;

/// `ikesim run SCENARIO --seed 1 -v --timeline` in `dir`: the page, and each host's
/// counters by host name (`aws-tunnel-1`, `cgw-tunnel-1`).
fn run_verbose(dir: &Path, scenario: &str) -> (PathBuf, HashMap<String, Counters>) {
    let page = dir.join(format!("{scenario}.html"));
    let args = [
        "run",
        scenario,
        "--seed",
        "1",
        "-v",
        "--timeline",
        page.to_str().expect("a UTF-8 temp path"),
        "--out",
        dir.to_str().expect("UTF-8"),
    ];
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ikesim {args:?} failed: {stderr}");
    let mut hosts = HashMap::new();
    for line in stderr.lines() {
        let Some((_, counters)) = line.split_once("esp host=") else {
            continue;
        };
        let (plain, drops) = counters.split_once(" drops=[").unwrap_or((counters, "]"));
        let drops = drops.split(']').next().unwrap_or("");
        let mut words = plain.split_whitespace();
        let name = words.next().unwrap_or_default().to_owned();
        let pairs =
            |text: &'static str, words: &mut dyn Iterator<Item = &str>, c: &mut Counters| {
                for (k, v) in words.filter_map(|w| w.split_once('=')) {
                    if let Ok(n) = v.parse() {
                        c.insert(format!("{text}{k}"), n);
                    }
                }
            };
        let mut c = Counters::new();
        pairs("", &mut words, &mut c);
        pairs("drop:", &mut drops.split_whitespace(), &mut c);
        hosts.insert(name, c);
    }
    assert!(
        !hosts.is_empty(),
        "no `esp host=` line in -v's output: {stderr}"
    );
    (page, hosts)
}

/// The plan's band of tunnel 1 going `direction` (`vpc_to_onprem`, `onprem_to_vpc`).
fn band<'a>(plan: &'a Value, direction: &str) -> &'a Value {
    plan["esp"]["bands"]
        .as_array()
        .expect("ESP bands in the plan")
        .iter()
        .find(|b| b["tunnel"] == 0 && b["direction"] == direction)
        .unwrap_or_else(|| panic!("no band for tunnel 1 {direction}"))
}

/// A band's total for `what` (`lost`, `dropped`) and `reason`, 0 when it has none.
fn reason(band: &Value, what: &str, reason: &str) -> u64 {
    band["totals"][what]
        .as_array()
        .expect("reasons")
        .iter()
        .find(|r| r[0] == reason)
        .and_then(|r| r[1].as_u64())
        .unwrap_or(0)
}

fn total(band: &Value, what: &str) -> u64 {
    band["totals"][what]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r[1].as_u64())
        .sum()
}

fn get(c: &Counters, key: &str) -> u64 {
    c.get(key).copied().unwrap_or(0)
}

/// Drops the sender of a band makes before sealing (the others are the receiver's).
const SENDER_DROPS: [&str; 4] = ["mtu_drop", "no_tunnel", "no_sa", "sequence_exhausted"];

/// What every data-plane page holds: two bands of tunnel 1 whose totals are the
/// counters, every packet the sender sealed accounted for (delivered, lost, dropped by
/// the receiver); the bucket count bounded; in Chromium both bands painted, a cell per
/// counted bucket, each with its tooltip, drops in their colour. Returns the plan.
fn check_bands(dir: &Path, scenario: &str) -> (PathBuf, Value, HashMap<String, Counters>) {
    let (page, hosts) = run_verbose(dir, scenario);
    let html = std::fs::read_to_string(&page).expect("read the page");
    let plan = plan_of(&html);
    let aws = hosts.get("aws-tunnel-1").expect("aws-tunnel-1's counters");
    let cgw = hosts.get("cgw-tunnel-1").expect("cgw-tunnel-1's counters");
    assert_eq!(plan["esp"]["bands"].as_array().map(Vec::len), Some(2));
    let columns = plan["esp"]["columns"].as_u64().expect("columns");
    assert!(columns > 0 && columns <= 360, "{columns} buckets");
    for (direction, sender, receiver) in [("vpc_to_onprem", aws, cgw), ("onprem_to_vpc", cgw, aws)]
    {
        let b = band(&plan, direction);
        assert_eq!(
            b["totals"]["delivered"].as_u64(),
            Some(get(receiver, "packets_in")),
            "{scenario} {direction}: delivered is the receiver's packets_in"
        );
        let at_receiver: u64 = b["totals"]["dropped"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter(|r| !SENDER_DROPS.iter().any(|s| r[0] == *s))
            .filter_map(|r| r[1].as_u64())
            .sum();
        assert_eq!(
            get(sender, "packets_out"),
            get(receiver, "packets_in") + total(b, "lost") + at_receiver,
            "{scenario} {direction}: every packet sealed is delivered, lost or dropped"
        );
        let cells = b["cells"].as_array().expect("cells");
        assert!(!cells.is_empty());
        let counted: u64 = cells
            .iter()
            .map(|c| {
                let tip = c["tip"].as_str().expect("a tooltip");
                let n = tip.lines().nth(1).expect("a count line");
                n.trim_end_matches(" delivered")
                    .replace(' ', "")
                    .parse::<u64>()
                    .expect("delivered in the tooltip")
            })
            .sum();
        assert_eq!(
            Some(counted),
            b["totals"]["delivered"].as_u64(),
            "the tooltips add up"
        );
    }
    // Every reason the SA databases counted is in a band: AWS's drops are its seals'
    // (VPC → on-premises) and its opens' (on-premises → VPC), the CGW's the other way.
    for (host, c) in &hosts {
        for (key, n) in c.iter().filter(|(k, _)| k.starts_with("drop:")) {
            let r = &key["drop:".len()..];
            let in_bands = reason(band(&plan, "vpc_to_onprem"), "dropped", r)
                + reason(band(&plan, "onprem_to_vpc"), "dropped", r);
            assert!(in_bands >= *n, "{host}'s {r}={n}: {in_bands} in the bands");
        }
    }
    assert_eq!(
        reason(band(&plan, "vpc_to_onprem"), "dropped", "mtu_drop"),
        get(aws, "mtu_drops")
    );
    if can_run(&[Need::Chromium]) {
        let (dom, _) = check_painted(dir, &page, false);
        assert_eq!(
            dom.matches("class=\"esp-band\"").count(),
            2,
            "two bands painted"
        );
        let cells: Vec<&Value> = ["vpc_to_onprem", "onprem_to_vpc"]
            .iter()
            .flat_map(|d| band(&plan, d)["cells"].as_array().expect("cells"))
            .collect();
        assert_eq!(dom.matches("class=\"esp-cell\"").count(), cells.len());
        assert_eq!(
            dom.matches("class=\"esp-drop\"").count(),
            cells.iter().filter(|c| c["dropped"] == true).count(),
            "a drop mark per bucket with drops"
        );
        for d in ["vpc_to_onprem", "onprem_to_vpc"] {
            let b = band(&plan, d);
            let label = escaped(b["label"].as_str().expect("label"));
            assert!(dom.contains(&format!(">{label}</p>")), "no label {label}");
            let tip = escaped(b["cells"][0]["tip"].as_str().expect("tip"));
            assert!(
                dom.contains(&format!("<title>{tip}</title>")),
                "no tooltip {tip}"
            );
        }
    }
    (page, plan, hosts)
}

#[test]
fn ikev2_ping_has_a_band_per_direction_with_the_counters_totals() {
    let dir = temp_dir("timeline-esp-ping");
    let (_, plan, hosts) = check_bands(&dir, "ikev2-ping");
    // An hour of pings both ways, all delivered, nothing lost or dropped.
    for d in ["vpc_to_onprem", "onprem_to_vpc"] {
        let b = band(&plan, d);
        assert!(b["totals"]["delivered"].as_u64() > Some(1000));
        assert_eq!(total(b, "lost") + total(b, "dropped"), 0);
        assert!(b["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .all(|c| c["bad"] == 0.0));
    }
    assert_eq!(
        get(&hosts["aws-tunnel-1"], "packets_in"),
        band(&plan, "onprem_to_vpc")["totals"]["delivered"]
            .as_u64()
            .unwrap_or(0)
    );
}

#[test]
fn replay_drops_under_reordering_show_in_the_cgws_direction() {
    let dir = temp_dir("timeline-esp-replay");
    let (page, plan, hosts) = check_bands(&dir, "ikev2-replay-reorder");
    let cgw = &hosts["cgw-tunnel-1"];
    let down = band(&plan, "vpc_to_onprem");
    let replay = reason(down, "dropped", "before_window") + reason(down, "dropped", "replayed");
    assert!(replay > 0, "the CGW's replay window dropped nothing");
    assert_eq!(replay, get(cgw, "replay_drops"));
    assert_eq!(total(band(&plan, "onprem_to_vpc"), "dropped"), 0);
    let cells = down["cells"].as_array().expect("cells");
    let dropped = cells.iter().filter(|c| c["dropped"] == true).count();
    assert!(
        dropped > 0 && dropped < cells.len(),
        "drops in some buckets, not all"
    );
    if can_run(&[Need::Chromium]) {
        screenshot(&dir, &page, "", "esp-replay-reorder");
    }
}

#[test]
fn the_mtu_black_hole_drops_at_aws_before_encryption() {
    let dir = temp_dir("timeline-esp-mtu");
    let (page, plan, hosts) = check_bands(&dir, "ikev2-mtu-blackhole");
    let down = band(&plan, "vpc_to_onprem");
    let mtu = reason(down, "dropped", "mtu_drop");
    assert!(mtu > 0);
    assert_eq!(mtu, get(&hosts["aws-tunnel-1"], "mtu_drops"));
    assert!(down["label"]
        .as_str()
        .is_some_and(|l| l.contains(" dropped (mtu_drop ")));
    if can_run(&[Need::Chromium]) {
        screenshot(&dir, &page, "", "esp-mtu-blackhole");
    }
}

/// The traffic model (`--traffic-model`) sends no packets: no band.
#[test]
fn a_run_without_packets_has_no_band() {
    let dir = temp_dir("timeline-esp-none");
    let page = super::run_timeline(&dir, "ikev2-happy", &["--traffic-model"]);
    let html = std::fs::read_to_string(&page).expect("read the page");
    assert!(plan_of(&html).get("esp").is_none());
    assert!(!html.contains("id=\"esp\""));
    if can_run(&[Need::Chromium]) {
        let (dom, _) = check_painted(&dir, &page, false);
        assert!(!dom.contains("class=\"esp-band\""));
        assert!(!dom.contains("id=\"esp\""));
    }
}
