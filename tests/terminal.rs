//! `ikesim run` with stdout on a terminal (issue 11 §6, docs/terminal.md): a view for
//! people instead of AWS's JSON, unless `--format json` asks for JSON; a pipe keeps JSON.
//!
//! The binary runs with stdout on a real pseudo-terminal (rustix's openpt, no window size
//! set: the view must not need one), and the test reads the master side until the child
//! has closed the slave (EIO on Linux). The terminal turns each `\n` into `\r\n` (ONLCR),
//! which is undone before comparing.

mod common;

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;

use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use vpn_log::{PhaseState, TunnelRecord};

use common::{ikesim, run_ok, temp_dir};

/// Both tunnels of one VPN connection, one up and one refused: two streams, state changes
/// on both, and records of the two interleaved.
const SCENARIO: &str = "ikev2-two-tunnels-one-failing";

/// What a run on the terminal wrote, `\r\n` turned back into `\n`.
struct Terminal {
    output: String,
    stderr: String,
}

/// Opens a pseudo-terminal: its master and its slave side.
fn open_pty() -> (OwnedFd, OwnedFd) {
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = rustix::pty::openpt(flags).expect("open a pseudo-terminal (/dev/ptmx)");
    rustix::pty::grantpt(&master).expect("grantpt");
    rustix::pty::unlockpt(&master).expect("unlockpt");
    let name = rustix::pty::ptsname(&master, Vec::new()).expect("ptsname");
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .expect("open the pseudo-terminal's slave side");
    (master, slave)
}

/// Runs `ikesim ARGS` with stdout on a pseudo-terminal (stdin empty, stderr a pipe),
/// `TERM=xterm-256color`, `NO_COLOR` as given, and asserts it succeeded.
fn on_terminal(args: &[&str], no_color: Option<&str>) -> Terminal {
    let (master, slave) = open_pty();
    let mut child = {
        let mut command = ikesim();
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(slave))
            .stderr(Stdio::piped())
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        command.spawn().expect("start ikesim")
        // `command`, holding our copy of the slave side, is dropped here: the child's
        // close of its copy then ends the master's stream.
    };
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let mut master = File::from(master);
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Linux: every slave descriptor is closed, and everything written was read.
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => break,
            Err(e) => panic!("reading the pseudo-terminal: {e}"),
        }
    }
    let status = child.wait().expect("wait for ikesim");
    let stderr = stderr
        .and_then(|thread| thread.join().ok())
        .unwrap_or_default();
    assert!(
        status.success(),
        "ikesim {args:?} on a terminal failed ({status}): {stderr}"
    );
    let output = String::from_utf8(bytes)
        .expect("the terminal output is UTF-8")
        .replace("\r\n", "\n");
    Terminal { output, stderr }
}

