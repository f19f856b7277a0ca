//! Where a run's simulated clock starts (`--start`), and whether the run fits the window
//! CloudWatch accepts: no event older than 14 days, none more than 2 hours ahead
//! (reference §5).
//!
//! Without `--start` a run starts at its scenario's `start` (2026-01-01T00:00:00Z unless
//! the file says otherwise), so runs stay reproducible. With `--cloudwatch` and no
//! `--start`, the run is placed so that it ends now. Either way, a run pushed to
//! CloudWatch must fit the window, or it is refused before anything is sent.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// CloudWatch Logs refuses events older than this.
pub const MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);
/// CloudWatch Logs refuses events further ahead than this.
pub const MAX_AHEAD: Duration = Duration::from_secs(2 * 3600);
/// Kept free at the old end of the window: pushing takes time, and an event that was
/// 14 days old when the run was placed must not be 14 days and a second old when sent.
pub const MARGIN: Duration = Duration::from_secs(3600);

/// `--start`: `now`, or an RFC 3339 time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The moment the command starts.
    Now,
    /// A given time.
    At(DateTime<Utc>),
}

impl std::str::FromStr for Start {
    type Err = String;

    fn from_str(s: &str) -> Result<Start, String> {
        if s == "now" {
            return Ok(Start::Now);
        }
        DateTime::parse_from_rfc3339(s)
            .map(|t| Start::At(t.with_timezone(&Utc)))
            .map_err(|_| {
                format!("`{s}` is neither `now` nor an RFC 3339 time such as 2026-01-01T00:00:00Z")
            })
    }
}

