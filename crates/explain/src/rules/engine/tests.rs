//! The engine's window, count and nearness logic on hand-made records.

use chrono::{DateTime, Utc};
use vpn_log::PhaseState::{self, Down, Established, Negotiating};

use super::super::table::RULES;
use super::super::{Dir, Near, Pattern, Rule, Severity, When};
use super::{densest, diagnose, facts, triggers};
use crate::{Entry, Source, Stream};

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default()
}

fn stream(records: &[(i64, PhaseState, PhaseState, &str)]) -> Stream {
    Stream {
        name: "vpn-0a1b2c3d-198.51.100.7".to_owned(),
        entries: records
            .iter()
            .enumerate()
            .map(|(i, &(t, p1, p2, details))| Entry {
                index: i,
                source: Source {
                    file: "test".to_owned(),
                    line: i + 1,
                },
                record: vpn_log::TunnelRecord {
                    time: at(t),
                    dpd_enabled: true,
                    nat_t_detected: false,
                    ike_phase1_state: p1,
                    ike_phase2_state: p2,
                    details: details.to_owned(),
                },
            })
            .collect(),
    }
}

const DPD: &str = "AWS tunnel DPD timed out after 3 retransmits";
const UP: &str = "AWS tunnel Phase 2 CHILD_SA established with SPIs: 11111111_i 22222222_o";

#[test]
fn densest_window_counts_inclusive_edges() {
    let times: Vec<_> = [0, 10, 20, 100, 105, 110, 115]
        .iter()
        .map(|&s| at(s))
        .collect();
    assert_eq!(densest(&times, 15), 4, "100..=115");
    assert_eq!(densest(&times, 20), 4);
    assert_eq!(densest(&times, 4), 1);
    assert_eq!(densest(&times, 5), 2, "100 and 105");
    assert_eq!(densest(&times, 1000), 7);
    assert_eq!(densest(&[], 10), 0);
}

#[test]
fn a_window_rule_fires_only_when_enough_triggers_are_close() {
    let rule = Rule {
        id: "test-dense",
        severity: Severity::Warning,
        trigger: Pattern::messages(&["ikev2-dpd-timeout"]),
        when: When::Always,
        with: &[],
        without: &[],
        also: &[],
        at_least: 3,
        window_s: Some(3600),
        outcomes: &[],
        title: "{count} in {span}",
        title_many: "",
        many: 0,
        cause: "",
        guide: super::super::Guide::None,
        repro: &[],
    };
    let spread = stream(&[
        (0, Established, Established, DPD),
        (4000, Established, Established, DPD),
        (8000, Established, Established, DPD),
    ]);
    assert!(
        super::run(&rule, &facts(&spread), None).is_none(),
        "over 2 h"
    );
    let close = stream(&[
        (0, Established, Established, DPD),
        (4000, Established, Established, DPD),
        (4040, Established, Established, DPD),
        (4080, Established, Established, DPD),
    ]);
    let f = super::run(&rule, &facts(&close), None);
    assert_eq!(
        f.map(|f| (f.title, f.evidence)),
        Some(("4 in 1 h 8 min".to_owned(), vec![0, 1, 2, 3])),
        "every trigger is evidence"
    );
}

#[test]
fn nearness_looks_only_the_asked_way_and_distance() {
    let s = stream(&[
        (
            0,
            Negotiating,
            Down,
            "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 192.0.2.9",
        ),
        (2, Down, Down, DPD),
        (
            9,
            Negotiating,
            Down,
            "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 192.0.2.9",
        ),
    ]);
    let f = facts(&s);
    let near = |dir, within_s| Near {
        pattern: Pattern::messages(&["ikesim-negotiating-ike-sa"]),
        dir,
        within_s,
    };
    let found = |n: Near| super::nearby(&f, 1, &n).collect::<Vec<_>>();
    assert_eq!(found(near(Dir::After, 5)), Vec::<usize>::new());
    assert_eq!(found(near(Dir::After, 7)), vec![2], "7 s after, inclusive");
    assert_eq!(found(near(Dir::Before, 2)), vec![0]);
    assert_eq!(found(near(Dir::Before, 1)), Vec::<usize>::new());
}

#[test]
fn at_setup_and_after_first_up_split_on_the_first_phase2_up() {
    let refused = "No Proposal Match Found. Notifying with \"No proposal chosen\"";
    let s = stream(&[
        (0, Established, Down, refused),
        (5, Established, Established, UP),
        (3600, Established, Down, refused),
        (7212, Established, Down, refused),
    ]);
    let f = facts(&s);
    let rule = |id: &str| RULES.iter().find(|r| r.id == id);
    let setup = rule("phase2-proposal-not-allowed").map(|r| triggers(r, &f));
    let rekey = rule("phase2-refused-at-rekey").map(|r| triggers(r, &f));
    assert_eq!(setup, Some(vec![0]));
    assert_eq!(rekey, Some(vec![2, 3]));
    let d = diagnose(&s);
    let titles: Vec<_> = d
        .findings
        .iter()
        .map(|f| (f.id, f.title.as_str()))
        .collect();
    assert!(
        titles.contains(&(
            "phase2-refused-at-rekey",
            "phase 2 refused at 2 rekeys after it first came up: at 11-14 23:13:20, 11-15 00:13:32"
        )),
        "{titles:?}"
    );
}

#[test]
fn dpd_action_is_read_from_what_follows() {
    let restart = stream(&[
        (0, Established, Established, UP),
        (640, Down, Down, DPD),
        (
            640,
            Negotiating,
            Down,
            "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 192.0.2.9",
        ),
    ]);
    let clear = stream(&[(0, Established, Established, UP), (640, Down, Down, DPD)]);
    let none = stream(&[
        (0, Established, Established, UP),
        (640, Established, Established, DPD),
        (680, Established, Established, DPD),
        (720, Established, Established, DPD),
    ]);
    let dpd = |s: &Stream| {
        diagnose(s)
            .findings
            .into_iter()
            .find(|f| f.id == "dpd-timeout")
            .map(|f| (f.title, f.scenario))
    };
    assert_eq!(
        dpd(&restart),
        Some((
            "DPD timed out (1 time): the CGW stopped answering, DPD action restart".to_owned(),
            Some("ikev2-dpd-restart")
        ))
    );
    assert_eq!(dpd(&clear).and_then(|d| d.1), Some("ikev2-dpd-clear"));
    assert_eq!(
        dpd(&none),
        Some((
            "3 DPD time-outs in 1 min 20 s, DPD action none".to_owned(),
            Some("ikev2-dpd-none")
        ))
    );
}

#[test]
fn every_message_a_rule_names_is_in_the_catalogue() {
    for r in RULES {
        let nears = r.with.iter().chain(r.without).chain(r.also);
        let names = r
            .trigger
            .messages
            .iter()
            .chain(nears.flat_map(|n| n.pattern.messages.iter()));
        for id in names {
            assert!(
                vpn_log::by_id(id).is_some(),
                "rule {}: no message {id}",
                r.id
            );
        }
    }
}
