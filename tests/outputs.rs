//! The destinations `run` and `serve` share (crates/ikesim/src/commands/outputs.rs):
//! `--start`, `--metrics`, `--stream-separator`, and the time placement of a run pushed
//! to CloudWatch. The pushing itself is tests/cloudwatch.rs, the envelopes
//! tests/envelopes.rs, the terminal view tests/terminal.rs.

mod common;

use common::{run, run_ok, temp_dir};
use serde_json::Value;

fn records(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON record"))
        .collect()
}

#[test]
fn start_moves_every_record_by_the_same_offset_and_nothing_else() {
    let plain = records(&run_ok(&["run", "ikev2-dpd-clear"]));
    let moved = records(&run_ok(&[
        "run",
        "ikev2-dpd-clear",
        "--start",
        "2026-11-30T12:00:00+01:00",
    ]));
    assert_eq!(plain.len(), moved.len());
    assert!(plain.len() > 3);
    // The scenario starts at 2026-01-01T00:00:00Z; the new start is 333 days and 11 h on.
    let offset = (333 * 86_400 + 11 * 3600) * 1000;
    for (a, b) in plain.iter().zip(&moved) {
        let (ta, tb) = (&a["event_timestamp"], &b["event_timestamp"]);
        assert_eq!(tb.as_i64().unwrap() - ta.as_i64().unwrap(), offset);
        for key in [
            "details",
            "ike_phase1_state",
            "ike_phase2_state",
            "dpd_enabled",
        ] {
            assert_eq!(a[key], b[key], "{key}");
        }
    }
    assert!(moved[0]["timestamp"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-30 11:00:0"));
}

#[test]
fn metrics_follow_the_records_phase_2_state_period_by_period() {
    let dir = temp_dir("metrics");
    let file = dir.join("metrics.json");
    let out = run_ok(&[
        "run",
        "ikev2-two-tunnels-one-failing",
        "--metrics",
        file.to_str().unwrap(),
        "--metrics-period",
        "60",
    ]);
    let all = records(&out);
    let request: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(request["Namespace"], "AWS/VPN");
    let data = request["MetricData"].as_array().unwrap();
    // The scenario starts at 2026-01-01T00:00:00Z.
    let start = 1_767_225_600_000_i64;
    assert!(all[0]["event_timestamp"].as_i64().unwrap() >= start);
    let state: Vec<&Value> = data
        .iter()
        .filter(|d| d["MetricName"] == "TunnelState")
        .collect();
    assert_eq!(data.len(), state.len() * 3);
    assert!(!state.is_empty());
    // Independently of ikesim's code: a tunnel is up at t when its last record at or
    // before t has phase 2 established or rekeying. Tunnels are told apart by the record
    // stream they came from, which stdout interleaves: use --out for that.
    let out_dir = dir.join("out");
    run_ok(&[
        "run",
        "ikev2-two-tunnels-one-failing",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let mut saw_up = false;
    for d in &state {
        let ip = d["Dimensions"][1]["Value"].as_str().unwrap();
        assert_eq!(d["Dimensions"][0]["Name"], "VpnId");
        assert_eq!(d["Dimensions"][1]["Name"], "TunnelIpAddress");
        let vpn = d["Dimensions"][0]["Value"].as_str().unwrap();
        let stream = std::fs::read_to_string(out_dir.join(format!("{vpn}-{ip}.jsonl"))).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(d["Timestamp"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        assert_eq!((at - start) % 60_000, 0, "stamped at a period's end");
        let up = records(&stream)
            .iter()
            .take_while(|r| r["event_timestamp"].as_i64().unwrap() <= at)
            .last()
            .is_some_and(|r| {
                r["ike_phase2_state"] == "established" || r["ike_phase2_state"] == "rekeying"
            });
        saw_up |= up;
        assert_eq!(
            d["Value"].as_f64().unwrap(),
            f64::from(u8::from(up)),
            "{ip} at {at}"
        );
    }
    assert!(saw_up, "one tunnel of the scenario comes up");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_stream_separator_names_the_files() {
    let dir = temp_dir("separator");
    for (sep, name) in [
        ("-", "vpn-0a1b2c3d4e5f60718-192.0.2.1.jsonl"),
        ("_", "vpn-0a1b2c3d4e5f60718_192.0.2.1.jsonl"),
    ] {
        let out = dir.join(sep);
        run_ok(&[
            "run",
            "ikev2-happy",
            "--stream-separator",
            sep,
            "--out",
            out.to_str().unwrap(),
        ]);
        let files: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, [name]);
    }
    let bad = run(&["run", "ikev2-happy", "--stream-separator", "/"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a stream separator"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_cannot_fit_cloudwatchs_window_is_refused_before_it_runs() {
    for (args, says) in [
        (
            vec!["--duration", "20d"],
            "a run of 20d cannot be pushed to CloudWatch Logs",
        ),
        (
            vec!["--start", "2020-01-01T00:00:00Z"],
            "is older than CloudWatch Logs accepts",
        ),
    ] {
        let mut all = vec!["run", "ikev2-happy", "--cloudwatch"];
        all.extend(args);
        let out = run(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing ran");
    }
}

#[test]
fn a_closed_stdout_ends_the_display_but_the_metrics_are_still_written() {
    let dir = temp_dir("closed-stdout");
    let file = dir.join("m.json");
    let script = format!(
        "'{}' run ikev2-dpd-clear --metrics '{}' | head -n 1",
        env!("CARGO_BIN_EXE_ikesim"),
        file.display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let request: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(!request["MetricData"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_tunnel_follows_its_log_options_and_the_command_line_overrides_them() {
    // Tunnel 1 logs text, tunnel 2 has logging off (AWS's LogEnabled = false).
    let text = std::fs::read_to_string(
        common::repo().join("scenarios/ikev2-two-tunnels-one-failing.toml"),
    )
    .unwrap();
    let mut parts: Vec<String> = text.split("[[tunnel]]").map(str::to_owned).collect();
    assert_eq!(parts.len(), 3);
    parts[1] = parts[1].replacen(
        "[tunnel.cgw]",
        "[tunnel.aws.log_options.cloudwatch_log_options]\nlog_output_format = \"text\"\n\
         log_group_arn = \"arn:aws:logs:eu-west-1:210987654321:log-group:/vpn/tunnel-1:*\"\n\n\
         [tunnel.cgw]",
        1,
    );
    parts[2].push_str("\n[tunnel.aws.log_options.cloudwatch_log_options]\nlog_enabled = false\n");
    let dir = temp_dir("outputs-log-options");
    let file = dir.join("two.toml");
    std::fs::write(&file, parts.join("[[tunnel]]")).unwrap();
    let file = file.to_str().unwrap();

    let out = dir.join("own");
    run_ok(&["run", file, "--out", out.to_str().unwrap()]);
    let names = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&out), ["vpn-0a1b2c3d4e5f60718-192.0.2.1.log"]);
    // --format applies to every tunnel; a disabled tunnel still writes nothing.
    let json = dir.join("json");
    run_ok(&[
        "run",
        file,
        "--format",
        "json",
        "--out",
        json.to_str().unwrap(),
    ]);
    assert_eq!(names(&json), ["vpn-0a1b2c3d4e5f60718-192.0.2.1.jsonl"]);
    let stdout = run_ok(&["run", file, "--format", "json"]);
    assert!(
        stdout
            .lines()
            .all(|l| !l.contains("pre-shared key mismatch")),
        "{stdout}"
    );
    assert!(stdout.contains("CHILD_SA established"), "{stdout}");
    // The envelopes name the tunnel's own group and account, and carry its text records.
    let envelopes = dir.join("envelopes");
    run_ok(&["run", file, "--envelopes", envelopes.to_str().unwrap()]);
    let mut deliveries: Vec<_> = std::fs::read_dir(&envelopes)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    deliveries.sort();
    assert_eq!(deliveries.len(), 1, "only the enabled tunnel delivers");
    let delivery = delivery::envelope::decode(&std::fs::read(&deliveries[0]).unwrap()).unwrap();
    assert_eq!(delivery["logGroup"], "/vpn/tunnel-1");
    assert_eq!(delivery["owner"], "210987654321");
    assert_eq!(delivery["logStream"], "vpn-0a1b2c3d4e5f60718-192.0.2.1");
    let own = std::fs::read_to_string(out.join("vpn-0a1b2c3d4e5f60718-192.0.2.1.log")).unwrap();
    let messages: Vec<&str> = delivery["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, own.lines().collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Output errors name what was being written and where, and an unusable path is refused
/// before the run (exit 2), not after it; a full disk says so (exit 1); a reader that goes
/// away (`run | head -1`) ends the run quietly and at once.
#[test]
fn output_errors_name_the_path_and_a_closed_stdout_ends_the_run_quietly() {
    let dir = temp_dir("output-errors");
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let missing = dir.join("missing/x.pcap");
    let keys = file.join("keys");
    let cases: [(&[&str], String); 3] = [
        (
            &["--out", file.to_str().unwrap()],
            format!(
                "error: --out {}: cannot write records there:",
                file.display()
            ),
        ),
        (
            &["--pcap", missing.to_str().unwrap()],
            format!("error: cannot write --pcap to {}:", missing.display()),
        ),
        (
            &["--keys", keys.to_str().unwrap()],
            format!("error: cannot write --keys to {}:", keys.display()),
        ),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["run", "ikev2-happy"];
        args.extend_from_slice(flags);
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(&expected), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "refused before the run: {args:?}");
    }

    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    let out = common::ikesim()
        .args(["run", "ikev2-happy"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: disk full writing records to stdout\n"
    );

    // Years of simulated time: only the closed pipe can end it soon.
    let mut child = common::ikesim()
        .args([
            "run",
            "ikev2-lifetimes-collide-daily",
            "--duration",
            "3000d",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert!(first.starts_with("{\"event_timestamp\""), "{first}");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
