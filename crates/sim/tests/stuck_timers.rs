//! A timer that stays due after it fired spun the accelerated clock at one instant for ever
//! (found by a fleet: 1,000 connections, 23 GB, then the OOM killer). The case: an IKEv1
//! CGW dies, AWS's DPD action is `none`, and AWS's CHILD SA rekey comes due while a
//! liveness check is in flight — the rekey was queued and its timer left armed. Now the
//! rekey waits its turn, goes when the check gives up, and the run reaches its end.

use std::time::Duration;

use sim::{RunOptions, Scenario};
use vpn_log::PhaseState;

const SCENARIO: &str = r#"
description = "IKEv1 CGW crash with DPD action none"
seed = 229979021
[vpn_connection]
id = "vpn-61c04c54fdbd9bc0f"
[cgw]
outside_ip = "198.51.100.1"
[[tunnel]]
outside_ip = "192.0.2.1"
[tunnel.aws]
pre_shared_key = "ikesim.example_psk_1"
dpd_timeout_action = "none"
[tunnel.cgw]
ike_version = 1
ike_proposals = ["aes128-sha256-ecp256"]
esp_proposals = ["aes128-sha256-ecp256"]
dpd_delay = "10s"
dpd_action = "restart"
crash_at = "4h7m47s"
"#;

#[test]
fn a_rekey_due_during_a_liveness_check_waits_its_turn() {
    let scenario = Scenario::parse(SCENARIO, "stuck.toml", "stuck").expect("the scenario");
    let options = RunOptions {
        duration: Some(Duration::from_secs(86_400)),
        ..RunOptions::default()
    };
    let out = sim::run(&scenario, &options).expect("the run reaches its end");
    let records: Vec<_> = out.records.iter().map(|(_, r)| r).collect();
    assert!(
        records
            .iter()
            .any(|r| r.details.contains("Declaring peer dead")),
        "AWS's DPD notices the dead CGW"
    );
    // With action `none` AWS keeps the SA until the rekey it owes fails against the dead
    // peer; then the tunnel is down, and stays so.
    let last = records.last().expect("records");
    assert_eq!(last.ike_phase1_state, PhaseState::Down, "{last:?}");
    assert!(records.len() < 1000, "{} records", records.len());
}
