//! What a CloudWatch Logs subscription filter delivers (`--envelopes DIR`), for testing
//! downstream processors offline (reference §5; CloudWatch Logs User Guide, "Using
//! CloudWatch Logs subscription filters": "The data is sent … Base64 encoded and compressed
//! with the gzip format", and the decoded example there).
//!
//! For each PutLogEvents batch whose events pass the filter pattern, [`Envelopes::deliver`]
//! writes one delivery, named by a run-wide sequence number and the stream:
//! - `DIR/<000001>-<stream>.json.gz`: gzip of the `DATA_MESSAGE` JSON, keys in the order
//!   AWS's examples show (`messageType`, `owner`, `logGroup`, `logStream`,
//!   `subscriptionFilters`, `logEvents` of `id`, `timestamp`, `message`);
//! - `DIR/<000001>-<stream>.lambda.json`: the event a Lambda function receives,
//!   `{"awslogs":{"data":"<base64 of the same gzip bytes>"}}`.
//!
//! Same run, same files, byte for byte: the gzip header has no file name and mtime 0, and
//! event ids are derived from the run ([`id`]). Each file appears complete or not at all
//! (written under a temporary name, then renamed).

pub mod id;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Serialize;

use crate::batch::Batch;
use crate::filter::FilterPattern;

/// The subscription filter name deliveries carry when none is given.
pub const DEFAULT_FILTER_NAME: &str = "ikesim";

/// AWS allows at most this many subscription filters on a log group.
pub const MAX_FILTERS: usize = 2;

/// A run's subscription deliveries: where they go, whose they are, and which events pass.
#[derive(Debug)]
pub struct Envelopes {
    dir: PathBuf,
    owner: String,
    filters: Vec<String>,
    pattern: Option<FilterPattern>,
    /// Deliveries written so far.
    written: u32,
    /// Events offered so far, kept or not: the next event's ordinal (see [`id`]).
    offered: u64,
}

/// Settings that AWS would refuse, or a directory that cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The owner is an AWS account id: 12 digits.
    #[error("`{0}` is not an AWS account id (12 digits, such as 123456789012)")]
    Owner(String),
    /// None, or more than [`MAX_FILTERS`], subscription filter names.
    #[error(
        "a log group has one or two subscription filters (AWS allows at most {MAX_FILTERS}), \
         not {0}"
    )]
    FilterCount(usize),
    /// A name PutSubscriptionFilter would refuse: 1 to 512 characters, no `:` or `*`.
    #[error("`{0}` is not a subscription filter name (1 to 512 characters, without `:` or `*`)")]
    FilterName(String),
    /// The directory could not be created.
    #[error("cannot create the envelope directory {}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A delivery file that could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not gzip, or truncated.
    #[error("not gzip data: {0}")]
    Gzip(#[source] std::io::Error),
    /// Not base64.
    #[error("awslogs.data is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON without `awslogs.data`.
    #[error("not a Lambda event from CloudWatch Logs: no string at awslogs.data")]
    NotLambdaEvent,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DataMessage<'a> {
    message_type: &'static str,
    owner: &'a str,
    log_group: &'a str,
    log_stream: &'a str,
    subscription_filters: &'a [String],
    log_events: Vec<Event<'a>>,
}

#[derive(Serialize)]
struct Event<'a> {
    id: String,
    timestamp: i64,
    message: &'a str,
}

