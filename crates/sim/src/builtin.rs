//! Built-in scenarios: every file in the repository's scenarios/ directory, embedded at
//! build time (build.rs), so `ikesim run ikev2-happy` works from any directory.

include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));

/// The scenario text of a built-in scenario.
pub fn get(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Every built-in scenario, by name, sorted.
pub fn all() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}
