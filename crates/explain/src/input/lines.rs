//! Record lines: one record per line, JSON of either schema or ikesim's text format,
//! mixed freely (`ikesim run`'s stdout and `--out DIR` files, a `jq -c .message` of an
//! export, AWS's records copied from the console). A line may also hold a whole Lambda
//! event or delivery (a log of Lambda invocations: one event per line).

use vpn_log::TunnelRecord;

use super::{content, excerpt, not_a_record, Sink, FORMS};
use crate::model::{Problem, Source};

/// Reads `bytes` line by line into stream `stream`. Blank lines are skipped; a line that
/// is no record is a problem at its line, unless no line of the file is a record and its
/// first line does not even look like one (a PNG, a TOML file): then the file is in no
/// form at all, and one problem says so.
pub(super) fn read(file: &str, stream: &str, bytes: &[u8], sink: &mut Sink) {
    let mut problems = Vec::new();
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
            problems.push(Problem {
                source,
                message: "not UTF-8 text: a tunnel log record is a JSON or text line".to_owned(),
            });
            continue;
        };
        match TunnelRecord::parse(text) {
            Ok(parsed) => {
                read_any = true;
                sink.record(stream, source, parsed.record);
            }
            Err(e) => {
                // Only a line that is no record is looked at again, so the common case
                // (record lines) parses each line once.
                if text.contains("\"awslogs\"") || text.contains("\"messageType\"") {
                    if let Ok(value) = serde_json::from_str(text) {
                        let before = sink.input.problems.len();
                        if content::read_document(file, stream, text, &value, sink, n + 1) {
                            read_any |= sink.input.problems.len() == before;
                            continue;
                        }
                    }
                }
                problems.push(Problem {
                    source,
                    message: format!("{}: {}", not_a_record(&e), excerpt(text)),
                });
            }
        }
    }
    match first {
        Some(line) if !read_any && !looks_like_a_record(line) => sink.problem(
            Source {
                file: file.to_owned(),
                line: 0,
            },
            format!(
                "not a tunnel log in any form ikesim reads (it starts with {}); {FORMS}",
                excerpt(&String::from_utf8_lossy(line))
            ),
        ),
        _ => sink.input.problems.extend(problems),
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
