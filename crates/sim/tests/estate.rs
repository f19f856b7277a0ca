//! An estate runs each connection exactly as `run` runs it alone: the cells share a clock
//! and sockets, and nothing else.

use std::time::Duration;

use sim::estate::{run_estate, EstateOptions, EstateSink};
use sim::{RunOptions, Scenario};
use vpn_log::TunnelRecord;

#[derive(Default)]
struct Collect {
    /// (connection, tunnel, stream, record as JSON)
    records: Vec<(usize, usize, String, String)>,
    progressed: Vec<Duration>,
}

impl EstateSink for Collect {
    fn record(
        &mut self,
        connection: usize,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> std::io::Result<()> {
        self.records.push((
            connection,
            tunnel,
            stream.to_owned(),
            record.to_json(vpn_log::Schema::Current),
        ));
        Ok(())
    }

    fn progress(&mut self, simulated: Duration) {
        self.progressed.push(simulated);
    }
}

#[test]
fn every_connection_of_an_estate_runs_as_it_runs_alone() {
    // Healthy, NAT'd (a NAT per cell, rebinding), lossy, rebooting, two tunnels one
    // failing — and the same scenario twice with other seeds, so that two cells' hosts
    // share every socket.
    let names = [
        "ikev2-happy",
        "ikev2-nat",
        "ikev2-lossy-path",
        "ikev2-cgw-reboot",
        "ikev2-two-tunnels-one-failing",
        "ikev1-happy",
        "ikev2-endpoint-replacement",
        "ikev2-modify-options-mismatch",
        "ikev2-policy-based-two-subnets",
        "ikev2-nat-keepalive",
        "ikev2-happy",
    ];
    let mut scenarios: Vec<Scenario> = names
        .iter()
        .map(|n| Scenario::load(n).expect("a built-in scenario"))
        .collect();
    let last = scenarios.len() - 1;
    scenarios[last].seed = 77;
    let start = scenarios[0].start.0;
    let duration = Duration::from_secs(3 * 3600);
    let options = EstateOptions {
        start,
        duration,
        stream_separator: vpn_log::StreamSeparator::default(),
        progress_every: 50,
        stop: None,
    };
    let mut sink = Collect::default();
    let report = run_estate(&scenarios, &options, &mut sink).expect("the estate runs");
    assert_eq!(report.stats.len(), scenarios.len());
    assert!(report.steps > 0);
    // Progress is reported, never going back, and ends at the duration.
    assert!(sink.progressed.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(sink.progressed.last(), Some(&duration));

    for (i, scenario) in scenarios.iter().enumerate() {
        let alone = sim::run(
            scenario,
            &RunOptions {
                duration: Some(duration),
                start: Some(start),
                ..RunOptions::default()
            },
        )
        .expect("the scenario runs");
        let expected: Vec<(usize, String, String)> = alone
            .records
            .iter()
            .map(|(t, r)| {
                (
                    *t,
                    alone.tunnels[*t].stream.clone(),
                    r.to_json(vpn_log::Schema::Current),
                )
            })
            .collect();
        let got: Vec<(usize, String, String)> = sink
            .records
            .iter()
            .filter(|(c, ..)| *c == i)
            .map(|(_, t, s, r)| (*t, s.clone(), r.clone()))
            .collect();
        assert!(!expected.is_empty(), "{}: no records", names[i]);
        assert_eq!(got, expected, "connection {i} ({})", names[i]);
    }
}

/// A stop between two steps ends the run early, and says when; what was handed over is
/// whole records.
#[test]
fn a_stop_ends_the_estate_between_steps() {
    struct StopAfter {
        flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
        records: usize,
    }
    impl EstateSink for StopAfter {
        fn record(&mut self, _: usize, _: usize, _: &str, _: &TunnelRecord) -> std::io::Result<()> {
            self.records += 1;
            if self.records == 5 {
                self.flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }
    let scenario = Scenario::load("ikev2-happy").expect("a built-in scenario");
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = EstateOptions {
        start: scenario.start.0,
        duration: Duration::from_secs(86_400),
        stream_separator: vpn_log::StreamSeparator::default(),
        progress_every: 0,
        stop: Some(flag.clone()),
    };
    let mut sink = StopAfter { flag, records: 0 };
    let scenarios: Vec<Scenario> = (1..=4)
        .map(|seed| Scenario {
            seed,
            ..scenario.clone()
        })
        .collect();
    let report = run_estate(scenarios, &options, &mut sink).expect("the estate runs");
    let stopped = report.stopped_at.expect("stopped early");
    assert!(stopped < Duration::from_secs(86_400), "{stopped:?}");
    // Four handshakes make 12 records; a day's rekeys many more: the stop came early, in
    // the step that made the fifth record.
    assert!((5..12).contains(&sink.records), "{}", sink.records);
}
