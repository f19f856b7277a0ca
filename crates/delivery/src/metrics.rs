//! AWS/VPN metrics beside the logs (reference §6): per tunnel, dimensions `VpnId` and
//! `TunnelIpAddress`,
//! - `TunnelState`: 1 when the tunnel is up, 0 when it is down. ikesim has static VPNs
//!   only (no BGP yet), where up means IPsec is up: the tunnel's phase 2 is `established`
//!   or `rekeying` (the CHILD SA / IPsec SA is installed and carries traffic).
//! - `TunnelDataIn` / `TunnelDataOut`: the bytes the AWS endpoint received through the
//!   tunnel, counted after decryption, and sent, counted before encryption — the inner
//!   packets of its ESP SAs (docs/data-plane.md). The data plane reports them minute by
//!   minute ([`MetricsRecorder::data`], from `RecordSink::data`); each period's datapoint
//!   is the sum (statistic Sum, unit Bytes) of the minutes that end in it, a minute ending
//!   exactly at the end of a period counting in that period. A period without traffic has
//!   a datapoint of 0, as AWS's console shows one.
//!
//! Period: AWS's VPN guide says only that the data is sent "as it becomes available"; the
//! AWS CDK documents these metrics as "Average over 5 minutes" / "Sum over 5 minutes", and
//! AWS's console graphs them at 5 minutes. ikesim writes one datapoint per metric per
//! tunnel every period (default 300 s, `--metrics-period`), stamped at the end of the
//! period, `TunnelState` being the tunnel's state at that instant (what a poller sees).
//! The periods are counted from the run's start (`MetricsRecorder::new`).
//!
//! The metrics are computed from the records' phase states and the data plane's bytes, so
//! they follow the simulated tunnel exactly, including tunnels whose logging is disabled.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use vpn_log::{DataBytes, PhaseState, TunnelRecord};

/// AWS's namespace for these metrics: used in `--metrics FILE` unless told otherwise.
pub const AWS_NAMESPACE: &str = "AWS/VPN";
/// The namespace ikesim pushes to by default: AWS reserves `AWS/` for its own services.
pub const PUSH_NAMESPACE: &str = "ikesim/VPN";
/// One datapoint per metric per tunnel every this long.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(300);
/// PutMetricData takes at most this many datums per call.
pub const MAX_DATUMS_PER_CALL: usize = 1000;

/// `TunnelState`.
pub const TUNNEL_STATE: &str = "TunnelState";
/// `TunnelDataIn`.
pub const TUNNEL_DATA_IN: &str = "TunnelDataIn";
/// `TunnelDataOut`.
pub const TUNNEL_DATA_OUT: &str = "TunnelDataOut";

/// One datapoint of one metric of one tunnel.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDatum {
    /// [`TUNNEL_STATE`], [`TUNNEL_DATA_IN`] or [`TUNNEL_DATA_OUT`].
    pub name: &'static str,
    /// Dimension `VpnId`: the VPN connection id.
    pub vpn_id: String,
    /// Dimension `TunnelIpAddress`: the tunnel's outside IP address.
    pub tunnel_ip: String,
    /// The end of the period.
    pub timestamp: DateTime<Utc>,
    /// 0/1 for `TunnelState`, bytes for the data metrics.
    pub value: f64,
    /// CloudWatch's unit name: `None` for the state, `Bytes` for the data metrics.
    pub unit: &'static str,
}

impl MetricDatum {
    /// The datum as PutMetricData's `MetricData` entry.
    pub fn to_json(&self) -> Value {
        json!({
            "MetricName": self.name,
            "Dimensions": [
                {"Name": "VpnId", "Value": self.vpn_id},
                {"Name": "TunnelIpAddress", "Value": self.tunnel_ip},
            ],
            "Timestamp": self.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "Value": self.value,
            "Unit": self.unit,
        })
    }
}

struct Tunnel {
    vpn_id: String,
    tunnel_ip: String,
    /// When the tunnel went up (`true`) or down, in record order.
    changes: Vec<(DateTime<Utc>, bool)>,
    /// The bytes of each period that carried any: (the period's number, counted from 1
    /// after the start, and its sum), in period order.
    data: Vec<(u64, DataBytes)>,
}

