//! A tunnel's life over 30 simulated days: every rekey runs with real crypto and real
//! datagrams, and the number of rekeys is what the lifetimes, margins and fuzz imply.

mod common;

use std::time::Duration;

use common::run_ok;

/// The interval between two rekeys of an SA when both sides run a rekey timer: each side
/// rekeys at `lifetime - margin - random(0 ..= margin × fuzz)`, and whichever fires first
/// wins. Returns (shortest, longest) possible interval in seconds.
fn interval(sides: [(f64, f64, f64); 2]) -> (f64, f64) {
    let windows = sides.map(|(lifetime, margin, fuzz)| {
        (lifetime - margin - margin * fuzz / 100.0, lifetime - margin)
    });
    (
        windows[0].0.min(windows[1].0),
        windows[0].1.min(windows[1].1),
    )
}

#[test]
fn thirty_days_of_rekeys_match_the_lifetimes() {
    let scenario = sim::Scenario::load("ikev2-happy").expect("built-in scenario");
    let t = &scenario.tunnel[0];
    let secs = |d: Duration| d.as_secs_f64();
    let aws_margin = f64::from(t.aws.rekey_margin_time_seconds.get_ref().0);
    let aws_fuzz = f64::from(t.aws.rekey_fuzz_percentage.0);
    let cgw_margin = secs(t.cgw.rekey_margin.0);
    let cgw_fuzz = f64::from(t.cgw.rekey_fuzz);
    let child = interval([
        (
            f64::from(t.aws.phase2_lifetime_seconds.get_ref().0),
            aws_margin,
            aws_fuzz,
        ),
        (secs(t.cgw.child_lifetime.0), cgw_margin, cgw_fuzz),
    ]);
    let ike = interval([
        (
            f64::from(t.aws.phase1_lifetime_seconds.get_ref().0),
            aws_margin,
            aws_fuzz,
        ),
        (secs(t.cgw.ike_lifetime.0), cgw_margin, cgw_fuzz),
    ]);

    let days = 30.0 * 86_400.0;
    // The traffic model: the same records as the pings' (tests/data_plane.rs), without
    // 5 million ESP datagrams in a debug build.
    let out = run_ok(&["run", "ikev2-happy", "--duration", "30d", "--traffic-model"]);
    let count = |what: &str| out.lines().filter(|l| l.contains(what)).count() as f64;
    let (child_rekeys, ike_rekeys) = (count("CHILD_SA rekeyed"), count("IKE_SA rekeyed"));
    // Each exchange adds a round trip or two of latency to the interval: allow one rekey
    // of slack at each end.
    let in_range = |n: f64, (lo, hi): (f64, f64)| {
        n >= (days / hi).floor() - 1.0 && n <= (days / lo).ceil() + 1.0
    };
    assert!(
        in_range(child_rekeys, child),
        "{child_rekeys} CHILD rekeys, intervals {child:?}"
    );
    assert!(
        in_range(ike_rekeys, ike),
        "{ike_rekeys} IKE rekeys, intervals {ike:?}"
    );
    // And the tunnel stayed up throughout: once both phases are established, no record
    // shows either down.
    let down = out.lines().skip(3).find(|l| l.contains("\"down\""));
    assert!(down.is_none(), "tunnel went down: {down:?}");
}
