//! `ikesim bench --quick` through the binary: every figure of issue 13 §5 and of issue 15's
//! data plane is printed with a baseline measured in the same run and a ratio that is a
//! finite positive number, and the 1,000 packets/s tunnel's two same-seed runs counted
//! alike; and `ikesim bench flood --quick` prints issue 14's flood figures the same way.
//! Never a timing threshold: these machines are shared, and only the command's own
//! same-run ratios mean anything (docs/performance.md).

use std::process::Command;

fn ikesim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ikesim"))
        .args(args)
        .output()
        .expect("run ikesim")
}

/// One figure line: `name: value unit | baseline what: value unit | ratio r … | note`.
#[derive(Debug)]
struct Line {
    name: String,
    value: f64,
    baseline: f64,
    ratio: f64,
}

/// The number before the unit at the end of `part` (`name: 8412 handshakes/s`).
fn number_after_colon(part: &str, line: &str) -> f64 {
    let (_, rest) = part
        .rsplit_once(": ")
        .unwrap_or_else(|| panic!("no `: value` in {part:?} of {line:?}"));
    let word = rest.split_whitespace().next().unwrap_or_default();
    word.parse()
        .unwrap_or_else(|_| panic!("{word:?} is not a number in {line:?}"))
}

fn parse(line: &str) -> Line {
    let parts: Vec<&str> = line.split(" | ").collect();
    assert!(
        parts.len() >= 3,
        "a figure line has three parts at least: {line:?}"
    );
    assert!(parts[1].starts_with("baseline "), "no baseline in {line:?}");
    let ratio = parts[2]
        .strip_prefix("ratio ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no `ratio R` in {line:?}"));
    let (name, _) = parts[0].split_once(": ").expect("name: value");
    Line {
        name: name.to_owned(),
        value: number_after_colon(parts[0], line),
        baseline: number_after_colon(parts[1], line),
        ratio,
    }
}

/// Runs `ikesim ARGS`, which must succeed, and parses every figure line of its output; the
/// output too, for the assertions' messages.
fn figures(args: &[&str]) -> (Vec<Line>, String) {
    let out = ikesim(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ikesim {} failed ({}): {}\n{stdout}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let figures = stdout
        .lines()
        .filter(|l| l.contains(" | baseline "))
        .map(parse)
        .collect();
    (figures, stdout)
}

#[test]
fn every_figure_has_a_same_run_baseline_and_a_positive_ratio() {
    let (figures, stdout) = figures(&["bench", "--quick"]);
    for f in &figures {
        for (what, x) in [
            ("value", f.value),
            ("baseline", f.baseline),
            ("ratio", f.ratio),
        ] {
            assert!(
                x.is_finite() && x > 0.0,
                "{}: {what} {x} is not positive",
                f.name
            );
        }
        // The ratio is the figure over its baseline (where printing keeps 3 digits).
        if f.value >= 100.0 && f.baseline >= 100.0 {
            let expected = f.value / f.baseline;
            assert!(
                (f.ratio / expected - 1.0).abs() < 0.02,
                "{}: ratio {} is not {} / {}",
                f.name,
                f.ratio,
                f.value,
                f.baseline
            );
        }
    }
    // Every figure of the issue, once per size or suite.
    let expected = [
        ("handshakes IKEv2 ECP-256", 1),
        ("handshakes IKEv2 MODP-2048", 1),
        ("handshakes IKEv1 MODP-2048", 1),
        ("tunnel x 2 days steady", 1),
        ("tunnel x 2 days idle", 1),
        ("fleet 10 connections", 1),
        ("records/s to files", 1),
        ("fleet scaling ", 3),
        ("memory per established tunnel", 2),
        ("esp seal+open 1400 B ", 6),
        ("tunnel 1000 packets/s", 1),
    ];
    for (prefix, count) in expected {
        let found = figures
            .iter()
            .filter(|f| f.name.starts_with(prefix))
            .count();
        assert_eq!(found, count, "figures named {prefix}… in:\n{stdout}");
    }
    assert_eq!(figures.len(), 19, "no figure beyond the issue's:\n{stdout}");
    same_seed_same_counters(&stdout);
}

/// The 1,000 packets/s tunnel ran twice with one seed: its line gives each counter as
/// `first/second`, and each pair must be equal (and not nothing).
fn same_seed_same_counters(stdout: &str) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("tunnel 1000 packets/s"))
        .expect("the 1,000 packets/s line");
    let (_, twice) = line
        .split_once("same seed twice: ")
        .unwrap_or_else(|| panic!("no `same seed twice` in {line:?}"));
    for counter in ["sealed", "opened", "bytes", "answered", "last seqs"] {
        let at = twice
            .find(&format!("{counter} "))
            .unwrap_or_else(|| panic!("no {counter} in {line:?}"));
        let pair = twice[at + counter.len() + 1..]
            .split([',', ':'])
            .next()
            .unwrap_or_default();
        let (first, second) = pair
            .split_once('/')
            .unwrap_or_else(|| panic!("{counter}: {pair:?} is not first/second"));
        assert_eq!(first, second, "{counter} differs between the runs: {line}");
        let total: u64 = first.split('+').map(|n| n.parse::<u64>().unwrap()).sum();
        assert!(total > 0, "{counter} is 0: {line}");
    }
    assert!(twice.ends_with(": equal"), "{line}");
}

#[test]
fn an_unknown_part_is_bad_input() {
    let out = ikesim(&["bench", "everything"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("handshakes"),
        "the parts are listed: {stderr}"
    );
}

/// `bench flood --quick` (about 20 s: `serve` and `connect` children under short floods):
/// every figure of issue 14's table but the DPD one (`--quick` has no time for DPD), each
/// with a finite baseline. A COOKIE count may be 0 (before the defences), a baseline not.
#[test]
fn the_flood_figures_have_same_run_baselines() {
    let (figures, stdout) = figures(&["bench", "flood", "--quick"]);
    for f in &figures {
        assert!(
            f.value.is_finite() && f.value >= 0.0 && f.baseline.is_finite() && f.baseline > 0.0,
            "{f:?}"
        );
    }
    let names: Vec<&str> = figures.iter().map(|f| f.name.as_str()).collect();
    for part in [
        "half-open SAs at peak",
        "serve's peak RSS",
        "answers/s, last",
        "COOKIE answers",
        "CGW establishment during",
        "MODP-8192, serve's CPU per request",
        "MODP-8192, CGW establishment",
    ] {
        assert_eq!(
            names.iter().filter(|n| n.contains(part)).count(),
            1,
            "{part} in:\n{stdout}"
        );
    }
    assert_eq!(figures.len(), 7, "{stdout}");
}
