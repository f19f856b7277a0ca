//! Tunnel log records delivered where users read them (issue 11, docs/cloudwatch.md).
//!
//! This crate is the far end of the one-way flow (socket → driver → core → events → AWS
//! view → **sinks**): it only consumes [`vpn_log::TunnelRecord`]s a run or `serve` already
//! wrote, rendered as the tunnel's `LogOutputFormat` says. Everything but the pusher is
//! sans-IO or plain files, and unit-tested on its own:
//!
//! - [`batch`]: records as CloudWatch Logs events (`timestamp` in ms, `message`) and the
//!   [`batch::Batcher`] that cuts a stream's events into PutLogEvents calls within AWS's
//!   limits (10,000 events, 1,048,576 bytes counting 26 per event, chronological, ≤ 24 h).
//! - [`envelope`]: what a subscription filter delivers for a batch (`--envelopes DIR`): the
//!   gzip'd `DATA_MESSAGE` JSON and the Lambda event `{"awslogs":{"data":…}}`.
//! - [`filter`]: CloudWatch Logs filter patterns (`--filter-pattern`), applied to
//!   envelopes before delivery.
//! - [`metrics`]: AWS/VPN metrics (`TunnelState`, `TunnelDataIn`, `TunnelDataOut`) from the
//!   records' phase states, and PutMetricData input (`--metrics FILE`).
//! - [`placement`]: where the simulated clock starts (`--start`), and whether a run fits
//!   CloudWatch's window (14 days back, 2 hours ahead).
//! - `push` (feature `sdk`): the pusher, a thread with its own runtime and the AWS SDK for
//!   Rust: creates the group and streams, puts batches with retries, pushes metrics, and
//!   reports what could not be delivered.
//!
//! Flow of one record: the command's outputs render it once per destination, hand a
//! [`batch::LogEvent`] to a per-stream [`batch::Batcher`] for envelopes and to the pusher
//! (which batches the same way), and the record's phase states to the
//! [`metrics::MetricsRecorder`].

#![warn(missing_docs)]

pub mod batch;
pub mod envelope;
pub mod filter;
pub mod metrics;
pub mod placement;
#[cfg(feature = "sdk")]
pub mod push;
