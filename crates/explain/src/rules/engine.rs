//! The one engine that runs every [`Rule`] of the table over a stream, then the
//! stream-wide summaries ([`SUMMARIES`]: healthy, never up, unknown messages).

use chrono::{DateTime, Utc};
use vpn_log::{IkeVersion, Origin, PhaseState};

use super::life::{periods, LifeState};
use super::table::{RULES, SUMMARIES};
use super::{words, Diagnosis, Dir, Finding, Guide, Near, Pattern, Rule, Severity, Test, When};
use crate::meaning::{self, Meaning};
use crate::Stream;

/// What the engine knows of one record.
pub(crate) struct Facts {
    pub time: DateTime<Utc>,
    pub meaning: Meaning,
    pub phase1: PhaseState,
    pub phase2: PhaseState,
    pub phase1_before: PhaseState,
}

impl Facts {
    fn id(&self) -> Option<&'static str> {
        self.meaning.id()
    }
}

/// Every record's facts, in stream order.
pub(crate) fn facts(stream: &Stream) -> Vec<Facts> {
    let mut out = Vec::with_capacity(stream.entries.len());
    let mut previous = None;
    for e in &stream.entries {
        let r = &e.record;
        out.push(Facts {
            time: r.time,
            meaning: meaning::of(previous, r),
            phase1: r.ike_phase1_state,
            phase2: r.ike_phase2_state,
            phase1_before: previous.map_or(PhaseState::Down, |p| p.ike_phase1_state),
        });
        previous = Some(r);
    }
    out
}

/// The stream's life and findings.
pub fn diagnose(stream: &Stream) -> Diagnosis {
    let facts = facts(stream);
    let records: Vec<_> = stream.entries.iter().map(|e| &e.record).collect();
    let (life, changes) = periods(&records);
    let ike = meaning::ike_version(facts.iter().map(|f| &f.meaning));
    let mut findings: Vec<Finding> = RULES
        .iter()
        .filter_map(|rule| run(rule, &facts, ike))
        .collect();
    findings.extend(summaries(&facts, &life, &findings));
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.evidence.first().cmp(&b.evidence.first()))
    });
    Diagnosis {
        life,
        changes,
        findings,
    }
}

fn one_of<T: PartialEq>(allowed: &[T], value: &T) -> bool {
    allowed.is_empty() || allowed.contains(value)
}

pub(crate) fn matches(p: &Pattern, f: &Facts) -> bool {
    let id_ok = p.messages.is_empty() || f.id().is_some_and(|id| p.messages.contains(&id));
    id_ok
        && one_of(p.phase1, &f.phase1)
        && one_of(p.phase2, &f.phase2)
        && one_of(p.phase1_before, &f.phase1_before)
}

/// The records matching `near` around record `i`, nearest first.
pub(crate) fn nearby<'f>(
    facts: &'f [Facts],
    i: usize,
    near: &'f Near,
) -> impl Iterator<Item = usize> + 'f {
    let t = facts[i].time;
    let within = chrono::Duration::seconds(near.within_s);
    let (before, after) = match near.dir {
        Dir::Before => (i, 0..0),
        Dir::After => (0, i + 1..facts.len()),
    };
    let back = (0..before)
        .rev()
        .take_while(move |&j| t - facts[j].time <= within);
    let forward = after.take_while(move |&j| facts[j].time - t <= within);
    back.chain(forward)
        .filter(move |&j| matches(&near.pattern, &facts[j]))
}

fn is_near(facts: &[Facts], i: usize, near: &Near) -> bool {
    nearby(facts, i, near).next().is_some()
}

