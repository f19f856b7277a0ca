//! `--cloudwatch` end to end (issue 11, §1 and §5): the real binary pushes to moto's
//! server on a free loopback port, and tests/cloudwatch/read_back.py reads everything back
//! with boto3 — an independent client, so the comparison does not trust the SDK that
//! pushed — to compare with the `--out` files of the same run, exactly.
//!
//! Needs moto (`.ci/moto-venv`); skips without it unless IKESIM_REQUIRE_PEERS=1.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use common::{can_run, ikesim, repo, temp_dir, Moto, Need, Serving, REQUIRE_PEERS};
use serde_json::Value;

const GROUP: &str = "/aws/vendedlogs/ikesim";
const VPN: &str = "vpn-0a1b2c3d4e5f60718";

/// One event as CloudWatch Logs holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Event {
    timestamp: i64,
    message: String,
}

/// `ikesim run SCENARIO --cloudwatch --endpoint-url URL EXTRA…` with moto's fake
/// credentials and region.
fn run_pushing(moto_url: &str, scenario: &str, extra: &[&str]) -> Output {
    let mut command = ikesim();
    common::aws_env(&mut command, moto_url);
    command
        .args(["run", scenario, "--cloudwatch", "--endpoint-url", moto_url])
        .args(extra)
        .output()
        .expect("run ikesim")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every group under `prefix`, its streams and their events, read back from moto.
fn read_back(moto: &Moto, prefix: &str) -> BTreeMap<String, BTreeMap<String, Vec<Event>>> {
    let script = repo().join("tests/cloudwatch/read_back.py");
    let json: Value = serde_json::from_str(&moto.python(&script, &["logs", prefix]))
        .expect("read_back.py prints JSON");
    let mut groups = BTreeMap::new();
    for (group, streams) in json["groups"].as_object().expect("groups") {
        let mut out = BTreeMap::new();
        for (stream, events) in streams.as_object().expect("streams") {
            let events = events
                .as_array()
                .expect("events")
                .iter()
                .map(|e| Event {
                    timestamp: e["timestamp"].as_i64().expect("timestamp"),
                    message: e["message"].as_str().expect("message").to_owned(),
                })
                .collect();
            out.insert(stream.clone(), events);
        }
        groups.insert(group.clone(), out);
    }
    groups
}

/// The events of `DIR/<stream>.jsonl`: each line the message, its `event_timestamp`
/// (epoch ms, the default schema) the timestamp.
fn file_events(dir: &Path, stream: &str) -> Vec<Event> {
    let path = dir.join(format!("{stream}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("a JSON record");
            Event {
                timestamp: record["event_timestamp"].as_i64().expect("epoch ms"),
                message: line.to_owned(),
            }
        })
        .collect()
}

/// The stderr summary's per-stream lines: stream → (events, PutLogEvents calls).
fn summary(stderr: &str) -> BTreeMap<String, (u64, u64)> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&format!("  {GROUP} "))?;
            let (stream, rest) = rest.split_once(": ")?;
            let words: Vec<&str> = rest.split(' ').collect();
            match words.as_slice() {
                [events, "events", "in", calls, "PutLogEvents", "calls", ..] => Some((
                    stream.to_owned(),
                    (
                        events.parse().ok()?,
                        calls.trim_end_matches(',').parse().ok()?,
                    ),
                )),
                _ => None,
            }
        })
        .collect()
}

/// Whether this ikesim can push: it was built with the `cloudwatch` feature (default on)
/// and knows `--cloudwatch`. Otherwise the test says "skipped: …" and passes, or fails with
/// IKESIM_REQUIRE_PEERS=1 (CI), like a missing dependency.
fn can_push() -> bool {
    let mut command = ikesim();
    common::aws_env(&mut command, "http://127.0.0.1:9");
    // No credentials: a build that can push stops at once, before the run.
    let out = command
        .env_remove("AWS_ACCESS_KEY_ID")
        .args(["run", "ikev2-happy", "--cloudwatch"])
        .output()
        .expect("run ikesim");
    let err = stderr(&out);
    if !err.contains("cloudwatch` feature") && !err.contains("'--cloudwatch'") {
        return true;
    }
    let message = "needs an ikesim built with the `cloudwatch` feature (cargo test --workspace \
                   --features ikesim/cloudwatch)";
    assert!(
        std::env::var(REQUIRE_PEERS).as_deref() != Ok("1"),
        "{message}; {REQUIRE_PEERS}=1 is set, so this fails instead of skipping: {err}"
    );
    eprintln!("skipped: {message}; set {REQUIRE_PEERS}=1 to fail instead of skipping");
    false
}

fn stream_name(ip: &str) -> String {
    format!("{VPN}-{ip}")
}

