//! docs/log-messages.md must list every catalogue entry as the catalogue has it.

use crate::{Origin, CATALOGUE};

fn origin(origin: Origin) -> &'static str {
    match origin {
        Origin::Aws => "AWS, verbatim",
        Origin::Ikesim => "ikesim's wording",
    }
}

/// The catalogue table as docs/log-messages.md carries it.
fn table() -> String {
    let mut out = String::from(
        "| id | section | IKE | origin | template | meaning |\n|---|---|---|---|---|---|\n",
    );
    for entry in CATALOGUE {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | `{}` | {} |\n",
            entry.id,
            entry.section,
            entry.ike.as_str(),
            origin(entry.origin),
            entry.template,
            entry.meaning
        ));
    }
    out
}

fn docs() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/log-messages.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

#[test]
fn every_template_is_documented() {
    let docs = docs();
    for entry in CATALOGUE {
        assert!(
            docs.contains(&format!("`{}`", entry.template)),
            "docs/log-messages.md lacks {}: {}",
            entry.id,
            entry.template
        );
    }
}

#[test]
fn the_documented_table_is_the_catalogue() {
    let expected = table();
    assert!(
        docs().contains(&expected),
        "docs/log-messages.md's catalogue table differs from CATALOGUE; expected:\n{expected}"
    );
}
