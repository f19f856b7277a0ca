//! `explain::input::read` on the corpus in tests/explain/forms (its README says what each
//! file is): every form gives the streams and problems a user would expect, the
//! directory as a whole merges overlapping inputs, and no bytes make it panic.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDateTime, Utc};
use explain::{input, Input, Stream};

const T1: &str = "vpn-0123456789abcdef0-203.0.113.10";
const T2: &str = "vpn-0123456789abcdef0-203.0.113.20";
/// The stream of ikesim's own deliveries (`ikesim run ikev2-dpd-clear --envelopes DIR`).
const SIM: &str = "vpn-0a1b2c3d4e5f60718-127.0.1.1";
const DPD: &str = "vpn-0a1b2c3d-203.0.113.30";
const CSV_TUNNEL: &str = "vpn-0fedcba9876543210-192.0.2.20";
const TEXT_TUNNEL: &str = "vpn-0fedcba9876543210-192.0.2.21";

const NEGOTIATING: &str = "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 198.51.100.7";
const AUTH_FAILED: &str = "AWS tunnel is sending AUTHENTICATION_FAILED as the response";
const DPD_TIMEOUT: &str = "AWS tunnel DPD timed out after 2 retransmits";

fn forms() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/explain/forms")
}

fn path(name: &str) -> String {
    forms().join(name).to_string_lossy().into_owned()
}

fn at(time: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("test time {time}: {e}"))
        .and_utc()
}

/// What one stream should hold.
struct Expect {
    /// The stream's name; `None`: the file's path (the file's name says no tunnel).
    name: Option<&'static str>,
    count: usize,
    first: (&'static str, &'static str),
    last: (&'static str, &'static str),
}

const fn stream(
    name: Option<&'static str>,
    count: usize,
    first: (&'static str, &'static str),
    last: (&'static str, &'static str),
) -> Expect {
    Expect {
        name,
        count,
        first,
        last,
    }
}

/// Streams and problems as one readable text, for failure messages.
fn summary(input: &Input) -> String {
    let mut out = String::new();
    for s in &input.streams {
        out += &format!("stream {} ({} records)\n", s.name, s.entries.len());
        for e in &s.entries {
            out += &format!("  {} {} {}\n", e.source, e.record.time, e.record.details);
        }
    }
    for p in &input.problems {
        out += &format!("problem {}: {}\n", p.source, p.message);
    }
    out
}

fn check_stream(s: &Stream, expect: &Expect, file: &str, shown: &str) {
    let name = expect.name.map_or_else(|| file.to_owned(), str::to_owned);
    assert_eq!(s.name, name, "{shown}");
    assert_eq!(s.entries.len(), expect.count, "{}: {shown}", s.name);
    let (first, last) = (&s.entries[0], &s.entries[s.entries.len() - 1]);
    assert_eq!(
        (first.record.time, first.record.details.as_str()),
        (at(expect.first.0), expect.first.1),
        "{shown}"
    );
    assert_eq!(
        (last.record.time, last.record.details.as_str()),
        (at(expect.last.0), expect.last.1),
        "{shown}"
    );
    for (i, e) in s.entries.iter().enumerate() {
        assert_eq!(e.index, i, "{shown}");
    }
    assert!(
        s.entries
            .windows(2)
            .all(|w| w[0].record.time <= w[1].record.time),
        "{} is not in time order: {shown}",
        s.name
    );
}

