//! The report for people. Per stream: a header, the diagnosis first (life, findings with
//! their evidence, guide page and scenario), then the records, each with its meaning on
//! the line below. The two tunnels of one VPN connection get their diagnoses side by side
//! in two columns (what one compares between tunnels), then their records one stream after
//! the other: AWS's messages run to 100 characters, so records in two columns would wrap
//! every line. Wrapped text keeps to 120 columns, a pair of columns to 159.

use std::collections::HashSet;
use std::fmt::Write;

use super::{guide_path, Records, Report, StreamReport};
use crate::rules::{words, LifeState, Severity};

/// The width wrapped text keeps to for one stream (records' own lines may be longer).
const WIDTH: usize = 120;
/// No line is longer (a record's own line fits: AWS's messages are shorter).
const LINE: usize = 160;
/// One column of a side-by-side pair.
const COLUMN: usize = 78;
/// Runs of at least this many foldable records are folded.
const FOLD: usize = 6;

/// The report as text; `records` says how many records to list.
pub fn text(report: &Report<'_>, records: Records) -> String {
    let mut out = String::new();
    if report.streams.is_empty() {
        out.push_str("no tunnel log records\n");
        return out;
    }
    let mut done = HashSet::new();
    for c in &report.connections {
        let pair: Vec<&StreamReport<'_>> = c
            .streams
            .iter()
            .filter_map(|&i| report.streams.get(i))
            .collect();
        let _ = writeln!(out, "══ VPN connection {} ({} tunnels)", c.vpn, pair.len());
        for chunk in pair.chunks(2) {
            let columns: Vec<Vec<String>> = chunk
                .iter()
                .map(|s| {
                    let mut lines = header(s);
                    lines.extend(diagnosis(s, COLUMN));
                    lines
                })
                .collect();
            side_by_side(&mut out, &columns);
        }
        for f in &c.findings {
            let _ = writeln!(out, "connection: {} — {}", label(f.severity), f.title);
            for line in words::wrap(&f.cause, WIDTH - 4) {
                let _ = writeln!(out, "    {line}");
            }
            if let Some(s) = f.scenario {
                let _ = writeln!(out, "    reproduce: ikesim run {s}");
            }
        }
        out.push('\n');
        for s in &pair {
            if records != Records::None {
                let _ = writeln!(out, "── records of {}", s.stream.name);
                listing(&mut out, s, records);
                out.push('\n');
            }
            done.insert(s.stream.name.as_str());
        }
    }
    for s in &report.streams {
        if done.contains(s.stream.name.as_str()) {
            continue;
        }
        for line in header(s) {
            let _ = writeln!(out, "{line}");
        }
        for line in diagnosis(s, WIDTH) {
            let _ = writeln!(out, "{line}");
        }
        if records != Records::None {
            let _ = writeln!(out, "records");
            listing(&mut out, s, records);
        }
        out.push('\n');
    }
    out
}

fn label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "info",
    }
}

fn one_day(s: &StreamReport<'_>) -> bool {
    match (s.stream.entries.first(), s.stream.entries.last()) {
        (Some(a), Some(b)) => a.record.time.date_naive() == b.record.time.date_naive(),
        _ => true,
    }
}

fn header(s: &StreamReport<'_>) -> Vec<String> {
    let entries = &s.stream.entries;
    let mut lines = vec![format!("══ {}", s.stream.name)];
    if let (Some(a), Some(b)) = (entries.first(), entries.last()) {
        lines.push(format!(
            "{}, {}",
            words::count(entries.len(), "record"),
            s.ike
                .map_or("IKE version unknown from the messages", |v| v.as_str())
        ));
        lines.push(format!(
            "{} → {} ({})",
            words::full(a.record.time),
            words::full(b.record.time),
            words::span(words::seconds(a.record.time, b.record.time)),
        ));
    } else {
        lines.push("no records".to_owned());
    }
    lines
}

