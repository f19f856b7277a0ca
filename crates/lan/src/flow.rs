//! One flow at run time: where it is in its schedule, the packets awaiting an answer, its
//! counters.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::marker::{Marker, MarkerKind};
use crate::packet::{seal, Ip, Transport, HEADERS};
use crate::schedule::Schedule;
use crate::site::{FlowKind, FlowSpec, SiteError};
use crate::stats::FlowStats;

/// A request awaiting its answer.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Its scheduled send time.
    sent: Instant,
    /// Whether its first answer came.
    answered: bool,
}

/// What an answer was to its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answered {
    /// The first answer, in time.
    First,
    /// After the time-out, or a second time.
    LateOrDuplicate,
    /// For a packet the flow never sent.
    Unknown,
}

/// A flow's run-time state.
#[derive(Debug)]
pub(crate) struct FlowState {
    /// What the flow is.
    pub(crate) spec: FlowSpec,
    /// Its index in the site (the marker's flow field, the ICMP echo identifier).
    pub(crate) index: u16,
    /// Its UDP source port (unused by ICMP flows).
    pub(crate) src_port: u16,
    /// The index of its host in the Lan's hosts.
    pub(crate) host: usize,
    schedule: Schedule,
    /// The index of the next packet to send.
    next: u64,
    /// The sent packets not yet settled (answered and retired, or timed out); the first is
    /// packet `base`.
    pending: VecDeque<Pending>,
    base: u64,
    /// Its counters.
    pub(crate) stats: FlowStats,
}

impl FlowState {
    /// The state of a flow about to start.
    pub(crate) fn new(
        spec: FlowSpec,
        index: u16,
        src_port: u16,
        host: usize,
    ) -> Result<FlowState, SiteError> {
        let schedule = Schedule::new(&spec)?;
        Ok(FlowState {
            spec,
            index,
            src_port,
            host,
            schedule,
            next: 0,
            pending: VecDeque::new(),
            base: 0,
            stats: FlowStats::default(),
        })
    }

    /// When its next packet goes (after the Lan's start), if it ever does.
    pub(crate) fn next_due(&self) -> Option<Duration> {
        self.schedule.nth(self.next)
    }

    /// Its next packet, sent at `sent` (`offset` after the Lan's start), with IP
    /// identification `ip_id` and padding from `rng`. Returns the packet and its sequence
    /// number.
    pub(crate) fn emit(
        &mut self,
        sent: Instant,
        offset: Duration,
        ip_id: u16,
        rng: &mut impl RngCore,
    ) -> (Vec<u8>, u64) {
        let seq = self.next;
        self.next += 1;
        let (kind, response_size, transport) = match self.spec.kind {
            FlowKind::Icmp => (
                MarkerKind::Echo,
                0,
                Transport::Echo {
                    reply: false,
                    id: self.index,
                    // The ICMP sequence number wraps, as ping's; the marker's does not.
                    #[allow(clippy::cast_possible_truncation)]
                    seq: seq as u16,
                },
            ),
            FlowKind::Udp { port } => (
                MarkerKind::Echo,
                0,
                Transport::Udp {
                    src: self.src_port,
                    dst: port,
                },
            ),
            FlowKind::RequestResponse {
                port,
                response_size,
            } => (
                MarkerKind::Request,
                response_size,
                Transport::Udp {
                    src: self.src_port,
                    dst: port,
                },
            ),
        };
        let marker = Marker {
            kind,
            flow: self.index,
            seq,
            sent_ns: u64::try_from(offset.as_nanos()).unwrap_or(u64::MAX),
            response_size,
        };
        let mut packet = vec![0u8; usize::from(self.spec.size)];
        packet[HEADERS..HEADERS + Marker::LEN].copy_from_slice(&marker.to_bytes());
        rng.fill_bytes(&mut packet[HEADERS + Marker::LEN..]);
        let ip = Ip {
            src: self.spec.src,
            dst: self.spec.dst,
            id: ip_id,
            df: self.spec.df,
        };
        seal(&mut packet, ip, transport);
        self.pending.push_back(Pending {
            sent,
            answered: false,
        });
        self.stats.sent += 1;
        self.stats.bytes_sent += u64::from(self.spec.size);
        (packet, seq)
    }

    /// An answer to packet `seq`, `len` bytes, arriving at `now`; `timeout` is how long a
    /// packet waits for it.
    pub(crate) fn answer(
        &mut self,
        now: Instant,
        seq: u64,
        len: u16,
        timeout: Duration,
    ) -> Answered {
        if seq >= self.next {
            return Answered::Unknown;
        }
        let Some(index) = seq
            .checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
        else {
            self.stats.late_or_duplicate += 1;
            return Answered::LateOrDuplicate;
        };
        let Some(pending) = self.pending.get_mut(index) else {
            return Answered::Unknown;
        };
        let rtt = now.saturating_duration_since(pending.sent);
        if pending.answered || rtt >= timeout {
            self.stats.late_or_duplicate += 1;
            return Answered::LateOrDuplicate;
        }
        pending.answered = true;
        self.stats.answered += 1;
        self.stats.bytes_answered += u64::from(len);
        self.stats.last_answer = Some(now);
        self.stats.rtt_max = self.stats.rtt_max.max(rtt);
        Answered::First
    }

    /// Whether packet `seq` is the oldest unsettled one and has its answer.
    pub(crate) fn front_answered(&self, seq: u64) -> bool {
        self.base == seq && self.pending.front().is_some_and(|p| p.answered)
    }

    /// Settles packet `seq`, the oldest unsettled one: unanswered if its answer never came.
    pub(crate) fn retire(&mut self, seq: u64) {
        if self.base != seq {
            return;
        }
        if let Some(p) = self.pending.pop_front() {
            self.base += 1;
            if !p.answered {
                self.stats.unanswered += 1;
            }
        }
    }
}