/// Every corpus file alone: its streams, and its problems as (line, words the message
/// has).
#[test]
fn each_form_of_the_corpus() {
    #[allow(clippy::type_complexity)]
    let cases: &[(&str, &[Expect], &[(usize, &str)])] = &[
        (
            "vpn-0123456789abcdef0-203.0.113.10.jsonl",
            &[stream(
                Some(T1),
                8,
                ("2026-03-14 09:00:00.015", NEGOTIATING),
                ("2026-03-14 09:55:04.643", "AWS tunnel Phase 2 CHILD_SA deleted with SPI: 8ded6515"),
            )],
            &[],
        ),
        (
            "records-2022-vintage.jsonl",
            &[stream(
                None,
                6,
                (
                    "2025-02-07 09:00:00",
                    "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 192.0.2.44",
                ),
                (
                    "2025-02-07 09:13:25",
                    "AWS tunnel IKE_SA_INIT retransmits exhausted, no response from cgw: 192.0.2.44",
                ),
            )],
            &[],
        ),
        (
            "records-mixed.log",
            &[stream(
                None,
                6,
                ("2026-03-14 09:00:00.020", NEGOTIATING),
                ("2026-03-14 09:00:10.051", AUTH_FAILED),
            )],
            &[],
        ),
        (
            "garbage-in-the-middle.jsonl",
            &[stream(
                None,
                4,
                ("2026-03-14 09:00:00.015", NEGOTIATING),
                ("2026-03-14 09:10:40", DPD_TIMEOUT),
            )],
            &[
                (3, "not a tunnel log record (neither JSON nor ikesim's text format): \"Mar 14"),
                (4, "not a tunnel log record: EOF while parsing a string"),
                (5, "\"UP\""),
            ],
        ),
        ("empty.jsonl", &[], &[]),
        (
            "get-log-events-vpn-0123456789abcdef0-203.0.113.20.json",
            &[stream(
                Some(T2),
                6,
                ("2026-03-14 09:00:00.020", NEGOTIATING),
                ("2026-03-14 09:00:10.051", AUTH_FAILED),
            )],
            &[],
        ),
        (
            "filter-log-events.json",
            &[
                stream(
                    Some(T1),
                    3,
                    ("2026-03-14 09:00:00.015", NEGOTIATING),
                    (
                        "2026-03-14 09:00:00.045",
                        "AWS tunnel Phase 2 CHILD_SA established with SPIs: 8ded6515_i 87be839f_o",
                    ),
                ),
                stream(
                    Some(T2),
                    6,
                    ("2026-03-14 09:00:10.020", NEGOTIATING),
                    ("2026-03-14 09:00:20.051", AUTH_FAILED),
                ),
            ],
            &[(38, "events[5]: not a tunnel log record: missing key `dpd_enabled`")],
        ),
        (
            "insights-export.json",
            &[stream(
                Some(T1),
                5,
                (
                    "2026-03-14 09:55:04.583",
                    "AWS tunnel is sending request (id=0) for CREATE_CHILD_SA",
                ),
                ("2026-03-14 09:55:04.643", "AWS tunnel Phase 2 CHILD_SA deleted with SPI: 8ded6515"),
            )],
            &[],
        ),
        (
            "insights-export.csv",
            &[stream(
                Some(CSV_TUNNEL),
                3,
                (
                    "2026-03-14 09:00:00.015",
                    "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 198.51.100.99",
                ),
                (
                    "2026-03-14 09:00:00.105",
                    "No Proposal Match Found. Notifying with \"No proposal chosen\"",
                ),
            )],
            &[],
        ),
        (
            "get-query-results.json",
            &[stream(
                Some(TEXT_TUNNEL),
                4,
                ("2026-03-14 09:00:00.015", NEGOTIATING),
                ("2026-03-14 09:10:40", DPD_TIMEOUT),
            )],
            &[],
        ),
        (
            "insights-without-message.csv",
            &[],
            &[(1, "add `fields @timestamp, @logStream, @message` to the query")],
        ),
        (
            "deliveries/000001-vpn-0a1b2c3d4e5f60718-127.0.1.1.json.gz",
            &[stream(
                Some(SIM),
                4,
                (
                    "2026-01-01 00:00:00.015",
                    "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 127.0.2.1",
                ),
                ("2026-01-01 00:10:40", DPD_TIMEOUT),
            )],
            &[],
        ),
        (
            "deliveries/000001-vpn-0a1b2c3d4e5f60718-127.0.1.1.lambda.json",
            &[stream(
                Some(SIM),
                4,
                (
                    "2026-01-01 00:00:00.015",
                    "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 127.0.2.1",
                ),
                ("2026-01-01 00:10:40", DPD_TIMEOUT),
            )],
            &[],
        ),
        ("deliveries/control-message.json.gz", &[], &[]),
        (
            "firehose/2026/03/14/09/\
             vpn-logs-to-s3-1-2026-03-14-09-05-12-6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
            &[stream(
                Some(T2),
                3,
                ("2026-03-14 09:00:20.020", NEGOTIATING),
                ("2026-03-14 09:00:20.051", AUTH_FAILED),
            )],
            &[],
        ),
        (
            "lambda-events.jsonl",
            &[stream(
                Some(T2),
                3,
                ("2026-03-14 09:00:20.020", NEGOTIATING),
                ("2026-03-14 09:00:20.051", AUTH_FAILED),
            )],
            &[],
        ),
        (
            "data-message.json",
            &[stream(
                Some(DPD),
                4,
                ("2026-03-14 09:00:00.015", NEGOTIATING),
                ("2026-03-14 09:10:40", DPD_TIMEOUT),
            )],
            &[(20, "logEvents[2]: not a tunnel log record")],
        ),
        (
            "s3-export/exportedlogs/4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a5b/\
             vpn-0123456789abcdef0-203.0.113.10/000000.gz",
            &[stream(
                Some(T1),
                3,
                ("2026-03-14 09:00:00.015", NEGOTIATING),
                (
                    "2026-03-14 09:00:00.045",
                    "AWS tunnel Phase 2 CHILD_SA established with SPIs: 8ded6515_i 87be839f_o",
                ),
            )],
            &[],
        ),
        (
            "truncated-export.json",
            &[],
            &[(20, "JSON that does not parse: EOF while parsing a value at line 20 column 12")],
        ),
        (
            "not-a-log.toml",
            &[],
            &[(0, "not a tunnel log in any form ikesim reads")],
        ),
    ];
    for (name, streams, problems) in cases {
        let file = path(name);
        let input = input::read(std::slice::from_ref(&file));
        let shown = format!("{name}:\n{}", summary(&input));
        assert_eq!(input.streams.len(), streams.len(), "{shown}");
        for (s, expect) in input.streams.iter().zip(streams.iter()) {
            check_stream(s, expect, &file, &shown);
            assert!(s.entries.iter().all(|e| e.source.file == file), "{shown}");
        }
        assert_eq!(input.problems.len(), problems.len(), "{shown}");
        for (p, (line, words)) in input.problems.iter().zip(problems.iter()) {
            assert_eq!(
                (p.source.file.as_str(), p.source.line),
                (file.as_str(), *line),
                "{shown}"
            );
            assert!(
                p.message.contains(words),
                "{words:?} not in {:?}\n{shown}",
                p.message
            );
        }
    }
}