impl Envelopes {
    /// Deliveries into `dir` (created if missing) for account `owner`, as from the
    /// subscription filters `filters` (one or two names; `[DEFAULT_FILTER_NAME]` is a fine
    /// choice), passing only events that match `pattern` (all events without one).
    ///
    /// # Errors
    /// An owner that is not 12 digits, a filter list AWS would refuse, or a directory that
    /// cannot be created.
    pub fn create(
        dir: impl Into<PathBuf>,
        owner: &str,
        filters: &[&str],
        pattern: Option<FilterPattern>,
    ) -> Result<Envelopes, EnvelopeError> {
        if owner.len() != 12 || !owner.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EnvelopeError::Owner(owner.to_owned()));
        }
        if filters.is_empty() || filters.len() > MAX_FILTERS {
            return Err(EnvelopeError::FilterCount(filters.len()));
        }
        if let Some(bad) = filters
            .iter()
            .find(|f| f.is_empty() || f.chars().count() > 512 || f.contains([':', '*']))
        {
            return Err(EnvelopeError::FilterName((*bad).to_owned()));
        }
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| EnvelopeError::Directory {
            path: dir.clone(),
            source,
        })?;
        Ok(Envelopes {
            dir,
            owner: owner.to_owned(),
            filters: filters.iter().map(|&f| f.to_owned()).collect(),
            pattern,
            written: 0,
            offered: 0,
        })
    }

    /// Delivers what the subscription filter passes of one PutLogEvents `batch` to
    /// `log_group`/`log_stream`: writes the delivery and returns its `.json.gz` path, or
    /// `None` when no event passes (AWS delivers nothing then).
    ///
    /// # Errors
    /// A file that cannot be written (nothing is left under the final names then), or an
    /// event whose timestamp no 56-digit id can carry (before 1970 or after 2112).
    pub fn deliver(
        &mut self,
        log_group: &str,
        log_stream: &str,
        batch: &Batch,
    ) -> std::io::Result<Option<PathBuf>> {
        let first = self.offered;
        self.offered += batch.events.len() as u64;
        let mut events = Vec::new();
        for (ordinal, event) in (first..).zip(&batch.events) {
            if self
                .pattern
                .as_ref()
                .is_some_and(|p| !p.matches(&event.message))
            {
                continue;
            }
            let id = id::event_id(event.timestamp, ordinal).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "event at {} ms in stream {log_stream}: a subscription event id (56 \
                         digits) holds timestamps from 1970 to 2112 only; choose another \
                         --start",
                        event.timestamp
                    ),
                )
            })?;
            events.push(Event {
                id,
                timestamp: event.timestamp,
                message: &event.message,
            });
        }
        if events.is_empty() {
            return Ok(None);
        }
        let message = DataMessage {
            message_type: "DATA_MESSAGE",
            owner: &self.owner,
            log_group,
            log_stream,
            subscription_filters: &self.filters,
            log_events: events,
        };
        let gzip = gzip(&serde_json::to_vec(&message)?)?;
        let lambda = format!(
            r#"{{"awslogs":{{"data":"{}"}}}}"#,
            base64::engine::general_purpose::STANDARD.encode(&gzip)
        );
        let name = format!("{:06}-{}", self.written + 1, file_safe(log_stream));
        let gz_path = self.dir.join(format!("{name}.json.gz"));
        let lambda_path = self.dir.join(format!("{name}.lambda.json"));
        write_atomically(&gz_path, &gzip)?;
        if let Err(e) = write_atomically(&lambda_path, lambda.as_bytes()) {
            // Both forms or neither.
            let _ = std::fs::remove_file(&gz_path);
            return Err(e);
        }
        self.written += 1;
        Ok(Some(gz_path))
    }

    /// How many deliveries have been written.
    pub fn deliveries(&self) -> u32 {
        self.written
    }

    /// How many events have been offered (kept or filtered out).
    pub fn events_offered(&self) -> u64 {
        self.offered
    }

    /// Where the deliveries go.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// gzip with a fixed header (no file name, mtime 0), so the same JSON gives the same bytes.
fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(data)?;
    encoder.finish()
}

/// A stream name as part of a file name: `/` (allowed in stream names) and NUL become `_`.
fn file_safe(stream: &str) -> String {
    stream.replace(['/', '\\', '\0'], "_")
}

/// Writes `bytes` to `path` through a temporary file beside it, so that `path` holds the
/// whole content or does not appear.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(path.file_name().unwrap_or_default());
    temp_name.push(".tmp");
    let temp = path.with_file_name(temp_name);
    let result = std::fs::File::create(&temp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_data()))
        .and_then(|()| std::fs::rename(&temp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// The `DATA_MESSAGE` JSON in a `.json.gz` delivery.
///
/// # Errors
/// Bytes that are not gzip'd JSON.
pub fn decode(gzip: &[u8]) -> Result<serde_json::Value, DecodeError> {
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gzip)
        .read_to_end(&mut json)
        .map_err(DecodeError::Gzip)?;
    Ok(serde_json::from_slice(&json)?)
}

/// The `DATA_MESSAGE` JSON in a Lambda event (`.lambda.json`), decoded as a Lambda
/// function does: `json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))`.
///
/// # Errors
/// Text that is not such an event.
pub fn decode_lambda(event: &str) -> Result<serde_json::Value, DecodeError> {
    let event: serde_json::Value = serde_json::from_str(event)?;
    let data = event["awslogs"]["data"]
        .as_str()
        .ok_or(DecodeError::NotLambdaEvent)?;
    decode(&base64::engine::general_purpose::STANDARD.decode(data)?)
}

#[cfg(test)]
mod tests;
