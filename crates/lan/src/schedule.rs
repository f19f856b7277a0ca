//! When a flow's packets go: the closed form of a [`Pattern`], computed from the packet's
//! index in integer nanoseconds (no drift from accumulated floating point).

use std::time::Duration;

use crate::site::{FlowSpec, Pattern, SiteError};

/// Micro-packets per second in one packet per second.
const MICRO: u128 = 1_000_000;
/// Nanoseconds in a second times [`MICRO`]: packet `j` at `j * SCALE / rate_micro` ns.
const SCALE: u128 = 1_000_000_000 * MICRO;
/// The fastest flow (packets per second).
const MAX_RATE: f64 = 1e9;

/// A flow's send times as offsets from the Lan's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// The rate in packets per 10⁶ seconds.
    rate_micro: u128,
    /// The flow's start (ns after the Lan's start).
    start: u128,
    /// The flow's stop (ns after the Lan's start, exclusive), if any.
    stop: Option<u128>,
    /// Windows: `(packets per window, window period in ns)`; `None` for a steady flow.
    window: Option<(u128, u128)>,
}

impl Schedule {
    /// The schedule of `flow`, or why it cannot be kept.
    pub(crate) fn new(flow: &FlowSpec) -> Result<Schedule, SiteError> {
        let bad = |why| SiteError::BadPattern {
            flow: flow.name.clone(),
            why,
        };
        if !(flow.rate.is_finite() && flow.rate > 0.0 && flow.rate <= MAX_RATE) {
            return Err(SiteError::BadRate {
                flow: flow.name.clone(),
                rate: flow.rate,
            });
        }
        // In range by the check above: at most 1e15, exactly representable.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rate_micro = (flow.rate * 1e6).round() as u128;
        if rate_micro == 0 {
            return Err(SiteError::BadRate {
                flow: flow.name.clone(),
                rate: flow.rate,
            });
        }
        let window = match flow.pattern {
            Pattern::Steady => None,
            Pattern::OnOff { on, off } => {
                let on = on.as_nanos();
                if on == 0 {
                    return Err(bad("an on/off pattern needs an on window longer than zero"));
                }
                // Packets j with j / rate < on: j * SCALE < on * rate.
                Some(((on * rate_micro).div_ceil(SCALE), on + off.as_nanos()))
            }
            Pattern::Burst { every, count } => {
                let every = every.as_nanos();
                if count == 0 || every == 0 {
                    return Err(bad(
                        "a burst needs at least one packet and a period longer than zero",
                    ));
                }
                let count = u128::from(count);
                if (count - 1) * SCALE >= every * rate_micro {
                    return Err(bad("a burst at this rate lasts longer than its period"));
                }
                Some((count, every))
            }
        };
        let start = flow.start.as_nanos();
        let stop = flow.stop.map(|s| s.as_nanos());
        if stop.is_some_and(|s| s < start) {
            return Err(SiteError::StopBeforeStart {
                flow: flow.name.clone(),
            });
        }
        Ok(Schedule {
            rate_micro,
            start,
            stop,
            window,
        })
    }

    /// When packet `n` goes (after the Lan's start), or `None` if the flow has stopped by then.
    pub(crate) fn nth(&self, n: u64) -> Option<Duration> {
        let n = u128::from(n);
        let at = match self.window {
            None => self.start + n * SCALE / self.rate_micro,
            Some((per, period)) => {
                self.start + (n / per) * period + (n % per) * SCALE / self.rate_micro
            }
        };
        if self.stop.is_some_and(|s| at >= s) {
            return None;
        }
        u64::try_from(at).ok().map(Duration::from_nanos)
    }

    /// How many packets go strictly before `elapsed` after the Lan's start.
    pub(crate) fn count_before(&self, elapsed: Duration) -> u64 {
        let mut end = elapsed.as_nanos();
        if let Some(stop) = self.stop {
            end = end.min(stop);
        }
        let Some(span) = end.checked_sub(self.start) else {
            return 0;
        };
        // Packets with j * SCALE / rate < span (span whole ns): j * SCALE < span * rate.
        let within = |span: u128| (span * self.rate_micro).div_ceil(SCALE);
        let count = match self.window {
            None => within(span),
            Some((per, period)) => (span / period) * per + within(span % period).min(per),
        };
        u64::try_from(count).unwrap_or(u64::MAX)
    }
}
