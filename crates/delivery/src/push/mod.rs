//! The pusher (`--cloudwatch`): records into CloudWatch Logs and metrics into CloudWatch,
//! with the official AWS SDK for Rust.
//!
//! [`Pusher::start`] runs a background thread with its own current-thread tokio runtime,
//! because its callers are synchronous (`run`) or on a runtime of their own (`serve`);
//! they hand it work through a channel and never wait for the network, except in
//! [`Pusher::finish`]. The thread:
//! - creates the log group and each stream if missing (`CreateLogGroup`, `CreateLogStream`;
//!   `ResourceAlreadyExistsException` is fine, and so is `AccessDeniedException`: a policy
//!   may grant only `logs:PutLogEvents` on a group and stream that exist);
//! - cuts each stream's events into PutLogEvents calls with [`crate::batch::Batcher`]
//!   (10,000 events, 1,048,576 bytes, chronological, < 24 h) and puts them in order;
//! - retries throttling, 5xx and time-outs with exponential backoff and jitter
//!   ([`RetryPolicy`]);
//! - counts what could not be delivered — failed calls, and the events a response lists in
//!   `rejectedLogEventsInfo` (too old, too new, expired) — with the first reason, so nothing
//!   is dropped silently ([`PushReport`]);
//! - pushes metric datums with PutMetricData, at most 1,000 per call.
//!
//! Credentials and region come from aws-config's default chain (environment, profile, …),
//! the endpoint from [`PushConfig::endpoint_url`] or aws-config's own
//! `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` / `AWS_ENDPOINT_URL`. HTTPS is rustls with ring: no
//! aws-lc C build.

mod json_protocol;
mod report;
mod retry;
mod worker;

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::batch::LogEvent;
use crate::metrics::{MetricDatum, PUSH_NAMESPACE};

pub use report::{PushReport, StreamReport};
pub use retry::RetryPolicy;
use worker::Worker;

/// How the pusher reaches CloudWatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushConfig {
    /// `--region`; else aws-config's chain (`AWS_REGION`, `AWS_DEFAULT_REGION`, profile).
    pub region: Option<String>,
    /// `--endpoint-url` (e.g. moto's `http://127.0.0.1:5000`); else aws-config's own
    /// `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` / `AWS_ENDPOINT_URL` handling, else AWS.
    pub endpoint_url: Option<String>,
    /// `--metrics-namespace`: AWS reserves `AWS/` for its own services, so pushed metrics
    /// default to [`PUSH_NAMESPACE`].
    pub metrics_namespace: String,
}

impl Default for PushConfig {
    fn default() -> PushConfig {
        PushConfig {
            region: None,
            endpoint_url: None,
            metrics_namespace: PUSH_NAMESPACE.to_owned(),
        }
    }
}

/// How patient the pusher is; [`Pusher::start`] uses the default, tests shorten it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushTuning {
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// Pending events are put after this long without new work, so a slow `serve` still
    /// delivers within seconds.
    pub idle_flush: Duration,
}

impl Default for PushTuning {
    fn default() -> PushTuning {
        PushTuning {
            retry: RetryPolicy::default(),
            idle_flush: Duration::from_secs(2),
        }
    }
}

/// Why the pusher could not start. Each says what to set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// No region from `--region` or the chain.
    #[error(
        "--cloudwatch needs an AWS region: pass --region (e.g. --region us-east-1), or set \
         AWS_REGION (or AWS_DEFAULT_REGION, or `region` in the profile of ~/.aws/config)"
    )]
    NoRegion,
    /// The credential chain found nothing.
    #[error(
        "--cloudwatch needs AWS credentials ({0}): set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile in ~/.aws/credentials; \
         for a local endpoint such as moto any values do (e.g. testing/testing)"
    )]
    NoCredentials(String),
    /// `--endpoint-url` is not an http(s) URL.
    #[error("--endpoint-url `{0}` is not a URL: give http://HOST:PORT or https://HOST")]
    EndpointUrl(String),
    /// The thread or its runtime could not be created.
    #[error("could not start the CloudWatch pusher: {0}")]
    Runtime(#[from] std::io::Error),
}

enum Command {
    Open {
        group: String,
        stream: String,
    },
    Send {
        group: String,
        stream: String,
        event: LogEvent,
    },
    Flush,
    Metrics(Vec<MetricDatum>),
    Finish,
}

/// The handle on the pusher's thread. Dropping it without [`Pusher::finish`] still
/// delivers what is pending (and waits for it), but the report is lost.
pub struct Pusher {
    commands: mpsc::UnboundedSender<Command>,
    thread: Option<JoinHandle<PushReport>>,
}

impl Pusher {
    /// Starts the thread, loads region and credentials, and checks them: a missing region
    /// or credentials is an error now, before the run produces anything.
    pub fn start(config: PushConfig) -> Result<Pusher, PushError> {
        Pusher::start_tuned(config, PushTuning::default())
    }

    /// [`Pusher::start`] with other retry and flush settings.
    pub fn start_tuned(config: PushConfig, tuning: PushTuning) -> Result<Pusher, PushError> {
        if let Some(url) = &config.endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(PushError::EndpointUrl(url.clone()));
            }
        }
        let started = Instant::now();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (ready_tx, ready_rx) = std_mpsc::sync_channel(1);
        let (commands, rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("cloudwatch-push".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match Worker::connect(config, tuning, started).await {
                        Ok(worker) => {
                            let _ = ready_tx.send(Ok(()));
                            worker.run(rx).await
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            PushReport::default()
                        }
                    }
                })
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Pusher {
                commands,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(PushError::Runtime(std::io::Error::other(
                "the pusher thread ended while starting",
            ))),
        }
    }

    fn command(&self, command: Command) {
        // The thread ends only on Finish (or a panic, which finish() reports).
        let _ = self.commands.send(command);
    }

    /// Makes sure `group` and its `stream` exist (created if missing). Sending to a stream
    /// opens it too; opening first creates even a stream that will stay empty.
    pub fn open(&self, group: &str, stream: &str) {
        self.command(Command::Open {
            group: group.to_owned(),
            stream: stream.to_owned(),
        });
    }

    /// Queues one event for `stream` of `group`; events of one stream are put in the order
    /// sent.
    pub fn send(&self, group: &str, stream: &str, event: LogEvent) {
        self.command(Command::Send {
            group: group.to_owned(),
            stream: stream.to_owned(),
            event,
        });
    }

    /// Asks for every pending event to be put now, without waiting for it.
    pub fn flush(&self) {
        self.command(Command::Flush);
    }

    /// Queues metric datums for PutMetricData (namespace [`PushConfig::metrics_namespace`]).
    pub fn metrics(&self, datums: Vec<MetricDatum>) {
        self.command(Command::Metrics(datums));
    }

    /// Puts everything still pending, waits for the thread, and says what was delivered.
    pub fn finish(mut self) -> PushReport {
        self.command(Command::Finish);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(report)) => report,
            _ => PushReport {
                first_error: Some("the CloudWatch pusher thread panicked".into()),
                ..PushReport::default()
            },
        }
    }
}

impl Drop for Pusher {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.command(Command::Finish);
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_that_is_not_a_url_is_refused_at_once() {
        let err = Pusher::start(PushConfig {
            endpoint_url: Some("127.0.0.1:5000".into()),
            ..PushConfig::default()
        })
        .err()
        .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("http://HOST:PORT")));
    }
}