/// The most triggers inside any `window_s`-second window (times in order).
pub(crate) fn densest(times: &[DateTime<Utc>], window_s: i64) -> usize {
    let window = chrono::Duration::seconds(window_s);
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] > window {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

fn phase2_up(f: &Facts) -> bool {
    matches!(f.phase2, PhaseState::Established | PhaseState::Rekeying)
}

/// The triggers of `rule`: records matching its pattern, at the right moment, with and
/// without what it asks around them.
pub(crate) fn triggers(rule: &Rule, facts: &[Facts]) -> Vec<usize> {
    let first_up = facts.iter().position(phase2_up);
    (0..facts.len())
        .filter(|&i| matches(&rule.trigger, &facts[i]))
        .filter(|&i| match rule.when {
            When::Always => true,
            When::AtSetup => first_up.is_none_or(|u| i < u),
            When::AfterFirstUp => first_up.is_some_and(|u| i > u),
        })
        .filter(|&i| rule.with.iter().all(|n| is_near(facts, i, n)))
        .filter(|&i| !rule.without.iter().any(|n| is_near(facts, i, n)))
        .collect()
}

fn run(rule: &Rule, facts: &[Facts], ike: Option<IkeVersion>) -> Option<Finding> {
    let hits = triggers(rule, facts);
    if hits.is_empty() || hits.len() < rule.at_least {
        return None;
    }
    if let Some(w) = rule.window_s {
        let times: Vec<_> = hits.iter().map(|&i| facts[i].time).collect();
        if densest(&times, w) < rule.at_least {
            return None;
        }
    }
    let mut evidence = hits.clone();
    for &i in &hits {
        for near in rule.also {
            evidence.extend(nearby(facts, i, near));
        }
    }
    evidence.sort_unstable();
    evidence.dedup();
    let outcome = outcome(rule, facts, &hits);
    let count = hits.len();
    let title = if rule.many > 0 && count >= rule.many {
        rule.title_many
    } else {
        rule.title
    };
    let fill = |text: &str| fill(text, facts, &hits, outcome);
    let mut cause = fill(rule.cause);
    if let Some(o) = outcome {
        cause.push(' ');
        cause.push_str(o.explain);
    }
    let first = facts[hits[0]].meaning.entry;
    let guide = match rule.guide {
        Guide::None => None,
        Guide::Page(p) => Some(p),
        Guide::OfMessage(fallback) => Some(
            first
                .filter(|e| e.origin == Origin::Aws)
                .map_or(fallback, |e| e.id),
        ),
    };
    let scenario = rule
        .repro
        .iter()
        .find(|r| {
            r.ike.is_none_or(|v| Some(v) == ike)
                && r.outcome
                    .is_none_or(|o| outcome.is_some_and(|x| x.label == o))
                && count >= r.at_least
        })
        .map(|r| r.scenario);
    Some(Finding {
        id: rule.id,
        title: fill(title),
        cause,
        evidence,
        guide,
        scenario,
        severity: rule.severity,
    })
}

/// The most frequent outcome of the triggers (the table's order breaks ties).
fn outcome<'r>(rule: &'r Rule, facts: &[Facts], hits: &[usize]) -> Option<&'r super::Outcome> {
    let mut counts = vec![0usize; rule.outcomes.len()];
    for &i in hits {
        let found = rule.outcomes.iter().position(|o| match &o.test {
            Test::Near(n) => is_near(facts, i, n),
            Test::Itself(p) => matches(p, &facts[i]),
            Test::Otherwise => true,
        });
        if let Some(k) = found {
            counts[k] += 1;
        }
    }
    let best = counts.iter().copied().max().filter(|&c| c > 0)?;
    let k = counts.iter().position(|&c| c == best)?;
    rule.outcomes.get(k)
}

fn one_day(facts: &[Facts]) -> bool {
    match (facts.first(), facts.last()) {
        (Some(a), Some(b)) => a.time.date_naive() == b.time.date_naive(),
        _ => true,
    }
}

/// A title or cause with its placeholders filled from the triggers.
fn fill(text: &str, facts: &[Facts], hits: &[usize], outcome: Option<&super::Outcome>) -> String {
    let count = hits.len();
    let short_day = one_day(facts);
    let mut out = String::with_capacity(text.len() + 40);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| c + open) else {
            break;
        };
        let name = &rest[open + 1..close];
        rest = &rest[close + 1..];
        let first = facts[hits[0]].time;
        let last = facts[hits[count - 1]].time;
        let value = match name {
            "count" => count.to_string(),
            "times" => {
                let mut t: Vec<_> = hits
                    .iter()
                    .take(4)
                    .map(|&i| words::short(facts[i].time, short_day))
                    .collect();
                if count > 4 {
                    t.push("…".to_owned());
                }
                t.join(", ")
            }
            "span" => words::span(words::seconds(first, last)),
            "rate" => rate(facts, count),
            "value" => facts[hits[0]]
                .meaning
                .values
                .first()
                .map_or_else(|| "?".to_owned(), |(_, v)| v.clone()),
            "outcome" => outcome.map_or("", |o| o.label).to_owned(),
            "prefix" => outcome.map_or("", |o| o.prefix).to_owned(),
            other => match other.strip_prefix("count:") {
                Some(noun) => words::count(count, noun),
                None => format!("{{{other}}}"),
            },
        };
        out.push_str(&value);
    }
    out.push_str(rest);
    out
}

/// `6.0 a day` over a log of a day or more, else `in 2 h 10 min` (the log's span).
fn rate(facts: &[Facts], count: usize) -> String {
    let (Some(a), Some(b)) = (facts.first(), facts.last()) else {
        return String::new();
    };
    let s = words::seconds(a.time, b.time);
    if s >= 86_400.0 * 0.8 {
        // Counts of a log are far below f64's exact range.
        #[allow(clippy::cast_precision_loss)]
        let per_day = count as f64 * 86_400.0 / s;
        format!("{per_day:.1} a day over {}", words::span(s))
    } else {
        format!("in {}", words::span(s))
    }
}

