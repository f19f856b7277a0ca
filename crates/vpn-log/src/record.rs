//! The tunnel activity log record (reference §1) and its two output formats.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{PhaseState, RecordError};

/// `timestamp`'s layout in AWS's examples: `2025-11-08 05:40:29.641Z` (reference §1).
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3fZ";

/// One tunnel log record: one AWS-side state change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelRecord {
    /// Creation time of the record. Written with millisecond precision (seconds for
    /// [`Schema::V2022`]); finer digits are truncated.
    pub time: DateTime<Utc>,
    /// `dpd_enabled`: whether Dead Peer Detection runs on the tunnel (RFC 3706).
    pub dpd_enabled: bool,
    /// `nat_t_detected`: whether NAT detection found the CGW behind a NAT (RFC 7296 §2.23).
    pub nat_t_detected: bool,
    /// `ike_phase1_state`: the tunnel's IKE SA (phase 1) state.
    pub ike_phase1_state: PhaseState,
    /// `ike_phase2_state`: the tunnel's CHILD SA / IPsec SA (phase 2) state.
    pub ike_phase2_state: PhaseState,
    /// The message: a catalogue template filled in (see [`crate::Detail`]).
    pub details: String,
}

/// Which vintage of AWS's key set to write (reference §1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schema {
    /// Seven keys: `event_timestamp` (epoch milliseconds, ikesim's choice for an open
    /// point), `timestamp`, `dpd_enabled`, `nat_t_detected`, `ike_phase1_state`,
    /// `ike_phase2_state`, `details`.
    #[default]
    Current,
    /// The 2022–2024 documentation (`--schema 2022`): six keys, no `timestamp`,
    /// `event_timestamp` in epoch seconds.
    V2022,
}

/// The tunnel option `LogOutputFormat` (reference §1): `json` (AWS's default) or `text`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, keys in the reference's order.
    #[default]
    Json,
    /// One `key=value` line per record, for people (`--format text`).
    Text,
}

impl TunnelRecord {
    /// `event_timestamp` as the schema writes it: epoch milliseconds or seconds.
    pub fn event_timestamp(&self, schema: Schema) -> i64 {
        match schema {
            Schema::Current => self.time.timestamp_millis(),
            Schema::V2022 => self.time.timestamp(),
        }
    }

    /// `timestamp`: `2025-11-08 05:40:29.641Z` (UTC, millisecond precision).
    pub fn timestamp(&self) -> String {
        self.time.format(TIMESTAMP_FORMAT).to_string()
    }

    /// One compact JSON object, keys in the reference's order, no trailing newline.
    pub fn to_json(&self, schema: Schema) -> String {
        let result = match schema {
            Schema::Current => serde_json::to_string(&JsonCurrent {
                event_timestamp: self.event_timestamp(schema),
                timestamp: self.timestamp(),
                dpd_enabled: self.dpd_enabled,
                nat_t_detected: self.nat_t_detected,
                ike_phase1_state: self.ike_phase1_state,
                ike_phase2_state: self.ike_phase2_state,
                details: &self.details,
            }),
            Schema::V2022 => serde_json::to_string(&JsonV2022 {
                event_timestamp: self.event_timestamp(schema),
                dpd_enabled: self.dpd_enabled,
                nat_t_detected: self.nat_t_detected,
                ike_phase1_state: self.ike_phase1_state,
                ike_phase2_state: self.ike_phase2_state,
                details: &self.details,
            }),
        };
        // Serializing integers, booleans, unit enums and strings cannot fail.
        result.unwrap_or_default()
    }

    /// One line with the same fields in the same order: the `timestamp` value first (when
    /// the schema has it), then `key=value` pairs; `details` is a JSON string literal, so
    /// quotes, backslashes and control characters are escaped and the line stays one line.
    ///
    /// `2025-11-08 05:40:29.641Z event_timestamp=1762580429641 dpd_enabled=true
    /// nat_t_detected=false ike_phase1_state=established ike_phase2_state=established
    /// details="AWS tunnel received DELETE for IKE_SA from CGW"` (one line).
    pub fn to_text(&self, schema: Schema) -> String {
        let prefix = match schema {
            Schema::Current => format!("{} ", self.timestamp()),
            Schema::V2022 => String::new(),
        };
        format!(
            "{prefix}event_timestamp={} dpd_enabled={} nat_t_detected={} \
             ike_phase1_state={} ike_phase2_state={} details={}",
            self.event_timestamp(schema),
            self.dpd_enabled,
            self.nat_t_detected,
            self.ike_phase1_state,
            self.ike_phase2_state,
            quote(&self.details),
        )
    }

    /// The record in the chosen format and schema, without a trailing newline.
    pub fn render(&self, format: Format, schema: Schema) -> String {
        match format {
            Format::Json => self.to_json(schema),
            Format::Text => self.to_text(schema),
        }
    }
}

/// `details` in the text format: a JSON string literal.
pub(crate) fn quote(details: &str) -> String {
    serde_json::to_string(details).unwrap_or_default()
}

#[derive(Serialize)]
struct JsonCurrent<'a> {
    event_timestamp: i64,
    timestamp: String,
    dpd_enabled: bool,
    nat_t_detected: bool,
    ike_phase1_state: PhaseState,
    ike_phase2_state: PhaseState,
    details: &'a str,
}

#[derive(Serialize)]
struct JsonV2022<'a> {
    event_timestamp: i64,
    dpd_enabled: bool,
    nat_t_detected: bool,
    ike_phase1_state: PhaseState,
    ike_phase2_state: PhaseState,
    details: &'a str,
}

