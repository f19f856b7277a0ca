//! Every form AWS Site-to-Site VPN tunnel log records come in, read into [`Stream`]s.
//!
//! The form is told from the content, never from the file's extension (people rename
//! exports, and stdin has no name):
//!
//! | form | how it is told | stream name |
//! |---|---|---|
//! | record lines: JSON of both schemas, ikesim's text format, mixed (`lines.rs`) | anything else | from the file name |
//! | `aws logs get-log-events` JSON (`export.rs`) | an object with `events`, no `logStreamName` | from the file name |
//! | `aws logs filter-log-events` JSON (`export.rs`) | an object with `events` carrying `logStreamName` | `logStreamName` |
//! | Logs Insights "Export results" JSON (`insights.rs`) | a JSON array of `{"@message", …}` | `@logStream` |
//! | Logs Insights "Export results" CSV (`insights.rs`) | a header row naming `@message` / `@timestamp` / `@logStream` | `@logStream` |
//! | `aws logs get-query-results` JSON (`insights.rs`) | an object with `results` | `@logStream` |
//! | a subscription delivery `DATA_MESSAGE` (`delivery.rs`) | an object with `messageType`; gzip'd or not | `logStream` |
//! | the Lambda event `{"awslogs":{"data":…}}` (`delivery.rs`) | an object with `awslogs`; one per file or one per line | `logStream` |
//! | any of the JSON documents above one after another: deliveries concatenated (`{…}{…}`, what Amazon Data Firehose writes to S3), export pages appended (`>>`) (`content.rs`); or one per line (`lines.rs`) | JSON values one after another, the first one of these forms | as each document says |
//! | `aws logs create-export-task` output in Amazon S3 (`lines.rs`): gzip'd lines of `<RFC 3339 time> <message>` | a line that is a time, a space and a record | the nearest directory named like a stream (`…/<task-id>/<stream>/000000.gz`) |
//! | gzip of any of these (`content.rs`) | the magic bytes `1f 8b` | as the form inside says |
//! | a directory (`files.rs`) | the path is one | each file's own |
//!
//! "From the file name" is the tunnel log stream name in the file's name
//! (`vpn-0123456789abcdef0-203.0.113.10.json`) or in the nearest directory's, else the path
//! as given (`-` for stdin); a row or event without its stream's name takes it too.
//!
//! Text is UTF-8 (a BOM is skipped), or UTF-16 with a BOM (what Windows PowerShell 5's
//! `>` writes).
//!
//! The AWS CLI's `--output text` and `--output table` renderings are out of scope: they
//! flatten the message into columns that cannot be told apart from the record's own
//! spaces and tabs; export with the default `--output json` instead.
//!
//! A problem points at the line where its element starts: the line of a record line or of
//! a CSV row, the line an event of a pretty-printed export starts on, the line of a
//! Lambda event for the records inside it. Inside gzip, record lines keep their line in
//! the decompressed text, and a JSON document's elements are at line 0 (the message
//! names the element: `events[12]`, `logEvents[3]`).
//!
//! A record's time is its own `event_timestamp`; CloudWatch's event `timestamp` (the time
//! the event was put, or `@timestamp`) is not used, and a message without
//! `event_timestamp` is not a record but a [`Problem`].
//!
//! The same stream often arrives from several inputs: two overlapping exports, a
//! directory plus an export, or a delivery's `.json.gz` beside its `.lambda.json` twin
//! (what `ikesim run --envelopes DIR` writes). They are merged into one [`Stream`], sorted
//! by record time (stable, so the input order of records written in the same millisecond
//! is kept), and a record equal to one already read from *another* input (same time,
//! states, flags and details) is dropped. Equal records within one input are all kept: AWS
//! may well write the same message twice in one millisecond.

mod content;
mod delivery;
mod export;
mod files;
mod insights;
mod lines;
mod name;
mod offsets;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use vpn_log::TunnelRecord;

use crate::model::{Entry, Input, Problem, Source, Stream};

