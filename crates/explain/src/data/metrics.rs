//! Reading AWS/VPN metrics: `ikesim run --metrics` (PutMetricData input, dimensions on
//! every datum), `aws cloudwatch get-metric-data` (`MetricDataResults`: an `Id` and a
//! `Label` per series, no dimensions) and `aws cloudwatch get-metric-statistics`
//! (`Label` and `Datapoints`, no dimensions). The form is told from the top-level keys.
//!
//! Which tunnel a series is: its `TunnelIpAddress` dimension; for the AWS CLI's forms an
//! IP address in the series' `Label` (`--metric-data-queries` may set
//! `"Label": "TunnelDataIn 203.0.113.10"`), else one in the file's name (the tunnel's log
//! stream name, `vpn-<id>-<ip>.json`), else none (then it goes to the only log stream).
//! Which metric: the datum's `MetricName`, or the metric's name in the `Label` or `Id`
//! (`datain`/`dataout`/`state` in an `Id`, which allows no capital letters).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use super::DataError;

/// One of AWS/VPN's tunnel metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// `TunnelState`: 1 up, 0 down (static VPN; BGP: 1 only with BGP established).
    State,
    /// `TunnelDataIn`: bytes received through the tunnel, after decryption.
    DataIn,
    /// `TunnelDataOut`: bytes sent into the tunnel, before encryption.
    DataOut,
}

impl Metric {
    /// The metric's name (`TunnelDataIn`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::State => "TunnelState",
            Metric::DataIn => "TunnelDataIn",
            Metric::DataOut => "TunnelDataOut",
        }
    }

    /// The metric named (case-insensitively) in a label or an id, if one is.
    fn find_in(text: &str) -> Option<Metric> {
        let t = text.to_ascii_lowercase();
        [
            ("datain", Metric::DataIn),
            ("dataout", Metric::DataOut),
            ("tunnelstate", Metric::State),
            ("state", Metric::State),
        ]
        .into_iter()
        .find(|(word, _)| t.contains(word))
        .map(|(_, m)| m)
    }
}

/// One datapoint: the end of its period (PutMetricData) or its start (the CLI's), and
/// its value (bytes summed over the period, or the state).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Its timestamp.
    pub time: DateTime<Utc>,
    /// Its value.
    pub value: f64,
}

/// One metric of one tunnel over time.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Which metric.
    pub metric: Metric,
    /// The tunnel's outside IP address, when the input says it.
    pub tunnel: Option<IpAddr>,
    /// Its datapoints, in time order.
    pub points: Vec<Point>,
}

/// Reads one metrics file (`-` is stdin).
pub fn read(path: &str) -> Result<Vec<Series>, DataError> {
    let text = super::read_text(path, "metrics")?;
    parse(path, &text)
}

const FORMS: &str = "ikesim run --metrics FILE's PutMetricData JSON (\"MetricData\"), or the \
                     AWS CLI's JSON of `aws cloudwatch get-metric-data` (\"MetricDataResults\") \
                     or `get-metric-statistics` (\"Datapoints\")";

/// Reads the text of a metrics file named `file`.
pub fn parse(file: &str, text: &str) -> Result<Vec<Series>, DataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| DataError::of_json(file, &e, &format!("expected {FORMS}")))?;
    let from_name = ip_in(file);
    let has = |key: &str| value.get(key).is_some();
    let mut series = if has("MetricData") {
        let doc: PutMetricData = serde_json::from_str(text)
            .map_err(|e| DataError::of_json(file, &e, "in PutMetricData's MetricData"))?;
        put_metric_data(doc)
    } else if has("MetricDataResults") {
        let doc: GetMetricData = serde_json::from_str(text)
            .map_err(|e| DataError::of_json(file, &e, "in get-metric-data's MetricDataResults"))?;
        get_metric_data(file, text, doc, from_name)?
    } else if has("Datapoints") {
        let doc: GetMetricStatistics = serde_json::from_str(text)
            .map_err(|e| DataError::of_json(file, &e, "in get-metric-statistics' output"))?;
        vec![get_metric_statistics(file, text, doc, from_name)?]
    } else {
        return Err(DataError::at_start(
            file,
            format!("not a metrics file: expected {FORMS}"),
        ));
    };
    for s in &mut series {
        s.points.sort_by_key(|p| p.time);
    }
    Ok(series)
}

/// The first IPv4 or IPv6 address among the words of `text` (split at anything that
/// cannot be part of one, and at `-`/`_` as a stream name joins them).
fn ip_in(text: &str) -> Option<IpAddr> {
    let name = std::path::Path::new(text)
        .file_name()
        .map_or(text.into(), |n| n.to_string_lossy());
    name.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .find_map(|w| w.trim_end_matches(['.', ':']).parse().ok())
}

/// An ISO 8601 / RFC 3339 timestamp (`2026-01-01T00:05:00Z`, the CLI's
/// `2026-01-01T00:05:00+00:00`).
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "timestamp `{s}`: {e} (expected ISO 8601, e.g. 2026-01-01T00:05:00Z)"
            ))
        })
}

fn timestamps<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    struct T(#[serde(deserialize_with = "timestamp")] DateTime<Utc>);
    Ok(Vec::<T>::deserialize(d)?.into_iter().map(|t| t.0).collect())
}

