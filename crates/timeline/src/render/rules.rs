//! Which bursts are routine — the ones a long idle stretch is made of and that may be
//! collapsed. The rule is data (the lists below), not one `if` per scenario: a burst is
//! routine when nothing in it is a failure, a retransmission, a loss, a delay, a duplicate,
//! a collision or an unusual timer, so collapsing never hides what went wrong.

use crate::{Event, Fate, What};

/// Exchanges whose first transmission may be routine (with their answers).
const ROUTINE_KINDS: &[&str] = &[
    "DPD exchanges",
    "CHILD SA rekeys",
    "IKE SA rekeys",
    "deletes",
    "NAT-keepalives",
    "quick modes",
];

/// Notify payloads that a routine exchange carries (RFC 7296 §3.10.1 status types; RFC 3706
/// DPD). Any other notify — an error type such as `NO_PROPOSAL_CHOSEN`,
/// `TS_UNACCEPTABLE`, `TEMPORARY_FAILURE` — makes its burst worth showing.
const ROUTINE_NOTIFIES: &[&str] = &[
    "N(REKEY_SA)",
    "N(ESP_TFC_PADDING_NOT_SUPPORTED)",
    "N(NON_FIRST_FRAGMENTS_ALSO)",
    "N(USE_TRANSPORT_MODE)",
    "N(R-U-THERE)",
    "N(R-U-THERE-ACK)",
];

/// Timers that fire in a healthy tunnel's life.
const ROUTINE_TIMERS: &[&str] = &["DPD", "CHILD SA rekey", "IKE SA rekey"];

/// AWS tunnel states (`ike_phase1_state`, `ike_phase2_state`, either case) of a healthy
/// tunnel going about its business.
const ROUTINE_STATES: &[&str] = &["established", "rekeying"];

/// Words in a record's `details` that mark it as worth showing even when the states look
/// healthy (a rekey collision keeps both phases established).
const NOTABLE_WORDS: &[&str] = &[
    "collision",
    "mismatch",
    "fail",
    "FAILED",
    "timeout",
    "timed out",
    "No Proposal",
    "UNACCEPTABLE",
    "unacceptable",
    "dead",
    "retransmit",
    "INVALID",
];

/// A datagram slower than this is drawn as delayed and keeps its burst shown (µs).
pub(crate) const DELAYED_US: u64 = 100_000;

/// What [`is_routine`] decides on.
pub(crate) struct BurstFacts<'a> {
    events: &'a [Event],
}

impl<'a> BurstFacts<'a> {
    pub(crate) fn of(events: &'a [Event]) -> Self {
        Self { events }
    }
}

/// Whether a burst may be collapsed.
pub(crate) fn is_routine(burst: &BurstFacts<'_>) -> bool {
    // (kind, sender) of each CREATE_CHILD_SA request in the burst.
    let mut rekey_requests: Vec<(&str, usize)> = Vec::new();
    for event in burst.events {
        let ok = match &event.what {
            What::Datagram(d) => {
                if d.transmission > 1 || d.duplicate {
                    return false;
                }
                match d.fate {
                    Fate::Delivered { at_us } if at_us.saturating_sub(event.at_us) < DELAYED_US => {
                    }
                    _ => return false,
                }
                let notifies_ok = d
                    .message
                    .payloads
                    .iter()
                    .filter(|p| p.name.starts_with("N("))
                    .all(|p| ROUTINE_NOTIFIES.contains(&p.name.as_str()));
                let kind_ok = d.message.response
                    || super::labels::exchange_kind(d).is_some_and(|k| ROUTINE_KINDS.contains(&k));
                if d.message.exchange == "CREATE_CHILD_SA" {
                    if let Some(kind) = super::labels::exchange_kind(d) {
                        rekey_requests.push((kind, d.from));
                    }
                }
                notifies_ok && kind_ok && d.message.protection != crate::Protection::Opaque
            }
            What::Timer(t) => ROUTINE_TIMERS.contains(&t.timer.as_str()),
            What::Record(r) => {
                let state_ok = |s: &str| ROUTINE_STATES.iter().any(|r| r.eq_ignore_ascii_case(s));
                state_ok(&r.phase1)
                    && state_ok(&r.phase2)
                    && !NOTABLE_WORDS.iter().any(|w| r.details.contains(w))
            }
        };
        if !ok {
            return false;
        }
    }
    // Both sides rekeying the same kind of SA in one burst: a collision (RFC 7296 §2.8.1,
    // §2.8.2). A CHILD SA rekey by one side beside an IKE SA rekey by the other is none.
    rekey_requests.sort_unstable();
    rekey_requests.dedup();
    !rekey_requests.windows(2).any(|w| w[0].0 == w[1].0)
}
