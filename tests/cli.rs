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
    let (t1, t2) = (read("127.0.1.1"), read("127.0.1.2"));
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
        std::fs::read_to_string(text_dir.join("vpn-0a1b2c3d4e5f60718-127.0.1.1.log")).unwrap();
    assert_eq!(text.lines().count(), t1.lines().count());
    assert!(!text_dir
        .join("vpn-0a1b2c3d4e5f60718-127.0.1.1.jsonl")
        .exists());
}
