//! Reading records back (for `ikesim explain` and tests): JSON in both schemas, and
//! ikesim's text format.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::{Format, PhaseState, RecordError, Schema, TunnelRecord};

/// Epoch values at or above this are milliseconds even without a `timestamp` key
/// (10^11 seconds is the year 5138).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// A record read from a line, with the format and schema it was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedRecord {
    /// The record itself.
    pub record: TunnelRecord,
    /// JSON or text, as the line was written.
    pub format: Format,
    /// The key set: with `timestamp` (current) or without (2022–2024).
    pub schema: Schema,
}

impl TunnelRecord {
    /// Reads one JSON record of either schema. The schema is told by the `timestamp` key:
    /// present, `event_timestamp` is epoch milliseconds; absent (2022 vintage), epoch
    /// seconds, or a human-readable time as older AWS documentation shows. Key order and
    /// unknown keys do not matter; the states are read in any ASCII case.
    pub fn parse_json(line: &str) -> Result<TunnelRecord, RecordError> {
        parse_json(line).map(|(record, _)| record)
    }

    /// Reads one line written by [`TunnelRecord::to_text`] in either schema.
    pub fn parse_text(line: &str) -> Result<TunnelRecord, RecordError> {
        parse_text(line).map(|(record, _)| record)
    }

    /// Reads one line in whichever format it is: a line starting with `{` is JSON.
    pub fn parse(line: &str) -> Result<ParsedRecord, RecordError> {
        let (record, format, schema) = if line.trim_start().starts_with('{') {
            let (record, schema) = parse_json(line)?;
            (record, Format::Json, schema)
        } else {
            let (record, schema) = parse_text(line)?;
            (record, Format::Text, schema)
        };
        Ok(ParsedRecord {
            record,
            format,
            schema,
        })
    }
}

fn parse_json(line: &str) -> Result<(TunnelRecord, Schema), RecordError> {
    let value: Value =
        serde_json::from_str(line.trim()).map_err(|e| RecordError::Json(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(RecordError::Json("expected a JSON object".to_owned()));
    };
    let schema = match object.get("timestamp") {
        Some(Value::String(stamp)) => {
            human_time(stamp).ok_or_else(|| invalid("timestamp", stamp, TIMESTAMP_EXPECTED))?;
            Schema::Current
        }
        Some(other) => return Err(invalid("timestamp", &other.to_string(), TIMESTAMP_EXPECTED)),
        None => Schema::V2022,
    };
    let time = match required(&object, "event_timestamp")? {
        Value::Number(n) => {
            let epoch = n.as_i64().ok_or_else(|| {
                invalid("event_timestamp", &n.to_string(), "an integer epoch time")
            })?;
            epoch_time(epoch, schema).ok_or_else(|| {
                invalid("event_timestamp", &n.to_string(), "an epoch time in range")
            })?
        }
        Value::String(s) => human_time(s).ok_or_else(|| {
            invalid(
                "event_timestamp",
                s,
                "an epoch number or a time like 2025-11-08 05:40:29.641Z",
            )
        })?,
        other => {
            return Err(invalid(
                "event_timestamp",
                &other.to_string(),
                "an epoch number",
            ))
        }
    };
    let record = TunnelRecord {
        time,
        dpd_enabled: json_bool(&object, "dpd_enabled")?,
        nat_t_detected: json_bool(&object, "nat_t_detected")?,
        ike_phase1_state: state(json_str(&object, "ike_phase1_state")?, "ike_phase1_state")?,
        ike_phase2_state: state(json_str(&object, "ike_phase2_state")?, "ike_phase2_state")?,
        details: json_str(&object, "details")?.to_owned(),
    };
    Ok((record, schema))
}

fn parse_text(line: &str) -> Result<(TunnelRecord, Schema), RecordError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (schema, mut rest) = if line.starts_with("event_timestamp=") {
        (Schema::V2022, line)
    } else {
        // `2025-11-08 05:40:29.641Z event_timestamp=…`: the stamp is two words.
        let mut words = line.splitn(3, ' ');
        let (date, clock, rest) = match (words.next(), words.next(), words.next()) {
            (Some(date), Some(clock), Some(rest)) => (date, clock, rest),
            _ => return Err(text_error("expected a timestamp or event_timestamp= first")),
        };
        let stamp = format!("{date} {clock}");
        human_time(&stamp).ok_or_else(|| invalid("timestamp", &stamp, TIMESTAMP_EXPECTED))?;
        (Schema::Current, rest)
    };
    let epoch = text_field(&mut rest, "event_timestamp")?;
    let time = epoch
        .parse::<i64>()
        .ok()
        .and_then(|n| epoch_time(n, schema))
        .ok_or_else(|| invalid("event_timestamp", epoch, "an epoch number"))?;
    let dpd_enabled = text_bool(text_field(&mut rest, "dpd_enabled")?, "dpd_enabled")?;
    let nat_t_detected = text_bool(text_field(&mut rest, "nat_t_detected")?, "nat_t_detected")?;
    let phase1 = state(
        text_field(&mut rest, "ike_phase1_state")?,
        "ike_phase1_state",
    )?;
    let phase2 = state(
        text_field(&mut rest, "ike_phase2_state")?,
        "ike_phase2_state",
    )?;
    let quoted = rest
        .strip_prefix("details=")
        .ok_or_else(|| text_error("expected details= last"))?;
    let details: String = serde_json::from_str(quoted)
        .map_err(|_| invalid("details", quoted, "a double-quoted JSON string"))?;
    let record = TunnelRecord {
        time,
        dpd_enabled,
        nat_t_detected,
        ike_phase1_state: phase1,
        ike_phase2_state: phase2,
        details,
    };
    Ok((record, schema))
}