/// The stream-wide findings: the tunnel never came up, healthy, unknown messages.
fn summaries(facts: &[Facts], life: &[super::Period], found: &[Finding]) -> Vec<Finding> {
    let summary = |id: &str| SUMMARIES.iter().find(|s| s.id == id);
    let mut out = Vec::new();
    let unknown: Vec<usize> = (0..facts.len())
        .filter(|&i| !facts[i].meaning.known())
        .collect();
    let make = |id: &str, title: String, cause: String, evidence: Vec<usize>| {
        summary(id).map(|s| Finding {
            id: s.id,
            title,
            cause,
            evidence,
            guide: None,
            scenario: s.scenario,
            severity: s.severity,
        })
    };
    if facts.is_empty() {
        return out;
    }
    if unknown.len() == facts.len() {
        out.extend(make(
            "unknown-only",
            format!(
                "nothing to diagnose: none of the {} is in AWS's catalogue",
                words::count(facts.len(), "record")
            ),
            "These details strings are not messages AWS publishes (docs/log-messages.md lists \
             them): another log type (BGP logs are a separate stream), a newer AWS message, or \
             records edited on the way. Nothing is guessed from them."
                .to_owned(),
            unknown,
        ));
        return out;
    }
    if !unknown.is_empty() {
        out.extend(make(
            "unknown-messages",
            format!(
                "{} not in AWS's catalogue, shown as unknown",
                words::count(unknown.len(), "record")
            ),
            "Their details strings match no message AWS publishes (docs/log-messages.md); the \
             diagnosis rests on the other records."
                .to_owned(),
            unknown,
        ));
    }
    let serious = found.iter().any(|f| f.severity >= Severity::Warning);
    let ever_up = facts.iter().any(phase2_up);
    let phase1_up = facts
        .iter()
        .any(|f| matches!(f.phase1, PhaseState::Established | PhaseState::Rekeying));
    let last = facts.len() - 1;
    if !ever_up && !found.iter().any(|f| f.severity == Severity::Error) {
        let (title, cause) = if phase1_up {
            (
                "phase 2 never came up, phase 1 did",
                "No record says why phase 2 did not follow: check the CGW's log for its \
                 CHILD SA / quick mode (traffic selectors, proposals, PFS group).",
            )
        } else {
            (
                "the tunnel never came up",
                "No record says why phase 1 did not complete: the log may start or end in the \
                 middle of a negotiation, or the CGW stopped trying. Check that the CGW \
                 initiates to this tunnel's outside IP (UDP 500/4500 open both ways).",
            )
        };
        out.extend(make(
            "never-up",
            title.to_owned(),
            cause.to_owned(),
            vec![last],
        ));
    }
    if ever_up && !serious {
        let up = match life.last() {
            Some(p) if p.state == LifeState::Up && p.open => {
                format!("up since {}", words::full(p.from))
            }
            _ => format!(
                "up {} in all",
                words::span(
                    life.iter()
                        .filter(|p| p.state == LifeState::Up)
                        .map(|p| words::seconds(p.from, p.to))
                        .sum()
                )
            ),
        };
        let child: Vec<usize> = ids(facts, &["ikesim-child-sa-rekeyed"]);
        let ike: Vec<usize> = (0..facts.len())
            .filter(|&i| {
                facts[i].id() == Some("ikesim-ike-sa-rekeyed")
                    || (facts[i].id() == Some("ikesim-ike-sa-established")
                        && facts[i].phase1_before == PhaseState::Established)
            })
            .collect();
        let mut evidence: Vec<usize> = child.iter().chain(&ike).copied().collect();
        evidence.sort_unstable();
        if evidence.is_empty() {
            evidence.extend(facts.iter().position(phase2_up));
        }
        out.extend(make(
            "healthy",
            format!(
                "healthy: {up}; {}, {}, normal",
                words::count(child.len(), "phase 2 rekey"),
                words::count(ike.len(), "phase 1 rekey"),
            ),
            "Nothing in the records points to a problem: the SAs came up and every rekey \
             completed."
                .to_owned(),
            evidence,
        ));
    }
    out
}

fn ids(facts: &[Facts], wanted: &[&str]) -> Vec<usize> {
    (0..facts.len())
        .filter(|&i| facts[i].id().is_some_and(|id| wanted.contains(&id)))
        .collect()
}

#[cfg(test)]
mod tests;
