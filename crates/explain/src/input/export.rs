//! What the AWS CLI prints for `aws logs get-log-events` and `aws logs filter-log-events`
//! (its default `--output json`; CloudWatch Logs API Reference, GetLogEvents and
//! FilterLogEvents):
//!
//! ```text
//! get-log-events:    {"events": [{"timestamp", "message", "ingestionTime"}, …],
//!                     "nextForwardToken", "nextBackwardToken"}
//! filter-log-events: {"events": [{"logStreamName", "timestamp", "message",
//!                     "ingestionTime", "eventId"}, …], "searchedLogStreams": […]}
//! ```
//!
//! get-log-events reads one stream and does not name it: the stream name comes from the
//! file's name (save it as `<stream>.json`). filter-log-events reads a whole log group, so
//! one file holds the two tunnels of a connection interleaved: each event goes to its
//! `logStreamName`'s stream.

use serde_json::Value;

use super::content::Doc;
use super::offsets::{element_lines, Array};
use super::{message_record, Sink};

/// Reads the `events` of an export.
pub(super) fn read(doc: Doc<'_>, events: &[Value], sink: &mut Sink) {
    let lines = element_lines(doc.text, Array::Key("events"));
    for (i, event) in events.iter().enumerate() {
        let source = doc.source(&lines, i);
        let Some(message) = event.get("message").and_then(Value::as_str) else {
            sink.problem(
                source,
                format!("events[{i}]: no \"message\" string: not a CloudWatch Logs event"),
            );
            continue;
        };
        let stream = event
            .get("logStreamName")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .unwrap_or(doc.stream);
        match message_record(message) {
            Ok(record) => sink.record(stream, source, record),
            Err(why) => sink.problem(source, format!("events[{i}]: {why}")),
        }
    }
}