const TIMESTAMP_EXPECTED: &str = "a time like 2025-11-08 05:40:29.641Z";

/// `2025-11-08 05:40:29.641Z` (any number of fraction digits, or none) or RFC 3339.
fn human_time(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.fZ")
        .map(|naive| naive.and_utc())
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
}

fn epoch_time(epoch: i64, schema: Schema) -> Option<DateTime<Utc>> {
    let millis =
        schema == Schema::Current || !(-MILLIS_THRESHOLD..MILLIS_THRESHOLD).contains(&epoch);
    if millis {
        DateTime::from_timestamp_millis(epoch)
    } else {
        DateTime::from_timestamp(epoch, 0)
    }
}

fn required<'a>(
    object: &'a Map<String, Value>,
    key: &'static str,
) -> Result<&'a Value, RecordError> {
    object.get(key).ok_or(RecordError::MissingKey(key))
}

fn json_bool(object: &Map<String, Value>, key: &'static str) -> Result<bool, RecordError> {
    let value = required(object, key)?;
    value
        .as_bool()
        .ok_or_else(|| invalid(key, &value.to_string(), "a JSON boolean"))
}

fn json_str<'a>(object: &'a Map<String, Value>, key: &'static str) -> Result<&'a str, RecordError> {
    let value = required(object, key)?;
    value
        .as_str()
        .ok_or_else(|| invalid(key, &value.to_string(), "a JSON string"))
}

fn state(s: &str, key: &'static str) -> Result<PhaseState, RecordError> {
    s.parse()
        .map_err(|_| invalid(key, s, "established, rekeying, negotiating or down"))
}

/// Takes `key=value ` off the front of `rest`.
fn text_field<'a>(rest: &mut &'a str, key: &'static str) -> Result<&'a str, RecordError> {
    let after = rest
        .strip_prefix(key)
        .and_then(|r| r.strip_prefix('='))
        .ok_or_else(|| text_error(&format!("expected {key}= next")))?;
    let (value, tail) = after
        .split_once(' ')
        .ok_or_else(|| text_error(&format!("line ends after {key}=")))?;
    *rest = tail;
    Ok(value)
}

fn text_bool(s: &str, key: &'static str) -> Result<bool, RecordError> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, s, "true or false")),
    }
}

fn invalid(key: &'static str, found: &str, expected: &'static str) -> RecordError {
    RecordError::InvalidValue {
        key,
        found: found.to_owned(),
        expected,
    }
}