/// `line` without SGR escapes (`ESC [ … m`).
fn strip_sgr(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("\x1b[") {
        out.push_str(&rest[..start]);
        match rest[start..].find('m') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Each stream's records from `--out DIR`, with the tunnel's outside IP (the stream
/// name's last part, after `-` or `_`), in the order of the streams' IPs — the tunnels'
/// order in the scenario, tunnel 1 presenting 192.0.2.1 and tunnel 2 192.0.2.2.
fn streams(dir: &Path) -> Vec<(String, Vec<TunnelRecord>)> {
    let mut streams: Vec<(String, Vec<TunnelRecord>)> = std::fs::read_dir(dir)
        .expect("read --out DIR")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .map(|path| {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let ip = stem
                .rsplit(['-', '_'])
                .next()
                .unwrap_or_default()
                .to_owned();
            let text = std::fs::read_to_string(&path).expect("read a stream file");
            let records = text
                .lines()
                .map(|line| TunnelRecord::parse_json(line).expect("a JSON record"))
                .collect();
            (ip, records)
        })
        .collect();
    streams.sort_by(|a, b| a.0.cmp(&b.0));
    streams
}

#[test]
fn a_terminal_gets_a_view_for_people_and_a_pipe_gets_json() {
    let pipe = run_ok(&["run", SCENARIO]);
    let records: Vec<TunnelRecord> = pipe
        .lines()
        .map(|line| TunnelRecord::parse_json(line).expect("the pipe gets AWS JSON"))
        .collect();
    assert!(records.len() >= 4, "{pipe}");
    let dir = temp_dir("terminal-streams");
    run_ok(&["run", SCENARIO, "--out", dir.to_str().unwrap_or_default()]);
    let streams = streams(&dir);
    assert_eq!(streams.len(), 2, "two tunnels, two streams: {streams:?}");

    let view = on_terminal(&["run", SCENARIO], Some("1")).output;
    assert_ne!(view, pipe, "a terminal gets something else than the pipe");
    assert!(!view.contains('\x1b'), "NO_COLOR=1: no escapes\n{view}");
    for line in view.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_err(),
            "a line of JSON on the terminal: {line}"
        );
        assert!(!line.contains("\"details\""), "{line}");
    }

    // One line per record (dated lines aside), in the records' order, each ending in the
    // record's message.
    let lines: Vec<&str> = view
        .lines()
        .filter(|line| !line.ends_with(" UTC"))
        .collect();
    assert_eq!(lines.len(), records.len(), "{view}");
    for (line, record) in lines.iter().zip(&records) {
        assert!(
            line.ends_with(&record.details),
            "{line}\nshould end in {record:?}"
        );
        let time = record.time.format("%H:%M:%S%.3f").to_string();
        assert!(line.starts_with(&time), "{line}\nshould start at {time}");
    }
    assert!(
        view.starts_with("2026-01-01 UTC\n"),
        "the date first\n{view}"
    );

    // The tunnels told apart: the lines naming a tunnel's outside IP are its stream's
    // records, in order, and a line is marked (→) exactly when its phase states differ
    // from the tunnel's previous record (a tunnel is down before its first).
    for (number, (ip, stream)) in streams.iter().enumerate() {
        let label = format!("T{} {ip} ", number + 1);
        let mine: Vec<&&str> = lines.iter().filter(|l| l.contains(&label)).collect();
        assert_eq!(mine.len(), stream.len(), "{label}\n{view}");
        let mut previous = (PhaseState::Down, PhaseState::Down);
        for (line, record) in mine.iter().zip(stream) {
            assert!(line.ends_with(&record.details), "{line}");
            let states = (record.ike_phase1_state, record.ike_phase2_state);
            assert!(line.contains(states.0.as_str()) && line.contains(states.1.as_str()));
            assert_eq!(
                line.contains('→'),
                states != previous,
                "state change marked iff the states changed: {line}\n{view}"
            );
            previous = states;
        }
    }
    assert!(
        lines.iter().any(|l| l.contains('→')) && lines.iter().any(|l| !l.contains('→')),
        "{view}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let plain = on_terminal(&["run", SCENARIO], Some("1")).output;
    let coloured = on_terminal(&["run", SCENARIO], None);
    assert!(
        coloured.output.contains("\x1b["),
        "colour by default on a terminal\n{}\n{}",
        coloured.output,
        coloured.stderr
    );
    let stripped: Vec<String> = coloured.output.lines().map(strip_sgr).collect();
    assert_eq!(stripped.join("\n"), plain.trim_end_matches('\n'));
    // An empty NO_COLOR does not count (no-color.org).
    let empty = on_terminal(&["run", SCENARIO], Some("")).output;
    assert!(empty.contains("\x1b["));
}

#[test]
fn format_json_on_a_terminal_is_the_pipe_output() {
    let pipe = run_ok(&["run", SCENARIO]);
    let terminal = on_terminal(&["run", SCENARIO, "--format", "json"], None).output;
    assert_eq!(terminal, pipe);
    let terminal = on_terminal(&["run", SCENARIO, "--format", "text"], None).output;
    assert_eq!(terminal, run_ok(&["run", SCENARIO, "--format", "text"]));
}
