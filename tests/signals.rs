//! Output that survives a signal: SIGINT or SIGTERM during `run` (`--realtime` and the
//! accelerated clock) and `fleet` ends the command with every record made so far written
//! as whole lines (stdout and `--out`), the pcap readable to its last packet by a second
//! reader (rusticata's pcap-parser; tshark is tests/wire.rs's), the key tables written, and
//! exit status 130 (SIGINT) or 143 (SIGTERM).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{ikesim, temp_dir};

/// Sends `signal` (`INT`, `TERM`) to `child` by its pid.
fn signal(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{signal} {}", child.id());
}

/// Waits for `child` (a bound on a wait that should take milliseconds: a hung command
/// fails the test instead of hanging it).
fn wait(mut child: Child) -> (ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait for ikesim") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                e.read_to_string(&mut err).expect("read stderr");
            }
            return (status, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ikesim did not end after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every line is a whole AWS record (JSON object with its seven keys).
fn whole_records(text: &str) -> Vec<serde_json::Value> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a line cut short: {text:?}"
    );
    text.lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a whole record ({e}): {l}"));
            assert!(
                v["details"].is_string() && v["ike_phase2_state"].is_string(),
                "{l}"
            );
            v
        })
        .collect()
}

/// Reads `pcap` with pcap-parser: every packet is an IPv4 datagram whose lengths agree
/// with the capture's — UDP carrying an IKE header, or ESP — and nothing follows the last
/// one. Returns how many there are.
fn read_pcap(pcap: &Path) -> usize {
    let bytes = std::fs::read(pcap).expect("the pcap exists");
    // The little-endian magic, the usual (native) form.
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "{}", pcap.display());
    let (rest, capture) = pcap_parser::parse_pcap(&bytes).expect("pcap-parser reads it");
    assert!(
        rest.is_empty(),
        "{} bytes after the last whole packet",
        rest.len()
    );
    for (i, p) in capture.blocks.iter().enumerate() {
        let d = p.data;
        assert_eq!(p.caplen as usize, d.len(), "packet {i}");
        assert_eq!(d[0] >> 4, 4, "packet {i}: IPv4");
        assert_eq!(
            usize::from(u16::from_be_bytes([d[2], d[3]])),
            d.len(),
            "packet {i}"
        );
        if d[9] == 50 {
            // ESP (the pings `traffic = "steady"` sends): an SPI and a sequence number.
            assert!(d.len() > 28 && d[20..24] != [0; 4], "packet {i}: ESP");
            continue;
        }
        assert_eq!(d[9], 17, "packet {i}: UDP or ESP");
        let udp = &d[20..];
        assert_eq!(usize::from(u16::from_be_bytes([udp[4], udp[5]])), udp.len());
        let ike = &udp[8..];
        // On a NAT-T port the non-ESP marker comes first (RFC 3948 §2.2).
        let ike = if ike[..4] == [0; 4] { &ike[4..] } else { ike };
        assert_eq!(ike[17], 0x20, "packet {i}: IKEv2 version byte");
    }
    capture.blocks.len()
}

/// Reads stdout lines until one contains `until`, then hands back the rest of the pipe.
fn lines_until(child: &mut Child, until: &str) -> (String, BufReader<std::process::ChildStdout>) {
    let mut out = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut got = String::new();
    loop {
        let mut line = String::new();
        let read = out.read_line(&mut line).expect("read stdout");
        assert!(read > 0, "ikesim ended before a record with {until}: {got}");
        got.push_str(&line);
        if line.contains(until) {
            return (got, out);
        }
    }
}

const PHASE_2_UP: &str = r#""ike_phase2_state":"established""#;

#[test]
fn a_realtime_run_interrupted_after_its_first_records_has_written_them_whole() {
    let dir = temp_dir("signals-realtime");
    let (pcap, keys) = (dir.join("run.pcap"), dir.join("keys"));
    // An idle tunnel with NAT keepalives: on the wall clock it never runs out of things
    // to do, so only the signal ends it.
    let mut child = ikesim()
        .args(["run", "ikev2-nat-keepalive", "--realtime", "--pcap"])
        .arg(&pcap)
        .arg("--keys")
        .arg(&keys)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ikesim run");
    // Negotiating, NAT-T detected, phase 1 up, phase 2 up: on the wall clock each is
    // written as it happens.
    let (first, mut rest) = lines_until(&mut child, PHASE_2_UP);
    signal(&child, "INT");
    let (status, err) = wait(child);
    let mut tail = String::new();
    rest.read_to_string(&mut tail).expect("read stdout");
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("SIGINT"), "{err}");
    let records = whole_records(&(first + &tail));
    assert!(records
        .iter()
        .any(|r| r["ike_phase2_state"] == "established"));
    // IKE_SA_INIT both ways and the IKE_AUTH request that set phase 2 up (the signal may
    // come before the answer leaves).
    assert!(read_pcap(&pcap) >= 3);
    let table = std::fs::read_to_string(keys.join("ikev2_decryption_table")).unwrap();
    assert_eq!(table.lines().count(), 1, "the one IKE SA's keys: {table}");

    // The same into --out: the stream's file has them, whole, and SIGTERM is 143.
    let out = dir.join("out");
    let child = ikesim()
        .args(["run", "ikev2-nat-keepalive", "--realtime", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ikesim run");
    let file = out.join("vpn-0a1b2c3d4e5f60718-192.0.2.1.jsonl");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains(PHASE_2_UP)) {
        assert!(
            Instant::now() < deadline,
            "no records in {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "TERM");
    let (status, err) = wait(child);
    assert_eq!(status.code(), Some(143), "{err}");
    let records = whole_records(&std::fs::read_to_string(&file).unwrap());
    assert!(records
        .iter()
        .any(|r| r["ike_phase2_state"] == "established"));
}

#[test]
fn an_accelerated_run_stops_between_steps_with_every_record_whole() {
    let dir = temp_dir("signals-accelerated");
    let pcap = dir.join("run.pcap");
    // Years of rekeys: far more than the run gets to before the signal.
    let mut child = ikesim()
        .args([
            "run",
            "ikev2-lifetimes-collide-daily",
            "--duration",
            "3000d",
            "--pcap",
        ])
        .arg(&pcap)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ikesim run");
    // Records stream while the run goes on (they were all written at the end before).
    let (first, mut rest) = lines_until(&mut child, PHASE_2_UP);
    signal(&child, "TERM");
    let (status, err) = wait(child);
    let mut tail = String::new();
    rest.read_to_string(&mut tail).expect("read stdout");
    assert_eq!(status.code(), Some(143), "{err}");
    let records = whole_records(&(first + &tail));
    let last = records.last().expect("records");
    // Stopped early: nowhere near 3000 days on.
    let days = (last["event_timestamp"].as_i64().unwrap() - 1_767_225_600_000) / 86_400_000;
    assert!(days < 2900, "ran {days} days");
    assert!(read_pcap(&pcap) >= 4);
}

#[test]
fn a_fleet_stopped_by_sigterm_exits_143() {
    let dir = temp_dir("signals-fleet");
    let mut child = ikesim()
        .args([
            "fleet",
            "--connections",
            "4",
            "--duration",
            "3000d",
            "--jobs",
            "1",
        ])
        .arg("--out")
        .arg(dir.join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ikesim fleet");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the fleet ended on its own"
    );
    signal(&child, "TERM");
    let (status, err) = wait(child);
    assert_eq!(status.code(), Some(143), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    for file in std::fs::read_dir(dir.join("out")).unwrap() {
        whole_records(&std::fs::read_to_string(file.unwrap().path()).unwrap());
    }
}
