use super::*;
use crate::batch::LogEvent;

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("delivery-envelope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn batch(events: &[(i64, &str)]) -> Batch {
    Batch {
        events: events
            .iter()
            .map(|&(timestamp, message)| LogEvent {
                timestamp,
                message: message.to_owned(),
            })
            .collect(),
    }
}

fn envelopes(dir: &Path, pattern: Option<&str>) -> Envelopes {
    let pattern = pattern.map(|p| FilterPattern::parse(p).unwrap_or_else(|e| panic!("{e}")));
    Envelopes::create(dir, "123456789012", &[DEFAULT_FILTER_NAME], pattern)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const GROUP: &str = "/aws/vendedlogs/ikesim";
const STREAM: &str = "vpn-0a1b2c3d-127.0.1.1";
const UP: &str =
    r#"{"ike_phase1_state":"established","details":"AWS tunnel Phase 2 CHILD_SA established"}"#;
const DPD: &str =
    r#"{"ike_phase1_state":"down","details":"AWS tunnel DPD timed out after 3 retransmits"}"#;

#[test]
fn a_delivery_round_trips_in_both_forms() {
    let dir = temp_dir("round-trip");
    let mut env = envelopes(&dir, None);
    let path = env
        .deliver(
            GROUP,
            STREAM,
            &batch(&[(1_767_225_600_015, UP), (1_767_225_600_045, DPD)]),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let Some(path) = path else {
        panic!("no delivery")
    };
    assert_eq!(path, dir.join(format!("000001-{STREAM}.json.gz")));
    let message = decode(&read(&path)).unwrap_or_else(|e| panic!("{e}"));
    let lambda_path = dir.join(format!("000001-{STREAM}.lambda.json"));
    let lambda = String::from_utf8(read(&lambda_path)).unwrap_or_default();
    assert_eq!(decode_lambda(&lambda).ok(), Some(message.clone()));

    assert_eq!(message["messageType"], "DATA_MESSAGE");
    assert_eq!(message["owner"], "123456789012");
    assert_eq!(message["logGroup"], GROUP);
    assert_eq!(message["logStream"], STREAM);
    assert_eq!(
        message["subscriptionFilters"],
        serde_json::json!(["ikesim"])
    );
    let events = message["logEvents"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["timestamp"], 1_767_225_600_015_i64);
    assert_eq!(events[0]["message"], UP);
    assert_eq!(events[1]["timestamp"], 1_767_225_600_045_i64);
    assert_eq!(events[1]["message"], DPD);

    // Keys in the order of AWS's examples, compact as delivered.
    let mut json = String::new();
    flate2::read::GzDecoder::new(&read(&path)[..])
        .read_to_string(&mut json)
        .unwrap_or_else(|e| panic!("{e}"));
    let prefix = format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"{GROUP}","logStream":"{STREAM}","subscriptionFilters":["ikesim"],"logEvents":[{{"id":""#
    );
    assert!(json.starts_with(&prefix), "{json}");
    assert!(json.contains(r#"","timestamp":1767225600015,"message":"{\"ike_phase1_state\""#));
    assert!(lambda.starts_with(r#"{"awslogs":{"data":""#) && lambda.ends_with(r#""}}"#));
    // No temporary files are left.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names.len(), 2, "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_pattern_filters_events_and_an_empty_delivery_is_not_written() {
    let dir = temp_dir("filtering");
    let mut env = envelopes(
        &dir,
        Some(r#"{ ($.details = "*DPD timed out*") || ($.ike_phase1_state = "down") }"#),
    );
    let none = env.deliver(GROUP, STREAM, &batch(&[(1, UP), (2, UP)]));
    assert!(matches!(none, Ok(None)));
    let some = env.deliver(GROUP, STREAM, &batch(&[(3, UP), (4, DPD), (5, "not json")]));
    let Ok(Some(path)) = some else {
        panic!("{some:?}")
    };
    // Numbered by deliveries written, not batches offered.
    assert!(path.ends_with(format!("000001-{STREAM}.json.gz")));
    let message = decode(&read(&path)).unwrap_or_else(|e| panic!("{e}"));
    let events = message["logEvents"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["message"], DPD);
    assert_eq!(env.deliveries(), 1);
    assert_eq!(env.events_offered(), 5);
    // The kept event has the id it has without a pattern: ordinal 3 of the run.
    assert_eq!(events[0]["id"].as_str(), id::event_id(4, 3).as_deref());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_run_writes_the_same_bytes() {
    let run = |name: &str| {
        let dir = temp_dir(name);
        let mut env = envelopes(&dir, None);
        for (stream, base) in [(STREAM, 0), ("vpn-0a1b2c3d-127.0.1.2", 10), (STREAM, 20)] {
            let b = batch(&[
                (1_767_225_600_000 + base, UP),
                (1_767_225_600_001 + base, DPD),
            ]);
            assert!(matches!(env.deliver(GROUP, stream, &b), Ok(Some(_))));
        }
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| {
                    let e = e.ok()?;
                    Some((e.file_name().into_string().ok()?, read(&e.path())))
                })
                .collect()
            })
            .unwrap_or_default();
        files.sort();
        let _ = std::fs::remove_dir_all(&dir);
        files
    };
    let (a, b) = (run("same-a"), run("same-b"));
    assert_eq!(a.len(), 6);
    assert_eq!(a, b);
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "000001-vpn-0a1b2c3d-127.0.1.1.json.gz",
            "000001-vpn-0a1b2c3d-127.0.1.1.lambda.json",
            "000002-vpn-0a1b2c3d-127.0.1.2.json.gz",
            "000002-vpn-0a1b2c3d-127.0.1.2.lambda.json",
            "000003-vpn-0a1b2c3d-127.0.1.1.json.gz",
            "000003-vpn-0a1b2c3d-127.0.1.1.lambda.json",
        ]
    );
    // gzip header (RFC 1952 §2.3): no FNAME flag, MTIME 0.
    let gz = &a[0].1;
    assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
    assert_eq!(gz[3] & 0x08, 0);
    assert_eq!(&gz[4..8], &[0, 0, 0, 0]);
}

#[test]
fn ids_are_56_digits_unique_in_the_run_and_grow_with_time_in_a_stream() {
    let dir = temp_dir("ids");
    let mut env = envelopes(&dir, None);
    let mut all = Vec::new();
    let mut per_stream: Vec<(String, String)> = Vec::new();
    // Two streams with the same timestamps; equal timestamps within a batch and across.
    let batches = [
        (
            STREAM,
            vec![(1_767_225_600_000, UP), (1_767_225_600_000, DPD)],
        ),
        ("vpn-0a1b2c3d-127.0.1.2", vec![(1_767_225_600_000, UP)]),
        (
            STREAM,
            vec![(1_767_225_600_000, UP), (1_767_225_700_000, UP)],
        ),
    ];
    for (stream, events) in &batches {
        let path = env.deliver(GROUP, stream, &batch(events));
        let Ok(Some(path)) = path else {
            panic!("{path:?}")
        };
        let message = decode(&read(&path)).unwrap_or_else(|e| panic!("{e}"));
        for event in message["logEvents"].as_array().into_iter().flatten() {
            let id = event["id"].as_str().unwrap_or_default().to_owned();
            assert_eq!(id.len(), 56, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
            all.push(id.clone());
            per_stream.push(((*stream).to_owned(), id));
        }
    }
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len());
    let ids: Vec<&String> = per_stream
        .iter()
        .filter(|(s, _)| s == STREAM)
        .map(|(_, id)| id)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settings_aws_would_refuse_are_errors() {
    let dir = temp_dir("settings");
    let new = |owner: &str, filters: &[&str]| Envelopes::create(&dir, owner, filters, None).err();
    assert!(matches!(
        new("12345678901", &["f"]),
        Some(EnvelopeError::Owner(_))
    ));
    assert!(matches!(
        new("12345678901x", &["f"]),
        Some(EnvelopeError::Owner(_))
    ));
    assert!(matches!(
        new("123456789012", &[]),
        Some(EnvelopeError::FilterCount(0))
    ));
    assert!(matches!(
        new("123456789012", &["a", "b", "c"]),
        Some(EnvelopeError::FilterCount(3))
    ));
    assert!(matches!(
        new("123456789012", &["a:b"]),
        Some(EnvelopeError::FilterName(_))
    ));
    assert!(new("123456789012", &["a", "b"]).is_none());
    let e = new("1", &["f"]).map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("12 digits"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stream_names_with_slashes_stay_in_the_directory() {
    let dir = temp_dir("slashes");
    let mut env = envelopes(&dir, None);
    let path = env.deliver(GROUP, "2026/01/01/[$LATEST]abc", &batch(&[(1, "x")]));
    let Ok(Some(path)) = path else {
        panic!("{path:?}")
    };
    assert_eq!(path, dir.join("000001-2026_01_01_[$LATEST]abc.json.gz"));
    let message = decode(&read(&path)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(message["logStream"], "2026/01/01/[$LATEST]abc");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn timestamps_no_id_can_carry_are_an_error_and_write_nothing() {
    let dir = temp_dir("range");
    let mut env = envelopes(&dir, None);
    let e = env.deliver(GROUP, STREAM, &batch(&[(-5, "x")]));
    assert!(
        matches!(&e, Err(e) if e.kind() == std::io::ErrorKind::InvalidData),
        "{e:?}"
    );
    assert_eq!(env.deliveries(), 0);
    assert_eq!(
        std::fs::read_dir(&dir).map(Iterator::count).unwrap_or(99),
        0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn decoding_says_what_is_wrong() {
    assert!(matches!(decode(b"not gzip"), Err(DecodeError::Gzip(_))));
    assert!(matches!(
        decode_lambda("{}"),
        Err(DecodeError::NotLambdaEvent)
    ));
    assert!(matches!(
        decode_lambda(r#"{"awslogs":{"data":"!!"}}"#),
        Err(DecodeError::Base64(_))
    ));
    assert!(matches!(decode_lambda("nope"), Err(DecodeError::Json(_))));
}
