//! CloudWatch Logs Insights results, as people save them (CloudWatch Logs User Guide,
//! "Export query results" and the API Reference's GetQueryResults):
//! - the console's "Export results" → "Download table (JSON)": an array of rows,
//!   `[{"@timestamp": "2026-01-01 00:00:00.000", "@logStream": …, "@message": …}, …]`
//!   (maybe `@log`, `@ingestionTime`, `@ptr` and discovered fields too);
//! - "Download table (CSV)": a header row naming the fields in the query's order, then one
//!   row per result, `@message` quoted with its quotes doubled (RFC 4180);
//! - `aws logs get-query-results`: `{"results": [[{"field": "@timestamp", "value": …}, …],
//!   …], "statistics": {…}, "status": "Complete"}`.
//!
//! The record is the `@message` field (the raw event), so a query must select it; the
//! stream is `@logStream`. Other fields (Insights' `@timestamp`, discovered `details`, …)
//! are not read: the record's own keys are.

use serde_json::{Map, Value};

use super::content::Doc;
use super::offsets::{element_lines, Array};
use super::{message_record, Sink};
use crate::model::Source;

/// The query fields a result needs, for the hint when `@message` is missing.
const QUERY_HINT: &str = "add `fields @timestamp, @logStream, @message` to the query and export \
                          the results again";

/// One result row: its fields, by name.
struct Row<'a> {
    message: Option<&'a str>,
    stream: Option<&'a str>,
}

/// Reads one row into `sink`; `label` names it in problems (`[3]`, `results[3]`, `row 4`).
fn read_row(row: &Row<'_>, label: &str, default_stream: &str, source: Source, sink: &mut Sink) {
    let Some(message) = row.message else {
        sink.problem(source, format!("{label}: no @message field: {QUERY_HINT}"));
        return;
    };
    match message_record(message) {
        Ok(record) => sink.record(row.stream.unwrap_or(default_stream), source, record),
        Err(why) => sink.problem(source, format!("{label}: {why}")),
    }
}

/// The one problem for a result none of whose rows has `@message`.
fn no_message(source: Source, fields: &[&str], sink: &mut Sink) {
    sink.problem(
        source,
        format!(
            "a Logs Insights result without the @message field (it has {}): {QUERY_HINT}",
            fields.join(", ")
        ),
    );
}

/// A console JSON export; `false` when `rows` is no such thing (nor an array of records).
pub(super) fn read_json_export(doc: Doc<'_>, rows: &[Value], sink: &mut Sink) -> bool {
    let is_row = |v: &Value| {
        v.as_object()
            .is_some_and(|o| o.keys().any(|k| k.starts_with('@')))
    };
    let is_record = |v: &Value| v.get("event_timestamp").is_some() || v.get("details").is_some();
    if !rows.is_empty() && !rows.iter().any(|v| is_row(v) || is_record(v)) {
        return false;
    }
    if !rows.is_empty() && !rows.iter().any(|v| v.get("@message").is_some()) {
        if let Some(Value::Object(first)) = rows.iter().find(|v| is_row(v)) {
            let fields: Vec<&str> = first.keys().map(String::as_str).collect();
            no_message(doc.start(), &fields, sink);
            return true;
        }
    }
    let lines = element_lines(doc.text, Array::Top);
    for (i, value) in rows.iter().enumerate() {
        let source = doc.source(&lines, i);
        if !is_row(value) && is_record(value) {
            // An array of records (`jq -s` of record lines).
            match message_record(&value.to_string()) {
                Ok(record) => sink.record(doc.stream, source, record),
                Err(why) => sink.problem(source, format!("[{i}]: {why}")),
            }
            continue;
        }
        let row = Row {
            message: value.get("@message").and_then(Value::as_str),
            stream: value.get("@logStream").and_then(Value::as_str),
        };
        read_row(&row, &format!("[{i}]"), doc.stream, source, sink);
    }
    true
}

/// `aws logs get-query-results` output.
pub(super) fn read_query_results(
    doc: Doc<'_>,
    object: &Map<String, Value>,
    results: &[Value],
    sink: &mut Sink,
) {
    match object.get("status").and_then(Value::as_str) {
        None | Some("Complete") => {}
        Some(status) => sink.problem(
            doc.start(),
            format!(
                "the query's status is {status}, not Complete: its results may be partial; run \
                 get-query-results again when the query is Complete"
            ),
        ),
    }
    let field = |row: &Value, name: &str| -> Option<String> {
        row.as_array()?
            .iter()
            .find(|f| f.get("field").and_then(Value::as_str) == Some(name))
            .and_then(|f| f.get("value"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if !results.is_empty() && results.iter().all(|r| field(r, "@message").is_none()) {
        let fields: Vec<&str> = results[0]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| f.get("field").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        no_message(doc.start(), &fields, sink);
        return;
    }
    let lines = element_lines(doc.text, Array::Key("results"));
    for (i, result) in results.iter().enumerate() {
        let message = field(result, "@message");
        let stream = field(result, "@logStream");
        let row = Row {
            message: message.as_deref(),
            stream: stream.as_deref(),
        };
        read_row(
            &row,
            &format!("results[{i}]"),
            doc.stream,
            doc.source(&lines, i),
            sink,
        );
    }
}

/// Whether `text` is a CSV export: its first non-blank line is a header naming Insights
/// fields.
pub(super) fn is_csv(text: &str) -> bool {
    let Some(header) = text.lines().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    !header.trim_start().starts_with('{')
        && ["@message", "@timestamp", "@logStream"]
            .iter()
            .any(|f| header.contains(f))
}

/// A console CSV export.
pub(super) fn read_csv(file: &str, stream: &str, text: &str, sink: &mut Sink) {
    let at = |line: u64| Source {
        file: file.to_owned(),
        line: usize::try_from(line).unwrap_or(0),
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_line = reader.position().line();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            sink.problem(at(header_line), format!("not a CSV header row: {e}"));
            return;
        }
    };
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(message_at) = column("@message") else {
        let fields: Vec<&str> = headers.iter().collect();
        no_message(at(header_line.max(1)), &fields, sink);
        return;
    };
    let stream_at = column("@logStream");
    for (n, row) in reader.records().enumerate() {
        let label = format!("row {}", n + 1);
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                sink.problem(at(line), format!("{label}: not a CSV row: {e}"));
                continue;
            }
        };
        let line = row.position().map_or(0, csv::Position::line);
        let fields = Row {
            message: row.get(message_at),
            stream: stream_at.and_then(|i| row.get(i)).filter(|s| !s.is_empty()),
        };
        read_row(&fields, &label, stream, at(line), sink);
    }
}
