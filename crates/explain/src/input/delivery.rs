//! CloudWatch Logs subscription deliveries (CloudWatch Logs User Guide, "Using CloudWatch
//! Logs subscription filters"; reference §5): the `DATA_MESSAGE` JSON
//! `{"messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents":
//! [{"id", "timestamp", "message"}]}`, gzip'd as Kinesis and Firehose carry it (the
//! gzip is undone before the form is told, see [`super::content`]), plain, or as the
//! Lambda event `{"awslogs": {"data": "<base64 of the gzip>"}}`. A `CONTROL_MESSAGE` (the
//! health check CloudWatch sends when a subscription is created) carries no records and
//! is skipped.

use serde_json::Value;

use base64::Engine;

use super::content::{self, At, Doc};
use super::offsets::{element_lines, Array};
use super::{message_record, Sink};

/// Reads a `DATA_MESSAGE` (`prefix` names where it was found in problems, e.g.
/// `awslogs.data: `).
pub(super) fn read_message(doc: Doc<'_>, message: &Value, prefix: &str, sink: &mut Sink) {
    let kind = message.get("messageType").and_then(Value::as_str);
    match kind {
        Some("DATA_MESSAGE") => {}
        Some("CONTROL_MESSAGE") => return,
        _ => {
            let kind = kind.map_or_else(|| "none".to_owned(), |k| format!("{k:?}"));
            sink.problem(
                doc.start(),
                format!(
                    "{prefix}a subscription delivery whose messageType is {kind}, not \
                     DATA_MESSAGE or CONTROL_MESSAGE"
                ),
            );
            return;
        }
    }
    let stream = message
        .get("logStream")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(doc.stream);
    let Some(events) = message.get("logEvents").and_then(Value::as_array) else {
        sink.problem(
            doc.start(),
            format!("{prefix}a DATA_MESSAGE without a logEvents array"),
        );
        return;
    };
    let lines = element_lines(doc.text, Array::Key("logEvents"));
    for (i, event) in events.iter().enumerate() {
        let source = doc.source(&lines, i);
        let Some(text) = event.get("message").and_then(Value::as_str) else {
            sink.problem(
                source,
                format!("{prefix}logEvents[{i}]: no \"message\" string"),
            );
            continue;
        };
        match message_record(text) {
            Ok(record) => sink.record(stream, source, record),
            Err(why) => sink.problem(source, format!("{prefix}logEvents[{i}]: {why}")),
        }
    }
}

/// Reads a Lambda event: the delivery inside `awslogs.data`, decoded as a Lambda function
/// does (`json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))`), with
/// the same cap on the decompressed size as any gzip'd input.
pub(super) fn read_lambda(doc: Doc<'_>, event: &Value, sink: &mut Sink) {
    let message = match decode_lambda(event) {
        Ok(message) => message,
        Err(why) => {
            sink.problem(
                doc.start(),
                format!("a Lambda event from CloudWatch Logs that does not decode: {why}"),
            );
            return;
        }
    };
    // The decoded JSON has no lines in the file: its events are at the event's.
    let inner = Doc {
        line: match doc.line {
            At::Line(line) | At::Fixed(line) => At::Fixed(line),
            At::Nowhere => At::Nowhere,
        },
        ..doc
    };
    read_message(inner, &message, "awslogs.data: ", sink);
}

fn decode_lambda(event: &Value) -> Result<Value, String> {
    let data = event
        .get("awslogs")
        .and_then(|awslogs| awslogs.get("data"))
        .and_then(Value::as_str)
        .ok_or("no string at awslogs.data")?;
    let gzip = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("awslogs.data is not base64: {e}"))?;
    let json = content::gunzip(&gzip).map_err(|why| format!("awslogs.data holds {why}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("awslogs.data holds no JSON: {e}"))
}
