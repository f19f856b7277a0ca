//! Record lines: one record per line, JSON of either schema or ikesim's text format,
//! mixed freely (`ikesim run`'s stdout and `--out DIR` files, a `jq -c .message` of an
//! export, AWS's records copied from the console). A line may also hold a whole Lambda
//! event, delivery or export page (a log of Lambda invocations: one event per line).

use vpn_log::TunnelRecord;

use super::{content, excerpt, not_a_record, Sink, FORMS};
use crate::model::Source;

/// Reads `bytes` line by line into stream `stream`. Blank lines are skipped; a line that
/// is no record is a problem at its line, unless no line of the file is a record and its
/// first line does not even look like one (a PNG, a TOML file): then the file is in no
/// form at all, and one problem says so. `broken_json` is that one problem (its line and
/// message) when the file looked like one JSON document that does not parse.
pub(super) fn read(
    file: &str,
    stream: &str,
    bytes: &[u8],
    sink: &mut Sink,
    broken_json: Option<(usize, String)>,
) {
    let problems_before = sink.input.problems.len();
    let mut read_any = false;
    let mut first: Option<&[u8]> = None;
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        first.get_or_insert(line);
        let source = Source {
            file: file.to_owned(),
            line: n + 1,
        };
        let Ok(text) = std::str::from_utf8(line) else {
            sink.problem(
                source,
                "not UTF-8 text: a tunnel log record is a JSON or text line".to_owned(),
            );
            continue;
        };
        match TunnelRecord::parse(text) {
            Ok(parsed) => {
                read_any = true;
                sink.record(stream, source, parsed.record);
            }
            // Only a line that is no record is looked at again, so the common case
            // (record lines) parses each line once.
            Err(e) => {
                if let Some(record) = s3_export_line(text) {
                    read_any = true;
                    sink.record(stream, source, record);
                } else if !read_embedded_document(file, stream, text, n + 1, sink, &mut read_any) {
                    sink.problem(source, record_problem(text, &e));
                }
            }
        }
    }
    let Some(first) = first else { return };
    if read_any {
        return;
    }
    let (line, whole_file) = match broken_json {
        Some(problem) => problem,
        None if !looks_like_a_record(first) => (
            0,
            format!(
                "not a tunnel log in any form ikesim reads (it starts with {}); {FORMS}",
                excerpt(&String::from_utf8_lossy(first))
            ),
        ),
        None => return,
    };
    sink.input.problems.truncate(problems_before);
    sink.problem(
        Source {
            file: file.to_owned(),
            line,
        },
        whole_file,
    );
}

/// A line holding a whole Lambda event, delivery or export page (`aws logs … --output
/// json | jq -c` once per page); `false` when it holds none.
fn read_embedded_document(
    file: &str,
    stream: &str,
    text: &str,
    line: usize,
    sink: &mut Sink,
    read_any: &mut bool,
) -> bool {
    let container = [
        "\"awslogs\"",
        "\"messageType\"",
        "\"events\"",
        "\"results\"",
    ];
    if !text.trim_start().starts_with('{') || !container.iter().any(|key| text.contains(key)) {
        return false;
    }
    let Ok(value) = serde_json::from_str(text) else {
        return false;
    };
    let before = sink.input.problems.len();
    let read = content::read_document(file, stream, text, &value, sink, line);
    *read_any |= read && sink.input.problems.len() == before;
    read
}

/// A line of what CloudWatch Logs' export to Amazon S3 (`aws logs create-export-task`)
/// writes: the event's time in RFC 3339, a space, the message
/// (`2026-03-14T09:00:00.015Z {"event_timestamp":…}`). The record is the message.
fn s3_export_line(text: &str) -> Option<TunnelRecord> {
    let (stamp, message) = text.split_once(' ')?;
    chrono::DateTime::parse_from_rfc3339(stamp).ok()?;
    TunnelRecord::parse(message)
        .ok()
        .map(|parsed| parsed.record)
}

/// Why `text` is no record, for a problem at its line.
pub(super) fn record_problem(text: &str, e: &vpn_log::RecordError) -> String {
    if looks_like_a_record(text.as_bytes()) {
        format!("{}: {}", not_a_record(e), excerpt(text))
    } else {
        format!(
            "not a tunnel log record (neither JSON nor ikesim's text format): {}",
            excerpt(text)
        )
    }
}

/// Whether a line is shaped like a record, right or wrong: JSON, or ikesim's text format
/// (`2025-11-08 05:40:29.641Z event_timestamp=…`, or `event_timestamp=…` for 2022).
fn looks_like_a_record(line: &[u8]) -> bool {
    let line = line.trim_ascii_start();
    line.starts_with(b"{")
        || line.starts_with(b"event_timestamp=")
        || (line.len() > 11
            && line[..4].iter().all(u8::is_ascii_digit)
            && line[4] == b'-'
            && line[10] == b' ')
}