/// The diagnosis in lines of at most `width` characters.
fn diagnosis(s: &StreamReport<'_>, width: usize) -> Vec<String> {
    let day = one_day(s);
    let d = &s.diagnosis;
    let changes = if d.changes == 1 {
        "1 change of state".to_owned()
    } else {
        format!("{} changes of state", d.changes)
    };
    let mut lines = vec![format!("life ({changes}):")];
    let up: f64 = d
        .life
        .iter()
        .filter(|p| p.state == LifeState::Up)
        .map(|p| words::seconds(p.from, p.to))
        .sum();
    // A state held for no time at all (phase 1 up and phase 2 up in the same millisecond)
    // is noise for people; the JSON keeps every period. A moment down is kept.
    let periods: Vec<&crate::rules::Period> = d
        .life
        .iter()
        .filter(|p| p.open || p.from != p.to || p.state == LifeState::Down)
        .collect();
    let shown = if periods.len() > 12 {
        lines.push(format!(
            "  {} periods, up {} in all; the last 10:",
            periods.len(),
            words::span(up)
        ));
        &periods[periods.len() - 10..]
    } else {
        &periods[..]
    };
    for p in shown {
        for (k, line) in words::wrap(&p.words(day), width - 4)
            .into_iter()
            .enumerate()
        {
            lines.push(format!("{}{line}", if k == 0 { "  " } else { "    " }));
        }
    }
    lines.push("findings:".to_owned());
    for f in &d.findings {
        let tag = label(f.severity);
        for (k, line) in words::wrap(&f.title, width - 10).into_iter().enumerate() {
            lines.push(if k == 0 {
                format!("  {tag:<7} {line}")
            } else {
                format!("          {line}")
            });
        }
        for line in words::wrap(&format!("cause: {}", f.cause), width - 10) {
            lines.push(format!("          {line}"));
        }
        let mut ev: Vec<String> = f
            .evidence
            .iter()
            .take(6)
            .filter_map(|&i| s.stream.entries.get(i))
            .map(|e| format!("#{} {}", e.index, words::short(e.record.time, day)))
            .collect();
        if f.evidence.len() > 6 {
            ev.push(format!("… ({} records)", f.evidence.len()));
        }
        if !ev.is_empty() {
            for line in words::wrap(&format!("evidence: {}", ev.join(", ")), width - 10) {
                lines.push(format!("          {line}"));
            }
        }
        let mut refs = Vec::new();
        if let Some(g) = f.guide {
            refs.push(format!("read {}", guide_path(g)));
        }
        if let Some(sc) = f.scenario {
            refs.push(format!("reproduce: ikesim run {sc}"));
        }
        if !refs.is_empty() {
            for line in words::wrap(&refs.join(" · "), width - 10) {
                lines.push(format!("          {line}"));
            }
        }
    }
    lines
}

