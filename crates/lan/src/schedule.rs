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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    use crate::site::FlowKind;

    fn flow(rate: f64, pattern: Pattern, start: u64, stop: Option<u64>) -> FlowSpec {
        FlowSpec {
            name: "f".into(),
            kind: FlowKind::Icmp,
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 1, 0, 1),
            rate,
            size: 84,
            df: false,
            pattern,
            start: Duration::from_millis(start),
            stop: stop.map(Duration::from_millis),
        }
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn steady_times_and_counts() {
        let s = Schedule::new(&flow(4.0, Pattern::Steady, 1000, Some(3000))).unwrap();
        let times: Vec<_> = (0..10).map_while(|n| s.nth(n)).collect();
        let want: Vec<_> = (0..8).map(|n| MS(1000 + 250 * n)).collect();
        assert_eq!(times, want);
        assert_eq!(s.count_before(MS(1000)), 0);
        assert_eq!(s.count_before(MS(1001)), 1);
        assert_eq!(s.count_before(MS(1250)), 1);
        assert_eq!(s.count_before(MS(1251)), 2);
        assert_eq!(s.count_before(MS(99_999)), 8);
    }

    #[test]
    fn no_drift_over_a_billion_packets() {
        let s = Schedule::new(&flow(3.0, Pattern::Steady, 0, None)).unwrap();
        assert_eq!(
            s.nth(3_000_000_000),
            Some(Duration::from_secs(1_000_000_000))
        );
        assert_eq!(s.nth(1), Some(Duration::from_nanos(333_333_333)));
        assert_eq!(
            s.count_before(Duration::from_secs(1_000_000_000)),
            3_000_000_000
        );
    }

    #[test]
    fn on_off_and_burst_windows() {
        // 10/s, on 350 ms (packets at 0, 100, 200, 300), off 650 ms.
        let on_off = Pattern::OnOff {
            on: MS(350),
            off: MS(650),
        };
        let s = Schedule::new(&flow(10.0, on_off, 0, None)).unwrap();
        let times: Vec<_> = (0..6).filter_map(|n| s.nth(n)).collect();
        assert_eq!(times, [0, 100, 200, 300, 1000, 1100].map(MS));
        assert_eq!(s.count_before(MS(2000)), 8);
        assert_eq!(s.count_before(MS(2301)), 12);
        // Bursts of 3 at 1000/s every 5 s.
        let burst = Pattern::Burst {
            every: Duration::from_secs(5),
            count: 3,
        };
        let s = Schedule::new(&flow(1000.0, burst, 0, None)).unwrap();
        let times: Vec<_> = (0..5).filter_map(|n| s.nth(n)).collect();
        assert_eq!(times, [0, 1, 2, 5000, 5001].map(MS));
        assert_eq!(s.count_before(MS(10_000)), 6);
    }

    #[test]
    fn refusals() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 2e9] {
            assert!(matches!(
                Schedule::new(&flow(rate, Pattern::Steady, 0, None)),
                Err(SiteError::BadRate { .. })
            ));
        }
        let bad = [
            Pattern::OnOff {
                on: MS(0),
                off: MS(5),
            },
            Pattern::Burst {
                every: MS(0),
                count: 1,
            },
            Pattern::Burst {
                every: MS(10),
                count: 0,
            },
            // 11 packets at 1000/s take 10 ms: longer than... exactly the period.
            Pattern::Burst {
                every: MS(10),
                count: 11,
            },
        ];
        for p in bad {
            assert!(matches!(
                Schedule::new(&flow(1000.0, p, 0, None)),
                Err(SiteError::BadPattern { .. })
            ));
        }
        assert!(Schedule::new(&flow(
            1000.0,
            Pattern::Burst {
                every: MS(10),
                count: 10
            },
            0,
            None
        ))
        .is_ok());
        assert!(matches!(
            Schedule::new(&flow(1.0, Pattern::Steady, 5, Some(4))),
            Err(SiteError::StopBeforeStart { .. })
        ));
    }

    fn pattern() -> impl proptest::strategy::Strategy<Value = Pattern> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Pattern::Steady),
            (1u64..5_000, 0u64..5_000).prop_map(|(on, off)| Pattern::OnOff {
                on: MS(on),
                off: MS(off)
            }),
            (1u64..5_000, 1u32..20).prop_map(|(every, count)| Pattern::Burst {
                every: MS(every),
                count
            }),
        ]
    }

    proptest::proptest! {
        /// The closed form and the times agree: packet n goes at nth(n), so exactly n packets
        /// go strictly before it and n + 1 at or before it; times never go backwards.
        #[test]
        fn closed_form_matches_times(
            rate in 0.001f64..5_000.0,
            pattern in pattern(),
            start in 0u64..10_000,
            stop in proptest::option::of(10_000u64..100_000),
        ) {
            let Ok(s) = Schedule::new(&flow(rate, pattern, start, stop)) else {
                return Ok(());
            };
            let mut last = Duration::ZERO;
            for n in 0..300 {
                let Some(t) = s.nth(n) else {
                    proptest::prop_assert_eq!(s.count_before(Duration::MAX), n);
                    break;
                };
                proptest::prop_assert!(t >= last);
                last = t;
                proptest::prop_assert_eq!(s.count_before(t), n);
                let next_same = s.nth(n + 1) == Some(t);
                if !next_same {
                    proptest::prop_assert_eq!(s.count_before(t + Duration::from_nanos(1)), n + 1);
                }
            }
        }
    }
}
