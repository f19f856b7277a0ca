//! Records as CloudWatch Logs events, cut into PutLogEvents calls (reference §5).
//!
//! A call carries at most [`MAX_EVENTS`] events and [`MAX_BYTES`] bytes, where an event
//! counts its message's UTF-8 bytes plus [`EVENT_OVERHEAD`]; its events are in
//! chronological order and span less than [`MAX_SPAN_MS`]. A [`Batcher`] holds one
//! stream's pending events and hands back a full [`Batch`] when the next event would break
//! one of those rules.

use vpn_log::{Format, Schema, TunnelRecord};

/// Most events in one PutLogEvents call.
pub const MAX_EVENTS: usize = 10_000;
/// Most bytes in one call: the messages' UTF-8 bytes plus [`EVENT_OVERHEAD`] per event.
pub const MAX_BYTES: usize = 1_048_576;
/// What CloudWatch Logs counts for each event besides its message.
pub const EVENT_OVERHEAD: usize = 26;
/// A call's events must lie within 24 hours: first to last is less than this.
pub const MAX_SPAN_MS: i64 = 24 * 60 * 60 * 1000;

/// One CloudWatch Logs event: the record's time in epoch milliseconds and its rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    /// Epoch milliseconds (the record's creation time).
    pub timestamp: i64,
    /// The record as the stream's format renders it, without a newline.
    pub message: String,
}

impl LogEvent {
    /// The event for `record` in `format` and `schema`.
    pub fn of(record: &TunnelRecord, format: Format, schema: Schema) -> LogEvent {
        LogEvent {
            timestamp: record.time.timestamp_millis(),
            message: record.render(format, schema),
        }
    }

    /// What the event counts towards [`MAX_BYTES`].
    pub fn size(&self) -> usize {
        self.message.len() + EVENT_OVERHEAD
    }
}

/// The events of one PutLogEvents call, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// At least one event; chronological.
    pub events: Vec<LogEvent>,
}

impl Batch {
    /// The batch's size as PutLogEvents counts it.
    pub fn size(&self) -> usize {
        self.events.iter().map(LogEvent::size).sum()
    }
}

/// One stream's pending events.
#[derive(Debug, Default)]
pub struct Batcher {
    pending: Vec<LogEvent>,
    bytes: usize,
}

impl Batcher {
    /// An empty batcher.
    pub fn new() -> Batcher {
        Batcher::default()
    }

    /// Adds `event`. When it cannot join the pending events (too many, too large, more than
    /// 24 h after the first, or earlier than the last), those are returned as a batch and
    /// `event` starts the next one.
    pub fn push(&mut self, event: LogEvent) -> Option<Batch> {
        let full = match (self.pending.first(), self.pending.last()) {
            (Some(first), Some(last)) => {
                self.pending.len() >= MAX_EVENTS
                    || self.bytes + event.size() > MAX_BYTES
                    || event.timestamp - first.timestamp >= MAX_SPAN_MS
                    || event.timestamp < last.timestamp
            }
            _ => false,
        };
        let done = if full { self.take() } else { None };
        self.bytes += event.size();
        self.pending.push(event);
        done
    }

    /// The pending events as a batch, if there are any.
    pub fn take(&mut self) -> Option<Batch> {
        if self.pending.is_empty() {
            return None;
        }
        self.bytes = 0;
        Some(Batch {
            events: std::mem::take(&mut self.pending),
        })
    }

    /// How many events are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Cuts `events` (one stream's, in the order written) into batches.
pub fn batches(events: impl IntoIterator<Item = LogEvent>) -> Vec<Batch> {
    let mut batcher = Batcher::new();
    let mut out: Vec<Batch> = events.into_iter().filter_map(|e| batcher.push(e)).collect();
    out.extend(batcher.take());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp: i64, len: usize) -> LogEvent {
        LogEvent {
            timestamp,
            message: "x".repeat(len),
        }
    }

    fn check(batches: &[Batch]) {
        for b in batches {
            assert!(!b.events.is_empty());
            assert!(b.events.len() <= MAX_EVENTS);
            assert!(b.size() <= MAX_BYTES, "{}", b.size());
            let (first, last) = (&b.events[0], b.events.last().unwrap());
            assert!(last.timestamp - first.timestamp < MAX_SPAN_MS);
            assert!(b
                .events
                .windows(2)
                .all(|w| w[0].timestamp <= w[1].timestamp));
        }
    }

    #[test]
    fn the_event_count_limit_cuts_at_ten_thousand() {
        let all: Vec<_> = (0..25_001).map(|i| event(i, 10)).collect();
        let out = batches(all.clone());
        check(&out);
        let sizes: Vec<_> = out.iter().map(|b| b.events.len()).collect();
        assert_eq!(sizes, [10_000, 10_000, 5_001]);
        let back: Vec<_> = out.into_iter().flat_map(|b| b.events).collect();
        assert_eq!(back, all);
    }

    #[test]
    fn the_byte_limit_counts_26_bytes_per_event() {
        // 1,000 events of 1,022 bytes count 1,048,000: one more does not fit.
        let all: Vec<_> = (0..1_001).map(|i| event(i, 1_022)).collect();
        let out = batches(all);
        check(&out);
        assert_eq!(out[0].events.len(), 1_000);
        assert_eq!(out[0].size(), 1_048_000);
        assert_eq!(out[1].events.len(), 1);
        // Exactly the limit fits.
        let exact = MAX_BYTES / 2 - EVENT_OVERHEAD;
        let out = batches([event(0, exact), event(1, exact)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].size(), MAX_BYTES);
    }

    #[test]
    fn a_batch_spans_less_than_24_hours_and_stays_chronological() {
        let out = batches([
            event(0, 1),
            event(MAX_SPAN_MS - 1, 1),
            event(MAX_SPAN_MS, 1),
            event(MAX_SPAN_MS + 5, 1),
            // Earlier than the last: a new call, never an unordered one.
            event(MAX_SPAN_MS + 4, 1),
        ]);
        check(&out);
        let sizes: Vec<_> = out.iter().map(|b| b.events.len()).collect();
        assert_eq!(sizes, [2, 2, 1]);
    }

    #[test]
    fn nothing_pending_is_no_batch() {
        let mut b = Batcher::new();
        assert!(b.take().is_none());
        assert!(b.push(event(1, 1)).is_none());
        assert_eq!(b.len(), 1);
        assert_eq!(b.take().map(|b| b.events.len()), Some(1));
        assert!(b.is_empty());
        assert!(batches(Vec::new()).is_empty());
    }
}