fn side_by_side(out: &mut String, columns: &[Vec<String>]) {
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    for r in 0..rows {
        let cell = |c: usize| {
            columns
                .get(c)
                .and_then(|col| col.get(r))
                .map_or("", String::as_str)
        };
        let left = cell(0);
        let pad = COLUMN.saturating_sub(left.chars().count());
        let right = cell(1);
        let line = format!("{left}{} │ {right}", " ".repeat(pad));
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Whether the record can be folded away: known, evidence of no warning or error, and the
/// tunnel's state the same as before it.
fn routine(s: &StreamReport<'_>, i: usize, serious: &HashSet<usize>) -> bool {
    let entries = &s.stream.entries;
    let same = i > 0 && LifeState::of(&entries[i - 1].record) == LifeState::of(&entries[i].record);
    same && s.meanings[i].known() && !serious.contains(&i)
}

fn listing(out: &mut String, s: &StreamReport<'_>, records: Records) {
    let day = one_day(s);
    let entries = &s.stream.entries;
    let serious: HashSet<usize> = s
        .diagnosis
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .flat_map(|f| f.evidence.iter().copied())
        .collect();
    let mut i = 0;
    while i < entries.len() {
        if records == Records::Folded {
            // A run of one repeated message (same catalogue entry, same states).
            let same = |j: usize| {
                s.meanings[j].id().is_some()
                    && s.meanings[j].id() == s.meanings[i].id()
                    && entries[j].record.ike_phase1_state == entries[i].record.ike_phase1_state
                    && entries[j].record.ike_phase2_state == entries[i].record.ike_phase2_state
            };
            let run = (i..entries.len()).take_while(|&j| same(j)).count();
            if run >= FOLD {
                let last = &entries[i + run - 1];
                let _ = writeln!(
                    out,
                    "  … #{}–#{} {} → {}: {} × {}",
                    i,
                    i + run - 1,
                    words::short(entries[i].record.time, day),
                    words::short(last.record.time, day),
                    run,
                    entries[i].record.details
                );
                i += run;
                continue;
            }
            let run = (i..entries.len())
                .take_while(|&j| routine(s, j, &serious))
                .count();
            if run >= FOLD {
                fold(out, s, i, run, day);
                i += run;
                continue;
            }
        }
        record(out, s, i, day);
        i += 1;
    }
}

fn fold(out: &mut String, s: &StreamReport<'_>, i: usize, run: usize, day: bool) {
    let entries = &s.stream.entries;
    let ids: Vec<Option<&str>> = (i..i + run).map(|j| s.meanings[j].id()).collect();
    let n = |id: &str| ids.iter().filter(|x| **x == Some(id)).count();
    let child = n("ikesim-child-sa-rekeyed");
    let ike = n("ikesim-ike-sa-rekeyed") + n("ikesim-ike-sa-established");
    let _ = writeln!(
        out,
        "  … #{}–#{} {} → {}: {} records, {}, {}, no change of the tunnel's state (normal; \
         --records all lists them)",
        i,
        i + run - 1,
        words::short(entries[i].record.time, day),
        words::short(entries[i + run - 1].record.time, day),
        run,
        words::count(child, "phase 2 rekey"),
        words::count(ike, "phase 1 rekey"),
    );
}

fn record(out: &mut String, s: &StreamReport<'_>, i: usize, day: bool) {
    let e = &s.stream.entries[i];
    let states = format!(
        "{}/{}",
        e.record.ike_phase1_state, e.record.ike_phase2_state
    );
    let _ = writeln!(
        out,
        "  #{:<4} {}  {states:<24} {}",
        e.index,
        words::short(e.record.time, day),
        e.record.details
    );
    let text = format!("→ {}", s.meanings[i].text);
    for line in words::wrap(&text, LINE - 9) {
        let _ = writeln!(out, "         {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Entry, Input, Source, Stream};
    use vpn_log::PhaseState::{Down, Established, Negotiating};

    fn stream(
        name: &str,
        records: &[(i64, vpn_log::PhaseState, vpn_log::PhaseState, &str)],
    ) -> Stream {
        Stream {
            name: name.to_owned(),
            entries: records
                .iter()
                .enumerate()
                .map(|(i, &(t, p1, p2, d))| Entry {
                    index: i,
                    source: Source {
                        file: "t".to_owned(),
                        line: i + 1,
                    },
                    record: vpn_log::TunnelRecord {
                        time: chrono::DateTime::from_timestamp(1_767_225_600 + t, 0)
                            .unwrap_or_default(),
                        dpd_enabled: true,
                        nat_t_detected: false,
                        ike_phase1_state: p1,
                        ike_phase2_state: p2,
                        details: d.to_owned(),
                    },
                })
                .collect(),
        }
    }

    const UP: &str = "AWS tunnel Phase 2 CHILD_SA established with SPIs: 01020304_i 05060708_o";
    const DPD: &str = "AWS tunnel DPD timed out after 2 retransmits";

    #[test]
    fn repeated_messages_fold_into_one_line_short_runs_do_not() {
        let mut records = vec![(0, Established, Established, UP)];
        records.extend((1..=7).map(|k| (k * 40, Established, Established, DPD)));
        let input = Input {
            streams: vec![stream("s", &records)],
            problems: Vec::new(),
        };
        let report = super::super::build(&input);
        let folded = text(&report, Records::Folded);
        assert!(
            folded.contains("  … #1–#7 00:00:40.000 → 00:04:40.000: 7 × AWS tunnel DPD timed out"),
            "{folded}"
        );
        let all = text(&report, Records::All);
        assert_eq!(
            all.lines().filter(|l| l.starts_with("  #")).count(),
            8,
            "{all}"
        );
        let short = Input {
            streams: vec![stream("s", &records[..6])],
            problems: Vec::new(),
        };
        let out = text(&super::super::build(&short), Records::Folded);
        assert!(!out.contains('…'), "a run of 5 is listed: {out}");
        assert!(
            matches!(
                (out.find("findings:"), out.find("\nrecords\n")),
                (Some(a), Some(b)) if a < b
            ),
            "diagnosis first: {out}"
        );
    }

    #[test]
    fn two_tunnels_of_a_connection_are_side_by_side() {
        let neg = "AWS tunnel is negotiating Phase 1 IKE_SA with cgw: 192.0.2.1";
        let a = stream(
            "vpn-0123abcd-198.51.100.1",
            &[
                (0, Negotiating, Down, neg),
                (1, Established, Established, UP),
            ],
        );
        let b = stream("vpn-0123abcd-198.51.100.2", &[(0, Negotiating, Down, neg)]);
        let input = Input {
            streams: vec![a, b],
            problems: Vec::new(),
        };
        let out = text(&super::super::build(&input), Records::Folded);
        assert!(
            out.starts_with("══ VPN connection vpn-0123abcd (2 tunnels)\n"),
            "{out}"
        );
        let header = out.lines().nth(1).unwrap_or_default();
        assert!(header.starts_with("══ vpn-0123abcd-198.51.100.1 "), "{out}");
        assert!(header.ends_with(" │ ══ vpn-0123abcd-198.51.100.2"), "{out}");
        assert!(out.contains("connection: WARNING — tunnel 198.51.100.2 never came up while tunnel 198.51.100.1 is up"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= 160), "{out}");
    }
}
