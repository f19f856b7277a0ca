//! `ikesim explain` end to end: the real binary on every built-in scenario's golden log,
//! on hand-written records no scenario produced (tests/explain/cases/), on a two-tunnel
//! run's per-stream files and on a 30-day log.

mod common;
/// `--metrics` and `--counters` (tests/explain/data.rs).
#[path = "explain/data.rs"]
mod data;

use std::io::Write;
use std::process::Stdio;

use common::{builtin_scenarios, ikesim, repo, run, run_ok, temp_dir};
use serde_json::Value;

/// What `explain` must name on a scenario's golden log.
enum Expect {
    /// Nothing wrong: no warning or error, a `healthy` finding.
    Healthy,
    /// Healthy, plus this informational finding.
    HealthyWith(&'static str),
    /// This finding, pointing to this guide page (docs/failures/<page>.md) and scenario.
    Finding(&'static str, Option<&'static str>, Option<&'static str>),
}

use Expect::{Finding, Healthy, HealthyWith};

/// One row per built-in scenario (the test fails when a scenario has none). Where two
/// scenarios write the same records (ikev1-half-open and ikev2-half-open, the
/// proposal-unsupported pair), the records cannot tell them apart and the finding points
/// to the IKEv2 one.
const TABLE: &[(&str, Expect)] = &[
    ("ikev1-aws-ike-rekey", Healthy),
    (
        "ikev1-cgw-reboot",
        Finding("cgw-restarted", None, Some("ikev1-cgw-reboot")),
    ),
    ("ikev1-child-rekey", Healthy),
    (
        "ikev1-dpd",
        Finding(
            "dpd-timeout",
            Some("ikev1-dpd-peer-dead"),
            Some("ikev1-dpd"),
        ),
    ),
    (
        "ikev1-half-open",
        Finding(
            "half-open",
            Some("ikev2-half-open-timeout"),
            Some("ikev2-half-open"),
        ),
    ),
    // AWS replaced the endpoint and the IKEv1 CGW never came back.
    (
        "ikev1-endpoint-replacement",
        Finding(
            "endpoint-replaced",
            Some("README"),
            Some("ikev1-endpoint-replacement"),
        ),
    ),
    ("ikev1-happy", Healthy),
    ("ikev1-ike-rekey", Healthy),
    ("ikev1-nat", HealthyWith("nat-t")),
    (
        "ikev1-phase2-proposal-mismatch",
        Finding(
            "phase2-proposal-not-allowed",
            Some("no-proposal-chosen"),
            Some("ikev1-phase2-proposal-mismatch"),
        ),
    ),
    (
        "ikev1-policy-based-two-subnets",
        Finding(
            "sa-pair-replaced",
            Some("ikev2-processed-create-child-sa-request"),
            Some("ikev1-policy-based-two-subnets"),
        ),
    ),
    (
        "ikev1-proposal-unsupported",
        Finding(
            "phase1-proposal-unsupported",
            Some("no-proposal-match-by-aws"),
            Some("ikev2-proposal-unsupported"),
        ),
    ),
    (
        "ikev1-psk-mismatch",
        Finding(
            "psk-mismatch",
            Some("ikev1-psk-mismatch"),
            Some("ikev1-psk-mismatch"),
        ),
    ),
    ("ikev2-asymmetric-routing", Healthy),
    (
        "ikev2-aws-start-proposal-mismatch",
        Finding(
            "cgw-refused-proposals",
            Some("no-proposal-chosen"),
            Some("ikev2-aws-start-proposal-mismatch"),
        ),
    ),
    (
        "ikev2-aws-start-psk-mismatch",
        Finding(
            "cgw-refused-auth",
            Some("ikev2-psk-mismatch"),
            Some("ikev2-aws-start-psk-mismatch"),
        ),
    ),
    (
        "ikev2-aws-start-ts-unacceptable",
        Finding(
            "ts-unacceptable",
            Some("ikev2-ts-unacceptable"),
            Some("ikev2-aws-start-ts-unacceptable"),
        ),
    ),
    ("ikev2-cgw-ike-rekey", Healthy),
    (
        "ikev2-cgw-reboot",
        Finding("cgw-restarted", None, Some("ikev2-cgw-reboot")),
    ),
    (
        "ikev2-cgw-terminate",
        Finding(
            "cgw-deleted-ike-sa",
            Some("received-delete-ike-sa"),
            Some("ikev2-cgw-terminate"),
        ),
    ),
    (
        "ikev2-child-rekey-collision",
        Finding(
            "rekey-collisions",
            Some("ikev2-redundant-child-sa"),
            Some("ikev2-child-rekey-collision"),
        ),
    ),
    ("ikev2-child-rekey", Healthy),
    // The CGW lost its CHILD SA without a DELETE; AWS's rekey gets CHILD_SA_NOT_FOUND.
    (
        "ikev2-cgw-lost-child-sa",
        Finding(
            "cgw-lost-child-sa",
            Some("ikev2-processed-create-child-sa-response"),
            Some("ikev2-cgw-lost-child-sa"),
        ),
    ),
    (
        "ikev2-delete-during-rekey",
        Finding(
            "cgw-deleted-during-rekey",
            Some("ikev2-child-rekey-collision-delete"),
            Some("ikev2-delete-during-rekey"),
        ),
    ),
    (
        "ikev2-dpd-clear",
        Finding(
            "dpd-timeout",
            Some("ikev2-dpd-timeout"),
            Some("ikev2-dpd-clear"),
        ),
    ),
    (
        "ikev2-dpd-none-rekey-unanswered",
        Finding(
            "rekey-unanswered",
            None,
            Some("ikev2-dpd-none-rekey-unanswered"),
        ),
    ),
    (
        "ikev2-dpd-none",
        Finding(
            "dpd-timeout",
            Some("ikev2-dpd-timeout"),
            Some("ikev2-dpd-none"),
        ),
    ),
    (
        "ikev2-dpd-restart",
        Finding(
            "dpd-timeout",
            Some("ikev2-dpd-timeout"),
            Some("ikev2-dpd-restart"),
        ),
    ),
    (
        "ikev2-half-open",
        Finding(
            "half-open",
            Some("ikev2-half-open-timeout"),
            Some("ikev2-half-open"),
        ),
    ),
    // Replaced endpoint, the CGW's DPD restart brought tunnel 1 back.
    (
        "ikev2-endpoint-replacement",
        Finding(
            "endpoint-replaced",
            Some("README"),
            Some("ikev2-endpoint-replacement"),
        ),
    ),
    // Replaced endpoint; the CGW's DPD cleared the old IKE SA, its trap the next ping.
    (
        "ikev2-cgw-trap-on-demand",
        Finding(
            "endpoint-replaced",
            Some("README"),
            Some("ikev2-endpoint-replacement"),
        ),
    ),
    ("ikev2-happy", Healthy),
    (
        "ikev2-idle-tunnel-expires",
        Finding(
            "cgw-deleted-child-sa",
            Some("received-delete-child-sa"),
            Some("ikev2-idle-tunnel-expires"),
        ),
    ),
    ("ikev2-ike-rekey", Healthy),
    (
        "ikev2-internet-weather",
        Finding(
            "dpd-timeout",
            Some("ikev2-dpd-timeout"),
            Some("ikev2-dpd-restart"),
        ),
    ),
    ("ikev2-invalid-ke", HealthyWith("invalid-ke")),
    (
        "ikev2-lifetimes-collide-daily",
        Finding(
            "rekey-collisions",
            Some("ikev2-redundant-child-sa"),
            Some("ikev2-lifetimes-collide-daily"),
        ),
    ),
    ("ikev2-lossy-path", Healthy),
    // The data plane's scenarios: what they show is in the counters and the metrics, not in
    // AWS's log (the black hole and the replay drops above all: docs/data-plane.md).
    ("ikev2-mtu-blackhole", Healthy),
    ("ikev2-ping", Healthy),
    ("ikev2-replay-reorder", Healthy),
    ("ikev2-traffic-across-rekeys", Healthy),
    (
        "ikev2-modify-options-mismatch",
        Finding(
            "phase1-proposal-not-allowed",
            Some("no-proposal-chosen"),
            Some("ikev2-proposal-mismatch"),
        ),
    ),
    ("ikev2-nat", HealthyWith("nat-t")),
    // The same NAT as ikev2-nat-mapping-expiry, with NAT keepalives: stays up.
    ("ikev2-nat-keepalive", HealthyWith("nat-t")),
    (
        "ikev2-nat-mapping-expiry",
        Finding(
            "dpd-timeout",
            Some("ikev2-dpd-timeout"),
            Some("ikev2-dpd-clear"),
        ),
    ),
    // One stream for both tunnels (one golden file): AWS's unanswered call on tunnel 2.
    (
        "ikev2-one-tunnel-configured",
        Finding("cgw-unreachable", None, Some("ikev2-dpd-restart")),
    ),
    (
        "ikev2-pfs-mismatch-at-rekey",
        Finding(
            "phase2-refused-at-rekey",
            Some("no-proposal-chosen"),
            Some("ikev2-pfs-mismatch-at-rekey"),
        ),
    ),
    (
        "ikev2-phase2-proposal-unsupported",
        Finding(
            "phase2-proposal-unsupported",
            Some("no-proposal-match-by-aws"),
            Some("ikev2-phase2-proposal-unsupported"),
        ),
    ),
    (
        "ikev2-policy-based-trap",
        Finding(
            "sa-pair-replaced",
            Some("ikev2-processed-create-child-sa-request"),
            Some("ikev2-policy-based-two-subnets"),
        ),
    ),
    (
        "ikev2-policy-based-two-subnets",
        Finding(
            "sa-pair-replaced",
            Some("ikev2-processed-create-child-sa-request"),
            Some("ikev2-policy-based-two-subnets"),
        ),
    ),
    (
        "ikev2-proposal-mismatch",
        Finding(
            "phase1-proposal-not-allowed",
            Some("no-proposal-chosen"),
            Some("ikev2-proposal-mismatch"),
        ),
    ),
    (
        "ikev2-proposal-unsupported",
        Finding(
            "phase1-proposal-unsupported",
            Some("no-proposal-match-by-aws"),
            Some("ikev2-proposal-unsupported"),
        ),
    ),
    (
        "ikev2-psk-mismatch",
        Finding(
            "psk-mismatch",
            Some("ikev2-psk-mismatch"),
            Some("ikev2-psk-mismatch"),
        ),
    ),
    (
        "ikev2-ts-unacceptable",
        Finding(
            "phase2-refused",
            Some("ikev2-child-sa-failed"),
            Some("ikev2-ts-unacceptable"),
        ),
    ),
    // The golden log holds both tunnels' records in one file, so one stream: the failing
    // tunnel's key mismatch (the connection-level finding is tested on per-stream files).
    (
        "ikev2-two-tunnels-one-failing",
        Finding(
            "psk-mismatch",
            Some("ikev2-psk-mismatch"),
            Some("ikev2-psk-mismatch"),
        ),
    ),
];

/// Other findings a scenario's records rightly show beside the expected one (any other
/// finding fails the test, so a rule that starts firing where it should not is caught).
const COMPANIONS: &[(&str, &[&str])] = &[
    // The restarted IKE_SA_INIT gets no answer: the CGW is dead.
    ("ikev2-dpd-restart", &["cgw-unreachable"]),
    // DPD action none: AWS declares the peer dead three times, then its rekey goes unanswered.
    ("ikev2-dpd-none-rekey-unanswered", &["dpd-timeout"]),
    // The modification replaced the endpoint first, and the new one refuses the CGW.
    ("ikev2-modify-options-mismatch", &["endpoint-replaced"]),
    // Behind the NAT: AWS's DPD went to a mapping the NAT had let go.
    ("ikev2-nat-mapping-expiry", &["nat-t"]),
    // The idle CGW lets phase 2 expire, then phase 1.
    ("ikev2-idle-tunnel-expires", &["cgw-deleted-ike-sa"]),
];

/// `ikesim explain --format json ARGS`: exit code, the document, stderr.
fn explain_json(args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["explain", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "explain {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (
        out.status.code(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn findings(stream: &Value) -> Vec<&Value> {
    stream["findings"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn serious(f: &Value) -> bool {
    f["severity"] == "warning" || f["severity"] == "error"
}

#[test]
fn every_scenario_golden_log_names_its_misconfiguration() {
    let mut scenarios = builtin_scenarios();
    scenarios.sort();
    let mut rows: Vec<&str> = TABLE.iter().map(|(name, _)| *name).collect();
    rows.sort_unstable();
    assert_eq!(
        scenarios, rows,
        "the table needs exactly one row per built-in scenario"
    );

    for (name, expect) in TABLE {
        let path = repo().join(format!("tests/golden/{name}.jsonl"));
        let (code, doc, stderr) = explain_json(&[&path.to_string_lossy()]);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        let streams = doc["streams"].as_array().cloned().unwrap_or_default();
        assert_eq!(streams.len(), 1, "{name}: one stream per golden file");
        let stream = &streams[0];
        for r in stream["records"].as_array().into_iter().flatten() {
            assert_eq!(
                r["known"], true,
                "{name}: every golden message is catalogued: {r}"
            );
            assert!(
                r["meaning"].as_str().is_some_and(|m| !m.is_empty()),
                "{name}: {r}"
            );
        }
        let text = run_ok(&["explain", "--records", "all", &path.to_string_lossy()]);
        assert!(
            text.lines().all(|l| l.chars().count() <= 160),
            "{name}: lines of at most 160 characters:\n{text}"
        );
        let found = findings(stream);
        let ids: Vec<&str> = found.iter().filter_map(|f| f["id"].as_str()).collect();
        match expect {
            Healthy | HealthyWith(_) => {
                assert!(
                    !found.iter().any(|f| serious(f)),
                    "{name}: a healthy scenario has no problem finding: {ids:?}"
                );
                let mut expected = vec!["healthy"];
                if let HealthyWith(id) = expect {
                    expected.insert(0, id);
                }
                assert_eq!(ids, expected, "{name}: exactly these findings");
            }
            Finding(id, guide, scenario) => {
                let f = found
                    .iter()
                    .find(|f| f["id"] == *id)
                    .unwrap_or_else(|| panic!("{name}: no {id} finding in {ids:?}"));
                let page = guide.map(|g| format!("docs/failures/{g}.md"));
                assert_eq!(f["guide"].as_str(), page.as_deref(), "{name}: {f}");
                assert_eq!(f["scenario"].as_str(), *scenario, "{name}: {f}");
                let mut expected: Vec<&str> = vec![id];
                for (scenario, others) in COMPANIONS {
                    if scenario == name {
                        expected.extend_from_slice(others);
                    }
                }
                let mut got = ids.clone();
                got.sort_unstable();
                expected.sort_unstable();
                assert_eq!(got, expected, "{name}: exactly these findings");
                let evidence = f["evidence"].as_array().map_or(0, Vec::len);
                assert!(evidence > 0, "{name}: a finding rests on records: {f}");
                if let Some(page) = page {
                    assert!(repo().join(&page).is_file(), "{name}: {page} exists");
                }
            }
        }
    }
}

/// One hand-written case: the path under tests/explain/cases, the exit status, what
/// stderr must say, and per stream the findings (id, a piece of the title, the evidence).
struct Case {
    path: &'static str,
    code: i32,
    stderr: &'static [&'static str],
    findings: &'static [(&'static str, &'static str, &'static [u64])],
}

const CASES: &[Case] = &[
    // Phase 2 came up, then every CGW rekey is refused (the PFS case); other SPIs, times, IPs.
    Case {
        path: "pfs-at-rekey.jsonl",
        code: 0,
        stderr: &[],
        findings: &[(
            "phase2-refused-at-rekey",
            "phase 2 refused at 3 rekeys after it first came up: at 01:00:12.501, \
             02:00:40.101, 03:01:02.901",
            &[4, 7, 9],
        )],
    },
    // 2022 vintage: epoch seconds, no `timestamp`, capitalised states, another key order;
    // a day of DPD time-outs that AWS answers with a new IKE_SA_INIT each time.
    Case {
        path: "vintage-2022.jsonl",
        code: 0,
        stderr: &[],
        findings: &[(
            "dpd-timeout",
            "flapping: 14 DPD time-outs in 20 h 26 min, DPD action restart",
            &[2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54],
        )],
    },
    // Text lines and JSON lines of both schemas in one file: an IKEv1 key mismatch.
    Case {
        path: "mixed.log",
        code: 0,
        stderr: &[],
        findings: &[(
            "psk-mismatch",
            "phase 1 not authenticated: pre-shared key mismatch (3 attempts)",
            &[1, 3, 5],
        )],
    },
    Case {
        path: "garbage.jsonl",
        code: 2,
        stderr: &["garbage.jsonl:3: ", "garbage.jsonl:5: "],
        findings: &[("half-open", "(2 times)", &[1, 3])],
    },
    Case {
        path: "unknown-only.jsonl",
        code: 0,
        stderr: &[],
        findings: &[("unknown-only", "none of the 2 records", &[0, 1])],
    },
    Case {
        path: "cgw-deletes-renegotiates.jsonl",
        code: 0,
        stderr: &[],
        findings: &[(
            "cgw-deleted-ike-sa",
            "the CGW deleted phase 1 (2 times, at 00:50:00.000, 01:40:20.000) and renegotiated",
            &[3, 7],
        )],
    },
    Case {
        path: "never-up.jsonl",
        code: 0,
        stderr: &[],
        findings: &[("never-up", "the tunnel never came up", &[2])],
    },
    Case {
        path: "two-tunnels",
        code: 0,
        stderr: &[],
        findings: &[
            ("dpd-timeout", "3 DPD time-outs", &[3, 7, 11]),
            ("dpd-timeout", "3 DPD time-outs", &[3, 7, 11]),
        ],
    },
];

#[test]
fn hand_written_records_get_their_findings() {
    for case in CASES {
        let path = repo().join("tests/explain/cases").join(case.path);
        let (code, doc, stderr) = explain_json(&[&path.to_string_lossy()]);
        assert_eq!(code, Some(case.code), "{}: {stderr}", case.path);
        for s in case.stderr {
            assert!(
                stderr.contains(s),
                "{}: stderr lacks {s:?}: {stderr}",
                case.path
            );
        }
        if case.stderr.is_empty() {
            assert!(stderr.is_empty(), "{}: {stderr}", case.path);
        }
        let streams = doc["streams"].as_array().cloned().unwrap_or_default();
        let all: Vec<&Value> = streams.iter().flat_map(findings).collect();
        for (id, title, evidence) in case.findings {
            let matching: Vec<&&Value> = all.iter().filter(|f| f["id"] == *id).collect();
            assert!(!matching.is_empty(), "{}: no {id} in {all:?}", case.path);
            for f in matching {
                let t = f["title"].as_str().unwrap_or_default();
                assert!(t.contains(title), "{}: {t:?} lacks {title:?}", case.path);
                let ev: Vec<u64> = f["evidence"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                assert_eq!(&ev, evidence, "{}: {id}", case.path);
            }
        }
        let problems = doc["problems"].as_array().map_or(0, Vec::len);
        assert_eq!(problems, case.stderr.len(), "{}: {doc}", case.path);
    }

    // The garbage lines are skipped, the rest explained: four records in order.
    let (_, doc, _) = explain_json(&[&repo()
        .join("tests/explain/cases/garbage.jsonl")
        .to_string_lossy()]);
    assert_eq!(
        doc["streams"][0]["records"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(doc["problems"][0]["line"], 3);

    // Unknown messages are said to be unknown, never guessed.
    let (_, doc, _) = explain_json(&[&repo()
        .join("tests/explain/cases/unknown-only.jsonl")
        .to_string_lossy()]);
    for r in doc["streams"][0]["records"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert_eq!(r["known"], false);
        let meaning = r["meaning"].as_str().unwrap_or_default();
        assert!(
            meaning.starts_with("unknown message (not in AWS's catalogue)"),
            "{meaning}"
        );
    }

    // The two tunnels of one connection failing together: a connection finding.
    let (_, doc, _) = explain_json(&[&repo()
        .join("tests/explain/cases/two-tunnels")
        .to_string_lossy()]);
    assert_eq!(doc["connections"][0]["vpn"], "vpn-0123456789abcdef0");
    assert_eq!(doc["connections"][0]["findings"][0]["id"], "flap-together");
}

#[test]
fn empty_input_and_stdin() {
    let empty = repo().join("tests/explain/cases/empty.jsonl");
    let out = run(&["explain", &empty.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "no tunnel log records\n"
    );

    let golden = std::fs::read(repo().join("tests/golden/ikev2-psk-mismatch.jsonl"))
        .expect("the golden log");
    let mut child = ikesim()
        .args(["explain", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run ikesim");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&golden).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["streams"][0]["name"], "stdin");
    assert_eq!(doc["streams"][0]["findings"][0]["id"], "psk-mismatch");
}

#[test]
fn both_tunnels_of_a_run_side_by_side() {
    let dir = temp_dir("explain-two-tunnels");
    let d = dir.to_string_lossy();
    run_ok(&["run", "ikev2-two-tunnels-one-failing", "--out", &d]);
    let text = run_ok(&["explain", &d]);
    assert!(text.contains("══ VPN connection vpn-"), "{text}");
    let pair = text
        .lines()
        .find(|l| l.starts_with("══ vpn-") && l.contains(" │ ══ vpn-"));
    assert!(
        pair.is_some(),
        "the two streams' headers side by side:\n{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 160), "{text}");
    let (_, doc, _) = explain_json(&[&d]);
    let c = &doc["connections"][0];
    assert_eq!(c["streams"].as_array().map(Vec::len), Some(2));
    assert_eq!(c["findings"][0]["id"], "one-tunnel-down");
    let title = c["findings"][0]["title"].as_str().unwrap_or_default();
    assert!(
        title.contains("never came up while tunnel") && title.contains("pre-shared key mismatch"),
        "{title}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tunnel the CGW never called has a stream with no records (`run --out` writes its file
/// empty; in CloudWatch it is a stream nothing was put in): with the other tunnel up, the
/// connection's finding is that the CGW has one tunnel configured.
#[test]
fn an_empty_stream_beside_an_up_tunnel_is_a_tunnel_never_configured() {
    let dir = temp_dir("explain-one-tunnel");
    let d = dir.to_string_lossy();
    run_ok(&["run", "ikev2-happy", "--out", &d]);
    std::fs::write(dir.join("vpn-0a1b2c3d4e5f60718-192.0.2.2.jsonl"), "").expect("write");
    let (status, doc, _) = explain_json(&[&d]);
    assert_eq!(status, Some(0));
    assert_eq!(
        doc["streams"][1]["records"].as_array().map(Vec::len),
        Some(0)
    );
    let c = &doc["connections"][0];
    assert_eq!(c["findings"][0]["id"], "one-tunnel-down");
    let title = c["findings"][0]["title"].as_str().unwrap_or_default();
    assert!(title.contains("one tunnel configured"), "{title}");
    assert_eq!(c["findings"][0]["scenario"], "ikev2-one-tunnel-configured");
    let text = run_ok(&["explain", &d]);
    assert!(text.contains("│ no records"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_30_day_log_is_folded_behind_its_diagnosis() {
    let dir = temp_dir("explain-30d");
    let log = dir.join("happy.jsonl");
    let records = run_ok(&[
        "run",
        "ikev2-happy",
        "--duration",
        "30d",
        // The records of the pings' run, at a twenty-fifth of the cost (tests/data_plane.rs).
        "--traffic-model",
        "--format",
        "json",
    ]);
    std::fs::write(&log, &records).expect("write the log");
    let n = records.lines().count();
    assert!(n > 1000, "{n} records");
    let l = log.to_string_lossy();

    let text = run_ok(&["explain", &l]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() < 40, "folded: {} lines\n{text}", lines.len());
    let findings = lines.iter().position(|l| *l == "findings:");
    let listing = lines.iter().position(|l| *l == "records");
    assert!(findings < listing && findings.is_some(), "{text}");
    assert!(text.contains("healthy: up since 2026-01-01"), "{text}");
    let folded = lines.iter().find(|l| l.trim_start().starts_with("… #3–#"));
    assert!(
        folded.is_some_and(|l| l.contains("phase 2 rekeys")),
        "{text}"
    );

    let all = run_ok(&["explain", "--records", "all", &l]);
    // Record lines are indented two spaces; wrapped evidence lines ten.
    assert_eq!(all.lines().filter(|l| l.starts_with("  #")).count(), n);
    let none = run_ok(&["explain", "--records", "none", &l]);
    assert!(
        !none.contains("\nrecords\n") && none.contains("healthy"),
        "{none}"
    );
    let (_, doc, _) = explain_json(&[&l]);
    assert_eq!(
        doc["streams"][0]["records"].as_array().map(Vec::len),
        Some(n)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// docs/explain.md (and the README) show the binary's real output on a failing scenario, as
/// a user gets it: `ikesim run ikev2-psk-mismatch --out logs && ikesim explain logs`. It must
/// still be what the binary prints.
#[test]
fn the_documented_example_is_the_binary_s_output() {
    let doc = std::fs::read_to_string(repo().join("docs/explain.md")).expect("docs/explain.md");
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let dir = common::temp_dir("explain-doc-example");
    let logs = dir.join("logs");
    let logs = logs.to_string_lossy();
    run_ok(&["run", "ikev2-psk-mismatch", "--out", &logs]);
    let out = run_ok(&["explain", &logs]);
    for (name, text) in [("docs/explain.md", &doc), ("README.md", &readme)] {
        assert!(
            text.contains(out.trim_end()),
            "{name}'s example differs from `ikesim run ikev2-psk-mismatch --out logs && ikesim explain logs`:\n{out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every input form of tests/explain/forms/ (its README says each file's shape and where it
/// comes from), read by the real binary: each stream's findings, the connection's, and how
/// many problems — the same diagnosis whatever form the records came in.
#[test]
fn every_input_form_is_explained() {
    type Streams<'a> = &'a [(&'a str, &'a [&'a str])];
    let cases: &[(&str, Streams<'_>, &[&str], usize)] = &[
        (
            "data-message.json",
            &[("vpn-0a1b2c3d-203.0.113.30", &["dpd-timeout"])],
            &[],
            1,
        ),
        (
            "deliveries",
            &[("vpn-0a1b2c3d4e5f60718-127.0.1.1", &["dpd-timeout"])],
            &[],
            0,
        ),
        ("empty.jsonl", &[], &[], 0),
        (
            "filter-log-events.json",
            &[
                ("vpn-0123456789abcdef0-203.0.113.10", &["healthy"]),
                ("vpn-0123456789abcdef0-203.0.113.20", &["psk-mismatch"]),
            ],
            &["one-tunnel-down"],
            1,
        ),
        (
            "firehose",
            &[("vpn-0123456789abcdef0-203.0.113.20", &["psk-mismatch"])],
            &[],
            0,
        ),
        (
            "get-log-events-vpn-0123456789abcdef0-203.0.113.20.json",
            &[("vpn-0123456789abcdef0-203.0.113.20", &["psk-mismatch"])],
            &[],
            0,
        ),
        (
            "get-query-results.json",
            &[("vpn-0fedcba9876543210-192.0.2.21", &["dpd-timeout"])],
            &[],
            0,
        ),
        (
            "insights-export.csv",
            &[(
                "vpn-0fedcba9876543210-192.0.2.20",
                &["phase2-proposal-not-allowed"],
            )],
            &[],
            0,
        ),
        (
            "insights-export.json",
            &[("vpn-0123456789abcdef0-203.0.113.10", &["healthy"])],
            &[],
            0,
        ),
        ("insights-without-message.csv", &[], &[], 1),
        (
            "lambda-events.jsonl",
            &[("vpn-0123456789abcdef0-203.0.113.20", &["psk-mismatch"])],
            &[],
            0,
        ),
        ("not-a-log.toml", &[], &[], 1),
        (
            "records-2022-vintage.jsonl",
            &[(
                "tests/explain/forms/records-2022-vintage.jsonl",
                &["cgw-unreachable", "dpd-timeout"],
            )],
            &[],
            0,
        ),
        (
            "records-mixed.log",
            &[("tests/explain/forms/records-mixed.log", &["psk-mismatch"])],
            &[],
            0,
        ),
        (
            "s3-export",
            &[("vpn-0123456789abcdef0-203.0.113.10", &["healthy"])],
            &[],
            0,
        ),
        ("truncated-export.json", &[], &[], 1),
        (
            "vpn-0123456789abcdef0-203.0.113.10.jsonl",
            &[("vpn-0123456789abcdef0-203.0.113.10", &["healthy"])],
            &[],
            0,
        ),
        (
            "garbage-in-the-middle.jsonl",
            &[(
                "tests/explain/forms/garbage-in-the-middle.jsonl",
                &["dpd-timeout"],
            )],
            &[],
            3,
        ),
    ];
    let ids = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut failures = Vec::new();
    for (file, streams, connection, problems) in cases {
        let path = format!("tests/explain/forms/{file}");
        let out = ikesim()
            .args(["explain", "--format", "json", &path])
            .current_dir(repo())
            .output()
            .expect("run ikesim");
        let Ok(doc) = serde_json::from_slice::<Value>(&out.stdout) else {
            failures.push(format!("{file}: no JSON on stdout"));
            continue;
        };
        let got: Vec<(String, Vec<String>)> = doc["streams"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| (s["name"].as_str().unwrap_or_default().to_owned(), ids(s)))
                    .collect()
            })
            .unwrap_or_default();
        let want: Vec<(String, Vec<String>)> = streams
            .iter()
            .map(|(n, f)| ((*n).to_owned(), f.iter().map(|s| (*s).to_owned()).collect()))
            .collect();
        if got != want {
            failures.push(format!("{file}: streams {got:?}, expected {want:?}"));
        }
        let conn: Vec<String> = doc["connections"]
            .as_array()
            .map(|a| a.iter().flat_map(ids).collect())
            .unwrap_or_default();
        if conn != *connection {
            failures.push(format!(
                "{file}: connection findings {conn:?}, expected {connection:?}"
            ));
        }
        let n = doc["problems"].as_array().map_or(0, Vec::len);
        let status = out.status.code();
        let expected_status = if *problems == 0 { 0 } else { 2 };
        if n != *problems || status != Some(expected_status) {
            failures.push(format!(
                "{file}: {n} problems, exit {status:?}; expected {problems}, exit {expected_status}"
            ));
        }
    }
    let mut listed: Vec<&str> = cases.iter().map(|c| c.0).collect();
    listed.push("README.md");
    for entry in std::fs::read_dir(repo().join("tests/explain/forms")).expect("forms") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !name.starts_with('.') && !listed.contains(&name.as_str()) {
            failures.push(format!("tests/explain/forms/{name}: no row in this test"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