/// Where records were read: lines of record files, CSV rows (a quoted field spans no
/// extra line here), events of a pretty-printed export, and line 0 inside gzip.
#[test]
fn records_point_at_their_lines() {
    let lines = |name: &str| -> Vec<usize> {
        let input = input::read(&[path(name)]);
        input
            .streams
            .iter()
            .flat_map(|s| s.entries.iter().map(|e| e.source.line))
            .collect()
    };
    assert_eq!(
        lines("vpn-0123456789abcdef0-203.0.113.10.jsonl"),
        [1, 2, 3, 5, 6, 7, 8, 9]
    );
    assert_eq!(lines("garbage-in-the-middle.jsonl"), [1, 2, 7, 8]);
    assert_eq!(lines("insights-export.csv"), [2, 3, 4]);
    assert_eq!(
        lines("get-log-events-vpn-0123456789abcdef0-203.0.113.20.json"),
        [3, 8, 13, 18, 23, 28]
    );
    assert_eq!(lines("lambda-events.jsonl"), [2, 2, 2]);
    assert_eq!(
        lines("deliveries/000001-vpn-0a1b2c3d4e5f60718-127.0.1.1.json.gz"),
        [0, 0, 0, 0]
    );
}

/// The corpus directory as a whole: files in name order, hidden ones skipped, the
/// overlaps (filter-log-events with get-log-events and the Lambda events, the Insights
/// export with the .jsonl file, a delivery's .json.gz with its .lambda.json) merged
/// without duplicates.
#[test]
fn the_corpus_directory_as_a_whole() {
    let dir = forms().to_string_lossy().into_owned();
    let input = input::read(&[dir]);
    let shown = summary(&input);
    let names: Vec<&str> = input.streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            DPD,
            SIM,
            T1,
            T2,
            &path("garbage-in-the-middle.jsonl"),
            TEXT_TUNNEL,
            CSV_TUNNEL,
            &path("records-2022-vintage.jsonl"),
            &path("records-mixed.log"),
        ],
        "{shown}"
    );
    let count = |name: &str| {
        input
            .streams
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.entries.len())
    };
    assert_eq!(count(T1), Some(8), "{shown}");
    assert_eq!(count(T2), Some(9), "{shown}");
    assert_eq!(count(SIM), Some(4), "{shown}");
    let t2 = input
        .streams
        .iter()
        .find(|s| s.name == T2)
        .map(|s| &s.entries);
    let t2 = t2.unwrap_or_else(|| panic!("{shown}"));
    let details: Vec<&str> = t2.iter().map(|e| e.record.details.as_str()).collect();
    assert_eq!(
        details.iter().filter(|d| **d == AUTH_FAILED).count(),
        3,
        "{shown}"
    );
    let problems: Vec<(String, usize)> = input
        .problems
        .iter()
        .map(|p| (p.source.file.clone(), p.source.line))
        .collect();
    assert_eq!(
        problems,
        [
            (path("README.md"), 0),
            (path("data-message.json"), 20),
            (path("filter-log-events.json"), 38),
            (path("garbage-in-the-middle.jsonl"), 3),
            (path("garbage-in-the-middle.jsonl"), 4),
            (path("garbage-in-the-middle.jsonl"), 5),
            (path("insights-without-message.csv"), 1),
            (path("not-a-log.toml"), 0),
            (path("truncated-export.json"), 20),
        ],
        "{shown}"
    );
}

