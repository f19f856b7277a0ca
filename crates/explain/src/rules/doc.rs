//! The rules table of docs/explain.md, generated from [`RULES`] and [`SUMMARIES`] so the
//! page cannot drift from the code (a test checks the page holds it verbatim).

use vpn_log::PhaseState;

use super::table::{RULES, SUMMARIES};
use super::{Dir, Guide, When};

fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn states(s: &[PhaseState]) -> String {
    s.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("/")
}

/// The rules table of docs/explain.md: one row per rule, then the stream-wide summaries.
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "| id | severity | records | when | counts | guide | scenario |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in RULES {
        let mut records = r.trigger.messages.join(", ");
        if !r.trigger.phase1.is_empty() {
            records.push_str(&format!(" with phase 1 {}", states(r.trigger.phase1)));
        }
        if !r.trigger.phase2.is_empty() {
            records.push_str(&format!(", phase 2 {}", states(r.trigger.phase2)));
        }
        if !r.trigger.phase1_before.is_empty() {
            records.push_str(&format!(
                " after phase 1 {}",
                states(r.trigger.phase1_before)
            ));
        }
        for (word, list) in [("with", r.with), ("without", r.without)] {
            for n in list {
                let dir = match n.dir {
                    Dir::Before => "before",
                    Dir::After => "after",
                };
                records.push_str(&format!(
                    "; {word} {} ≤ {} s {dir}",
                    n.pattern.messages.join("/"),
                    n.within_s
                ));
            }
        }
        let when = match r.when {
            When::Always => "any time",
            When::AtSetup => "before phase 2 was first up",
            When::AfterFirstUp => "after phase 2 was first up",
        };
        let counts = match r.window_s {
            Some(w) => format!("≥ {} in {w} s", r.at_least),
            None => format!("≥ {}", r.at_least),
        };
        let guide = match r.guide {
            Guide::None => String::new(),
            Guide::Page(p) => format!("{p}.md"),
            Guide::OfMessage(p) => format!("the message's page, else {p}.md"),
        };
        let scenarios: Vec<_> = r.repro.iter().map(|x| x.scenario).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {when} | {counts} | {guide} | {} |\n",
            r.id,
            r.severity.as_str(),
            cell(&records),
            scenarios.join(", ")
        ));
    }
    for s in SUMMARIES {
        out.push_str(&format!(
            "| `{}` | {} | (the whole stream) | {} | | | {} |\n",
            s.id,
            s.severity.as_str(),
            cell(s.when),
            s.scenario.unwrap_or("")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_explain_md_holds_the_rules_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/explain.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let table = super::rules_markdown();
        assert!(
            doc.contains(&table),
            "docs/explain.md must hold the rules table as the code has it:\n{table}"
        );
    }
}
