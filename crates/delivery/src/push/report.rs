//! What a push delivered, and what not: the summary `run` and `serve` print on stderr.

use std::fmt;
use std::time::Duration;

/// One log stream's share of a push.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamReport {
    /// The log group.
    pub group: String,
    /// The log stream.
    pub stream: String,
    /// Events CloudWatch Logs accepted.
    pub delivered: u64,
    /// Events that failed or were rejected.
    pub undelivered: u64,
    /// PutLogEvents calls made for it (each counted once, however often it was retried).
    pub calls: u64,
}

/// The outcome of a whole push ([`super::Pusher::finish`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PushReport {
    /// Per stream, in the order the streams were opened.
    pub streams: Vec<StreamReport>,
    /// Events CloudWatch Logs accepted, all streams together.
    pub delivered: u64,
    /// Events not delivered (failed calls, rejected events).
    pub undelivered: u64,
    /// The first reason something was not delivered (events or metrics), if any.
    pub first_error: Option<String>,
    /// PutLogEvents calls, all streams together.
    pub put_log_events_calls: u64,
    /// Metric datums CloudWatch accepted.
    pub metric_datums: u64,
    /// Metric datums not delivered.
    pub metric_datums_undelivered: u64,
    /// From [`super::Pusher::start`] to the end of [`super::Pusher::finish`].
    pub elapsed: Duration,
}

impl PushReport {
    /// Whether everything handed to the pusher was delivered: the exit status says so.
    pub fn complete(&self) -> bool {
        self.undelivered == 0 && self.metric_datums_undelivered == 0 && self.first_error.is_none()
    }

    /// Events delivered per second of the push.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let delivered = self.delivered as f64;
            delivered / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for PushReport {
    /// ```text
    /// cloudwatch: 20412 events delivered to 2 streams in 4 PutLogEvents calls, 576 metric datums, in 1.23 s (16595 events/s)
    ///   /aws/vendedlogs/ikesim vpn-0a1b2c3d-127.0.1.1: 10206 events in 2 PutLogEvents calls
    /// cloudwatch: 12 events and 0 metric datums NOT delivered; first error: …
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cloudwatch: {} events delivered to {} streams in {} PutLogEvents calls, {} metric \
             datums, in {:.2} s ({:.0} events/s)",
            self.delivered,
            self.streams.len(),
            self.put_log_events_calls,
            self.metric_datums,
            self.elapsed.as_secs_f64(),
            self.rate()
        )?;
        for s in &self.streams {
            write!(
                f,
                "\n  {} {}: {} events in {} PutLogEvents calls",
                s.group, s.stream, s.delivered, s.calls
            )?;
            if s.undelivered > 0 {
                write!(f, ", {} NOT delivered", s.undelivered)?;
            }
        }
        if !self.complete() {
            write!(
                f,
                "\ncloudwatch: {} events and {} metric datums NOT delivered; first error: {}",
                self.undelivered,
                self.metric_datums_undelivered,
                self.first_error.as_deref().unwrap_or("none recorded")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_every_stream_and_what_was_not_delivered() {
        let mut r = PushReport {
            streams: vec![StreamReport {
                group: "/aws/vendedlogs/ikesim".into(),
                stream: "vpn-0a1b2c3d-127.0.1.1".into(),
                delivered: 10,
                undelivered: 0,
                calls: 2,
            }],
            delivered: 10,
            put_log_events_calls: 2,
            metric_datums: 3,
            elapsed: Duration::from_secs(2),
            ..PushReport::default()
        };
        assert!(r.complete());
        let s = r.to_string();
        assert!(s.starts_with("cloudwatch: 10 events delivered to 1 streams in 2 PutLogEvents calls, 3 metric datums, in 2.00 s (5 events/s)"), "{s}");
        assert!(s.contains("\n  /aws/vendedlogs/ikesim vpn-0a1b2c3d-127.0.1.1: 10 events in 2 PutLogEvents calls"), "{s}");
        assert!(!s.contains("NOT"));
        r.undelivered = 4;
        r.first_error = Some("boom".into());
        assert!(!r.complete());
        assert!(r.to_string().ends_with(
            "cloudwatch: 4 events and 0 metric datums NOT delivered; first error: boom"
        ));
    }
}
