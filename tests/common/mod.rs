//! Shared helpers for the end-to-end tests: they run the real `ikesim` binary, whose
//! hosts talk over real loopback UDP.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn ikesim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ikesim"))
}

/// Runs `ikesim ARGS`, asserts it succeeded, and returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "ikesim {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

pub fn run(args: &[&str]) -> Output {
    ikesim().args(args).output().expect("run ikesim")
}

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Names of the built-in scenarios, from `ikesim list --json`.
pub fn builtin_scenarios() -> Vec<String> {
    run_ok(&["list", "--json"])
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).expect("list --json gives JSON lines");
            v["name"].as_str().expect("name").to_owned()
        })
        .collect()
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ikesim-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}
