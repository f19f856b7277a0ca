//! The bytes each AWS endpoint carried per minute of the records' clock — what AWS's
//! `TunnelDataIn` (received, after decryption) and `TunnelDataOut` (sent, before
//! encryption) sum — handed on once each minute is over, in time order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use vpn_log::DataBytes;

const MINUTE: Duration = Duration::from_secs(60);

/// One endpoint's current minute.
#[derive(Clone, Copy, Debug)]
struct Current {
    index: u64,
    bytes: DataBytes,
}

/// Per-minute byte counts of the AWS endpoints (by host index).
#[derive(Debug)]
pub(super) struct Minutes {
    /// When the first minute of the records' clock ends (the start need not be on a
    /// minute).
    first_end: Instant,
    current: Vec<(usize, Option<Current>)>,
    /// Minutes over, not yet handed on: (host, minute's end, bytes), in time order.
    ready: VecDeque<(usize, Instant, DataBytes)>,
}

impl Minutes {
    /// `hosts` are the AWS endpoints; `first_end` when the minute the run starts in ends.
    pub(super) fn new(hosts: impl IntoIterator<Item = usize>, first_end: Instant) -> Minutes {
        Minutes {
            first_end,
            current: hosts.into_iter().map(|h| (h, None)).collect(),
            ready: VecDeque::new(),
        }
    }

    fn index(&self, now: Instant) -> u64 {
        match now.checked_duration_since(self.first_end) {
            None => 0,
            Some(after) => 1 + after.as_secs() / 60,
        }
    }

    fn end(&self, index: u64) -> Instant {
        let minutes = u32::try_from(index).unwrap_or(u32::MAX);
        self.first_end + MINUTE * minutes
    }

    /// Counts `len` inner bytes through AWS endpoint `host` at `now`.
    pub(super) fn add(&mut self, host: usize, now: Instant, len: usize, received: bool) {
        self.close(now);
        let index = self.index(now);
        let Some((_, slot)) = self.current.iter_mut().find(|(h, _)| *h == host) else {
            return;
        };
        let current = slot.get_or_insert(Current {
            index,
            bytes: DataBytes::default(),
        });
        let len = len as u64;
        if received {
            current.bytes.received += len;
        } else {
            current.bytes.sent += len;
        }
    }

    /// Moves the minutes that are over at `now` to the ready queue, earliest first.
    pub(super) fn close(&mut self, now: Instant) {
        let index = self.index(now);
        let mut over: Vec<(usize, u64, DataBytes)> = Vec::new();
        for (host, slot) in &mut self.current {
            if let Some(c) = slot.filter(|c| c.index < index) {
                over.push((*host, c.index, c.bytes));
                *slot = None;
            }
        }
        over.sort_by_key(|&(host, index, _)| (index, host));
        for (host, index, bytes) in over {
            let end = self.end(index);
            self.ready.push_back((host, end, bytes));
        }
    }

    /// Every minute still open, as if the clock had moved past it (the end of the run).
    pub(super) fn close_all(&mut self) {
        let last = self
            .current
            .iter()
            .filter_map(|(_, c)| c.map(|c| c.index))
            .max();
        if let Some(last) = last {
            let after = self.end(last) + Duration::from_nanos(1);
            self.close(after);
        }
    }

    /// The next minute over: (AWS host, the minute's end, its bytes).
    pub(super) fn pop(&mut self) -> Option<(usize, Instant, DataBytes)> {
        self.ready.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_minute_is_handed_on_once_it_is_over_in_time_order() {
        let t0 = Instant::now();
        let first_end = t0 + Duration::from_secs(30); // the run starts at :30
        let mut m = Minutes::new([0, 2], first_end);
        m.add(0, t0, 100, true);
        m.add(2, t0 + Duration::from_secs(10), 5, false);
        m.add(0, t0 + Duration::from_secs(29), 1, false);
        assert_eq!(m.pop(), None);
        m.add(0, t0 + Duration::from_secs(95), 7, true); // the third minute (:90 to :150)
        let a = m.pop().unwrap();
        let b = m.pop().unwrap();
        assert_eq!(
            a,
            (
                0,
                first_end,
                DataBytes {
                    received: 100,
                    sent: 1
                }
            )
        );
        assert_eq!(
            b,
            (
                2,
                first_end,
                DataBytes {
                    received: 0,
                    sent: 5
                }
            )
        );
        assert_eq!(m.pop(), None);
        // A minute without bytes is not handed on; the last one at the end of the run.
        m.close(t0 + Duration::from_secs(400));
        assert_eq!(
            m.pop(),
            Some((
                0,
                first_end + MINUTE * 2,
                DataBytes {
                    received: 7,
                    sent: 0
                }
            ))
        );
        m.add(2, t0 + Duration::from_secs(401), 3, true);
        m.close_all();
        let (host, end, bytes) = m.pop().unwrap();
        assert_eq!((host, end, bytes.received), (2, first_end + MINUTE * 7, 3));
    }
}
