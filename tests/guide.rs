//! The failure-mode guide (docs/failures/) stays honest: every message AWS publishes
//! (`vpn_log::CATALOGUE` entries of origin AWS) has a page `docs/failures/<id>.md` that
//! quotes the message verbatim, and every scenario a page tells the reader to run
//! (`ikesim run NAME`) is a built-in one whose golden log really contains that message.
//! The index, docs/failures/README.md, links every page.

mod common;

use std::path::PathBuf;

use common::repo;
use vpn_log::{CatalogueEntry, Origin, TunnelRecord};

fn failures_dir() -> PathBuf {
    repo().join("docs/failures")
}

/// The catalogue entries that are AWS's own published strings.
fn aws_entries() -> Vec<&'static CatalogueEntry> {
    vpn_log::CATALOGUE
        .iter()
        .filter(|entry| entry.origin == Origin::Aws)
        .collect()
}

/// The scenario names a page tells the reader to run, in order: the word after each
/// `ikesim run `.
fn scenarios_named(page: &str) -> Vec<String> {
    const COMMAND: &str = "ikesim run ";
    page.match_indices(COMMAND)
        .map(|(at, _)| {
            page[at + COMMAND.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .collect()
}

/// Checks that `scenario` is built in and that its golden log has a record whose
/// `details` is `entry`'s message.
fn check_scenario(entry: &CatalogueEntry, scenario: &str) -> Result<(), String> {
    if scenario.is_empty() {
        return Err("`ikesim run` is not followed by a scenario name".to_owned());
    }
    let file = repo().join("scenarios").join(format!("{scenario}.toml"));
    if !file.is_file() {
        return Err(format!("`ikesim run {scenario}`: no {}", file.display()));
    }
    let golden = repo()
        .join("tests/golden")
        .join(format!("{scenario}.jsonl"));
    let text =
        std::fs::read_to_string(&golden).map_err(|e| format!("{}: {e}", golden.display()))?;
    let mut found = false;
    for (n, line) in text.lines().enumerate() {
        let record = TunnelRecord::parse_json(line)
            .map_err(|e| format!("{}:{}: {e}", golden.display(), n + 1))?;
        found |= entry.pattern_matches(&record.details);
    }
    if found {
        Ok(())
    } else {
        Err(format!(
            "`ikesim run {scenario}`: {} has no record {:?}",
            golden.display(),
            entry.template
        ))
    }
}

/// A page's "See it" section shows its scenario's timeline and `explain` on its log, both
/// for the same scenario (one whose golden log has the message: checked with the others).
fn check_see_it(page: &str) -> Result<(), String> {
    let section = page
        .split("\n## See it\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .ok_or("no \"## See it\" section (the scenario's timeline and `explain`)")?;
    let named = scenarios_named(section);
    let [timeline, explain] = named.as_slice() else {
        return Err(format!(
            "\"See it\" should run one scenario twice, runs {named:?}"
        ));
    };
    let wanted = [
        format!("ikesim run {timeline} --timeline {timeline}.html"),
        format!("ikesim run {explain} | ikesim explain"),
        "](../timeline.md)".to_owned(),
        "](../explain.md)".to_owned(),
    ];
    match wanted.iter().find(|w| !section.contains(w.as_str())) {
        Some(missing) => Err(format!("\"See it\" lacks `{missing}`")),
        None if timeline != explain => Err(format!(
            "\"See it\" draws {timeline} but explains {explain}: one scenario for both"
        )),
        None => Ok(()),
    }
}

#[test]
fn every_aws_message_has_a_page_that_quotes_it_and_a_scenario_that_produces_it() {
    let entries = aws_entries();
    assert_eq!(
        entries.len(),
        18,
        "AWS publishes 18 distinct messages (aws-vpn-log-reference.md §2)"
    );
    let mut failures = Vec::new();
    for entry in entries {
        let path = failures_dir().join(format!("{}.md", entry.id));
        let page = match std::fs::read_to_string(&path) {
            Ok(page) => page,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        if !page.contains(entry.template) {
            failures.push(format!(
                "{}: does not quote the message verbatim: {:?}",
                path.display(),
                entry.template
            ));
        }
        let scenarios = scenarios_named(&page);
        if scenarios.is_empty() {
            failures.push(format!(
                "{}: names no `ikesim run <scenario>`",
                path.display()
            ));
        }
        for scenario in &scenarios {
            if let Err(e) = check_scenario(entry, scenario) {
                failures.push(format!("{}: {e}", path.display()));
            }
        }
        if let Err(e) = check_see_it(&page) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "the failure-mode guide is out of date:\n{}",
        failures.join("\n")
    );
}

/// Every AWS message has a row in the index naming the message, its IKE version, its page
/// and the scenario the page runs first; the directory holds no page for anything else.
#[test]
fn the_index_lists_every_page_and_nothing_else() {
    let index_path = failures_dir().join("README.md");
    let index = std::fs::read_to_string(&index_path).expect("docs/failures/README.md");
    let mut failures = Vec::new();
    for entry in aws_entries() {
        let link = format!("]({}.md)", entry.id);
        let Some(row) = index
            .lines()
            .find(|line| line.starts_with('|') && line.contains(&link))
        else {
            failures.push(format!(
                "{}: no row linking {}.md",
                index_path.display(),
                entry.id
            ));
            continue;
        };
        let page = std::fs::read_to_string(failures_dir().join(format!("{}.md", entry.id)))
            .unwrap_or_default();
        let mut expected = vec![
            format!("`{}`", entry.template),
            format!("| {} |", entry.ike.as_str()),
        ];
        if let Some(first) = scenarios_named(&page).first() {
            expected.push(format!("`{first}`"));
        }
        for text in expected {
            if !row.contains(&text) {
                failures.push(format!(
                    "{}: the row for {} lacks {text}",
                    index_path.display(),
                    entry.id
                ));
            }
        }
    }
    let ids: Vec<&str> = aws_entries().iter().map(|entry| entry.id).collect();
    for file in std::fs::read_dir(failures_dir()).expect("docs/failures") {
        let name = file
            .expect("directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(id) = name.strip_suffix(".md") else {
            continue;
        };
        if id != "README" && !ids.contains(&id) {
            failures.push(format!("docs/failures/{name}: not an AWS catalogue id"));
        }
    }
    assert!(
        failures.is_empty(),
        "the failure-mode guide's index is out of date:\n{}",
        failures.join("\n")
    );
}

#[test]
fn scenario_names_are_read_after_ikesim_run() {
    let page = "Run `ikesim run ikev2-psk-mismatch --format text`, then ikesim run ikev1-dpd.";
    assert_eq!(scenarios_named(page), ["ikev2-psk-mismatch", "ikev1-dpd"]);
    assert!(scenarios_named("no command here").is_empty());
}

/// Every record the docs quote after telling the reader to `ikesim run NAME` (a built-in
/// scenario) is a line of NAME's golden log, as the run prints it: when a change moves a
/// scenario's records, the pages that quote them move with it.
#[test]
fn quoted_records_are_lines_of_the_named_scenario_s_golden_log() {
    fn pages(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("docs/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pages(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut files = vec![repo().join("README.md")];
    pages(&repo().join("docs"), &mut files);
    let mut stale = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a page");
        let mut golden: Option<(String, String)> = None;
        for (n, line) in text.lines().enumerate() {
            if let Some(name) = scenarios_named(line).pop() {
                golden = std::fs::read_to_string(repo().join(format!("tests/golden/{name}.jsonl")))
                    .ok()
                    .map(|g| (name, g));
            }
            let quoted = line.trim();
            let Some((name, log)) = &golden else { continue };
            if quoted.starts_with("{\"event_timestamp\"") {
                checked += 1;
                if !log.lines().any(|l| l == quoted) {
                    stale.push(format!(
                        "{}:{}: not in {name}'s golden log",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
    assert!(checked > 50, "{checked}");
}