#[test]
fn a_pushed_run_reads_back_exactly_as_its_files() {
    if !can_run(&[Need::Moto]) || !can_push() {
        return;
    }
    let moto = Moto::start();
    let dir = temp_dir("cloudwatch-two-tunnels");
    let out = run_pushing(
        &moto.url,
        "ikev2-two-tunnels-one-failing",
        &["--out", dir.to_str().expect("UTF-8 temp dir")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let back = read_back(&moto, "/");
    assert_eq!(back.keys().collect::<Vec<_>>(), [GROUP], "{back:?}");
    let streams = &back[GROUP];
    let names: Vec<_> = streams.keys().cloned().collect();
    assert_eq!(names, [stream_name("192.0.2.1"), stream_name("192.0.2.2")]);
    for (name, events) in streams {
        let want = file_events(&dir, name);
        assert!(!want.is_empty(), "{name}: the file has records");
        assert_eq!(
            events, &want,
            "{name}: moto's events are the file's records"
        );
    }
    let summary = summary(&stderr(&out));
    assert_eq!(summary.len(), 2, "{}", stderr(&out));
    for (name, (events, _)) in &summary {
        assert_eq!(*events as usize, streams[name].len());
    }
}

/// A fleet pushes every tunnel's stream (its presented addresses in the names) exactly as
/// it writes its files.
#[test]
fn a_pushed_fleet_reads_back_exactly_as_its_files() {
    if !can_run(&[Need::Moto]) || !can_push() {
        return;
    }
    let moto = Moto::start();
    let dir = temp_dir("cloudwatch-fleet");
    let mut command = ikesim();
    common::aws_env(&mut command, &moto.url);
    let out = command
        .args([
            "fleet",
            "--connections",
            "6",
            "--duration",
            "2h",
            "--seed",
            "3",
        ])
        .args(["--cloudwatch", "--endpoint-url", &moto.url])
        .args(["--out", dir.to_str().expect("UTF-8 temp dir")])
        .output()
        .expect("run ikesim");
    assert!(out.status.success(), "{}", stderr(&out));
    let back = read_back(&moto, "/");
    let pushed: BTreeMap<String, Vec<Event>> = back.into_values().flatten().collect();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("--out")
        .map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            name.trim_end_matches(".jsonl").to_owned()
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 12, "two streams per connection: {files:?}");
    for name in &files {
        let want = file_events(&dir, name);
        let got = pushed.get(name).cloned().unwrap_or_default();
        assert_eq!(got, want, "{name}: moto's events are the file's records");
        assert!(!name.contains("-127."), "{name}: a presented address");
    }
}

#[test]
fn a_long_run_goes_in_several_calls_and_loses_nothing() {
    if !can_run(&[Need::Moto]) || !can_push() {
        return;
    }
    let moto = Moto::start();
    let dir = temp_dir("cloudwatch-flapping");
    let scenario = repo().join("tests/cloudwatch/flapping-rekeys.toml");
    let out = run_pushing(
        &moto.url,
        scenario.to_str().expect("UTF-8 path"),
        &["--out", dir.to_str().expect("UTF-8 temp dir")],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // The delivery rate, for the note (visible with --nocapture).
    eprintln!(
        "{}",
        err.lines()
            .find(|l| l.starts_with("cloudwatch:"))
            .unwrap_or("")
    );
    let name = stream_name("192.0.2.1");
    let back = read_back(&moto, GROUP);
    let events = &back[GROUP][&name];
    let want = file_events(&dir, &name);
    assert!(want.len() > 10_000, "{} records: not a big run", want.len());
    let span = want[want.len() - 1].timestamp - want[0].timestamp;
    assert!(
        span > 24 * 3600 * 1000,
        "the run spans {span} ms, not over 24 h"
    );
    // Nothing lost, nothing reordered, nothing doubled.
    assert_eq!(events.len(), want.len());
    assert!(
        events == &want,
        "moto's events differ from the file's records"
    );
    let summary = summary(&err);
    let (delivered, calls) = summary[&name];
    assert_eq!(delivered as usize, want.len(), "{err}");
    assert!(
        calls >= 2,
        "{calls} PutLogEvents calls for {} events: {err}",
        want.len()
    );
}

/// Every `TunnelState` datum of a `--metrics` file (a PutMetricData input, an array of
/// them, or one per line): "vpn ip" → [(time, value)], the time as the file writes it
/// (RFC 3339 UTC to the second, e.g. 2026-12-03T11:05:00Z, which sorts as it runs).
fn file_tunnel_states(path: &Path) -> BTreeMap<String, Vec<(String, f64)>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let inputs: Vec<Value> = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(inputs)) => inputs,
        Ok(input) => vec![input],
        Err(_) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a PutMetricData input per line"))
            .collect(),
    };
    let mut series: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for datum in inputs
        .iter()
        .flat_map(|i| i["MetricData"].as_array().cloned().unwrap_or_default())
    {
        if datum["MetricName"] != "TunnelState" {
            continue;
        }
        let dim = |name: &str| {
            datum["Dimensions"]
                .as_array()
                .and_then(|d| d.iter().find(|d| d["Name"] == name))
                .and_then(|d| d["Value"].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let at = datum["Timestamp"].as_str().expect("Timestamp").to_owned();
        series
            .entry(format!("{} {}", dim("VpnId"), dim("TunnelIpAddress")))
            .or_default()
            .push((at, datum["Value"].as_f64().expect("Value")));
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.0.cmp(&b.0));
    }
    series
}

