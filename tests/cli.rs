//! The command-line contract: exit codes, error messages that say what and where, formats.

mod common;

use common::{run, run_ok, temp_dir};

#[test]
fn bad_input_exits_2_with_a_message_naming_file_line_and_key() {
    let dir = temp_dir("cli-bad");
    let file = dir.join("bad.toml");
    let text = std::fs::read_to_string(common::repo().join("scenarios/ikev2-happy.toml")).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "[tunnel.aws]\n",
            "[tunnel.aws]\nphase1_lifetime_seconds = 100\n",
        ),
    )
    .unwrap();
    let out = run(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("line") && err.contains("phase1_lifetime_seconds"),
        "{err}"
    );
    assert!(err.contains("900 to 28800"), "{err}");
    assert!(out.stdout.is_empty());

    let out = run(&["run", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ikesim list"));

    let out = run(&["run", "ikev2-happy", "--duration", "5 parsecs"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn text_format_and_2022_schema_carry_the_same_records() {
    let json = run_ok(&["run", "ikev2-happy"]);
    let text = run_ok(&["run", "ikev2-happy", "--format", "text"]);
    let old = run_ok(&["run", "ikev2-happy", "--schema", "2022"]);
    assert_eq!(json.lines().count(), text.lines().count());
    for ((j, t), o) in json.lines().zip(text.lines()).zip(old.lines()) {
        let a = vpn_log::TunnelRecord::parse_json(j).unwrap();
        let b = vpn_log::TunnelRecord::parse_text(t).unwrap();
        assert_eq!(a, b);
        let v: serde_json::Value = serde_json::from_str(o).unwrap();
        assert!(v.get("timestamp").is_none());
        assert_eq!(v["event_timestamp"].as_i64(), Some(a.time.timestamp()));
    }
}

#[test]
fn diagnostics_into_a_pipe_have_no_colour_codes() {
    let out = common::run(&["-vv", "run", "ikev2-happy", "--duration", "1s"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEBUG"), "-vv shows diagnostics: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "ANSI escapes in piped stderr: {err}"
    );
}

#[test]
fn list_shows_builtin_scenarios() {
    let out = run_ok(&["list"]);
    assert!(out.lines().any(|l| l.starts_with("ikev2-happy ")), "{out}");
}

#[test]
fn new_scenario_writes_a_template_that_runs() {
    let dir = temp_dir("cli-new");
    let file = dir.join("mine.toml");
    let out = common::ikesim()
        .args(["new-scenario", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = run_ok(&["run", file.to_str().unwrap()]);
    assert!(records.contains("CHILD_SA established"), "{records}");
    // It never overwrites.
    let again = common::ikesim()
        .args(["new-scenario", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn out_writes_one_file_per_log_stream() {
    let dir = temp_dir("cli-out");
    run_ok(&[
        "run",
        "ikev2-two-tunnels-one-failing",
        "--out",
        dir.to_str().unwrap(),
    ]);
    // The extension follows the format: .jsonl for JSON lines, .log for text.
    let read = |ip: &str| {
        std::fs::read_to_string(dir.join(format!("vpn-0a1b2c3d4e5f60718-{ip}.jsonl"))).unwrap()
    };
    let (t1, t2) = (read("192.0.2.1"), read("192.0.2.2"));
    assert!(
        t1.contains("CHILD_SA established") && !t1.contains("pre-shared key mismatch"),
        "{t1}"
    );
    assert!(
        t2.contains("pre-shared key mismatch") && !t2.contains("established"),
        "{t2}"
    );
    // stdout holds both streams' records, in time order.
    let all = run_ok(&["run", "ikev2-two-tunnels-one-failing"]);
    assert_eq!(all.lines().count(), t1.lines().count() + t2.lines().count());

    let text_dir = temp_dir("cli-out-text");
    run_ok(&[
        "run",
        "ikev2-two-tunnels-one-failing",
        "--format",
        "text",
        "--out",
        text_dir.to_str().unwrap(),
    ]);
    let text =
        std::fs::read_to_string(text_dir.join("vpn-0a1b2c3d4e5f60718-192.0.2.1.log")).unwrap();
    assert_eq!(text.lines().count(), t1.lines().count());
    assert!(!text_dir
        .join("vpn-0a1b2c3d4e5f60718-192.0.2.1.jsonl")
        .exists());
}

// Issue 11 §3: the per-tunnel log options (`[tunnel.aws.log_options.cloudwatch_log_options]`)
// are checked when the file is read, like every other AWS option.

/// The expected shape every log group ARN error shows.
const LOG_GROUP_ARN_SHAPE: &str =
    "arn:<partition>:logs:<region>:<12-digit account id>:log-group:<name>";

#[test]
fn a_log_group_arn_that_is_not_one_exits_2_naming_file_line_and_shape() {
    let dir = temp_dir("cli-bad-arn");
    let file = dir.join("bad-arn.toml");
    let text = std::fs::read_to_string(common::repo().join("scenarios/ikev2-happy.toml")).unwrap();
    let text = format!(
        "{text}\n[tunnel.aws.log_options.cloudwatch_log_options]\n\
         log_group_arn = \"arn:aws:s3:::my-vpn-logs\"\n"
    );
    let line = text.lines().count();
    std::fs::write(&file, &text).unwrap();
    let out = run(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(file.to_str().unwrap()) && err.contains(&format!("line {line}")),
        "the error names the file and line {line}: {err}"
    );
    assert!(err.contains("log_group_arn"), "{err}");
    assert!(err.contains("service `s3`"), "{err}");
    assert!(err.contains(LOG_GROUP_ARN_SHAPE), "{err}");
    assert!(out.stdout.is_empty());

    // A log stream's ARN is not its group's, and a bad output format is named too.
    let stream = text.replace(
        "arn:aws:s3:::my-vpn-logs",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/ikesim:log-stream:x",
    );
    std::fs::write(&file, stream).unwrap();
    let out = run(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("log stream's ARN"), "{err}");
    let format = text.replace(
        "log_group_arn = \"arn:aws:s3:::my-vpn-logs\"",
        "log_output_format = \"yaml\"",
    );
    std::fs::write(&file, format).unwrap();
    let out = run(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("line {line}")) && err.contains("`json` or `text`"),
        "{err}"
    );
}

#[test]
fn serve_refuses_a_bad_log_group_arn_before_binding() {
    // The test holds the listen address: had serve got as far as binding, it would fail on
    // that instead (and it can never sit there serving).
    let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let listen = held.local_addr().unwrap();
    let dir = temp_dir("cli-serve-bad-arn");
    let file = dir.join("serve.toml");
    std::fs::write(
        &file,
        format!(
            "[[tunnel]]\nlisten = \"{listen}\"\n\
             [tunnel.aws.log_options.cloudwatch_log_options]\n\
             log_group_arn = \"arn:aws:logs:us-east-1:12345678901:log-group:/aws/vendedlogs/ikesim\"\n"
        ),
    )
    .unwrap();
    let out = common::ikesim()
        .args(["serve", "--config", file.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(file.to_str().unwrap()) && err.contains("line 4"),
        "the error names the file and line 4: {err}"
    );
    assert!(
        err.contains("not 12 digits") && err.contains(LOG_GROUP_ARN_SHAPE),
        "{err}"
    );
    assert!(
        !err.contains("listening on") && !err.contains("in use"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    drop(held);
}

/// A flag given on the command line wins over the file's key, for `serve --psk` and
/// `connect --psk` alike: the tunnel comes up only because both flags replace the files'
/// (different) keys. `serve` stopped by Ctrl-C then exits 130.
#[test]
fn psk_flags_win_over_the_files_keys_and_serve_exits_130_on_ctrl_c() {
    let dir = temp_dir("psk-flags");
    let serve = dir.join("serve.toml");
    std::fs::write(
        &serve,
        "vpn_connection_id = \"vpn-0a1b2c3d4e5f60718\"\n[[tunnel]]\nlisten = \"127.0.77.1:0\"\n\
         [tunnel.aws]\npre_shared_key = \"serve.file_key\"\n",
    )
    .unwrap();
    let serving = common::Serving::start(
        common::ikesim()
            .args(["serve", "--psk", "flag.key_both", "--config"])
            .arg(&serve),
    );
    let cgw = dir.join("cgw.toml");
    std::fs::write(
        &cgw,
        "local = \"127.0.77.2\"\npre_shared_key = \"cgw.file_key\"\n",
    )
    .unwrap();
    let out = common::ikesim()
        .args(["connect", "--psk", "flag.key_both", "--config"])
        .arg(&cgw)
        .args(["--peer", &serving.addr.to_string(), "--duration", "20s"])
        .output()
        .unwrap();
    let (status, told) = serving.interrupt();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status.code(), Some(130), "{told}");
}
