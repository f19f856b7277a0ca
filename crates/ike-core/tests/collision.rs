//! Rekey collisions, every interleaving made deterministic with exact timers (fuzz 0) and
//! the pair's 10 ms latency (RFC 7296 §2.8.1, §2.25). strongSwan-style: each test draws
//! the exchange it pins down.

mod common;

use std::time::Duration;

use common::*;
use ike_core::{EndpointConfig, EventKind, SaState};

const ESP_PFS: &str = "aes256gcm16-ecp384";

/// Both sides with exact (fuzz-free) lifetimes. The CGW's margins are `cgw_early` larger,
/// so its timers fire that much earlier than they would otherwise (its SAs come up 10 ms
/// after AWS's, one latency later).
fn configs(child: u64, ike: u64, cgw_early: Duration) -> (EndpointConfig, EndpointConfig) {
    let mut aws = aws_config("pre.shared_key", None, None);
    let mut cgw = cgw_config(
        "pre.shared_key",
        &["aes256gcm16-prfsha384-ecp384"],
        &[ESP_PFS],
    );
    for c in [&mut aws, &mut cgw] {
        c.lifetimes.child = Duration::from_secs(child);
        c.lifetimes.ike = Duration::from_secs(ike);
        c.lifetimes.margin = Duration::from_secs(270);
        c.lifetimes.fuzz_percent = 0;
    }
    cgw.lifetimes.margin += cgw_early;
    (aws, cgw)
}

