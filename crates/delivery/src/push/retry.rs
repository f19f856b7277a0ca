//! Which failed calls are worth another try, and how long to wait before it.
//!
//! CloudWatch Logs and CloudWatch ask callers to retry throttling and server errors with
//! exponential backoff (AWS SDKs and Tools Reference Guide, "Retry behavior"): the SDK's
//! own retries are turned off and this module decides, so every failure is counted and the
//! first one reported. Retried: `ThrottlingException` and the other throttling codes,
//! `ServiceUnavailableException`, any 5xx, time-outs and connection failures. Not retried:
//! the caller's mistakes (4xx such as `InvalidParameterException`), which would fail again.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

// The same smithy types serve both SDK crates; the logs crate's re-exports name them.
use aws_sdk_cloudwatchlogs::config::http::HttpResponse;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};

/// How often and how patiently a failed call is tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The wait before the second try; it doubles each time.
    pub base: Duration,
    /// No wait is longer than this.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// Six tries, waiting about 0.2, 0.4, 0.8, 1.6 and 3.2 s (less jitter): a throttled
    /// account gets room, an unreachable endpoint is reported after about 6 s.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try `attempt` (1-based): `base · 2^(attempt−1)`, capped, with
    /// "equal jitter" (a uniformly random half is taken off), so that several pushers
    /// throttled together do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1 << attempt.saturating_sub(1).min(20))
            .min(self.cap);
        let half = exp / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if nanos == 0 { 0 } else { random() % nanos };
        half + Duration::from_nanos(jitter)
    }
}

/// A random number from the standard library's hasher keys (fresh per call): enough for
/// jitter, no extra crate.
fn random() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x1ce5_1a1e);
    h.finish()
}

/// What a failed call was, as far as retrying goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Worth another try.
    pub transient: bool,
    /// The connection itself failed (refused, reset, timed out): the endpoint is not there.
    pub unreachable: bool,
    /// One line for the report: the service's error code and message, or the cause.
    pub message: String,
}

/// Error codes that mean "slow down" or "try later" whatever the HTTP status.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailableException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServiceError",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether a service error with this HTTP status and error code is worth another try.
pub fn transient_service_error(status: u16, code: Option<&str>) -> bool {
    status >= 500 || status == 429 || code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
}

/// The error and its causes, "outer: inner: innermost", without the debug dump
/// `DisplayErrorContext` appends; repeated texts (a wrapper repeating its cause) once.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Classifies an SDK error.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::TimeoutError(_) => Failure {
            transient: true,
            unreachable: true,
            message: chain(err),
        },
        SdkError::DispatchFailure(d) => Failure {
            transient: d.is_io() || d.is_timeout(),
            unreachable: d.is_io() || d.is_timeout(),
            message: format!("could not reach the endpoint: {}", chain(err)),
        },
        SdkError::ResponseError(r) => Failure {
            transient: true,
            unreachable: false,
            message: format!(
                "unreadable response (HTTP {}): {}",
                r.raw().status().as_u16(),
                chain(err)
            ),
        },
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            let code = s.err().code();
            Failure {
                transient: transient_service_error(status, code),
                unreachable: false,
                message: format!(
                    "{} (HTTP {status}): {}",
                    code.unwrap_or("error"),
                    s.err().message().unwrap_or("no message")
                ),
            }
        }
        _ => Failure {
            transient: false,
            unreachable: false,
            message: chain(err),
        },
    }
}

/// The error code of a service error, if it is one.
pub fn code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    match err {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retried_client_errors_are_not() {
        assert!(transient_service_error(400, Some("ThrottlingException")));
        assert!(transient_service_error(
            400,
            Some("ServiceUnavailableException")
        ));
        assert!(transient_service_error(500, None));
        assert!(transient_service_error(503, Some("anything")));
        assert!(transient_service_error(429, None));
        assert!(!transient_service_error(
            400,
            Some("InvalidParameterException")
        ));
        assert!(!transient_service_error(
            400,
            Some("ResourceNotFoundException")
        ));
        assert!(!transient_service_error(403, Some("AccessDeniedException")));
    }

    #[test]
    fn backoff_doubles_within_its_jitter_and_stops_at_the_cap() {
        let p = RetryPolicy::default();
        for attempt in 1..=8 {
            let full = (p.base * (1 << (attempt - 1))).min(p.cap);
            for _ in 0..50 {
                let d = p.backoff(attempt);
                assert!(d >= full / 2 && d <= full, "{attempt}: {d:?} vs {full:?}");
            }
        }
        // Not always the same wait: that is the point of jitter.
        let waits: std::collections::HashSet<_> = (0..20).map(|_| p.backoff(3)).collect();
        assert!(waits.len() > 1);
        let zero = RetryPolicy {
            base: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.backoff(4), Duration::ZERO);
    }
}
