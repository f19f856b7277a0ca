//! The bytes a `serve` tunnel carried, minute by minute, for `RecordSink::data` (what
//! `TunnelDataIn` / `TunnelDataOut` sum): each minute that carried any is handed on once it
//! is over.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use vpn_log::DataBytes;

/// One tunnel's bytes of the minute under way.
#[derive(Debug, Default)]
pub(super) struct Minutes {
    /// The end of the minute being counted, if it carried anything.
    end: Option<DateTime<Utc>>,
    bytes: DataBytes,
}

/// The end of the minute `at` falls in.
fn minute_end(at: DateTime<Utc>) -> DateTime<Utc> {
    let minute = TimeDelta::minutes(1);
    at.duration_trunc(minute).unwrap_or(at) + minute
}

impl Minutes {
    /// Counts bytes carried at `at`; returns the minute before, if that one is over.
    pub fn add(
        &mut self,
        at: DateTime<Utc>,
        received: u64,
        sent: u64,
    ) -> Option<(DateTime<Utc>, DataBytes)> {
        let over = self.over(at);
        let end = *self.end.get_or_insert_with(|| minute_end(at));
        debug_assert!(at < end);
        self.bytes.received += received;
        self.bytes.sent += sent;
        over
    }

    /// The minute under way, if it is over at `now` (and then forgotten).
    pub fn over(&mut self, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DataBytes)> {
        let end = self.end.filter(|end| now >= *end)?;
        self.end = None;
        Some((end, std::mem::take(&mut self.bytes)))
    }

    /// The minute under way, whether it is over or not (serve is stopping).
    pub fn finish(&mut self) -> Option<(DateTime<Utc>, DataBytes)> {
        let end = self.end.take()?;
        Some((end, std::mem::take(&mut self.bytes)))
    }

    /// When the minute under way ends, if one is.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_handed_on_once_over() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let mut m = Minutes::default();
        assert_eq!(m.add(t("2026-12-04T14:00:10Z"), 100, 50), None);
        assert_eq!(m.add(t("2026-12-04T14:00:59Z"), 1, 2), None);
        assert_eq!(m.end(), Some(t("2026-12-04T14:01:00Z")));
        assert_eq!(m.over(t("2026-12-04T14:00:59.9Z")), None);
        let first = m.add(t("2026-12-04T14:02:30Z"), 7, 0);
        let bytes = DataBytes {
            received: 101,
            sent: 52,
        };
        assert_eq!(first, Some((t("2026-12-04T14:01:00Z"), bytes)));
        assert_eq!(
            m.over(t("2026-12-04T14:03:00Z")).map(|(_, b)| b.received),
            Some(7)
        );
        assert_eq!(m.over(t("2026-12-04T14:04:00Z")), None);
        assert_eq!(m.finish(), None);
    }
}