fn established(pair: &mut Pair) {
    pair.initiate();
    pair.drive();
    assert_eq!(
        pair.aws.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
}

/// Each side's CHILD SAs, as the other side sees them: AWS's inbound is the CGW's outbound.
fn agree(pair: &Pair) -> (u32, u32) {
    let aws = pair.aws.endpoint.child_sas();
    let cgw = pair.cgw.endpoint.child_sas();
    assert_eq!(
        aws.len(),
        1,
        "AWS should keep exactly one CHILD SA: {aws:?}"
    );
    assert_eq!(
        cgw.len(),
        1,
        "the CGW should keep exactly one CHILD SA: {cgw:?}"
    );
    assert_eq!(
        (aws[0].0, aws[0].1),
        (cgw[0].1, cgw[0].0),
        "both sides agree on the SPIs"
    );
    aws[0]
}

/// Simultaneous CHILD SA rekeys, for both outcomes of the nonce comparison.
///
/// ```text
/// CGW                                        AWS
///  |-- CREATE_CHILD_SA(REKEY_SA c1, Ni') -\ /-- CREATE_CHILD_SA(REKEY_SA c1, Ni) --|
///  |                                       X                                      |
///  |<-------------------------------------/ \------------------------------------>|
///  |-- response (Nr) ------------------------------------------------------------->|  each answers
///  |<------------------------------------------------------------------ response (Nr') --|  the other
///  |   the exchange holding the lowest of the four nonces made the redundant SA;  |
///  |   its initiator deletes that SA, the other initiator deletes c1             |
///  |-- INFORMATIONAL(D) ---------------------------------------------------------->|
///  |<---------------------------------------------------------- INFORMATIONAL(D) --|
/// ```
#[test]
fn simultaneous_child_rekeys_leave_one_sa_whoever_wins() {
    let mut outcomes = [false, false]; // [AWS's SA redundant, CGW's SA redundant]
    for seed in 0..40u64 {
        let (aws, cgw) = configs(3_600, 28_800, Duration::from_millis(5));
        let mut pair = Pair::new(aws, cgw, 100 + seed, 200 + seed);
        established(&mut pair);
        let before = agree(&pair);
        let limit = pair.now() + Duration::from_secs(3_400);
        pair.drive_until(limit);
        // Both sides sent a CREATE_CHILD_SA request before seeing the other's.
        for host in [&pair.aws, &pair.cgw] {
            assert!(host
                .find(|k| matches!(k, EventKind::CreateChildRequestSent { .. }))
                .is_some());
            assert!(host
                .find(|k| matches!(k, EventKind::CreateChildRequestProcessed { .. }))
                .is_some());
        }
        let after = agree(&pair);
        assert_ne!(after, before, "the SA was rekeyed");
        let aws_redundant = pair
            .aws
            .find(|k| matches!(k, EventKind::RedundantChildSaDeleted { .. }))
            .is_some();
        let cgw_redundant = pair
            .cgw
            .find(|k| matches!(k, EventKind::RedundantChildSaDeleted { .. }))
            .is_some();
        assert!(
            aws_redundant != cgw_redundant,
            "exactly one side deletes a redundant SA (seed {seed})"
        );
        // The redundant SA's deleter never keeps it: the survivor is the other side's SA.
        let survivor_from_aws = pair
            .aws
            .find(|k| matches!(k, EventKind::ChildSaRekeyed { spi_in, .. } if *spi_in == after.0));
        assert!(
            survivor_from_aws.is_some(),
            "AWS reported the surviving SA as the rekey's result"
        );
        assert_eq!(
            pair.aws.endpoint.phase_states(),
            (SaState::Established, SaState::Established)
        );
        outcomes[usize::from(cgw_redundant)] = true;
        if outcomes == [true, true] {
            return;
        }
    }
    panic!("40 seeds did not produce both outcomes: {outcomes:?}");
}

/// The CGW lets its CHILD SA expire (no rekey) just as AWS starts rekeying it: the DELETE
/// and the CREATE_CHILD_SA cross (§2.25.1).
///
/// ```text
/// CGW                                          AWS
///  |-- INFORMATIONAL(D c1) --------\   /-- CREATE_CHILD_SA(REKEY_SA c1) --|
///  |                                \ /                                    |
///  |<--------------------------------X------------------------------------|
///  |-- response: CHILD_SA_NOT_FOUND --\ \--> DELETE for the SA being      |
///  |                                   \     rekeyed: CHILD_REKEY collision|
///  |<-- INFORMATIONAL response (D) ----\----------------------------------|
///  |                                    \--> rekey failed: phase 2 down    |
/// ```
#[test]
fn delete_crossing_a_child_rekey() {
    let (aws, mut cgw) = configs(3_600, 28_800, Duration::ZERO);
    cgw.lifetimes.rekey = false;
    // The CGW's SA ends 5 ms after AWS's rekey request left (3,330 s after AWS set it up).
    cgw.lifetimes.child = Duration::from_secs(3_330) - Duration::from_millis(5);
    let mut pair = Pair::new(aws, cgw, 7, 8);
    established(&mut pair);
    let limit = pair.now() + Duration::from_secs(3_400);
    pair.drive_until(limit);
    let kinds = pair.aws.kinds();
    let pos = |pred: &dyn Fn(&EventKind) -> bool| kinds.iter().position(pred);
    let sent = pos(&|k| matches!(k, EventKind::CreateChildRequestSent { .. }))
        .expect("AWS started a rekey");
    let collision = pos(&|k| matches!(k, EventKind::ChildRekeyCollisionDelete { .. }))
        .expect("collision reported");
    let failed = pos(&|k| matches!(k, EventKind::ChildSaFailed { .. })).expect("the rekey failed");
    assert!(sent < collision && collision < failed, "{kinds:?}");
    assert!(pair
        .aws
        .find(|k| matches!(k, EventKind::ChildSaDeleteReceived { .. }))
        .is_none());
    assert_eq!(
        pair.aws.endpoint.phase_states(),
        (SaState::Established, SaState::Down)
    );
    assert!(pair.aws.endpoint.child_sas().is_empty() && pair.cgw.endpoint.child_sas().is_empty());
}

/// Simultaneous IKE SA rekeys (§2.8.1 applies to IKE SAs too).
///
/// ```text
/// CGW                                          AWS
///  |-- CREATE_CHILD_SA(SA ike, Ni', KEi') -\ /-- CREATE_CHILD_SA(SA ike, Ni, KEi) --|
///  |<--------------------------------------X-------------------------------------->|
///  |   two new IKE SAs; the one made by the exchange with the lowest nonce is       |
///  |   redundant and deleted by its initiator; the winner's initiator deletes the  |
///  |   old IKE SA. The CHILD SA ends up on the surviving one.                      |
/// ```
#[test]
fn simultaneous_ike_rekeys_leave_one_ike_sa() {
    for seed in 0..6u64 {
        let (aws, cgw) = configs(28_000, 7_200, Duration::from_millis(5));
        let mut pair = Pair::new(aws, cgw, 300 + seed, 400 + seed);
        established(&mut pair);
        let old = pair.aws.endpoint.ike_sas();
        let limit = pair.now() + Duration::from_secs(7_000);
        pair.drive_until(limit);
        // It was a collision: each side sent a rekey request and answered the other's.
        for host in [&pair.aws, &pair.cgw] {
            assert!(
                host.find(|k| matches!(k, EventKind::CreateChildRequestSent { .. }))
                    .is_some(),
                "seed {seed}"
            );
            assert!(
                host.find(|k| matches!(k, EventKind::CreateChildRequestProcessed { .. }))
                    .is_some(),
                "seed {seed}"
            );
        }
        let (aws, cgw) = (pair.aws.endpoint.ike_sas(), pair.cgw.endpoint.ike_sas());
        assert_eq!(aws.len(), 1, "seed {seed}: AWS keeps one IKE SA: {aws:?}");
        assert_eq!(aws, cgw, "seed {seed}: both sides keep the same IKE SA");
        assert_ne!(aws, old, "seed {seed}: it is a new one");
        agree(&pair);
        assert_eq!(
            pair.aws.endpoint.phase_states(),
            (SaState::Established, SaState::Established),
            "seed {seed}"
        );
        // The surviving IKE SA works: a CHILD rekey on it later succeeds.
        let limit = pair.now() + Duration::from_secs(21_000);
        pair.drive_until(limit);
        agree(&pair);
    }
}
