//! What the rules are written with: the rule with every default (`BASE`), how a rule
//! names its reproducing scenario, what must come before or after a trigger, and the
//! message sets several rules share.

use vpn_log::IkeVersion::V1;
use vpn_log::PhaseState;
use vpn_log::PhaseState::{Down, Established, Negotiating, Rekeying};

use super::super::{Dir, Guide, Near, Pattern, Repro, Rule, Severity, When};

pub(super) const UP: &[PhaseState] = &[Established, Rekeying];
pub(super) const NOT_UP: &[PhaseState] = &[Down, Negotiating];

pub(super) const fn repro(scenario: &'static str) -> Repro {
    Repro {
        scenario,
        ike: None,
        outcome: None,
        at_least: 0,
    }
}

pub(super) const fn repro_v1(scenario: &'static str) -> Repro {
    Repro {
        scenario,
        ike: Some(V1),
        outcome: None,
        at_least: 0,
    }
}

pub(super) const fn repro_if(outcome: &'static str, scenario: &'static str) -> Repro {
    Repro {
        scenario,
        ike: None,
        outcome: Some(outcome),
        at_least: 0,
    }
}

pub(super) const fn after(messages: &'static [&'static str], within_s: i64) -> Near {
    Near {
        pattern: Pattern::messages(messages),
        dir: Dir::After,
        within_s,
    }
}

pub(super) const fn before(messages: &'static [&'static str], within_s: i64) -> Near {
    Near {
        pattern: Pattern::messages(messages),
        dir: Dir::Before,
        within_s,
    }
}

/// A rule with the defaults: any time, one trigger, nothing around it required.
pub(super) const BASE: Rule = Rule {
    id: "",
    severity: Severity::Error,
    trigger: Pattern::messages(&[]),
    when: When::Always,
    with: &[],
    without: &[],
    also: &[],
    at_least: 1,
    window_s: None,
    outcomes: &[],
    title: "",
    title_many: "",
    many: 0,
    cause: "",
    guide: Guide::None,
    repro: &[],
};

pub(super) const PROPOSAL_REFUSED: &[&str] = &[
    "no-proposal-chosen",
    "no-proposal-match-by-aws",
    "ikesim-received-no-proposal-chosen",
];