/// Follows each tunnel's state through its records, and its bytes through the data
/// plane's minutes.
pub struct MetricsRecorder {
    period: Duration,
    /// Where the periods start: period `k` is `(start + (k − 1)·period, start + k·period]`.
    start: DateTime<Utc>,
    tunnels: Vec<Tunnel>,
}

/// Whether a record says the tunnel is up: IPsec (phase 2) established or rekeying.
pub fn is_up(record: &TunnelRecord) -> bool {
    matches!(
        record.ike_phase2_state,
        PhaseState::Established | PhaseState::Rekeying
    )
}

impl MetricsRecorder {
    /// No tunnels yet; one datapoint per `period` (at least one second), the periods
    /// counted from `start` (the run's start).
    pub fn new(period: Duration, start: DateTime<Utc>) -> MetricsRecorder {
        MetricsRecorder {
            period: period.max(Duration::from_secs(1)),
            start,
            tunnels: Vec::new(),
        }
    }

    /// Adds a tunnel, down until a record says otherwise; returns its index.
    pub fn tunnel(&mut self, vpn_id: &str, tunnel_ip: &str) -> usize {
        self.tunnels.push(Tunnel {
            vpn_id: vpn_id.to_owned(),
            tunnel_ip: tunnel_ip.to_owned(),
            changes: Vec::new(),
            data: Vec::new(),
        });
        self.tunnels.len() - 1
    }

    /// Takes note of one of tunnel `tunnel`'s records (an unknown index is ignored).
    pub fn observe(&mut self, tunnel: usize, record: &TunnelRecord) {
        let Some(t) = self.tunnels.get_mut(tunnel) else {
            return;
        };
        let up = is_up(record);
        let was = t.changes.last().is_some_and(|&(_, up)| up);
        if up != was {
            t.changes.push((record.time, up));
        }
    }

    /// Takes note of the bytes tunnel `tunnel`'s AWS endpoint carried in the minute that
    /// ends at `minute_end` (`RecordSink::data`): they count in the period that minute ends
    /// in. A minute that ends at or before the start, or an unknown index, is ignored.
    pub fn data(&mut self, tunnel: usize, minute_end: DateTime<Utc>, bytes: DataBytes) {
        let Some(number) = self.period_of(minute_end) else {
            return;
        };
        let Some(t) = self.tunnels.get_mut(tunnel) else {
            return;
        };
        // Minutes come in time order: the period is the last one or a later one.
        let at = t.data.partition_point(|&(n, _)| n < number);
        match t.data.get_mut(at) {
            Some((n, sum)) if *n == number => {
                sum.received = sum.received.saturating_add(bytes.received);
                sum.sent = sum.sent.saturating_add(bytes.sent);
            }
            _ => t.data.insert(at, (number, bytes)),
        }
    }

    /// How many whole periods there are from the start to `time`.
    fn periods_to(&self, time: DateTime<Utc>) -> u64 {
        let since = (time - self.start).to_std().unwrap_or_default();
        let whole = since.as_nanos() / self.period.as_nanos();
        u64::try_from(whole).unwrap_or(u64::MAX)
    }

    /// The number of the period `time` is in (period `k` ends at `start + k·period`, its
    /// end included); `None` at or before the start.
    fn period_of(&self, time: DateTime<Utc>) -> Option<u64> {
        let since = (time - self.start).to_std().ok().filter(|d| !d.is_zero())?;
        u64::try_from(since.as_nanos().div_ceil(self.period.as_nanos())).ok()
    }

    /// The end of period `number`; `None` past what a time can hold.
    fn end_of(&self, number: u64) -> Option<DateTime<Utc>> {
        let nanos = self.period.as_nanos().checked_mul(u128::from(number))?;
        let since = chrono::Duration::from_std(Duration::from_nanos(u64::try_from(nanos).ok()?));
        self.start.checked_add_signed(since.ok()?)
    }