fn text_error(what: &str) -> RecordError {
    RecordError::Text(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const NO_PROPOSAL: &str = r#"No Proposal Match Found. Notifying with "No proposal chosen""#;

    fn record(details: &str) -> TunnelRecord {
        TunnelRecord {
            time: Utc.timestamp_millis_opt(1_762_580_429_641).unwrap(),
            dpd_enabled: false,
            nat_t_detected: true,
            ike_phase1_state: PhaseState::Rekeying,
            ike_phase2_state: PhaseState::Negotiating,
            details: details.to_owned(),
        }
    }

    #[test]
    fn json_round_trips_in_both_schemas() {
        let r = record(NO_PROPOSAL);
        assert_eq!(
            TunnelRecord::parse_json(&r.to_json(Schema::Current)),
            Ok(r.clone())
        );
        let whole_seconds = TunnelRecord {
            time: Utc.timestamp_opt(1_762_580_429, 0).unwrap(),
            ..r.clone()
        };
        assert_eq!(
            TunnelRecord::parse_json(&r.to_json(Schema::V2022)),
            Ok(whole_seconds)
        );
        let parsed = TunnelRecord::parse(&r.to_json(Schema::V2022)).unwrap();
        assert_eq!(
            (parsed.format, parsed.schema),
            (Format::Json, Schema::V2022)
        );
    }

    #[test]
    fn text_round_trips_in_both_schemas() {
        let r = record("odd \"details\" with \\ and\nnewline = spaces ");
        for schema in [Schema::Current, Schema::V2022] {
            let parsed = TunnelRecord::parse(&r.to_text(schema)).unwrap();
            assert_eq!((parsed.format, parsed.schema), (Format::Text, schema));
            assert_eq!(parsed.record.details, r.details);
            assert_eq!(
                parsed.record.event_timestamp(schema),
                r.event_timestamp(schema)
            );
        }
        assert_eq!(TunnelRecord::parse_text(&r.to_text(Schema::Current)), Ok(r));
    }

    #[test]
    fn reads_records_as_aws_documents_them() {
        // Capitalised states, keys in another order, an extra key.
        let line = r#"{"details":"x","ike_phase2_state":"Down","ike_phase1_state":"Established","nat_t_detected":false,"dpd_enabled":true,"timestamp":"2025-11-08 05:40:29.641Z","event_timestamp":1762580429641,"extra":1}"#;
        let r = TunnelRecord::parse_json(line).unwrap();
        assert_eq!(r.ike_phase1_state, PhaseState::Established);
        assert_eq!(r.time.timestamp_millis(), 1_762_580_429_641);
        // 2022 vintage with a human-readable event_timestamp.
        let line = r#"{"event_timestamp":"2022-06-01 10:00:00Z","dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"down","ike_phase2_state":"down","details":"x"}"#;
        let r = TunnelRecord::parse_json(line).unwrap();
        assert_eq!(r.time, Utc.with_ymd_and_hms(2022, 6, 1, 10, 0, 0).unwrap());
        // 2022 vintage carrying milliseconds.
        let line = r#"{"event_timestamp":1762580429641,"dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"down","ike_phase2_state":"down","details":"x"}"#;
        let r = TunnelRecord::parse_json(line).unwrap();
        assert_eq!(r.time.timestamp_millis(), 1_762_580_429_641);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let good = record("x").to_json(Schema::Current);
        for bad in [
            "",
            "[]",
            "{",
            "null",
            "{}",
            &good.replace("true", "\"true\""),
            &good.replace("\"rekeying\"", "\"up\""),
            &good.replace("1762580429641", "1.5"),
            &good.replace("1762580429641", "99999999999999999999"),
            &good.replace("1762580429641", "9223372036854775807"),
            &good.replace("2025-11-08 05:40:29.641Z", "yesterday"),
            &good.replace("\"details\":\"x\"", "\"details\":7"),
            &good.replace(",\"dpd_enabled\":false", ""),
        ] {
            assert!(TunnelRecord::parse_json(bad).is_err(), "{bad}");
        }
        assert_eq!(
            TunnelRecord::parse_json(&good.replace(",\"dpd_enabled\":false", "")),
            Err(RecordError::MissingKey("dpd_enabled"))
        );
        let text = record("x").to_text(Schema::Current);
        for bad in [
            "",
            "event_timestamp=",
            "event_timestamp=1 dpd_enabled=true",
            "2025-11-08 05:40:29.641Z",
            &text.replace("dpd_enabled=false", "dpd_enabled=no"),
            &text.replace("details=\"x\"", "details=x"),
            &text.replace("details=\"x\"", "details=\"x\" trailing"),
            &text.replace("nat_t_detected", "nat"),
            &text.replace("05:40:29.641Z", "noon"),
        ] {
            assert!(TunnelRecord::parse_text(bad).is_err(), "{bad}");
        }
    }
}