impl Schema {
    /// The command-line spelling: `current` or `2022`.
    pub fn as_str(self) -> &'static str {
        match self {
            Schema::Current => "current",
            Schema::V2022 => "2022",
        }
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Schema {
    type Err = RecordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "current" => Ok(Schema::Current),
            "2022" => Ok(Schema::V2022),
            _ => Err(RecordError::InvalidValue {
                key: "schema",
                found: s.to_owned(),
                expected: "current or 2022",
            }),
        }
    }
}

impl Format {
    /// The `LogOutputFormat` spelling: `json` or `text`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = RecordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Format::Json),
            "text" => Ok(Format::Text),
            _ => Err(RecordError::InvalidValue {
                key: "format",
                found: s.to_owned(),
                expected: "json or text",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const NO_PROPOSAL: &str = r#"No Proposal Match Found. Notifying with "No proposal chosen""#;

    fn record(details: &str) -> TunnelRecord {
        TunnelRecord {
            // 2025-11-08 05:40:29.641Z, the reference's example time.
            time: Utc.timestamp_millis_opt(1_762_580_429_641).unwrap(),
            dpd_enabled: true,
            nat_t_detected: false,
            ike_phase1_state: PhaseState::Established,
            ike_phase2_state: PhaseState::Down,
            details: details.to_owned(),
        }
    }

    #[test]
    fn json_current_is_exact() {
        let r = record("AWS tunnel received DELETE for IKE_SA from CGW");
        assert_eq!(
            r.to_json(Schema::Current),
            r#"{"event_timestamp":1762580429641,"timestamp":"2025-11-08 05:40:29.641Z","dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"established","ike_phase2_state":"down","details":"AWS tunnel received DELETE for IKE_SA from CGW"}"#
        );
    }

    #[test]
    fn json_v2022_is_exact() {
        let r = record("AWS tunnel received DELETE for IKE_SA from CGW");
        assert_eq!(
            r.to_json(Schema::V2022),
            r#"{"event_timestamp":1762580429,"dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"established","ike_phase2_state":"down","details":"AWS tunnel received DELETE for IKE_SA from CGW"}"#
        );
    }

    #[test]
    fn json_types_and_key_order() {
        let r = record("x");
        let value: serde_json::Value = serde_json::from_str(&r.to_json(Schema::Current)).unwrap();
        let object = value.as_object().unwrap();
        assert!(object["event_timestamp"].is_i64());
        assert!(object["timestamp"].is_string());
        assert!(object["dpd_enabled"].is_boolean());
        assert!(object["nat_t_detected"].is_boolean());
        let json = r.to_json(Schema::Current);
        let keys = [
            "event_timestamp",
            "timestamp",
            "dpd_enabled",
            "nat_t_detected",
            "ike_phase1_state",
            "ike_phase2_state",
            "details",
        ];
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| json.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        // Compact: the only space is the one inside `timestamp`.
        assert_eq!(json.matches(' ').count(), 1);
        assert!(!json.ends_with('\n'));
        let v2022 = r.to_json(Schema::V2022);
        assert!(!v2022.contains("\"timestamp\""));
        let value: serde_json::Value = serde_json::from_str(&v2022).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 6);
    }

    #[test]
    fn sub_millisecond_digits_are_truncated() {
        let mut r = record("x");
        r.time = Utc.timestamp_nanos(1_762_580_429_641_999_999);
        assert!(r.to_json(Schema::Current).starts_with(
            r#"{"event_timestamp":1762580429641,"timestamp":"2025-11-08 05:40:29.641Z""#
        ));
    }

    #[test]
    fn quotes_in_details_are_escaped() {
        let r = record(NO_PROPOSAL);
        let json = r.to_json(Schema::Current);
        assert!(json.ends_with(
            r#""details":"No Proposal Match Found. Notifying with \"No proposal chosen\""}"#
        ));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["details"], NO_PROPOSAL);
        assert_eq!(
            r.to_text(Schema::Current),
            r#"2025-11-08 05:40:29.641Z event_timestamp=1762580429641 dpd_enabled=true nat_t_detected=false ike_phase1_state=established ike_phase2_state=down details="No Proposal Match Found. Notifying with \"No proposal chosen\"""#
        );
    }

    #[test]
    fn text_is_one_line_in_both_schemas() {
        let r = record("line one\nline \\two\t\u{1}");
        let text = r.to_text(Schema::Current);
        assert!(!text.contains('\n') && !text.contains('\t'));
        assert!(text.ends_with(r#"details="line one\nline \\two\t\u0001""#));
        assert_eq!(
            record("AWS tunnel received DELETE for IKE_SA from CGW").to_text(Schema::V2022),
            r#"event_timestamp=1762580429 dpd_enabled=true nat_t_detected=false ike_phase1_state=established ike_phase2_state=down details="AWS tunnel received DELETE for IKE_SA from CGW""#
        );
    }

    #[test]
    fn render_picks_the_format() {
        let r = record("x");
        assert_eq!(
            r.render(Format::Json, Schema::V2022),
            r.to_json(Schema::V2022)
        );
        assert_eq!(
            r.render(Format::Text, Schema::Current),
            r.to_text(Schema::Current)
        );
        assert_eq!(Format::default(), Format::Json);
        assert_eq!(Schema::default(), Schema::Current);
    }

    #[test]
    fn option_spellings_round_trip() {
        for schema in [Schema::Current, Schema::V2022] {
            assert_eq!(schema.to_string().parse(), Ok(schema));
        }
        for format in [Format::Json, Format::Text] {
            assert_eq!(format.to_string().parse(), Ok(format));
        }
        assert!("2023".parse::<Schema>().is_err());
        assert!("csv".parse::<Format>().is_err());
    }
}