    /// Every datum of the periods that end in `(after, end]`, tunnel by tunnel, in time
    /// order within a tunnel (`after` is the start, or the end of the periods pushed
    /// before).
    pub fn datums(&self, after: DateTime<Utc>, end: DateTime<Utc>) -> Vec<MetricDatum> {
        let (first, last) = (self.periods_to(after) + 1, self.periods_to(end));
        let mut out = Vec::new();
        for t in &self.tunnels {
            let mut changes = t.changes.iter().peekable();
            let mut data = t.data.iter().skip_while(|&&(n, _)| n < first).peekable();
            let mut up = false;
            for number in first..=last {
                let Some(at) = self.end_of(number) else {
                    break;
                };
                while let Some(&&(when, state)) = changes.peek() {
                    if when > at {
                        break;
                    }
                    up = state;
                    changes.next();
                }
                let bytes = match data.peek() {
                    Some(&&(n, bytes)) if n == number => {
                        data.next();
                        bytes
                    }
                    _ => DataBytes::default(),
                };
                let datum = |name, value, unit| MetricDatum {
                    name,
                    vpn_id: t.vpn_id.clone(),
                    tunnel_ip: t.tunnel_ip.clone(),
                    timestamp: at,
                    value,
                    unit,
                };
                out.push(datum(TUNNEL_STATE, if up { 1.0 } else { 0.0 }, "None"));
                out.push(datum(TUNNEL_DATA_IN, bytes_value(bytes.received), "Bytes"));
                out.push(datum(TUNNEL_DATA_OUT, bytes_value(bytes.sent), "Bytes"));
            }
        }
        out
    }
}

/// A byte count as a datapoint's value: exact up to 2^53 bytes (8 PiB) a period.
#[allow(clippy::cast_precision_loss)]
fn bytes_value(bytes: u64) -> f64 {
    bytes as f64
}

