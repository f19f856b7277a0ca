//! AWS's dead peer detection on the virtual clock: a liveness check after 10 s of silence,
//! resent every 10 s, the peer declared dead when the DPD timeout has passed, then the
//! timeout action (reference §3; RFC 7296 §2.4).

mod common;

use std::time::Duration;

use common::*;
use ike_core::{DpdAction, DpdConfig, EventKind, SaState};

fn pair(action: DpdAction) -> Pair {
    let mut aws = aws_config("pre.shared_key", None, None);
    aws.dpd = Some(DpdConfig::aws(Duration::from_secs(30), action));
    let cgw = cgw_config(
        "pre.shared_key",
        &["aes256gcm16-prfsha384-ecp384"],
        &["aes256gcm16-ecp384"],
    );
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.initiate();
    pair.drive_until(pair.now() + Duration::from_secs(1));
    pair
}

/// ```text
/// CGW (silent)                    AWS
///  |  x<-- INFORMATIONAL {} -------|  +10 s without hearing the CGW
///  |  x<-- (retransmit) -----------|  +20 s
///  |  x<-- (retransmit) -----------|  +30 s
///  |                               |  +40 s: DPD timed out after 2 retransmits → clear
/// ```
#[test]
fn silent_peer_is_declared_dead_after_the_timeout() {
    let mut pair = pair(DpdAction::Clear);
    // The last thing AWS heard was the IKE_AUTH request it answered.
    let heard = pair.aws.sent.last().expect("AWS answered").at;
    pair.cgw.drop = drop_all();
    pair.aws.drop = drop_all();
    let sent_before = pair.aws.sent.len();
    pair.drive_until(pair.now() + Duration::from_secs(120));
    let probes: Vec<Duration> = pair.aws.sent[sent_before..].iter().map(|d| d.at).collect();
    assert_eq!(probes.len(), 3, "three liveness checks: {probes:?}");
    // The first after 10 s of silence (give or take the last exchange's latency), then
    // every 10 s; dead 30 s after the first.
    let first = probes[0] - heard;
    assert!(
        first > Duration::from_millis(9_950) && first <= Duration::from_secs(10),
        "{first:?}"
    );
    assert_eq!(probes[1] - probes[0], Duration::from_secs(10));
    assert_eq!(probes[2] - probes[1], Duration::from_secs(10));
    let (at, dead) = pair
        .aws
        .find(|k| matches!(k, EventKind::DpdTimeout { .. }))
        .expect("DPD timeout")
        .clone();
    assert_eq!(
        dead.kind,
        EventKind::DpdTimeout {
            retransmits: 2,
            action: DpdAction::Clear
        }
    );
    assert_eq!(at - probes[0], Duration::from_secs(30));
    let i = pair
        .aws
        .events
        .iter()
        .position(|(_, e)| *e == dead)
        .expect("DPD timeout");
    assert_eq!(pair.aws.merged[i], (SaState::Down, SaState::Down));
}

#[test]
fn restart_renegotiates_and_none_keeps_the_sas() {
    let mut restart = pair(DpdAction::Restart);
    restart.cgw.drop = drop_all();
    restart.aws.drop = drop_all();
    let before = restart.aws.sent.len();
    restart.drive_until(restart.now() + Duration::from_secs(45));
    let init = restart.aws.sent[before..]
        .iter()
        .any(|d| d.message().header.exchange == ike_wire::ExchangeType::IKE_SA_INIT);
    assert!(init, "restart: AWS sends IKE_SA_INIT again");
    assert!(restart
        .aws
        .find(|k| matches!(k, EventKind::IkeSaNegotiating { .. }))
        .is_some());

    let mut none = pair(DpdAction::None);
    none.cgw.drop = drop_all();
    none.aws.drop = drop_all();
    none.drive_until(none.now() + Duration::from_secs(85));
    let timeouts = none
        .aws
        .events
        .iter()
        .filter(|(_, e)| matches!(e.kind, EventKind::DpdTimeout { .. }))
        .count();
    assert_eq!(timeouts, 2, "none: another timeout 40 s after the first");
    assert_eq!(
        none.aws.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
}

/// On-demand DPD: while the CGW's traffic reaches AWS there is nothing to probe; an
/// answering CGW resets the timer and nothing is logged.
#[test]
fn traffic_and_answers_keep_dpd_quiet() {
    let mut quiet = pair(DpdAction::Clear);
    let now = quiet.now();
    quiet.aws.endpoint.set_peer_traffic(now, true);
    let before = quiet.aws.sent.len();
    quiet.drive_until(quiet.now() + Duration::from_secs(600));
    assert_eq!(
        quiet.aws.sent.len(),
        before,
        "no liveness check while traffic flows"
    );

    let mut answered = pair(DpdAction::Clear);
    let events = answered.aws.events.len();
    answered.drive_until(answered.now() + Duration::from_secs(600));
    assert!(
        answered.aws.sent.len() - events >= 55,
        "a liveness exchange every 10 s"
    );
    assert_eq!(
        answered.aws.events.len(),
        events,
        "answered checks log nothing"
    );
    assert_eq!(
        answered.aws.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
}
