//! What came back from a flood: each answer classified ([`Answer`]), counted per second
//! ([`Second`]) and in all ([`FloodReport`]).

use std::net::SocketAddr;

use ike_wire::{ExchangeType, Message, NotifyType, Payload};

use super::generator::NON_ESP_MARKER;

/// How an answer to a flood datagram reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// An IKE_SA_INIT response with a KE payload: the responder did its DH and holds a
    /// half-open IKE SA.
    Full,
    /// An IKE_SA_INIT response asking for a COOKIE (RFC 7296 §2.6): no state, no DH.
    Cookie,
    /// An IKE_SA_INIT response with INVALID_KE_PAYLOAD (RFC 7296 §1.3): another group.
    InvalidKe,
    /// Anything else (NO_PROPOSAL_CHOSEN, INVALID_MAJOR_VERSION, INVALID_SYNTAX, IKEv1, …).
    Other,
}

impl Answer {
    /// Classifies one datagram that came back from `from` (the non-ESP marker stripped
    /// unless it came from port 500).
    pub fn of(datagram: &[u8], from: SocketAddr) -> Answer {
        let ike = if from.port() == 500 {
            datagram
        } else {
            datagram
                .strip_prefix(&NON_ESP_MARKER[..])
                .unwrap_or(datagram)
        };
        let Ok(m) = Message::parse(ike) else {
            return Answer::Other;
        };
        if m.header.exchange != ExchangeType::IKE_SA_INIT || !m.is_response() {
            return Answer::Other;
        }
        if m.notify(NotifyType::COOKIE).is_some() {
            Answer::Cookie
        } else if m.notify(NotifyType::INVALID_KE_PAYLOAD).is_some() {
            Answer::InvalidKe
        } else if m.payloads.iter().any(|p| matches!(p, Payload::Ke(_))) {
            Answer::Full
        } else {
            Answer::Other
        }
    }
}

/// Answers counted by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    /// [`Answer::Full`].
    pub full: u64,
    /// [`Answer::Cookie`].
    pub cookie: u64,
    /// [`Answer::InvalidKe`].
    pub invalid_ke: u64,
    /// [`Answer::Other`].
    pub other: u64,
}

impl Answers {
    pub(super) fn count(&mut self, a: Answer) {
        match a {
            Answer::Full => self.full += 1,
            Answer::Cookie => self.cookie += 1,
            Answer::InvalidKe => self.invalid_ke += 1,
            Answer::Other => self.other += 1,
        }
    }

    /// Every answer.
    pub fn total(&self) -> u64 {
        self.full + self.cookie + self.invalid_ke + self.other
    }
}

/// One second of a flood: what was sent in it and what came back in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Second {
    /// Spoofed requests sent (COOKIE replies not included).
    pub sent: u64,
    /// Answers to the requests (and the COOKIE replies).
    pub answers: Answers,
}

/// What a flood did.
#[derive(Clone, Debug, Default)]
pub struct FloodReport {
    /// Spoofed IKE_SA_INIT requests sent.
    pub requests: u64,
    /// Malformed datagrams sent.
    pub malformed: u64,
    /// Requests sent again with a COOKIE.
    pub cookie_replies: u64,
    /// Answers to the requests, by kind.
    pub answers: Answers,
    /// Answers to the malformed datagrams, by kind.
    pub malformed_answers: Answers,
    /// Datagrams the OS refused to send (a full socket buffer).
    pub send_errors: u64,
    /// Second by second, from the first datagram (the drain included).
    pub seconds: Vec<Second>,
    /// Source addresses used by the requests.
    pub sources: usize,
}

impl FloodReport {
    /// Requests that got no answer at all.
    pub fn unanswered(&self) -> u64 {
        (self.requests + self.cookie_replies).saturating_sub(self.answers.total())
    }

    /// Answers per second over seconds `range` of the flood (0 when out of range).
    pub fn answer_rate(&self, range: std::ops::Range<usize>) -> f64 {
        let seconds = self.seconds.get(range).unwrap_or_default();
        if seconds.is_empty() {
            return 0.0;
        }
        let total: u64 = seconds.iter().map(|s| s.answers.total()).sum();
        super::super::float(total) / super::super::float(super::super::wide(seconds.len()))
    }

    /// The most half-open IKE SAs the answers can account for at any second: full answers
    /// so far, less `expired(second)` (the half-open SAs known to have gone by then).
    pub fn half_open_peak(&self, expired: impl Fn(usize) -> u64) -> u64 {
        let mut full = 0u64;
        let mut peak = 0u64;
        for (i, s) in self.seconds.iter().enumerate() {
            full += s.answers.full;
            peak = peak.max(full.saturating_sub(expired(i)));
        }
        peak
    }
}
