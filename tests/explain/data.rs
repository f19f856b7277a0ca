//! `explain --metrics` and `--counters`: the data-plane numbers the tunnel log cannot show,
//! from the AWS CLI's JSON (tests/explain/metrics/, hand-written in its shapes) and from
//! `ikesim run --metrics / --counters` of the data-plane scenarios.

use std::path::Path;

use serde_json::Value;

use super::{explain_json, findings};
use crate::common::{ikesim, repo, run_ok, temp_dir};

fn corpus() -> std::path::PathBuf {
    repo().join("tests/explain/metrics")
}

/// The stream named `name` of an explain document.
fn stream<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no stream {name} in {doc}"))
}

/// The finding `id` of a stream (the first one).
fn finding<'a>(stream: &'a Value, id: &str) -> &'a Value {
    findings(stream)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} finding in {stream}"))
}

fn ids(stream: &Value) -> Vec<&str> {
    findings(stream)
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect()
}

/// `ikesim explain ARGS` in tests/explain/metrics/, which must fail as bad input (exit 2,
/// nothing on stdout, no panic): its stderr.
fn bad_input(args: &[&str]) -> String {
    let out = ikesim()
        .arg("explain")
        .args(args)
        .current_dir(corpus())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: nothing explained");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn get_metric_data_of_two_tunnels_each_carrying_one_way_is_asymmetric_routing() {
    let c = corpus();
    let (code, doc, stderr) = explain_json(&[
        &path(&c.join("asymmetric")),
        "--metrics",
        &path(&c.join("get-metric-data-asymmetric.json")),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let t1 = stream(&doc, "vpn-0123456789abcdef0-203.0.113.10");
    let t2 = stream(&doc, "vpn-0123456789abcdef0-203.0.113.20");
    let out = finding(t1, "metrics-one-way-out");
    assert_eq!(out["severity"], "warning");
    let title = out["title"].as_str().unwrap();
    assert!(
        title.starts_with("metrics: one-way traffic, out only"),
        "{title}"
    );
    // 48213 + 51002 + 49870 + 50114 + 47002 bytes out, none in.
    assert!(
        title.contains("TunnelDataIn 0 B, TunnelDataOut 246.2 kB"),
        "{title}"
    );
    let cause = out["cause"].as_str().unwrap();
    assert!(cause.contains("asymmetric routing"), "{cause}");
    assert!(cause.contains("203.0.113.20"), "{cause}");
    let back = finding(t2, "metrics-one-way-in");
    assert!(back["cause"].as_str().unwrap().contains("203.0.113.10"));
    // The log alone says healthy: it still does, beside the metrics.
    assert!(ids(t1).contains(&"healthy"), "{:?}", ids(t1));
}

#[test]
fn metrics_of_a_tunnel_whose_log_is_not_given_are_bad_input() {
    // Tunnel 1's log alone: tunnel 2's metrics have no stream to go to.
    let stderr = bad_input(&[
        "asymmetric/vpn-0123456789abcdef0-203.0.113.10.jsonl",
        "--metrics",
        "get-metric-data-asymmetric.json",
    ]);
    assert!(
        stderr.contains("get-metric-data-asymmetric.json:1:1: data for tunnel 203.0.113.20")
            && stderr.contains("give its log too"),
        "{stderr}"
    );
}

#[test]
fn get_metric_statistics_files_named_after_the_stream_show_an_idle_tunnel() {
    let c = corpus();
    let log = c.join("asymmetric/vpn-0123456789abcdef0-203.0.113.10.jsonl");
    let mut args = vec![path(&log)];
    for metric in ["TunnelDataIn", "TunnelDataOut", "TunnelState"] {
        args.push("--metrics".into());
        args.push(path(&c.join(format!(
            "vpn-0123456789abcdef0-203.0.113.10-{metric}.json"
        ))));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, doc, stderr) = explain_json(&args);
    assert_eq!(code, Some(0), "{stderr}");
    let s = stream(&doc, "vpn-0123456789abcdef0-203.0.113.10");
    let idle = finding(s, "metrics-idle");
    let title = idle["title"].as_str().unwrap();
    assert!(
        title.contains("4 datapoints from 2025-03-10 00:00:00.000 to 2025-03-10 03:00:00.000"),
        "{title}"
    );
    let cause = idle["cause"].as_str().unwrap();
    assert!(
        cause.contains("on demand") && cause.contains("10 s"),
        "{cause}"
    );
    // Text output: the finding among the log's.
    let out = ikesim()
        .args(["explain", "--records", "none"])
        .args(&args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("WARNING metrics: idle tunnel"), "{text}");
}

/// `run_and_explain_all` of a one-tunnel scenario: its one stream.
fn run_and_explain(scenario: &str) -> Value {
    let streams = run_and_explain_all(scenario);
    assert_eq!(streams.len(), 1, "{scenario}: {streams:?}");
    streams[0].clone()
}

/// `ikesim run SCENARIO --out DIR --metrics DIR/metrics.json --counters
/// DIR/counters.json`, then `explain DIR/logs --metrics … --counters …` as JSON: its
/// streams, by name.
fn run_and_explain_all(scenario: &str) -> Vec<Value> {
    let dir = temp_dir(&format!("explain-data-{scenario}"));
    let (logs, metrics, counters) = (
        dir.join("logs"),
        dir.join("metrics.json"),
        dir.join("counters.json"),
    );
    run_ok(&[
        "run",
        scenario,
        "--out",
        &path(&logs),
        "--metrics",
        &path(&metrics),
        "--counters",
        &path(&counters),
    ]);
    let (code, doc, stderr) = explain_json(&[
        &path(&logs),
        "--metrics",
        &path(&metrics),
        "--counters",
        &path(&counters),
    ]);
    assert_eq!(code, Some(0), "{scenario}: {stderr}");
    doc["streams"].as_array().unwrap().clone()
}

#[test]
fn the_mtu_black_hole_shows_in_metrics_and_counters_not_in_the_log() {
    let s = run_and_explain("ikev2-mtu-blackhole");
    let lopsided = finding(&s, "metrics-lopsided");
    let title = lopsided["title"].as_str().unwrap();
    assert!(title.contains("heavier in (from the CGW)"), "{title}");
    let cause = lopsided["cause"].as_str().unwrap();
    assert!(cause.contains("1446") && cause.contains("1406"), "{cause}");
    let mtu = finding(&s, "counters-mtu-drops");
    let title = mtu["title"].as_str().unwrap();
    assert!(
        title.starts_with("simulator counters (AWS publishes none): "),
        "{title}"
    );
    // Every large response (5/s from 1 s to 4 min 50 s) was dropped at AWS.
    assert!(title.contains("1445 inner packets") && title.contains("aws-tunnel-1 1445"));
    assert_eq!(mtu["scenario"], "ikev2-mtu-blackhole");
    assert!(ids(&s).contains(&"healthy"), "{:?}", ids(&s));
}

#[test]
fn replay_drops_are_simulator_only_findings() {
    let s = run_and_explain("ikev2-replay-reorder");
    let replay = finding(&s, "counters-replay-drops");
    let title = replay["title"].as_str().unwrap();
    assert!(title.contains("cgw-tunnel-1"), "{title}");
    assert!(!title.contains("aws-tunnel-1"), "{title}");
}

#[test]
fn asymmetric_routing_s_firewall_drops_are_a_simulator_only_finding() {
    // The CGW sends on tunnel 1 (192.0.2.1), AWS answers on tunnel 2 (192.0.2.2), whose
    // CGW side drops the replies: AWS's metrics show one-way traffic on each.
    let streams = run_and_explain_all("ikev2-asymmetric-routing");
    assert_eq!(streams.len(), 2);
    let (one, two) = (&streams[0], &streams[1]);
    assert!(
        one["name"].as_str().unwrap().ends_with("192.0.2.1"),
        "{one}"
    );
    finding(one, "metrics-one-way-in");
    finding(two, "metrics-one-way-out");
    let dropped = finding(two, "counters-firewall-drops");
    let title = dropped["title"].as_str().unwrap();
    assert!(title.contains("cgw-tunnel-2"), "{title}");
    assert_eq!(dropped["scenario"], "ikev2-asymmetric-routing", "{dropped}");
    assert!(!ids(one).contains(&"counters-firewall-drops"), "{one}");
}

#[test]
fn pings_both_ways_are_traffic_both_ways_and_nothing_else() {
    let s = run_and_explain("ikev2-ping");
    let data: Vec<&str> = ids(&s)
        .into_iter()
        .filter(|id| id.starts_with("metrics-") || id.starts_with("counters-"))
        .collect();
    assert_eq!(data, ["metrics-traffic"], "{s}");
    assert_eq!(finding(&s, "metrics-traffic")["severity"], "info");
}

#[test]
fn bad_metrics_and_counters_files_name_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        (
            "bad/syntax.json",
            "bad/syntax.json:3:47: expected `,` or `}`",
        ),
        (
            "bad/unknown-metric.json",
            "bad/unknown-metric.json:21:41: metric `TunnelLatency` is not one of AWS/VPN's",
        ),
        (
            "bad/lengths.json",
            "bad/lengths.json:32:13: result `out1` has 5 timestamps but 3 values",
        ),
        (
            "bad/no-sum-vpn-0123456789abcdef0-203.0.113.10.json",
            ":5:13: datapoint 1 of TunnelDataIn has no Sum: ask for `--statistics Sum`",
        ),
        (
            "bad/bad-timestamp.json",
            "bad/bad-timestamp.json:5:43: timestamp `10/03/2025 00:05`",
        ),
        (
            "bad/not-metrics.json",
            "bad/not-metrics.json:1:1: not a metrics file: expected",
        ),
        (
            "missing.json",
            "missing.json:0:0: cannot read the metrics file",
        ),
    ];
    for (file, want) in cases {
        let stderr = bad_input(&["asymmetric", "--metrics", file]);
        assert!(stderr.contains(want), "{file}: want {want:?} in {stderr}");
    }
    // A metrics file given as counters.
    let stderr = bad_input(&[
        "asymmetric",
        "--counters",
        "get-metric-data-asymmetric.json",
    ]);
    assert!(
        stderr.contains("get-metric-data-asymmetric.json:")
            && stderr.contains("missing field `data_plane`")
            && stderr.contains("ikesim run SCENARIO --counters FILE.json"),
        "{stderr}"
    );
}
