//! The pusher's thread: the SDK clients, each stream's batcher, the calls and their
//! retries, and the report (the module documentation of `push` says what it does).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudwatch::types::{Dimension, StandardUnit};
use aws_sdk_cloudwatchlogs::config::ProvideCredentials;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, RejectedLogEventsInfo};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use tokio::sync::mpsc;

use super::{
    json_protocol, retry, Command, PushConfig, PushError, PushReport, PushTuning, RetryPolicy,
    StreamReport,
};
use crate::batch::{Batch, Batcher, LogEvent};
use crate::metrics::{MetricDatum, MAX_DATUMS_PER_CALL};

struct Stream {
    report: StreamReport,
    batcher: Batcher,
    created: bool,
}

pub(super) struct Worker {
    logs: aws_sdk_cloudwatchlogs::Client,
    metrics: aws_sdk_cloudwatch::Client,
    namespace: String,
    policy: RetryPolicy,
    idle_flush: Duration,
    started: Instant,
    streams: Vec<Stream>,
    index: HashMap<(String, String), usize>,
    groups: Vec<String>,
    /// The last call failed to reach the endpoint even after every retry: until a call
    /// succeeds, calls are tried once, so an absent endpoint costs seconds, not minutes.
    unreachable: bool,
    report: PushReport,
}