/// Two overlapping exports of one stream, in either order: one stream in time order, each
/// record once, sources kept from the input read first.
#[test]
fn overlapping_exports_merge() {
    let get = path("get-log-events-vpn-0123456789abcdef0-203.0.113.20.json");
    let filter = path("filter-log-events.json");
    for paths in [[get.clone(), filter.clone()], [filter.clone(), get.clone()]] {
        let input = input::read(&paths);
        let shown = summary(&input);
        let t2 = input.streams.iter().find(|s| s.name == T2);
        let t2 = t2.unwrap_or_else(|| panic!("no {T2}: {shown}"));
        assert_eq!(t2.entries.len(), 9, "{shown}");
        let from_filter = t2
            .entries
            .iter()
            .filter(|e| e.source.file == filter)
            .count();
        assert_eq!(
            from_filter,
            if paths[0] == filter { 6 } else { 3 },
            "{shown}"
        );
        assert!(t2
            .entries
            .windows(2)
            .all(|w| w[0].record.time <= w[1].record.time));
    }
    // The same file twice is the same records twice: read once.
    let input = input::read(&[get.clone(), get]);
    assert_eq!(input.streams[0].entries.len(), 6);
    // Equal records within one input are all kept (AWS may repeat a message in one ms).
    let line = r#"{"event_timestamp":1773478800051,"timestamp":"2026-03-14 09:00:00.051Z","dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"down","ike_phase2_state":"down","details":"x"}"#;
    let input = input::read_bytes("twice.jsonl", format!("{line}\n{line}\n").as_bytes());
    assert_eq!(input.streams[0].entries.len(), 2, "{}", summary(&input));
}