#[test]
fn pushed_metrics_read_back_as_the_metrics_file() {
    if !can_run(&[Need::Moto]) || !can_push() {
        return;
    }
    let moto = Moto::start();
    let dir = temp_dir("cloudwatch-metrics");
    let file = dir.join("metrics.json");
    let out = run_pushing(
        &moto.url,
        "ikev2-two-tunnels-one-failing",
        &[
            "--metrics",
            file.to_str().expect("UTF-8 temp dir"),
            "--metrics-period",
            "60",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let want = file_tunnel_states(&file);
    assert_eq!(want.len(), 2, "two tunnels in {}", file.display());
    let first = want.values().flatten().map(|p| &p.0).min().expect("datums");
    let last = want.values().flatten().map(|p| &p.0).max().expect("datums");
    let script = repo().join("tests/cloudwatch/read_back.py");
    let json: Value = serde_json::from_str(&moto.python(
        &script,
        &["metrics", "ikesim/VPN", "TunnelState", first, last, "60"],
    ))
    .expect("read_back.py prints JSON");
    let mut got: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for (key, points) in json["series"].as_object().expect("series") {
        let points = points
            .as_array()
            .expect("points")
            .iter()
            .map(|p| {
                let at = p[0].as_str().expect("time").to_owned();
                (at, p[1].as_f64().expect("value"))
            })
            .collect();
        got.insert(key.clone(), points);
    }
    assert_eq!(
        got, want,
        "GetMetricData's TunnelState series are the file's"
    );
    // Tunnel 1 comes up, tunnel 2 never does.
    assert!(want[&format!("{VPN} 192.0.2.1")].iter().any(|p| p.1 == 1.0));
    assert!(want[&format!("{VPN} 192.0.2.2")].iter().all(|p| p.1 == 0.0));
}

#[test]
fn a_run_too_long_for_cloudwatch_is_refused_before_anything_is_sent() {
    if !can_run(&[Need::Moto]) || !can_push() {
        return;
    }
    let moto = Moto::start();
    let out = run_pushing(&moto.url, "ikev2-happy", &["--duration", "20d"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot be pushed to CloudWatch Logs"), "{err}");
    assert!(
        err.contains("--duration"),
        "the message says what to do: {err}"
    );
    assert!(out.stdout.is_empty(), "nothing was run");
    assert!(read_back(&moto, "/").is_empty(), "moto has no log group");
}

#[test]
fn an_unreachable_endpoint_is_exit_status_1_with_the_count_not_delivered() {
    if !can_push() {
        return;
    }
    // A closed loopback port: nothing listens there (no moto needed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let url = format!("http://127.0.0.1:{port}");
    let dir = temp_dir("cloudwatch-unreachable");
    let out = run_pushing(
        &url,
        "ikev2-two-tunnels-one-failing",
        &["--out", dir.to_str().expect("UTF-8 temp dir")],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let records: usize = ["192.0.2.1", "192.0.2.2"]
        .iter()
        .map(|ip| file_events(&dir, &stream_name(ip)).len())
        .sum();
    assert!(records > 0);
    // The run's metrics are not delivered either; the count of events is the point.
    assert!(
        err.contains(&format!("cloudwatch: {records} events and "))
            && err.contains("NOT delivered"),
        "{records} records written, the summary should say so: {err}"
    );
    assert!(err.contains("could not reach the endpoint"), "{err}");
}

#[test]
fn missing_credentials_or_region_are_refused_before_the_run() {
    if !can_push() {
        return;
    }
    // Nothing is contacted: the check comes first (the port is closed anyway).
    let url = "http://127.0.0.1:9";
    let run = |unset: &[&str]| {
        let mut command = ikesim();
        common::aws_env(&mut command, url);
        for var in unset {
            command.env_remove(var);
        }
        command
            .args(["run", "ikev2-happy", "--cloudwatch", "--endpoint-url", url])
            .output()
            .expect("run ikesim")
    };
    let out = run(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("needs AWS credentials") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing was run");
    let out = run(&["AWS_REGION", "AWS_DEFAULT_REGION"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("needs an AWS region") && err.contains("--region"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing was run");
}

/// `aws ARGS…` (the venv's AWS CLI) against moto; returns stdout as JSON.
fn aws_cli(moto: &Moto, args: &[&str]) -> Value {
    let mut command = std::process::Command::new(common::moto_aws_cli());
    let out = moto
        .env(&mut command)
        .args(args)
        .args(["--endpoint-url", &moto.url, "--output", "json"])
        .output()
        .expect("run the AWS CLI");
    assert!(out.status.success(), "aws {args:?}: {}", stderr(&out));
    if out.stdout.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).expect("the AWS CLI prints JSON")
}

/// The README's push, read back with its `aws logs get-log-events`; and the `--metrics`
/// file as the input of `aws cloudwatch put-metric-data --cli-input-json`, as the help
/// says.
#[test]
fn the_readme_push_reads_back_with_the_aws_cli_and_the_metrics_file_is_cli_input() {
    if !can_run(&[Need::Moto]) || !can_push() {
        return;
    }
    let moto = Moto::start();
    let dir = temp_dir("cloudwatch-readme");
    let metrics = dir.join("metrics.json");
    let out = run_pushing(
        &moto.url,
        "ikev2-dpd-clear",
        &[
            "--out",
            dir.to_str().expect("UTF-8 temp dir"),
            "--metrics",
            metrics.to_str().expect("UTF-8 temp dir"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stream = stream_name("192.0.2.1");
    // The README's command, with --output json; one page holds these few events.
    let got = aws_cli(
        &moto,
        &[
            "logs",
            "get-log-events",
            "--start-from-head",
            "--log-group-name",
            GROUP,
            "--log-stream-name",
            &stream,
        ],
    );
    let events: Vec<Event> = got["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| Event {
            timestamp: e["timestamp"].as_i64().expect("timestamp"),
            message: e["message"].as_str().expect("message").to_owned(),
        })
        .collect();
    assert_eq!(events, file_events(&dir, &stream));
    aws_cli(
        &moto,
        &[
            "cloudwatch",
            "put-metric-data",
            "--cli-input-json",
            &format!("file://{}", metrics.display()),
        ],
    );
    let listed = aws_cli(
        &moto,
        &["cloudwatch", "list-metrics", "--namespace", "AWS/VPN"],
    );
    let mut names: Vec<&str> = listed["Metrics"]
        .as_array()
        .expect("Metrics")
        .iter()
        .map(|m| m["MetricName"].as_str().expect("MetricName"))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names, ["TunnelDataIn", "TunnelDataOut", "TunnelState"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ikesim serve --cloudwatch` pushes as it goes: a simulated CGW (`ikesim connect`) brings
/// the tunnel up, the records are in moto while serve still runs, and after Ctrl-C the
/// stream is exactly serve's `--out` file. A group outside /aws/vendedlogs/ gets the hint.
#[test]
fn serve_pushes_its_records_as_they_happen() {
    use std::time::{Duration, Instant};

    if !can_run(&[Need::Moto]) || !can_push() {
        return;
    }
    let moto = Moto::start();
    let dir = temp_dir("cloudwatch-serve");
    let psk = "ikesim.example_psk_1";
    let group = "/vpn/ikesim-serve";
    let mut serve = ikesim();
    moto.env(&mut serve)
        .args([
            "serve",
            "--listen",
            "127.0.74.1:0",
            "--psk",
            psk,
            "--cloudwatch",
        ])
        .args(["--endpoint-url", &moto.url, "--log-group", group, "--out"])
        .arg(dir.join("logs"));
    let serve = Serving::start(&mut serve);
    serve.connect(&dir, "127.0.74.2", psk);
    // The CHILD SA's record reaches moto while serve is still running.
    let deadline = Instant::now() + Duration::from_secs(30);
    // serve's default VPN connection id (`serve --print-config`).
    let stream = "vpn-0123456789abcdef0-127.0.74.1".to_owned();
    loop {
        let back = read_back(&moto, group);
        let events = back.get(group).and_then(|s| s.get(&stream));
        if events.is_some_and(|e| e.iter().any(|e| e.message.contains("CHILD_SA established"))) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "serve pushed nothing within 30 s: {back:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let (status, told) = serve.interrupt();
    assert_eq!(status.code(), Some(130), "{told}");
    assert!(told.contains("outside /aws/vendedlogs/"), "{told}");
    assert_eq!(told.matches("hint:").count(), 1, "{told}");
    let back = read_back(&moto, group);
    assert_eq!(
        back[group][&stream],
        file_events(&dir.join("logs"), &stream)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