/// Reads every path into streams: `-` (or no path at all) is stdin, read whole; a
/// directory is read recursively, its files in name order, hidden files and directories
/// skipped. Never fails as a whole: what cannot be read is a [`crate::Problem`] in
/// [`Input::problems`], and everything else is still read.
pub fn read(paths: &[String]) -> Input {
    let mut sink = Sink::default();
    if paths.is_empty() {
        files::read_path("-", &mut sink);
    }
    for path in paths {
        files::read_path(path, &mut sink);
    }
    sink.finish()
}

/// Reads one input already in memory, as if it were a file named `file` (`-` for stdin):
/// what [`read`] does with each file's bytes, for callers (and tests) that hold the bytes.
pub fn read_bytes(file: &str, bytes: &[u8]) -> Input {
    let mut sink = Sink::default();
    sink.next_file();
    content::read(file, &name::stream_name(file), bytes, &mut sink);
    sink.finish()
}

/// An entry already read: its place in its stream's entries, and the input it came from.
#[derive(Clone, Copy)]
struct Seen {
    at: usize,
    file: u32,
}

/// Where records and problems go while the inputs are read.
#[derive(Default)]
struct Sink {
    input: Input,
    /// Stream name → its index in `input.streams` (a 30-day export has hundreds of
    /// thousands of records: no linear search per record).
    by_name: HashMap<String, usize>,
    /// (stream, record time) → the entries with that time, with the input each came from:
    /// what finds a record already read from another input.
    by_time: HashMap<(usize, DateTime<Utc>), Vec<Seen>>,
    /// The input being read, counted from 1.
    file: u32,
}

impl Sink {
    /// Starts the next input: records equal to those of earlier inputs are dropped.
    fn next_file(&mut self) {
        self.file += 1;
    }

    /// The stream named `stream`, made (empty) if it is new: its index.
    fn stream(&mut self, stream: &str) -> usize {
        if let Some(&i) = self.by_name.get(stream) {
            return i;
        }
        let i = self.input.streams.len();
        self.input.streams.push(Stream {
            name: stream.to_owned(),
            entries: Vec::new(),
        });
        self.by_name.insert(stream.to_owned(), i);
        i
    }

    /// One record of stream `stream`, read at `source`.
    fn record(&mut self, stream: &str, source: Source, record: TunnelRecord) {
        let index = self.stream(stream);
        let entries = &mut self.input.streams[index].entries;
        let same_time = self.by_time.entry((index, record.time)).or_default();
        let duplicate = same_time
            .iter()
            .any(|seen| seen.file != self.file && entries[seen.at].record == record);
        if duplicate {
            return;
        }
        same_time.push(Seen {
            at: entries.len(),
            file: self.file,
        });
        entries.push(Entry {
            index: 0,
            source,
            record,
        });
    }

    /// Something at `source` that could not be read.
    fn problem(&mut self, source: Source, message: String) {
        self.input.problems.push(Problem { source, message });
    }

    /// Sorts each stream by record time (stable) and numbers its entries.
    fn finish(mut self) -> Input {
        for stream in &mut self.input.streams {
            stream.entries.sort_by_key(|e| e.record.time);
            for (i, e) in stream.entries.iter_mut().enumerate() {
                e.index = i;
            }
        }
        self.input
    }
}

/// The forms [`read`] accepts, for the hint of a file it cannot read at all.
const FORMS: &str = "expected AWS VPN tunnel log records as JSON or text lines, `aws logs \
                     get-log-events` / `filter-log-events` JSON, a Logs Insights export (CSV \
                     or JSON) or `aws logs get-query-results` JSON, a subscription delivery \
                     (.json.gz or the Lambda {\"awslogs\": …} event), or gzip of any of these";

/// One CloudWatch event's message as a record, or why it is none (for a problem that
/// names the event).
fn message_record(message: &str) -> Result<TunnelRecord, String> {
    TunnelRecord::parse(message)
        .map(|parsed| parsed.record)
        .map_err(|e| lines::record_problem(message, &e))
}

/// "not a tunnel log record: why", without saying it twice (the JSON error says it).
fn not_a_record(e: &vpn_log::RecordError) -> String {
    match e {
        vpn_log::RecordError::Json(why) => format!("not a tunnel log record: {why}"),
        other => format!("not a tunnel log record: {other}"),
    }
}

/// The start of `text`, quoted, for a problem message: enough to recognise it.
fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}
