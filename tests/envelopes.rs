//! Subscription deliveries end to end (issue 11 §4): `ikesim run --envelopes DIR` writes what
//! a CloudWatch Logs subscription filter would deliver, and a subscriber decodes it with
//! Python's standard library exactly as a Lambda function does
//! (`json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))`, in
//! tests/envelopes/decode.py). The deliveries must carry the records of the same run's
//! `--out` files: all of them in order without a pattern, and exactly those a pattern
//! selects — selected here independently of ikesim's filter code.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{run, run_ok, temp_dir, REQUIRE_PEERS};

/// The filter of AWS's VPN monitoring sample (reference §1).
const PATTERN: &str = r#"{ ($.details = "*DPD timed out*") || ($.ike_phase1_state = "down") }"#;
const SCENARIO: &str = "ikev2-dpd-clear";
const DEFAULT_OWNER: &str = "123456789012";
const DEFAULT_GROUP: &str = "/aws/vendedlogs/ikesim";

/// Whether python3 with gzip, base64 and json is here; otherwise says "skipped: …" and
/// returns false, or fails with `IKESIM_REQUIRE_PEERS=1` (the tests/common pattern).
fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import base64, gzip, json"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    let message = "needs python3 (with its standard base64, gzip and json modules), install \
                   with: apt-get install --no-install-recommends python3";
    assert!(
        std::env::var(REQUIRE_PEERS).as_deref() != Ok("1"),
        "{message}; {REQUIRE_PEERS}=1 is set, so this fails instead of skipping"
    );
    eprintln!("skipped: {message}; set {REQUIRE_PEERS}=1 to fail instead of skipping");
    false
}

/// One delivery as the subscriber decoded it: its file name without the extension, and
/// the DATA_MESSAGE.
struct Delivery {
    file: String,
    data: Value,
}

/// The deliveries in `dir`, decoded by tests/envelopes/decode.py, in sequence order.
fn decode(dir: &Path) -> Vec<Delivery> {
    let script = common::repo().join("tests/envelopes/decode.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{} {}: {}",
        script.display(),
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("decode.py prints UTF-8")
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("decode.py prints JSON lines");
            Delivery {
                file: v["file"].as_str().expect("file").to_owned(),
                data: v["data"].clone(),
            }
        })
        .collect()
}

/// The records of a run's `--out DIR`, per stream (`DIR/<stream>.jsonl`), in order.
fn out_records(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut streams = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read --out dir") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(stream) = name.strip_suffix(".jsonl") else {
            panic!("unexpected file {} in --out", path.display())
        };
        let text = std::fs::read_to_string(&path).expect("read stream file");
        streams.insert(stream.to_owned(), text.lines().map(str::to_owned).collect());
    }
    assert!(!streams.is_empty(), "no stream files in {}", dir.display());
    streams
}

/// A record's `event_timestamp` (epoch ms in the current schema), which its event carries.
fn record_timestamp(line: &str) -> i64 {
    let v: Value = serde_json::from_str(line).expect("a record is JSON");
    v["event_timestamp"]
        .as_i64()
        .expect("event_timestamp in ms")
}

/// One delivered event: its id and message.
type Delivered = Vec<(String, String)>;

/// Checks `deliveries` against the records each stream should have delivered, in order,
/// with their timestamps; the envelope fields; the file names; the ids (56 digits, unique,
/// growing within a stream). Returns each stream's delivered events.
fn check(
    deliveries: &[Delivery],
    expected: &BTreeMap<String, Vec<String>>,
    owner: &str,
) -> BTreeMap<String, Delivered> {
    let mut got: BTreeMap<String, Delivered> = BTreeMap::new();
    let mut timestamps: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (n, delivery) in deliveries.iter().enumerate() {
        let data = &delivery.data;
        let stream = data["logStream"].as_str().expect("logStream").to_owned();
        assert_eq!(delivery.file, format!("{:06}-{stream}", n + 1), "file name");
        assert_eq!(data["messageType"], "DATA_MESSAGE");
        assert_eq!(data["owner"], owner, "{}", delivery.file);
        assert_eq!(data["logGroup"], DEFAULT_GROUP, "{}", delivery.file);
        let filters = data["subscriptionFilters"]
            .as_array()
            .expect("subscriptionFilters");
        assert!((1..=2).contains(&filters.len()), "{filters:?}");
        assert!(filters
            .iter()
            .all(|f| f.as_str().is_some_and(|f| !f.is_empty())));
        let events = data["logEvents"].as_array().expect("logEvents");
        assert!(!events.is_empty(), "{}: an empty delivery", delivery.file);
        for event in events {
            let id = event["id"].as_str().expect("id is a string").to_owned();
            assert_eq!(id.len(), 56, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
            let message = event["message"].as_str().expect("message").to_owned();
            got.entry(stream.clone()).or_default().push((id, message));
            let timestamp = event["timestamp"].as_i64().expect("timestamp in ms");
            timestamps
                .entry(stream.clone())
                .or_default()
                .push(timestamp);
        }
    }
    let mut all: Vec<&String> = got.values().flatten().map(|(id, _)| id).collect();
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "event ids are unique within the run");
    for (stream, events) in &got {
        assert!(
            events.windows(2).all(|w| w[0].0 < w[1].0),
            "ids grow within {stream}"
        );
    }
    let wanted: BTreeMap<&String, &Vec<String>> = expected
        .iter()
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    let streams: Vec<&String> = got.keys().collect();
    assert_eq!(
        streams,
        wanted.keys().copied().collect::<Vec<_>>(),
        "streams delivered"
    );
    for (stream, lines) in wanted {
        let messages: Vec<&String> = got[stream].iter().map(|(_, m)| m).collect();
        assert_eq!(
            messages,
            lines.iter().collect::<Vec<_>>(),
            "messages of {stream}"
        );
        let times: Vec<i64> = lines.iter().map(|l| record_timestamp(l)).collect();
        assert_eq!(timestamps[stream], times, "timestamps of {stream}");
    }
    got
}

