//! The counters a [`crate::Lan`] keeps: per flow ([`FlowStats`]) and for the whole network
//! ([`LanStats`]).

use std::time::{Duration, Instant};

/// What one flow sent and what came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowStats {
    /// Packets sent (queued for `poll_packet` at their scheduled instants).
    pub sent: u64,
    /// Packets answered (each request's first answer, within the answer time-out).
    pub answered: u64,
    /// Bytes sent (IP total lengths).
    pub bytes_sent: u64,
    /// Bytes of the answers counted in `answered` (IP total lengths, after reassembly).
    pub bytes_answered: u64,
    /// Packets with no answer within [`crate::Lan::ANSWER_TIMEOUT`].
    pub unanswered: u64,
    /// Answers that came after the time-out (already counted unanswered), or a second time.
    pub late_or_duplicate: u64,
    /// When the last counted answer arrived.
    pub last_answer: Option<Instant>,
    /// The longest round trip of a counted answer (from the request's scheduled send time).
    pub rtt_max: Duration,
}

impl FlowStats {
    /// Packets sent whose answer is still awaited: neither answered nor timed out yet.
    #[must_use]
    pub fn outstanding(&self) -> u64 {
        self.sent - self.answered - self.unanswered
    }
}

/// What a whole simulated network sent and received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LanStats {
    /// Packets handed out by `poll_packet` (flow packets and hosts' answers).
    pub packets_out: u64,
    /// Their bytes (IP total lengths).
    pub bytes_out: u64,
    /// Packets given to `deliver` (fragments counted one by one).
    pub packets_in: u64,
    /// Their bytes.
    pub bytes_in: u64,
    /// Requests a host of this network took (ICMP echo, UDP to an open port, requests).
    pub to_hosts: u64,
    /// Answers this network's hosts queued (echo replies, UDP echoes, responses).
    pub answers_queued: u64,
    /// Answers matched to one of this network's flows (first or late/duplicate).
    pub answers_to_flows: u64,
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams reassembled from fragments.
    pub reassembled: u64,
    /// Datagrams whose fragments did not all arrive within [`crate::Lan::REASSEMBLY_TIMEOUT`],
    /// or that were evicted when too many were being reassembled at once.
    pub reassembly_timeouts: u64,
    /// Packets that are not well-formed IPv4 of a kind the network understands: truncated,
    /// bad header or ICMP/UDP checksum, inconsistent fragments, not IPv4.
    pub malformed: u64,
    /// Packets to an address that is no host of this network.
    pub no_host: u64,
    /// Packets to a host that does not offer what they ask for: ping to a host without ICMP
    /// echo, UDP to a closed port, a protocol the hosts do not speak.
    pub no_service: u64,
    /// Answers (echo replies, UDP to a flow's port) that match no flow of this network.
    pub unmatched: u64,
}

impl LanStats {
    /// Every packet `deliver` turned away, whatever the reason.
    #[must_use]
    pub fn undeliverable(&self) -> u64 {
        self.malformed + self.no_host + self.no_service + self.unmatched
    }
}