/// A run that cannot be placed in CloudWatch's window.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlacementError {
    /// Longer than the window: whatever the start, part of it is too old.
    #[error(
        "a run of {} cannot be pushed to CloudWatch Logs: it accepts events up to 14 days old \
         and the run must end by now + 2 h, leaving {} (1 h is kept free for the push \
         itself); use --duration {} or less, or write files with --out and no --cloudwatch",
        human(*.duration), human(*.room), human(*.room)
    )]
    TooLong {
        /// The run's simulated duration.
        duration: Duration,
        /// The longest run that fits.
        room: Duration,
    },
    /// `--start` puts the run's first events before the window.
    #[error(
        "--start {start} is older than CloudWatch Logs accepts (events up to 14 days old, \
         less 1 h kept free for the push): start at {earliest} or later, or leave --start \
         out to end the run now"
    )]
    TooOld {
        /// The start asked for.
        start: DateTime<Utc>,
        /// The earliest start that fits.
        earliest: DateTime<Utc>,
    },
    /// `--start` puts the run's last events more than 2 h ahead.
    #[error(
        "with --start {start} the run ends at {end}, more than 2 h ahead of now ({now}), \
         which CloudWatch Logs refuses: start at {latest} or earlier, or leave --start out \
         to end the run now"
    )]
    TooNew {
        /// The start asked for.
        start: DateTime<Utc>,
        /// The run's end.
        end: DateTime<Utc>,
        /// The time of placement.
        now: DateTime<Utc>,
        /// The latest start that fits.
        latest: DateTime<Utc>,
    },
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60) {
        (0, 0, 0, s) => format!("{s}s"),
        (0, 0, m, 0) => format!("{m}m"),
        (0, h, 0, 0) => format!("{h}h"),
        (0, h, m, 0) => format!("{h}h{m}m"),
        (d, 0, 0, 0) => format!("{d}d"),
        (d, h, 0, 0) => format!("{d}d{h}h"),
        _ => format!("{s}s"),
    }
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The run's start: `start` if given (`now` is `now`), else `scenario` — or, when the run
/// is pushed to CloudWatch (`cloudwatch`), `now − duration`, so it ends now. A pushed run
/// must fit the window.
pub fn place(
    start: Option<Start>,
    scenario: DateTime<Utc>,
    duration: Duration,
    now: DateTime<Utc>,
    cloudwatch: bool,
) -> Result<DateTime<Utc>, PlacementError> {
    let placed = match start {
        Some(Start::At(t)) => t,
        Some(Start::Now) => now,
        None if cloudwatch => now - chrono(duration),
        None => scenario,
    };
    if !cloudwatch {
        return Ok(placed);
    }
    let room = MAX_AGE + MAX_AHEAD - MARGIN;
    if duration > room {
        return Err(PlacementError::TooLong { duration, room });
    }
    let earliest = now - chrono(MAX_AGE - MARGIN);
    if placed < earliest {
        return Err(PlacementError::TooOld {
            start: placed,
            earliest,
        });
    }
    let end = placed + chrono(duration);
    if end > now + chrono(MAX_AHEAD) {
        return Err(PlacementError::TooNew {
            start: placed,
            end,
            now,
            latest: now + chrono(MAX_AHEAD) - chrono(duration),
        });
    }
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const NOW: &str = "2026-12-03T12:00:00Z";
    const SCENARIO: &str = "2026-01-01T00:00:00Z";

    #[test]
    fn start_parses_now_and_rfc3339() {
        assert_eq!("now".parse(), Ok(Start::Now));
        assert_eq!(
            "2026-12-01T08:00:00+01:00".parse(),
            Ok(Start::At(t("2026-12-01T07:00:00Z")))
        );
        let err = "yesterday".parse::<Start>().unwrap_err();
        assert!(
            err.contains("`yesterday`") && err.contains("RFC 3339"),
            "{err}"
        );
    }

    #[test]
    fn without_cloudwatch_the_scenario_start_stays_unless_start_says_otherwise() {
        let d = Duration::from_secs(30 * 86_400);
        assert_eq!(place(None, t(SCENARIO), d, t(NOW), false), Ok(t(SCENARIO)));
        assert_eq!(
            place(Some(Start::Now), t(SCENARIO), d, t(NOW), false),
            Ok(t(NOW))
        );
    }

    #[test]
    fn a_pushed_run_ends_now_unless_start_is_given() {
        let d = Duration::from_secs(3600);
        assert_eq!(
            place(None, t(SCENARIO), d, t(NOW), true),
            Ok(t("2026-12-03T11:00:00Z"))
        );
        let at = t("2026-12-02T00:00:00Z");
        assert_eq!(
            place(Some(Start::At(at)), t(SCENARIO), d, t(NOW), true),
            Ok(at)
        );
        // Thirteen days fit; fourteen and a half do not, whatever the start.
        let long = Duration::from_secs(13 * 86_400);
        assert!(place(None, t(SCENARIO), long, t(NOW), true).is_ok());
        let too_long = Duration::from_secs(14 * 86_400 + 43_200);
        let err = place(None, t(SCENARIO), too_long, t(NOW), true).unwrap_err();
        assert!(matches!(err, PlacementError::TooLong { .. }));
        let message = err.to_string();
        assert!(message.contains("--duration 14d1h or less"), "{message}");
    }

    #[test]
    fn a_start_outside_the_window_is_refused_with_the_start_that_fits() {
        let d = Duration::from_secs(3600);
        let err = place(Some(Start::At(t(SCENARIO))), t(SCENARIO), d, t(NOW), true).unwrap_err();
        assert_eq!(
            err,
            PlacementError::TooOld {
                start: t(SCENARIO),
                earliest: t("2026-11-19T13:00:00Z"),
            }
        );
        let ahead = t("2026-12-03T13:30:00Z");
        let err = place(Some(Start::At(ahead)), t(SCENARIO), d, t(NOW), true).unwrap_err();
        assert!(
            matches!(err, PlacementError::TooNew { latest, .. } if latest == t("2026-12-03T13:00:00Z"))
        );
        assert!(err.to_string().contains("more than 2 h ahead"));
    }
}