fn metric_name<'de, D: Deserializer<'de>>(d: D) -> Result<Metric, D::Error> {
    let s = String::deserialize(d)?;
    [Metric::State, Metric::DataIn, Metric::DataOut]
        .into_iter()
        .find(|m| m.name() == s)
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "metric `{s}` is not one of AWS/VPN's tunnel metrics (TunnelState, \
                 TunnelDataIn, TunnelDataOut)"
            ))
        })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutMetricData {
    metric_data: Vec<Datum>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Datum {
    #[serde(deserialize_with = "metric_name")]
    metric_name: Metric,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    #[serde(deserialize_with = "timestamp")]
    timestamp: DateTime<Utc>,
    value: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Dimension {
    name: String,
    value: String,
}

fn put_metric_data(doc: PutMetricData) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for d in doc.metric_data {
        let tunnel = d
            .dimensions
            .iter()
            .find(|x| x.name == "TunnelIpAddress")
            .and_then(|x| x.value.parse().ok());
        let point = Point {
            time: d.timestamp,
            value: d.value,
        };
        match out
            .iter_mut()
            .find(|s| s.metric == d.metric_name && s.tunnel == tunnel)
        {
            Some(s) => s.points.push(point),
            None => out.push(Series {
                metric: d.metric_name,
                tunnel,
                points: vec![point],
            }),
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetMetricData {
    metric_data_results: Vec<DataResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DataResult {
    id: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(deserialize_with = "timestamps")]
    timestamps: Vec<DateTime<Utc>>,
    values: Vec<f64>,
}

/// Line and column of the `nth` (from 0) occurrence of `needle` in `text`, else 1:1.
fn locate(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let Some((at, _)) = text.match_indices(needle).nth(nth) else {
        return (1, 1);
    };
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
    (line, column)
}

fn error_at(file: &str, text: &str, needle: &str, nth: usize, message: String) -> DataError {
    let (line, column) = locate(text, needle, nth);
    DataError {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

fn get_metric_data(
    file: &str,
    text: &str,
    doc: GetMetricData,
    from_name: Option<IpAddr>,
) -> Result<Vec<Series>, DataError> {
    let mut out = Vec::new();
    for (i, r) in doc.metric_data_results.into_iter().enumerate() {
        let label = r.label.unwrap_or_default();
        let metric = Metric::find_in(&label)
            .or_else(|| Metric::find_in(&r.id))
            .ok_or_else(|| {
                error_at(
                    file,
                    text,
                    "\"Id\"",
                    i,
                    format!(
                        "result `{}` (label `{label}`) is none of TunnelDataIn, TunnelDataOut, \
                         TunnelState: query those metrics and leave the Label at its default \
                         (the metric's name), or put the name in the Id (datain, dataout, state)",
                        r.id
                    ),
                )
            })?;
        if r.timestamps.len() != r.values.len() {
            return Err(error_at(
                file,
                text,
                "\"Values\"",
                i,
                format!(
                    "result `{}` has {} timestamps but {} values: give the CLI's output unchanged",
                    r.id,
                    r.timestamps.len(),
                    r.values.len()
                ),
            ));
        }
        let points = r
            .timestamps
            .into_iter()
            .zip(r.values)
            .map(|(time, value)| Point { time, value })
            .collect();
        out.push(Series {
            metric,
            tunnel: ip_in(&label).or(from_name),
            points,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetMetricStatistics {
    label: String,
    datapoints: Vec<Datapoint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Datapoint {
    #[serde(deserialize_with = "timestamp")]
    timestamp: DateTime<Utc>,
    sum: Option<f64>,
    maximum: Option<f64>,
    minimum: Option<f64>,
    average: Option<f64>,
}

fn get_metric_statistics(
    file: &str,
    text: &str,
    doc: GetMetricStatistics,
    from_name: Option<IpAddr>,
) -> Result<Series, DataError> {
    let metric = Metric::find_in(&doc.label).ok_or_else(|| {
        error_at(
            file,
            text,
            "\"Label\"",
            0,
            format!(
                "metric `{}` is none of TunnelDataIn, TunnelDataOut, TunnelState",
                doc.label
            ),
        )
    })?;
    let mut points = Vec::new();
    for (i, d) in doc.datapoints.into_iter().enumerate() {
        // Bytes add up over a period (Sum); the state is best seen as its lowest value.
        let value = match metric {
            Metric::State => d.minimum.or(d.average).or(d.maximum).or(d.sum),
            Metric::DataIn | Metric::DataOut => d.sum,
        };
        let Some(value) = value else {
            return Err(error_at(
                file,
                text,
                "\"Timestamp\"",
                i,
                format!(
                    "datapoint {} of {} has no {}: ask for `--statistics {}`",
                    i + 1,
                    metric.name(),
                    if metric == Metric::State {
                        "statistic"
                    } else {
                        "Sum"
                    },
                    if metric == Metric::State {
                        "Minimum"
                    } else {
                        "Sum"
                    }
                ),
            ));
        };
        points.push(Point {
            time: d.timestamp,
            value,
        });
    }
    Ok(Series {
        metric,
        tunnel: ip_in(&doc.label).or(from_name),
        points,
    })
}
