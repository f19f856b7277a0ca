//! The broken-configuration corpus (tests/bad-configs/): scenario files (`ikesim run`),
//! serve configurations (`serve --config`), connect configurations (`connect --config`)
//! and fleet mixes (`fleet --mix`), each broken one way, with the exact error lines
//! stderr must show in a sibling `.expected` file, and exit status 2. A `.expected` file
//! whose `.toml` is missing tests a missing file. `UPDATE_EXPECTED=1` writes them (read
//! every changed one before committing).

mod common;

use std::path::Path;

/// The command each kind of file is given to, with the file's path (relative to the
/// corpus, so the messages do not depend on where the repository is).
fn command(kind: &str, file: &str) -> Vec<String> {
    let args: &[&str] = match kind {
        "scenario" => &["run", file],
        "serve" => &["serve", "--config", file],
        "connect" => &["connect", "--peer", "127.0.0.1", "--config", file],
        "mix" => &[
            "fleet",
            "--connections",
            "1",
            "--duration",
            "1m",
            "--mix",
            file,
        ],
        other => panic!("unknown corpus directory {other}"),
    };
    args.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_broken_file_gets_its_exact_error_lines_and_exit_status_2() {
    let corpus = common::repo().join("tests/bad-configs");
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut checked = 0;
    let mut failures = Vec::new();
    for kind in ["scenario", "serve", "connect", "mix"] {
        let mut expected: Vec<_> = std::fs::read_dir(corpus.join(kind))
            .unwrap_or_else(|e| panic!("{kind}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "expected"))
            .collect();
        expected.sort();
        for want in expected {
            let stem = want.file_stem().unwrap().to_str().unwrap();
            let file = format!("{kind}/{stem}.toml");
            let out = common::ikesim()
                .args(command(kind, &file))
                .current_dir(&corpus)
                .env("NO_COLOR", "1")
                .env_remove("RUST_LOG")
                .output()
                .expect("run ikesim");
            let got = String::from_utf8_lossy(&out.stderr).into_owned();
            if update {
                std::fs::write(&want, &got).unwrap();
            }
            let wanted = std::fs::read_to_string(&want).unwrap();
            if got != wanted || out.status.code() != Some(2) {
                failures.push(format!(
                    "{file}: exit {:?}\n--- expected\n{wanted}--- got\n{got}",
                    out.status.code()
                ));
            }
            assert!(
                got.len() < 2_000,
                "{file}: the error is {} bytes long",
                got.len()
            );
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 30, "only {checked} broken files");
    assert!(Path::new(&corpus)
        .join("scenario/a-directory.toml")
        .is_dir());
}
