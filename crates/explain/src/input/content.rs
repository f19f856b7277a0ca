//! Telling an input's form from its bytes, and handing it to the reader of that form.

use std::io::Read;

use serde_json::Value;
use vpn_log::TunnelRecord;

use super::{delivery, export, insights, lines, not_a_record, Sink, FORMS};
use crate::model::Source;

/// Decompressed input larger than this is refused: a few bytes of gzip can claim
/// gigabytes, while a 30-day log of a busy tunnel is some 100 MB.
const MAX_DECOMPRESSED: u64 = 1 << 30;

/// One JSON document being read: what problems and records point at.
#[derive(Clone, Copy)]
pub(super) struct Doc<'a> {
    /// The input's name as the user gave it.
    pub file: &'a str,
    /// The stream name when the document does not say it.
    pub stream: &'a str,
    /// The document's text.
    pub text: &'a str,
    /// Which lines its parts are at.
    pub line: At,
}

/// Where a document's parts are in its file.
#[derive(Clone, Copy, Debug)]
pub(super) enum At {
    /// The document starts on this 1-based line; its elements are located in its text.
    Line(usize),
    /// Everything is at this line: the document was decoded from the text there (a
    /// Lambda event's base64), so its own lines mean nothing in the file.
    Fixed(usize),
    /// Lines mean nothing (inside gzip): line 0.
    Nowhere,
}

impl Doc<'_> {
    /// Where element `i` of an array is, given the lines its elements start on (relative
    /// to the document, from [`super::offsets::element_lines`]).
    pub fn source(&self, element_lines: &[usize], i: usize) -> Source {
        let line = match (self.line, element_lines.get(i)) {
            (At::Line(first), Some(&relative)) => first + relative - 1,
            (At::Fixed(line), _) => line,
            _ => 0,
        };
        self.at(line)
    }

    /// `file:line`.
    pub fn at(&self, line: usize) -> Source {
        Source {
            file: self.file.to_owned(),
            line,
        }
    }

    /// Where the document itself starts.
    pub fn start(&self) -> Source {
        self.at(match self.line {
            At::Line(line) | At::Fixed(line) => line,
            At::Nowhere => 0,
        })
    }
}

/// Reads one input's bytes, whatever its form.
pub(super) fn read(file: &str, stream: &str, bytes: &[u8], sink: &mut Sink) {
    read_at(file, stream, bytes, sink, false);
}

fn read_at(file: &str, stream: &str, bytes: &[u8], sink: &mut Sink, gunzipped: bool) {
    let source = || Source {
        file: file.to_owned(),
        line: 0,
    };
    if bytes.starts_with(&[0x1f, 0x8b]) {
        if gunzipped {
            sink.problem(
                source(),
                "gzip inside gzip: decompress it once first".to_owned(),
            );
            return;
        }
        match gunzip(bytes) {
            Ok(inner) => read_at(file, stream, &inner, sink, true),
            Err(why) => sink.problem(source(), why),
        }
        return;
    }
    if let Some(text) = utf16(bytes) {
        // Windows PowerShell 5 writes `aws logs … > export.json` as UTF-16 with a BOM.
        read_at(file, stream, text.as_bytes(), sink, gunzipped);
        return;
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return; // empty: nothing to read, nothing wrong
    };
    let mut broken_json = None;
    if let (b'{' | b'[', Ok(text)) = (bytes[first], std::str::from_utf8(bytes)) {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                let line = 1 + text
                    .get(..first)
                    .map_or(0, |blank| blank.matches('\n').count());
                let doc = Doc {
                    file,
                    stream,
                    text,
                    line: if gunzipped {
                        At::Nowhere
                    } else {
                        At::Line(line)
                    },
                };
                read_whole_document(doc, &value, sink);
                return;
            }
            // Not one document: JSON lines (a value per line, read line by line so that a
            // damaged line costs only itself), documents one after another, or a document
            // that is broken. A first line that is no JSON value on its own (`{` or `[` of
            // a pretty-printed export, or `{…}{…}`) says one of the latter two; if no line
            // reads as a record either, the parser's error (with its line and column) is
            // the one problem worth reporting.
            Err(e) => {
                let first_line = text[first..].lines().next().unwrap_or_default();
                if serde_json::from_str::<Value>(first_line).is_err() {
                    if read_concatenated_documents(file, stream, text, sink, gunzipped) {
                        return;
                    }
                    let line = if gunzipped { 0 } else { e.line() };
                    broken_json = Some((
                        line,
                        format!("JSON that does not parse: {e}; is the file complete?"),
                    ));
                }
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if insights::is_csv(text) {
            insights::read_csv(file, stream, text, sink);
            return;
        }
    }
    lines::read(file, stream, bytes, sink, broken_json);
}