/// PutMetricData requests for `datums` in `namespace`, at most [`MAX_DATUMS_PER_CALL`]
/// each: what `aws cloudwatch put-metric-data --cli-input-json file://…` takes. No datums,
/// no request.
pub fn put_metric_data_inputs(namespace: &str, datums: &[MetricDatum]) -> Vec<Value> {
    datums
        .chunks(MAX_DATUMS_PER_CALL)
        .map(|chunk| {
            json!({
                "Namespace": namespace,
                "MetricData": chunk.iter().map(MetricDatum::to_json).collect::<Vec<_>>(),
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `TunnelState` 1 of tunnel 127.0.1.1 at `time`, for the pusher's tests (feature
    /// `sdk`).
    #[cfg_attr(not(feature = "sdk"), allow(dead_code))]
    pub(crate) fn tunnel_up_at(time: &str) -> MetricDatum {
        MetricDatum {
            name: TUNNEL_STATE,
            vpn_id: "vpn-0a1b2c3d".into(),
            tunnel_ip: "127.0.1.1".into(),
            timestamp: time.parse().unwrap(),
            value: 1.0,
            unit: "None",
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn record(time: &str, p2: PhaseState) -> TunnelRecord {
        TunnelRecord {
            time: t(time),
            dpd_enabled: true,
            nat_t_detected: false,
            ike_phase1_state: p2,
            ike_phase2_state: p2,
            details: "x".into(),
        }
    }

    fn states(m: &MetricsRecorder, start: &str, end: &str) -> Vec<(String, String, f64)> {
        m.datums(t(start), t(end))
            .into_iter()
            .filter(|d| d.name == TUNNEL_STATE)
            .map(|d| {
                let at = d.timestamp.format("%H:%M").to_string();
                (d.tunnel_ip, at, d.value)
            })
            .collect()
    }

    #[test]
    fn tunnel_state_is_sampled_at_the_end_of_each_period() {
        let mut m = MetricsRecorder::new(DEFAULT_PERIOD, t("2026-01-01T00:00:00Z"));
        let a = m.tunnel("vpn-1234abcd", "1.2.3.4");
        let b = m.tunnel("vpn-1234abcd", "1.2.3.5");
        m.observe(a, &record("2026-01-01T00:00:01Z", PhaseState::Negotiating));
        m.observe(a, &record("2026-01-01T00:00:02Z", PhaseState::Established));
        // Rekeying is still up; a flap inside a period is not seen at its end.
        m.observe(a, &record("2026-01-01T00:06:00Z", PhaseState::Rekeying));
        m.observe(a, &record("2026-01-01T00:07:00Z", PhaseState::Down));
        m.observe(a, &record("2026-01-01T00:08:00Z", PhaseState::Established));
        m.observe(a, &record("2026-01-01T00:12:00Z", PhaseState::Down));
        // A change exactly at the end of a period counts in it.
        m.observe(b, &record("2026-01-01T00:10:00Z", PhaseState::Established));
        let got = states(&m, "2026-01-01T00:00:00Z", "2026-01-01T00:17:00Z");
        let want = [
            ("1.2.3.4", "00:05", 1.0),
            ("1.2.3.4", "00:10", 1.0),
            ("1.2.3.4", "00:15", 0.0),
            ("1.2.3.5", "00:05", 0.0),
            ("1.2.3.5", "00:10", 1.0),
            ("1.2.3.5", "00:15", 1.0),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|&(ip, at, v)| (ip.to_owned(), at.to_owned(), v))
            .collect();
        assert_eq!(got, want);
        // From a later period's end (serve pushes period by period): the same datums after it,
        // the state carried over from before it.
        let all = m.datums(t("2026-01-01T00:00:00Z"), t("2026-01-01T00:17:00Z"));
        let later = m.datums(t("2026-01-01T00:05:00Z"), t("2026-01-01T00:17:00Z"));
        let after: Vec<_> = all
            .into_iter()
            .filter(|d| d.timestamp > t("2026-01-01T00:05:00Z"))
            .collect();
        assert_eq!(later, after);
    }

    #[test]
    fn every_period_has_the_three_metrics_and_requests_hold_1000() {
        let mut m = MetricsRecorder::new(Duration::from_secs(60), t("2026-01-01T00:00:00Z"));
        m.tunnel("vpn-1234abcd", "1.2.3.4");
        // 24 h at 60 s: 1,440 periods × 3 metrics.
        let all = m.datums(t("2026-01-01T00:00:00Z"), t("2026-01-02T00:00:00Z"));
        assert_eq!(all.len(), 4_320);
        let requests = put_metric_data_inputs(AWS_NAMESPACE, &all);
        let sizes: Vec<_> = requests
            .iter()
            .map(|r| r["MetricData"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, [1000, 1000, 1000, 1000, 320]);
        let first = &requests[0]["MetricData"][0];
        assert_eq!(requests[0]["Namespace"], "AWS/VPN");
        assert_eq!(first["MetricName"], "TunnelState");
        assert_eq!(first["Timestamp"], "2026-01-01T00:01:00Z");
        assert_eq!(first["Dimensions"][0]["Name"], "VpnId");
        assert_eq!(first["Dimensions"][1]["Value"], "1.2.3.4");
        assert_eq!(requests[0]["MetricData"][1]["Unit"], "Bytes");
        assert!(put_metric_data_inputs(AWS_NAMESPACE, &[]).is_empty());
    }

    fn bytes(m: &MetricsRecorder, after: &str, end: &str) -> Vec<(String, String, f64, f64)> {
        let datums = m.datums(t(after), t(end));
        let value = |name: &str, at, ip: &str| {
            datums
                .iter()
                .find(|d| d.name == name && d.timestamp == at && d.tunnel_ip == ip)
                .map(|d| (d.value, d.unit))
        };
        datums
            .iter()
            .filter(|d| d.name == TUNNEL_STATE)
            .map(|d| {
                let (i, unit_in) = value(TUNNEL_DATA_IN, d.timestamp, &d.tunnel_ip).unwrap();
                let (o, unit_out) = value(TUNNEL_DATA_OUT, d.timestamp, &d.tunnel_ip).unwrap();
                assert_eq!((unit_in, unit_out), ("Bytes", "Bytes"));
                let at = d.timestamp.format("%H:%M").to_string();
                (d.tunnel_ip.clone(), at, i, o)
            })
            .collect()
    }

    fn minute(received: u64, sent: u64) -> DataBytes {
        DataBytes { received, sent }
    }

    #[test]
    fn data_minutes_sum_into_the_period_they_end_in() {
        let mut m = MetricsRecorder::new(DEFAULT_PERIOD, t("2026-01-01T00:00:00Z"));
        let a = m.tunnel("vpn-1234abcd", "1.2.3.4");
        let b = m.tunnel("vpn-1234abcd", "1.2.3.5");
        // Before or at the start: no period holds them.
        m.data(a, t("2025-12-31T23:59:00Z"), minute(1_000_000, 1_000_000));
        m.data(a, t("2026-01-01T00:00:00Z"), minute(1_000_000, 1_000_000));
        m.data(a, t("2026-01-01T00:01:00Z"), minute(100, 10));
        // A minute ending exactly at the end of a period belongs to that period.
        m.data(a, t("2026-01-01T00:05:00Z"), minute(50, 5));
        m.data(a, t("2026-01-01T00:06:00Z"), minute(7, 1));
        m.data(a, t("2026-01-01T00:10:00Z"), minute(3, 2));
        // A period without traffic (00:15) is 0; a late report still lands in its period.
        m.data(a, t("2026-01-01T00:16:00Z"), minute(1, 1));
        m.data(a, t("2026-01-01T00:02:00Z"), minute(1, 0));
        m.data(b, t("2026-01-01T00:20:00Z"), minute(u64::MAX, 0));
        m.data(b, t("2026-01-01T00:20:00Z"), minute(1, 4));
        // An unknown tunnel is nobody's.
        m.data(7, t("2026-01-01T00:03:00Z"), minute(9, 9));
        let got = bytes(&m, "2026-01-01T00:00:00Z", "2026-01-01T00:23:00Z");
        let want = [
            ("1.2.3.4", "00:05", 151.0, 15.0),
            ("1.2.3.4", "00:10", 10.0, 3.0),
            ("1.2.3.4", "00:15", 0.0, 0.0),
            ("1.2.3.4", "00:20", 1.0, 1.0),
            ("1.2.3.5", "00:05", 0.0, 0.0),
            ("1.2.3.5", "00:10", 0.0, 0.0),
            ("1.2.3.5", "00:15", 0.0, 0.0),
            // Saturates rather than wraps.
            ("1.2.3.5", "00:20", bytes_value(u64::MAX), 4.0),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|&(ip, at, i, o)| (ip.to_owned(), at.to_owned(), i, o))
            .collect();
        assert_eq!(got, want);
        // Pushed period by period (serve): each period's sum once, in the push after it.
        let first = bytes(&m, "2026-01-01T00:00:00Z", "2026-01-01T00:09:59Z");
        let then = bytes(&m, "2026-01-01T00:05:00Z", "2026-01-01T00:23:00Z");
        assert_eq!(first.len() + then.len(), want.len());
        let mut both = [first, then].concat();
        both.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        assert_eq!(both, want);
    }

    #[test]
    fn data_periods_of_one_minute_hold_one_minute_each() {
        let mut m = MetricsRecorder::new(Duration::from_secs(60), t("2026-01-01T00:00:30Z"));
        let a = m.tunnel("vpn-1234abcd", "1.2.3.4");
        // Minutes need not align with the periods: each goes where it ends.
        m.data(a, t("2026-01-01T00:01:30Z"), minute(5, 6));
        m.data(a, t("2026-01-01T00:02:00Z"), minute(7, 8));
        let got = bytes(&m, "2026-01-01T00:00:30Z", "2026-01-01T00:03:30Z");
        let want = [
            ("1.2.3.4", "00:01", 5.0, 6.0),
            ("1.2.3.4", "00:02", 7.0, 8.0),
            ("1.2.3.4", "00:03", 0.0, 0.0),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|&(ip, at, i, o)| (ip.to_owned(), at.to_owned(), i, o))
            .collect();
        assert_eq!(got, want);
    }
}