/// Bytes no one should feed it, fed: one problem each (or nothing, for nothing), never a
/// panic, and the readable part of a damaged file still read.
#[test]
fn hostile_bytes() {
    let problems = |input: &Input| -> Vec<String> {
        input
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.source, p.message))
            .collect()
    };
    // Nothing at all.
    for empty in [&b""[..], b"\n\n  \r\n", b"\xef\xbb\xbf"] {
        let input = input::read_bytes("empty", empty);
        assert_eq!(input, Input::default());
    }
    // A truncated delivery.
    let gz = std::fs::read(path(
        "deliveries/000001-vpn-0a1b2c3d4e5f60718-127.0.1.1.json.gz",
    ))
    .unwrap_or_else(|e| panic!("corpus: {e}"));
    let input = input::read_bytes("cut.json.gz", &gz[..gz.len() / 2]);
    assert!(input.streams.is_empty());
    assert_eq!(problems(&input).len(), 1, "{:?}", problems(&input));
    assert!(problems(&input)[0].starts_with("cut.json.gz: gzip data that does not decompress"));
    // A PNG: one problem for the file.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let input = input::read_bytes("shot.png", png);
    assert_eq!(problems(&input).len(), 1, "{:?}", problems(&input));
    assert!(problems(&input)[0].starts_with("shot.png: not a tunnel log in any form"));
    // Invalid UTF-8 on one line of a record file: that line is the problem.
    let mut bytes = std::fs::read(path("garbage-in-the-middle.jsonl")).unwrap_or_default();
    bytes.splice(0..0, b"caf\xe9 in Latin-1\n".iter().copied());
    let input = input::read_bytes("latin1.jsonl", &bytes);
    assert_eq!(input.streams[0].entries.len(), 4);
    assert!(
        problems(&input)[0].starts_with("latin1.jsonl:1: not UTF-8"),
        "{:?}",
        problems(&input)
    );
    // A path that is not there.
    let missing = path("no-such-file.jsonl");
    let input = input::read(std::slice::from_ref(&missing));
    assert_eq!(problems(&input).len(), 1);
    assert!(problems(&input)[0].starts_with(&format!("{missing}: cannot read it: ")));
    // Random bytes, and every corpus file cut at many places: no panic, and whatever is
    // read keeps its invariants.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut samples: Vec<Vec<u8>> = (0..300)
        .map(|_| {
            let len = usize::try_from(next() % 600).unwrap_or(0);
            (0..len).map(|_| next().to_le_bytes()[0]).collect()
        })
        .collect();
    for entry in walk(&forms()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        for cut in (0..bytes.len()).step_by(bytes.len() / 40 + 1) {
            samples.push(bytes[..cut].to_vec());
            let mut flipped = bytes.clone();
            flipped[cut] ^= 1 << (next() % 8);
            samples.push(flipped);
        }
    }
    for sample in &samples {
        let input = input::read_bytes("sample", sample);
        for s in &input.streams {
            assert!(!s.entries.is_empty());
            assert!(s
                .entries
                .windows(2)
                .all(|w| w[0].record.time <= w[1].record.time));
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A record line for inline inputs.
fn record_line(ms: i64, details: &str) -> String {
    let time = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.3fZ");
    format!(
        r#"{{"event_timestamp":{ms},"timestamp":"{time}","dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"established","ike_phase2_state":"established","details":{}}}"#,
        serde_json::Value::from(details)
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(bytes)
        .unwrap_or_else(|e| panic!("gzip: {e}"));
    encoder.finish().unwrap_or_else(|e| panic!("gzip: {e}"))
}

/// The corpus's get-log-events output as two pages of three events, appended to one file
/// as `aws logs get-log-events … >> FILE` does, pretty-printed or one page per line.
fn get_log_events_pages(compact: bool) -> Vec<u8> {
    let text = std::fs::read_to_string(path(
        "get-log-events-vpn-0123456789abcdef0-203.0.113.20.json",
    ))
    .unwrap_or_else(|e| panic!("corpus: {e}"));
    let page: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("corpus: {e}"));
    let events = page["events"].as_array().cloned().unwrap_or_default();
    let mut out = String::new();
    for half in events.chunks(3) {
        let page = serde_json::json!({"events": half, "nextForwardToken": "f/1", "nextBackwardToken": "b/1"});
        let page = if compact {
            serde_json::to_string(&page)
        } else {
            serde_json::to_string_pretty(&page)
        };
        out += &page.unwrap_or_default();
        out += "\n";
    }
    out.into_bytes()
}

/// Smaller shapes of the forms, inline: (what, bytes, records per stream, problems as
/// (line, words)).
#[test]
fn inline_shapes() {
    let a = record_line(
        1_773_478_800_015,
        "AWS tunnel Phase 2 CHILD_SA deleted with SPI: 8ded6515",
    );
    let b = record_line(
        1_773_478_800_016,
        "AWS tunnel received DELETE for IKE_SA from CGW",
    );
    let query = |status: &str| {
        format!(
            r#"{{"results":[[{{"field":"@logStream","value":"{T1}"}},{{"field":"@message","value":{}}}]],"status":"{status}"}}"#,
            serde_json::Value::from(a.as_str())
        )
    };
    let lambda_bad = r#"{"awslogs":{"data":"H4sI%%%not-base64"}}"#;
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<u8>, Vec<(&str, usize)>, Vec<(usize, &str)>)> = vec![
        (
            "an Insights JSON export without @message",
            br#"[{"@timestamp":"2026-03-14 09:00:00.015","details":"x"}]"#.to_vec(),
            vec![],
            vec![(1, "(it has @timestamp, details): add `fields @timestamp, @logStream, @message`")],
        ),
        (
            "get-query-results of a query still running",
            query("Running").into_bytes(),
            vec![(T1, 1)],
            vec![(1, "the query's status is Running, not Complete")],
        ),
        ("get-query-results, complete", query("Complete").into_bytes(), vec![(T1, 1)], vec![]),
        (
            "a Lambda event per line, one of them damaged",
            format!("{a}\n{lambda_bad}\n{b}\n").into_bytes(),
            vec![("inline", 2)],
            vec![(2, "a Lambda event from CloudWatch Logs that does not decode: awslogs.data is not base64")],
        ),
        (
            "a delivery of an unknown message type",
            br#"{"messageType":"HEALTH","logEvents":[]}"#.to_vec(),
            vec![],
            vec![(1, "messageType is \"HEALTH\", not DATA_MESSAGE or CONTROL_MESSAGE")],
        ),
        (
            "an array of records (jq -s)",
            format!("[\n{a},\n{b}\n]\n").into_bytes(),
            vec![("inline", 2)],
            vec![],
        ),
        (
            "one pretty-printed record",
            serde_json::to_vec_pretty(&serde_json::from_str::<serde_json::Value>(&a).unwrap_or_default())
                .unwrap_or_default(),
            vec![("inline", 1)],
            vec![],
        ),
        (
            "a JSON document of no form",
            b"\n{\"foo\": 1}\n".to_vec(),
            vec![],
            vec![(2, "a JSON document, but not a tunnel log record: missing key `event_timestamp`")],
        ),
        (
            "gzip'd record lines (lines of the decompressed text)",
            gzip(format!("{a}\nnot a record\n{b}\n").as_bytes()),
            vec![("inline", 2)],
            vec![(2, "not a tunnel log record (neither JSON nor ikesim's text format)")],
        ),
        ("gzip of gzip", gzip(&gzip(a.as_bytes())), vec![], vec![(0, "gzip inside gzip")]),
        (
            "deliveries concatenated, not gzip'd, the third one cut short",
            format!(
                "{delivery}{delivery}\n  {{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[",
                delivery = format!(
                    r#"{{"messageType":"DATA_MESSAGE","logStream":"{T1}","logEvents":[{{"id":"1","timestamp":1,"message":{}}}]}}"#,
                    serde_json::Value::from(a.as_str())
                )
            )
            .into_bytes(),
            vec![(T1, 2)],
            vec![(2, "JSON that does not parse: EOF")],
        ),
        (
            "a DATA_MESSAGE per line, one of them damaged",
            format!(
                "{delivery}\n{{\"messageType\":\"DATA_MESSAGE\",\n{delivery}\n",
                delivery = format!(
                    r#"{{"messageType":"DATA_MESSAGE","logStream":"{T1}","logEvents":[{{"id":"1","timestamp":1,"message":{}}}]}}"#,
                    serde_json::Value::from(a.as_str())
                )
            )
            .into_bytes(),
            vec![(T1, 2)],
            vec![(2, "not a tunnel log record: EOF while parsing")],
        ),
        (
            "two get-log-events pages appended to one file, pretty-printed",
            get_log_events_pages(false),
            vec![("inline", 6)],
            vec![],
        ),
        (
            "two get-log-events pages, one per line",
            get_log_events_pages(true),
            vec![("inline", 6)],
            vec![],
        ),
        (
            "UTF-16LE with a BOM (PowerShell 5's redirect), a damaged line among records",
            [0xff, 0xfe]
                .into_iter()
                .chain(format!("{a}\r\n\u{fffd}oops\r\n{b}\r\n").encode_utf16().flat_map(u16::to_le_bytes))
                .collect(),
            vec![("inline", 2)],
            vec![(2, "neither JSON nor ikesim's text format")],
        ),
        (
            "UTF-16BE with a BOM, an odd byte at the end",
            [0xfe, 0xff]
                .into_iter()
                .chain(a.encode_utf16().flat_map(u16::to_be_bytes))
                .chain([0x41])
                .collect(),
            vec![("inline", 1)],
            vec![],
        ),
        (
            "an export event whose message is no string",
            br#"{"events":[{"timestamp":1,"message":{"details":"x"}}]}"#.to_vec(),
            vec![],
            vec![(1, "events[0]: no \"message\" string")],
        ),
    ];
    for (what, bytes, streams, problems) in cases {
        let input = input::read_bytes("inline", &bytes);
        let shown = format!("{what}:\n{}", summary(&input));
        let got: Vec<(&str, usize)> = input
            .streams
            .iter()
            .map(|s| (s.name.as_str(), s.entries.len()))
            .collect();
        assert_eq!(got, streams, "{shown}");
        assert_eq!(input.problems.len(), problems.len(), "{shown}");
        for (p, (line, words)) in input.problems.iter().zip(&problems) {
            assert_eq!(p.source.line, *line, "{shown}");
            assert!(
                p.message.contains(words),
                "{words:?} not in {:?}\n{shown}",
                p.message
            );
        }
    }
}

/// A directory tree: files in name order through subdirectories, hidden files and
/// directories skipped, a link back to the top read once.
#[test]
fn directories() {
    let dir = std::env::temp_dir().join(format!("explain-input-dirs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap_or(&dir)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
    };
    let stream = format!("{T1}.jsonl");
    write(&format!("a/{stream}"), &(record_line(3, "third") + "\n"));
    write(&format!("b/{stream}"), &(record_line(1, "first") + "\n"));
    write(&format!("a/z/{stream}"), &(record_line(2, "second") + "\n"));
    write(".git/objects/garbage", "\u{1}\u{2} not a log");
    write(
        "a/.vpn-0123456789abcdef0-203.0.113.10.jsonl.tmp",
        "half a reco",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, dir.join("a/loop")).unwrap_or_else(|e| panic!("{e}"));
    let input = input::read(&[dir.to_string_lossy().into_owned()]);
    let shown = summary(&input);
    assert!(input.problems.is_empty(), "{shown}");
    assert_eq!(input.streams.len(), 1, "{shown}");
    let read: Vec<(&str, String)> = input.streams[0]
        .entries
        .iter()
        .map(|e| {
            let file = e
                .source
                .file
                .strip_prefix(&*dir.to_string_lossy())
                .unwrap_or_default();
            (e.record.details.as_str(), file.to_owned())
        })
        .collect();
    let expected = [
        ("first", format!("/b/{stream}")),
        ("second", format!("/a/z/{stream}")),
        ("third", format!("/a/{stream}")),
    ];
    assert_eq!(read, expected, "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// stdin (no path, and `-`), read whole and told like a file: this test runs itself again
/// as a child with the input on its stdin.
#[test]
fn stdin_in_any_form() {
    const CHILD: &str = "EXPLAIN_INPUT_STDIN_CHILD";
    if let Some(args) = std::env::var_os(CHILD) {
        let paths: Vec<String> = args
            .to_string_lossy()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let input = input::read(&paths);
        println!(); // the harness has written "test … " on this line
        for s in &input.streams {
            println!("STREAM {} {}", s.name, s.entries.len());
        }
        for p in &input.problems {
            println!("PROBLEM {}: {}", p.source, p.message);
        }
        return;
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let filter = std::fs::read(path("filter-log-events.json")).unwrap_or_else(|e| panic!("{e}"));
    for args in ["", "-"] {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "stdin_in_any_form",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin.write_all(&filter).unwrap_or_else(|e| panic!("{e}"));
        }
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let out = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("STREAM") || l.starts_with("PROBLEM"))
            .collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert_eq!(lines[0], format!("STREAM {T1} 3"), "{out}");
        assert_eq!(lines[1], format!("STREAM {T2} 6"), "{out}");
        assert!(
            lines[2].starts_with("PROBLEM -:38: events[5]: not a tunnel log record"),
            "{out}"
        );
    }
}