/// Whether AWS's monitoring pattern selects this record, decided without ikesim's filter:
/// its details contain "DPD timed out", or phase 1 is down.
fn selected(line: &str) -> bool {
    let v: Value = serde_json::from_str(line).expect("a record is JSON");
    v["details"]
        .as_str()
        .is_some_and(|d| d.contains("DPD timed out"))
        || v["ike_phase1_state"] == "down"
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// The files of `dir`, name and bytes, sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("dir entry");
            let name = e.file_name().into_string().expect("UTF-8 name");
            (name, std::fs::read(e.path()).expect("read file"))
        })
        .collect();
    all.sort();
    all
}

#[test]
fn deliveries_decode_as_a_lambda_decodes_them_and_carry_every_record_in_order() {
    if !python_ready() {
        return;
    }
    let dir = temp_dir("envelopes-all");
    let (envelopes, out) = (dir.join("envelopes"), dir.join("out"));
    run_ok(&[
        "run",
        SCENARIO,
        "--envelopes",
        path(&envelopes),
        "--out",
        path(&out),
    ]);
    let records = out_records(&out);
    let deliveries = decode(&envelopes);
    assert!(!deliveries.is_empty());
    check(&deliveries, &records, DEFAULT_OWNER);

    // The same run writes the same files, byte for byte.
    let (again, again_out) = (dir.join("envelopes-again"), dir.join("out-again"));
    run_ok(&[
        "run",
        SCENARIO,
        "--envelopes",
        path(&again),
        "--out",
        path(&again_out),
    ]);
    assert!(
        files(&envelopes) == files(&again),
        "deliveries differ between two runs"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_filter_pattern_delivers_exactly_the_records_it_selects() {
    if !python_ready() {
        return;
    }
    let dir = temp_dir("envelopes-filtered");
    let (all, all_out) = (dir.join("all"), dir.join("all-out"));
    run_ok(&[
        "run",
        SCENARIO,
        "--envelopes",
        path(&all),
        "--out",
        path(&all_out),
    ]);
    let (some, out) = (dir.join("filtered"), dir.join("filtered-out"));
    let owner = "111122223333";
    run_ok(&[
        "run",
        SCENARIO,
        "--envelopes",
        path(&some),
        "--out",
        path(&out),
        "--filter-pattern",
        PATTERN,
        "--account-id",
        owner,
    ]);
    let records = out_records(&out);
    let expected: BTreeMap<String, Vec<String>> = records
        .iter()
        .map(|(stream, lines)| {
            let kept = lines.iter().filter(|l| selected(l)).cloned().collect();
            (stream.clone(), kept)
        })
        .collect();
    let (kept, total) = (
        expected.values().map(Vec::len).sum::<usize>(),
        records.values().map(Vec::len).sum::<usize>(),
    );
    assert!(
        kept > 0 && kept < total,
        "{kept} of {total} records selected: a poor test"
    );
    let filtered = check(&decode(&some), &expected, owner);

    // A delivered event has the id it has without the pattern.
    let unfiltered = check(&decode(&all), &out_records(&all_out), DEFAULT_OWNER);
    for (stream, events) in &filtered {
        let same: Vec<&(String, String)> = unfiltered[stream]
            .iter()
            .filter(|(_, message)| selected(message))
            .collect();
        assert_eq!(events.iter().collect::<Vec<_>>(), same, "ids in {stream}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_filter_pattern_is_refused_with_its_column() {
    let dir = temp_dir("envelopes-bad-pattern");
    let out = run(&[
        "run",
        SCENARIO,
        "--envelopes",
        path(&dir.join("envelopes")),
        "--filter-pattern",
        "{ $.details ~ \"x\" }",
    ]);
    assert_eq!(out.status.code(), Some(2), "bad input exits 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("column 13") && err.contains("{ $.details ~ \"x\" }"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