impl Worker {
    pub(super) async fn connect(
        config: PushConfig,
        tuning: PushTuning,
        started: Instant,
    ) -> Result<Worker, PushError> {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            );
        if let Some(region) = config.region {
            loader = loader.region(Region::new(region));
        }
        if let Some(url) = config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(PushError::NoRegion);
        }
        let provider = sdk
            .credentials_provider()
            .ok_or_else(|| PushError::NoCredentials("no credential provider".into()))?;
        match tokio::time::timeout(Duration::from_secs(20), provider.provide_credentials()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(PushError::NoCredentials(
                    aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e).to_string(),
                ))
            }
            Err(_) => {
                return Err(PushError::NoCredentials(
                    "the credential chain did not answer within 20 s".into(),
                ))
            }
        }
        Ok(Worker {
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            // The JSON body replaces the serialized one; it is never compressed.
            metrics: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(&sdk)
                    .disable_request_compression(true)
                    .build(),
            ),
            namespace: config.metrics_namespace,
            policy: tuning.retry,
            idle_flush: tuning.idle_flush,
            started,
            streams: Vec::new(),
            index: HashMap::new(),
            groups: Vec::new(),
            unreachable: false,
            report: PushReport::default(),
        })
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) -> PushReport {
        loop {
            let command = match tokio::time::timeout(self.idle_flush, rx.recv()).await {
                Ok(Some(command)) => command,
                // Every handle is gone: finish as if told.
                Ok(None) => Command::Finish,
                Err(_) => Command::Flush,
            };
            match command {
                Command::Open { group, stream } => {
                    let i = self.stream(group, stream);
                    self.create(i).await;
                }
                Command::Send {
                    group,
                    stream,
                    event,
                } => {
                    let i = self.stream(group, stream);
                    if let Some(reason) = outside_window(&event, chrono::Utc::now()) {
                        self.streams[i].report.undelivered += 1;
                        self.report.undelivered += 1;
                        let s = &self.streams[i].report;
                        let reason = format!("{} {}: {reason}", s.group, s.stream);
                        self.fail(reason);
                    } else if let Some(batch) = self.streams[i].batcher.push(event) {
                        self.put(i, batch).await;
                    }
                }
                Command::Flush => self.flush().await,
                Command::Metrics(datums) => self.put_metrics(datums).await,
                Command::Finish => break,
            }
        }
        self.flush().await;
        let mut report = self.report;
        report.streams = self.streams.into_iter().map(|s| s.report).collect();
        report.elapsed = self.started.elapsed();
        report
    }

    fn stream(&mut self, group: String, stream: String) -> usize {
        let key = (group, stream);
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.streams.len();
        self.streams.push(Stream {
            report: StreamReport {
                group: key.0.clone(),
                stream: key.1.clone(),
                ..StreamReport::default()
            },
            batcher: Batcher::new(),
            created: false,
        });
        self.index.insert(key, i);
        i
    }

    fn fail(&mut self, error: String) {
        self.report.first_error.get_or_insert(error);
    }

    fn policy(&self) -> RetryPolicy {
        if self.unreachable {
            RetryPolicy {
                max_attempts: 1,
                ..self.policy
            }
        } else {
            self.policy
        }
    }

    /// Runs `call` until it succeeds, fails for good, or runs out of tries. `Ok(Err(e))`
    /// from `call` is an error that is fine (e.g. already exists); the failure message
    /// names `what`.
    async fn retry<T, E, F, Fut>(&mut self, what: &str, mut call: F) -> Result<T, String>
    where
        E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata + std::error::Error + 'static,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, aws_sdk_cloudwatchlogs::error::SdkError<E>>>,
    {
        let policy = self.policy();
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(value) => {
                    self.unreachable = false;
                    return Ok(value);
                }
                Err(err) => {
                    let failure = retry::classify(&err);
                    if !failure.transient || attempt >= policy.max_attempts.max(1) {
                        self.unreachable = failure.unreachable;
                        return Err(format!(
                            "{what}: {} (after {attempt} tries)",
                            failure.message
                        ));
                    }
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// CreateLogGroup (once per group) and CreateLogStream, both fine if they exist.
    async fn create(&mut self, i: usize) -> bool {
        if self.streams[i].created {
            return true;
        }
        let group = self.streams[i].report.group.clone();
        let stream = self.streams[i].report.stream.clone();
        if !self.groups.contains(&group) {
            let logs = self.logs.clone();
            let result = self
                .retry(&format!("CreateLogGroup {group}"), || async {
                    match logs.create_log_group().log_group_name(&group).send().await {
                        Err(e) if creation_is_fine(retry::code(&e)) => Ok(()),
                        other => other.map(|_| ()),
                    }
                })
                .await;
            if let Err(e) = result {
                self.fail(e);
                return false;
            }
            self.groups.push(group.clone());
        }
        let logs = self.logs.clone();
        let result = self
            .retry(&format!("CreateLogStream {group} {stream}"), || async {
                match logs
                    .create_log_stream()
                    .log_group_name(&group)
                    .log_stream_name(&stream)
                    .send()
                    .await
                {
                    Err(e) if creation_is_fine(retry::code(&e)) => Ok(()),
                    other => other.map(|_| ()),
                }
            })
            .await;
        match result {
            Ok(()) => {
                self.streams[i].created = true;
                true
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    async fn flush(&mut self) {
        for i in 0..self.streams.len() {
            if let Some(batch) = self.streams[i].batcher.take() {
                self.put(i, batch).await;
            }
        }
    }

    /// One PutLogEvents call (with its retries) for stream `i`.
    async fn put(&mut self, i: usize, batch: Batch) {
        let n = batch.events.len() as u64;
        if !self.create(i).await {
            self.streams[i].report.undelivered += n;
            self.report.undelivered += n;
            return;
        }
        let group = self.streams[i].report.group.clone();
        let stream = self.streams[i].report.stream.clone();
        let events: Vec<InputLogEvent> = batch
            .events
            .into_iter()
            .filter_map(|e| {
                InputLogEvent::builder()
                    .timestamp(e.timestamp)
                    .message(e.message)
                    .build()
                    .ok()
            })
            .collect();
        // Both fields are always set, so build() cannot fail; were it to, it is counted.
        let built = events.len() as u64;
        self.streams[i].report.calls += 1;
        self.report.put_log_events_calls += 1;
        let logs = self.logs.clone();
        let result = self
            .retry(&format!("PutLogEvents {group} {stream}"), || {
                logs.put_log_events()
                    .log_group_name(&group)
                    .log_stream_name(&stream)
                    .set_log_events(Some(events.clone()))
                    .send()
            })
            .await;
        let (delivered, reason) = match result {
            Ok(out) => {
                let rejected = out
                    .rejected_log_events_info()
                    .map(|info| Rejected::of(info, built));
                match rejected {
                    Some(r) if r.count() > 0 => {
                        (built - r.count(), Some(r.reason(&group, &stream)))
                    }
                    _ => (built, None),
                }
            }
            Err(e) => (0, Some(e)),
        };
        let s = &mut self.streams[i].report;
        s.delivered += delivered;
        s.undelivered += n - delivered;
        self.report.delivered += delivered;
        self.report.undelivered += n - delivered;
        if let Some(reason) = reason {
            self.fail(reason);
        }
    }

    async fn put_metrics(&mut self, datums: Vec<MetricDatum>) {
        for chunk in datums.chunks(MAX_DATUMS_PER_CALL) {
            let data: Vec<_> = chunk.iter().map(sdk_datum).collect();
            let n = data.len() as u64;
            let client = self.metrics.clone();
            let namespace = self.namespace.clone();
            let body = json_protocol::body(&namespace, chunk);
            let result = self
                .retry(&format!("PutMetricData {namespace}"), || {
                    client
                        .put_metric_data()
                        .namespace(&namespace)
                        .set_metric_data(Some(data.clone()))
                        .customize()
                        .interceptor(json_protocol::JsonPutMetricData { body: body.clone() })
                        .send()
                })
                .await;
            match result {
                Ok(_) => self.report.metric_datums += n,
                Err(e) => {
                    self.report.metric_datums_undelivered += n;
                    self.fail(e);
                }
            }
        }
    }
}

/// Whether a CreateLogGroup/CreateLogStream error still lets the push go on: the resource
/// exists, or the caller may not create it — a policy granting only `logs:PutLogEvents` on
/// an existing group and stream is common; if they do not exist after all, PutLogEvents
/// says so (ResourceNotFoundException) and its events are counted.
fn creation_is_fine(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ResourceAlreadyExistsException" | "AccessDeniedException")
    )
}

/// A [`MetricDatum`] as the SDK's.
fn sdk_datum(d: &MetricDatum) -> aws_sdk_cloudwatch::types::MetricDatum {
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    aws_sdk_cloudwatch::types::MetricDatum::builder()
        .metric_name(d.name)
        .dimensions(dimension("VpnId", &d.vpn_id))
        .dimensions(dimension("TunnelIpAddress", &d.tunnel_ip))
        .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_millis(
            d.timestamp.timestamp_millis(),
        ))
        .value(d.value)
        .unit(StandardUnit::from(d.unit))
        .build()
}

/// Why CloudWatch Logs would refuse `event` now, if it would: older than 14 days or more
/// than 2 hours ahead (reference §5). Such an event is counted as not delivered with this
/// reason instead of being sent — CloudWatch would list it in `rejectedLogEventsInfo`
/// anyway (and moto's server reports those indices off by one).
fn outside_window(event: &LogEvent, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let oldest = (now - chrono::Duration::days(14)).timestamp_millis();
    let newest = (now + chrono::Duration::hours(2)).timestamp_millis();
    let at = || {
        chrono::DateTime::from_timestamp_millis(event.timestamp)
            .map_or_else(|| event.timestamp.to_string(), |t| t.to_rfc3339())
    };
    if event.timestamp < oldest {
        Some(format!(
            "an event of {} is older than the 14 days CloudWatch Logs accepts; place the run \
             with --start inside the window, or leave --start out so that it ends now",
            at()
        ))
    } else if event.timestamp > newest {
        Some(format!(
            "an event of {} is more than 2 h ahead, which CloudWatch Logs refuses; start the \
             run earlier (--start), or leave --start out so that it ends now",
            at()
        ))
    } else {
        None
    }
}

/// The events of one call that `rejectedLogEventsInfo` lists: indices below
/// `tooOldLogEventEndIndex` / `expiredLogEventEndIndex`, and from
/// `tooNewLogEventStartIndex` on (CloudWatch Logs API reference, RejectedLogEventsInfo).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rejected {
    too_old: u64,
    expired: u64,
    too_new: u64,
}

impl Rejected {
    fn of(info: &RejectedLogEventsInfo, n: u64) -> Rejected {
        let index = |i: Option<i32>| i.map(|i| u64::try_from(i).unwrap_or(0).min(n));
        let old_end = index(info.too_old_log_event_end_index()).unwrap_or(0);
        let expired_end = index(info.expired_log_event_end_index()).unwrap_or(0);
        let low = old_end.max(expired_end);
        let new_start = index(info.too_new_log_event_start_index())
            .unwrap_or(n)
            .max(low);
        Rejected {
            too_old: old_end,
            // Expired events not already counted as too old.
            expired: expired_end.saturating_sub(old_end),
            too_new: n - new_start,
        }
    }

    fn count(self) -> u64 {
        self.too_old + self.expired + self.too_new
    }

    fn reason(self, group: &str, stream: &str) -> String {
        format!(
            "CloudWatch Logs rejected {} events of {group} {stream}: {} too old (more than 14 \
             days, or the group's retention), {} expired (past the group's retention), {} too \
             new (more than 2 h ahead); place the run inside the window with --start, or \
             leave --start out so that it ends now",
            self.count(),
            self.too_old,
            self.expired,
            self.too_new
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(old: Option<i32>, expired: Option<i32>, new: Option<i32>) -> RejectedLogEventsInfo {
        RejectedLogEventsInfo::builder()
            .set_too_old_log_event_end_index(old)
            .set_expired_log_event_end_index(expired)
            .set_too_new_log_event_start_index(new)
            .build()
    }

    #[test]
    fn rejected_indices_count_each_event_once() {
        let r = Rejected::of(&info(Some(3), None, None), 10);
        assert_eq!((r.too_old, r.expired, r.too_new, r.count()), (3, 0, 0, 3));
        let r = Rejected::of(&info(Some(2), Some(5), Some(8)), 10);
        assert_eq!((r.too_old, r.expired, r.too_new, r.count()), (2, 3, 2, 7));
        // Out-of-range indices are clamped, overlapping ranges not counted twice.
        let r = Rejected::of(&info(Some(12), None, Some(4)), 10);
        assert_eq!(r.count(), 10);
        assert_eq!(Rejected::of(&info(None, None, None), 10).count(), 0);
        let reason = Rejected::of(&info(Some(3), None, None), 10).reason("g", "s");
        assert!(
            reason.contains("rejected 3 events of g s: 3 too old"),
            "{reason}"
        );
    }

    #[test]
    fn an_existing_or_forbidden_group_or_stream_does_not_stop_the_push() {
        assert!(creation_is_fine(Some("ResourceAlreadyExistsException")));
        assert!(creation_is_fine(Some("AccessDeniedException")));
        assert!(!creation_is_fine(Some("InvalidParameterException")));
        assert!(!creation_is_fine(None));
    }

    #[test]
    fn a_metric_datum_keeps_aws_vpn_dimensions_and_unit() {
        let d = crate::metrics::tests::tunnel_up_at("2026-12-03T12:05:00Z");
        let s = sdk_datum(&d);
        assert_eq!(s.metric_name(), Some("TunnelState"));
        let dims: Vec<_> = s
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or(""), d.value().unwrap_or("")))
            .collect();
        assert_eq!(
            dims,
            [("VpnId", "vpn-0a1b2c3d"), ("TunnelIpAddress", "127.0.1.1")]
        );
        assert_eq!(s.unit(), Some(&StandardUnit::None));
        assert_eq!(s.value(), Some(1.0));
    }

    #[test]
    fn events_outside_cloudwatchs_window_are_refused_with_a_reason() {
        let now: chrono::DateTime<chrono::Utc> = "2026-12-03T12:00:00Z".parse().unwrap();
        let event = |t: &str| LogEvent {
            timestamp: t
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                .timestamp_millis(),
            message: "x".into(),
        };
        assert_eq!(outside_window(&event("2026-11-20T00:00:00Z"), now), None);
        assert_eq!(outside_window(&event("2026-12-03T13:59:59Z"), now), None);
        let old = outside_window(&event("2026-11-19T11:59:59Z"), now).unwrap();
        assert!(
            old.contains("2026-11-19T11:59:59+00:00 is older than the 14 days"),
            "{old}"
        );
        let new = outside_window(&event("2026-12-03T14:00:01Z"), now).unwrap();
        assert!(new.contains("more than 2 h ahead"), "{new}");
    }
}