/// Documents one after another, not one per line: deliveries with nothing between them
/// (`{…}{…}`, what Amazon Data Firehose writes to S3 from a CloudWatch Logs subscription:
/// it concatenates the records it buffers, and their gzip members decompress as one
/// text), or pretty-printed pages of `aws logs get-log-events` appended to one file
/// (`>>` once per `--next-token`). `false` when `text` does not start with such a
/// document.
fn read_concatenated_documents(
    file: &str,
    stream: &str,
    text: &str,
    sink: &mut Sink,
    gunzipped: bool,
) -> bool {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let first_is_container = matches!(
        values.next(),
        Some(Ok(Value::Object(ref object)))
            if ["events", "results", "messageType", "awslogs"]
                .iter()
                .any(|key| object.contains_key(*key))
    );
    if !first_is_container {
        return false;
    }
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let (mut line, mut counted) = (1, 0);
    loop {
        // Where the next value starts: past the whitespace after the last one.
        let rest = text.get(values.byte_offset()..).unwrap_or_default();
        let start = text.len() - rest.trim_start().len();
        line += text
            .get(counted..start)
            .map_or(0, |part| part.matches('\n').count());
        counted = start;
        let at = if gunzipped {
            At::Nowhere
        } else {
            At::Line(line)
        };
        match values.next() {
            None => return true,
            Some(Ok(value)) => {
                let doc = Doc {
                    file,
                    stream,
                    text: text.get(start..values.byte_offset()).unwrap_or_default(),
                    line: at,
                };
                if !read_value(doc, &value, sink) {
                    sink.problem(
                        doc.start(),
                        "a JSON value among exports or deliveries that is none of them".to_owned(),
                    );
                }
            }
            Some(Err(e)) => {
                let source = Doc {
                    file,
                    stream,
                    text,
                    line: at,
                }
                .start();
                sink.problem(
                    source,
                    format!("JSON that does not parse: {e}; is the file complete?"),
                );
                return true;
            }
        }
    }
}

/// A file that is one JSON document: an export, a delivery, or one record.
fn read_whole_document(doc: Doc<'_>, value: &Value, sink: &mut Sink) {
    if read_value(doc, value, sink) {
        return;
    }
    match TunnelRecord::parse_json(doc.text) {
        Ok(record) => sink.record(doc.stream, doc.start(), record),
        Err(e) => sink.problem(
            doc.start(),
            format!(
                "a JSON document, but {} and no export ikesim reads; {FORMS}",
                not_a_record(&e)
            ),
        ),
    }
}

/// Reads `value` (parsed from `text`, which starts at `line` of `file`) when it is a
/// container form; `false` when it is none (a record, or something else).
pub(super) fn read_document(
    file: &str,
    stream: &str,
    text: &str,
    value: &Value,
    sink: &mut Sink,
    line: usize,
) -> bool {
    let doc = Doc {
        file,
        stream,
        text,
        line: At::Line(line),
    };
    read_value(doc, value, sink)
}

fn read_value(doc: Doc<'_>, value: &Value, sink: &mut Sink) -> bool {
    let object = match value {
        Value::Array(rows) => return insights::read_json_export(doc, rows, sink),
        Value::Object(object) => object,
        _ => return false,
    };
    if let Some(Value::Array(events)) = object.get("events") {
        export::read(doc, events, sink);
    } else if let Some(Value::Array(results)) = object.get("results") {
        insights::read_query_results(doc, object, results, sink);
    } else if object.contains_key("messageType") {
        delivery::read_message(doc, value, "", sink);
    } else if object.contains_key("awslogs") {
        delivery::read_lambda(doc, value, sink);
    } else {
        return false;
    }
    true
}

/// The text of UTF-16 bytes that start with a byte order mark (invalid units become
/// U+FFFD, so a damaged line is a problem at its line, not the whole file).
fn utf16(bytes: &[u8]) -> Option<String> {
    let big_endian = match bytes {
        [0xff, 0xfe, ..] => false,
        [0xfe, 0xff, ..] => true,
        _ => return None,
    };
    let units = bytes[2..].chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

/// The decompressed bytes, or why there are none.
pub(super) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    gunzip_at_most(bytes, MAX_DECOMPRESSED)
}

fn gunzip_at_most(bytes: &[u8], max: u64) -> Result<Vec<u8>, String> {
    let mut inner = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max + 1)
        .read_to_end(&mut inner)
        .map_err(|e| format!("gzip data that does not decompress ({e}): is the file complete?"))?;
    if inner.len() as u64 > max {
        return Err(format!(
            "gzip data that decompresses to more than {} MiB: decompress it and split it",
            max >> 20
        ));
    }
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::gunzip_at_most;

    #[test]
    fn decompression_is_capped() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0_u8; 3 << 20];
        encoder.write_all(&zeros).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 10_000);
        assert_eq!(gunzip_at_most(&bomb, 3 << 20).map(|b| b.len()), Ok(3 << 20));
        let refused = gunzip_at_most(&bomb, 2 << 20).unwrap_err();
        assert!(refused.contains("more than 2 MiB"), "{refused}");
    }
}
