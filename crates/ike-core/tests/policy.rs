//! A policy-based CGW with two subnet pairs: one CHILD SA per pair on one IKE SA (RFC 7296
//! §1.3.1), against a responder that keeps one SA pair per tunnel (AWS, newest wins), one
//! that refuses the second pair, and one that takes both (strongSwan). What the tests
//! read is what a user would see: the selectors of the CREATE_CHILD_SA requests on the
//! wire (decrypted with the exported keys) and the CHILD SAs each side keeps.

mod common;

use std::time::Duration;

use common::*;
use ike_core::{
    ts, ChildFailure, CloseAction, Direction, EndpointConfig, EventKind, NewChildSa,
    PeerIncompatible, SaState, TsPair,
};
use ike_wire::{ExchangeType, NotifyType, Payload, TrafficSelector};

const ESP: &str = "aes256gcm16-ecp384";
const TRAP_AFTER: Duration = Duration::from_secs(300);

fn cidr(s: &str) -> Vec<TrafficSelector> {
    vec![ts::parse_cidr(s).expect("valid CIDR")]
}

/// AWS with `policy`; a CGW with pairs 10.0.1.0/24 and 10.0.2.0/24 ↔ 172.31.0.0/16, a trap
/// policy re-acquiring a deleted pair after `TRAP_AFTER`, and traffic flowing both ways.
fn pair_with(policy: NewChildSa) -> Pair {
    pair_with_cgw(policy, |_| {})
}

/// `pair_with`, the CGW's configuration changed by `tweak` first.
fn pair_with_cgw(policy: NewChildSa, tweak: impl FnOnce(&mut EndpointConfig)) -> Pair {
    let mut aws = aws_config(PSK, None, None);
    aws.new_child_sa = policy;
    let mut cgw: EndpointConfig = cgw_config(PSK, &["aes256gcm16-prfsha384-ecp384"], &[ESP]);
    cgw.local_ts = cidr("10.0.1.0/24");
    cgw.remote_ts = cidr("172.31.0.0/16");
    cgw.more_children = vec![TsPair {
        local: cidr("10.0.2.0/24"),
        remote: cidr("172.31.0.0/16"),
    }];
    cgw.close_action = CloseAction::Trap { after: TRAP_AFTER };
    tweak(&mut cgw);
    let mut pair = Pair::new(aws, cgw, 1, 2);
    for side in [Side::Aws, Side::Cgw] {
        pair.act(side, |e, now| e.set_peer_traffic(now, true));
    }
    pair
}

/// The CGW's data plane has a packet from `src` to `dst` with no SA (`Endpoint::acquire`):
/// whether a negotiation started.
fn acquire(pair: &mut Pair, src: std::net::IpAddr, dst: std::net::IpAddr) -> bool {
    let mut started = false;
    pair.act(Side::Cgw, |e, now| started = e.acquire(now, src, dst));
    started
}

/// The TSi of each CREATE_CHILD_SA request the CGW sent for a new CHILD SA (neither a
/// CHILD SA rekey, with REKEY_SA, nor an IKE SA rekey, without selectors), in order, as
/// text.
fn new_child_requests(pair: &Pair) -> Vec<String> {
    let rekey_sa = |p: &Payload| matches!(p, Payload::Notify(n) if n.ty == NotifyType::REKEY_SA);
    pair.cgw
        .sent_of(ExchangeType::CREATE_CHILD_SA, false)
        .into_iter()
        .filter(|d| !d.dropped)
        .map(|d| decrypt(&pair.cgw.secrets, &d.bytes))
        .filter(|p| !p.iter().any(rekey_sa))
        .filter_map(|p| {
            p.iter().find_map(|p| match p {
                Payload::TsI(t) => Some(t.iter().map(ts::display).collect::<Vec<_>>().join(",")),
                _ => None,
            })
        })
        .collect()
}

/// Both sides keep one CHILD SA and agree on its SPIs.
fn one_child_each(pair: &Pair) -> (u32, u32) {
    let aws = pair.aws.endpoint.child_sas();
    let cgw = pair.cgw.endpoint.child_sas();
    assert_eq!(aws.len(), 1, "AWS keeps one SA pair: {aws:?}");
    assert_eq!(cgw.len(), 1, "the CGW is left with one CHILD SA: {cgw:?}");
    assert_eq!((aws[0].0, aws[0].1), (cgw[0].1, cgw[0].0));
    aws[0]
}

/// AWS's one SA pair per tunnel against a policy-based CGW with a trap policy: each new
/// pair replaces the other, the trap brings the other back, and round it goes — the
/// flapping users report, with phase 1 and phase 2 up throughout.
///
/// ```text
/// CGW                                            AWS
///  |== IKE_AUTH, CHILD SA 10.0.1.0/24 (c1) ======>|
///  |-- CREATE_CHILD_SA TSi=10.0.2.0/24 ---------->|   c2
///  |<-- response ---------------------------------|
///  |<-- INFORMATIONAL D(c1) ----------------------|   newest wins
///  |-- response D(c1) --------------------------->|
///  :   5 min: the trap policy sees 10.0.1.0/24's traffic
///  |-- CREATE_CHILD_SA TSi=10.0.1.0/24 ---------->|   c1'
///  |<-- INFORMATIONAL D(c2) ----------------------|   …
/// ```
#[test]
fn one_pair_per_tunnel_makes_the_pairs_replace_each_other() {
    let mut pair = pair_with(NewChildSa::ReplaceOthers);
    pair.initiate();
    pair.run_to(Duration::from_secs(60));
    assert_eq!(new_child_requests(&pair), ["10.0.2.0/24"]);
    let first = pair
        .aws
        .find(|k| matches!(k, EventKind::ChildSaEstablished { .. }))
        .map(|(_, e)| e.kind.clone());
    let Some(EventKind::ChildSaEstablished { spi_in: c1, .. }) = first else {
        panic!("no CHILD SA with IKE_AUTH");
    };
    // AWS deleted the first pair's SA the moment the second was up, and said so.
    let aws_kinds = pair.aws.kinds();
    let deleted = aws_kinds
        .iter()
        .position(|k| *k == EventKind::ChildSaDeleteSent { spi_in: c1 })
        .expect("AWS deletes the first CHILD SA");
    let second = aws_kinds
        .iter()
        .rposition(|k| matches!(k, EventKind::ChildSaEstablished { .. }))
        .expect("a second CHILD SA");
    assert!(second < deleted, "{aws_kinds:?}");
    let (c2, _) = one_child_each(&pair);
    assert_ne!(c2, c1);
    assert!(pair
        .cgw
        .kinds()
        .contains(&EventKind::ChildSaDeleteReceived { spi: c1 }));

    // Each trap brings the missing pair back, which replaces the other one.
    pair.run_to(Duration::from_secs(60) + TRAP_AFTER * 4);
    assert_eq!(
        new_child_requests(&pair),
        [
            "10.0.2.0/24",
            "10.0.1.0/24",
            "10.0.2.0/24",
            "10.0.1.0/24",
            "10.0.2.0/24"
        ]
    );
    one_child_each(&pair);
    // The tunnel never went down: every state AWS's view held after IKE_AUTH is up.
    let up = (SaState::Established, SaState::Established);
    let states = pair.aws.states();
    let from = states.iter().position(|s| *s == up).expect("tunnel up");
    assert!(states[from..].iter().all(|s| *s == up), "{states:?}");

    // Without traffic the trap catches nothing (its timer armed at the last DELETE finds
    // no packet): the pair standing now stays alone.
    pair.act(Side::Cgw, |e, now| e.set_peer_traffic(now, false));
    pair.run_to(Duration::from_secs(60) + TRAP_AFTER * 12);
    assert_eq!(new_child_requests(&pair).len(), 5);
    one_child_each(&pair);
}

/// The other reading of AWS's limit: the second pair is refused (TS_UNACCEPTABLE) each
/// time the CGW's trap asks for it, the first stays, nothing flaps.
#[test]
fn a_refusing_responder_keeps_the_first_pair() {
    let mut pair = pair_with(NewChildSa::Refuse);
    pair.initiate();
    pair.run_to(Duration::from_secs(1));
    let (first, _) = one_child_each(&pair);
    pair.run_to(TRAP_AFTER * 3 - Duration::from_secs(1));
    assert_eq!(
        new_child_requests(&pair),
        ["10.0.2.0/24", "10.0.2.0/24", "10.0.2.0/24"]
    );
    let count = |host: &Host, failure: ChildFailure| {
        let failed = EventKind::ChildSaFailed { failure };
        host.kinds().iter().filter(|k| **k == failed).count()
    };
    let refused = ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Sent);
    let told = ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Received);
    assert_eq!(count(&pair.aws, refused), 3);
    assert_eq!(count(&pair.cgw, told), 3);
    assert_eq!(one_child_each(&pair).0, first);
    assert_eq!(
        pair.aws.endpoint.phase_states(),
        (SaState::Established, SaState::Established)
    );
}

/// A responder without the limit (strongSwan's way) keeps both pairs, and each is rekeyed
/// on its own with its own selectors (REKEY_SA, §1.3.3).
#[test]
fn an_accepting_responder_keeps_both_pairs_through_rekeys() {
    // Exact rekeys, 40 minutes in.
    let mut pair = pair_with_cgw(NewChildSa::Accept, |c| {
        c.lifetimes = exact_lifetimes(
            Duration::from_secs(28_800),
            Duration::from_secs(3_600),
            Duration::from_secs(1_200),
        );
    });
    pair.initiate();
    pair.run_to(Duration::from_secs(60));
    assert_eq!(pair.aws.endpoint.child_sas().len(), 2);
    let before: Vec<u32> = pair.cgw.endpoint.child_sas().iter().map(|c| c.0).collect();
    pair.run_to(Duration::from_secs(2_500));
    let rekeys = pair
        .cgw
        .kinds()
        .iter()
        .filter(|k| matches!(k, EventKind::ChildSaRekeyed { .. }))
        .count();
    assert_eq!(rekeys, 2, "{:?}", pair.cgw.kinds());
    let after: Vec<u32> = pair.cgw.endpoint.child_sas().iter().map(|c| c.0).collect();
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|spi| !before.contains(spi)));
    // No new CHILD SA was asked for beyond the second pair's: nothing was deleted.
    assert_eq!(new_child_requests(&pair), ["10.0.2.0/24"]);
    let aws = pair.aws.endpoint.child_sas();
    let mut theirs: Vec<u32> = aws.iter().map(|c| c.1).collect();
    theirs.sort_unstable();
    let mut ours = after;
    ours.sort_unstable();
    assert_eq!(theirs, ours);
}

/// The one-pair policy while AWS rekeys the pair that stands: the CGW's trap brings the
/// other pair back at the very instant AWS's rekey of the standing one goes out, so the
/// two requests cross. AWS takes the new pair and deletes the standing one; its rekey's
/// heir, answered by the CGW meanwhile, is a second pair too and goes as well.
///
/// ```text
/// CGW                                              AWS
///  |  c2 (10.0.2.0/24) stands; c1 was deleted        |
///  |-- CREATE_CHILD_SA TSi=10.0.1.0/24 -\  /- CREATE_CHILD_SA REKEY_SA(c2) --|
///  |                                     \/                                  |
///  |<------------------------------------/\--------------------------------->|
///  |-- response (c2') ---------------------------------------------------->|
///  |<----------------------------------------------------- response (c1') --|
///  |<-- INFORMATIONAL D(c2), then D(c2') -----------------------------------|  one pair: c1'
/// ```
#[test]
fn a_new_pair_crossing_awss_rekey_of_the_other_still_leaves_one() {
    let aws_rekey_after = Duration::from_secs(3_330);
    let lifetimes = |child: u64| {
        exact_lifetimes(
            Duration::from_secs(28_800),
            Duration::from_secs(child),
            Duration::from_secs(270),
        )
    };
    let build = |trap_after: Duration| {
        let mut aws = aws_config(PSK, None, None);
        aws.new_child_sa = NewChildSa::ReplaceOthers;
        aws.lifetimes = lifetimes(3_600);
        let mut pair = pair_with_cgw(NewChildSa::ReplaceOthers, |c| {
            c.lifetimes = lifetimes(7_200);
            c.close_action = CloseAction::Trap { after: trap_after };
        });
        pair.aws.endpoint = ike_core::Endpoint::new(aws, pair.aws.addr, 1);
        pair.act(Side::Aws, |e, now| e.set_peer_traffic(now, true));
        pair.initiate();
        pair
    };
    // A first run tells when AWS installed c2 and when the CGW heard c1's DELETE.
    let mut probe = build(Duration::from_secs(7_000));
    probe.run_to(Duration::from_secs(60));
    let at = |host: &Host, pred: &dyn Fn(&EventKind) -> bool| {
        host.events
            .iter()
            .rev()
            .find(|(_, e)| pred(&e.kind))
            .map(|(t, _)| *t)
            .expect("the event happened")
    };
    let c2_up = at(&probe.aws, &|k| {
        matches!(k, EventKind::ChildSaEstablished { .. })
    });
    let c1_gone = at(&probe.cgw, &|k| {
        matches!(k, EventKind::ChildSaDeleteReceived { .. })
    });
    let rekey_at = c2_up + aws_rekey_after;

    let mut pair = build(rekey_at - c1_gone);
    pair.run_to(rekey_at - Duration::from_secs(1));
    let (c2, _) = one_child_each(&pair);
    pair.run_to(rekey_at + Duration::from_secs(5));
    // Both requests went out at the same instant.
    let sent = |host: &Host| {
        host.sent_of(ExchangeType::CREATE_CHILD_SA, false)
            .last()
            .map(|d| d.at)
            .expect("a CREATE_CHILD_SA request")
    };
    assert_eq!(sent(&pair.aws), sent(&pair.cgw));
    assert_eq!(sent(&pair.aws), rekey_at);
    let (kept, _) = one_child_each(&pair);
    assert_ne!(kept, c2);
    // The CGW asked for c1 again, the rekey was AWS's: the pair that stands is c1'.
    assert_eq!(
        new_child_requests(&pair).last().map(String::as_str),
        Some("10.0.1.0/24")
    );
    assert!(pair
        .aws
        .kinds()
        .contains(&EventKind::ChildSaDeleteSent { spi_in: c2 }));
}

/// The CGW of `pair_with`, speaking IKEv1 with CBC proposals.
fn ikev1(c: &mut EndpointConfig) {
    let v1 = cgw_config(
        PSK,
        &["aes256-sha256-modp2048"],
        &["aes256-sha256-modp2048"],
    );
    c.ike = v1.ike;
    c.esp = v1.esp;
    c.ike_version = ike_core::IkeVersion::V1;
}

/// IKEv1: a quick mode per pair (RFC 2409 §5.5) against the one-pair policy, and against a
/// responder that refuses the second pair (INVALID_ID_INFORMATION, IKEv1's way of saying
/// TS_UNACCEPTABLE).
#[test]
fn ikev1_quick_modes_per_pair_replace_each_other_or_are_refused() {
    let count = |host: &Host, pred: &dyn Fn(&EventKind) -> bool| {
        host.kinds().iter().filter(|k| pred(k)).count()
    };
    let established = |k: &EventKind| matches!(k, EventKind::ChildSaEstablished { .. });
    let deleted = |k: &EventKind| matches!(k, EventKind::ChildSaDeleteSent { .. });

    let mut pair = pair_with_cgw(NewChildSa::ReplaceOthers, |c| {
        ikev1(c);
    });
    pair.initiate();
    pair.run_to(Duration::from_secs(60));
    assert_eq!(count(&pair.aws, &established), 2, "{:?}", pair.aws.kinds());
    assert_eq!(count(&pair.aws, &deleted), 1);
    let (first, _) = one_child_each(&pair);
    pair.run_to(Duration::from_secs(60) + TRAP_AFTER * 4);
    // Each trap brought the missing pair back and AWS deleted the other.
    assert_eq!(count(&pair.aws, &established), 6);
    assert_eq!(count(&pair.aws, &deleted), 5);
    assert_eq!(
        count(&pair.cgw, &|k| matches!(
            k,
            EventKind::ChildSaDeleteReceived { .. }
        )),
        5
    );
    assert_ne!(one_child_each(&pair).0, first);

    let mut pair = pair_with_cgw(NewChildSa::Refuse, |c| {
        ikev1(c);
    });
    pair.initiate();
    pair.run_to(TRAP_AFTER * 3 - Duration::from_secs(1));
    // Refused at once and at each of the trap's two requests since.
    let refused = ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Sent);
    let failed = EventKind::ChildSaFailed { failure: refused };
    assert_eq!(count(&pair.aws, &|k| *k == failed), 3);
    assert_eq!(count(&pair.aws, &established), 1);
    one_child_each(&pair);
}

/// The flapping outlives an IKE SA rekey: the CHILD SAs move to the new IKE SA (RFC 7296
/// §2.18) and so does the trap of the pair that has none at that moment.
#[test]
fn the_trap_survives_an_ike_rekey() {
    let ike_rekey = Duration::from_secs(1_000);
    let mut pair = pair_with_cgw(NewChildSa::ReplaceOthers, |c| {
        c.lifetimes.ike = Duration::from_secs(2_000);
        c.lifetimes.margin = Duration::from_secs(1_000);
        c.lifetimes.fuzz_percent = 0;
        c.lifetimes.child = Duration::from_secs(28_800);
    });
    pair.initiate();
    pair.run_to(ike_rekey + Duration::from_secs(60));
    assert!(
        pair.cgw
            .kinds()
            .iter()
            .any(|k| matches!(k, EventKind::IkeSaRekeyed { .. })),
        "{:?}",
        pair.cgw.kinds()
    );
    let before = new_child_requests(&pair).len();
    pair.run_to(ike_rekey + TRAP_AFTER * 3);
    assert!(
        new_child_requests(&pair).len() >= before + 2,
        "the trap goes on after the IKE rekey: {:?}",
        new_child_requests(&pair)
    );
    one_child_each(&pair);
}

/// IKEv1 alike: a new main mode replaces the ISAKMP SA and takes over its IPsec SAs and
/// the trap of the pair that has none.
#[test]
fn ikev1_the_trap_survives_a_phase1_replacement() {
    let phase1_rekey = Duration::from_secs(1_000);
    let mut pair = pair_with_cgw(NewChildSa::ReplaceOthers, |c| {
        ikev1(c);
        c.lifetimes.ike = Duration::from_secs(2_000);
        c.lifetimes.margin = Duration::from_secs(1_000);
        c.lifetimes.fuzz_percent = 0;
        c.lifetimes.child = Duration::from_secs(28_800);
    });
    pair.initiate();
    pair.run_to(phase1_rekey + Duration::from_secs(60));
    assert!(
        pair.cgw
            .kinds()
            .iter()
            .any(|k| matches!(k, EventKind::IkeSaRekeyed { .. })),
        "{:?}",
        pair.cgw.kinds()
    );
    let established = |pair: &Pair| {
        pair.aws
            .kinds()
            .iter()
            .filter(|k| matches!(k, EventKind::ChildSaEstablished { .. }))
            .count()
    };
    let before = established(&pair);
    pair.run_to(phase1_rekey + TRAP_AFTER * 3);
    assert!(
        established(&pair) >= before + 2,
        "the trap goes on after the phase 1 replacement: {:?}",
        pair.aws.kinds()
    );
    one_child_each(&pair);
}

/// AWS initiates (startup action `start`) with 0.0.0.0/0 on both sides: the policy-based
/// CGW narrows IKE_AUTH's CHILD SA to its first pair, and its trap asks for the second
/// when that pair's traffic comes — and the flapping starts from there.
#[test]
fn a_policy_based_responder_traps_its_other_pairs() {
    let mut pair = pair_with(NewChildSa::ReplaceOthers);
    let cgw = pair.cgw.addr;
    pair.act(Side::Aws, |e, now| e.initiate(now, cgw));
    pair.run_to(Duration::from_secs(60));
    assert!(new_child_requests(&pair).is_empty());
    one_child_each(&pair);
    pair.run_to(TRAP_AFTER * 3 - Duration::from_secs(1));
    assert_eq!(new_child_requests(&pair), ["10.0.2.0/24", "10.0.1.0/24"]);
    one_child_each(&pair);
}

/// With a data plane a trap policy acts on packets, not on the traffic model: the
/// packet that finds no CHILD SA (`Endpoint::acquire`, the kernel's acquire) negotiates
/// its pair at once; acquires while a CHILD SA is being negotiated, for a pair that is
/// up, for addresses no pair holds, or without a trap policy start nothing.
#[test]
fn an_acquire_negotiates_the_missing_pair_at_once() {
    let mut pair = pair_with(NewChildSa::ReplaceOthers);
    for side in [Side::Aws, Side::Cgw] {
        pair.act(side, |e, now| e.set_peer_traffic(now, false));
    }
    pair.initiate();
    pair.run_to(Duration::from_secs(60));
    // AWS kept 10.0.2.0/24's pair; 10.0.1.0/24's is gone, and no timer brings it back.
    assert_eq!(new_child_requests(&pair), ["10.0.2.0/24"]);
    one_child_each(&pair);
    let (a, b, vpc) = (
        "10.0.1.7".parse().unwrap(),
        "10.0.2.7".parse().unwrap(),
        "172.31.0.9".parse().unwrap(),
    );
    let outside = "192.168.9.9".parse().unwrap();
    assert!(!acquire(&mut pair, b, vpc), "10.0.2.0/24's pair is up");
    assert!(!acquire(&mut pair, outside, vpc), "no pair holds it");
    assert!(!acquire(&mut pair, vpc, a), "the other way round");
    assert!(acquire(&mut pair, a, vpc));
    assert!(
        !acquire(&mut pair, a, vpc),
        "the next packet finds its CHILD SA being negotiated"
    );
    pair.run_to(Duration::from_secs(61));
    assert_eq!(new_child_requests(&pair), ["10.0.2.0/24", "10.0.1.0/24"]);
    // AWS's one pair per tunnel: 10.0.1.0/24's new pair replaced the other.
    one_child_each(&pair);
    assert!(acquire(&mut pair, b, vpc));
    pair.run_to(Duration::from_secs(62));
    assert_eq!(new_child_requests(&pair).len(), 3);

    let mut none = pair_with_cgw(NewChildSa::ReplaceOthers, |c| {
        c.close_action = CloseAction::None;
    });
    none.initiate();
    none.run_to(Duration::from_secs(60));
    assert!(!acquire(&mut none, a, vpc), "no trap policy");
}

/// `start_action = trap` (`Endpoint::trap`): nothing is negotiated until a packet needs the
/// tunnel; then the acquire negotiates the IKE SA (with the first pair's CHILD SA), and
/// acquires while it is on its way start nothing more. The trap stays: once the IKE SA is
/// gone the next packet negotiates a new one — without `close_action = trap`, too.
#[test]
fn a_trap_policy_negotiates_the_ike_sa_on_the_first_packet_and_after_it_is_gone() {
    let one_pair = |c: &mut EndpointConfig| {
        c.close_action = CloseAction::None;
        c.more_children.clear();
    };
    let established = |pair: &Pair| {
        let up = |k: &&EventKind| matches!(k, EventKind::IkeSaEstablished { .. });
        pair.aws.kinds().iter().filter(up).count()
    };
    let mut pair = pair_with_cgw(NewChildSa::ReplaceOthers, one_pair);
    for side in [Side::Aws, Side::Cgw] {
        pair.act(side, |e, now| e.set_peer_traffic(now, false));
    }
    let aws = pair.aws.addr;
    pair.act(Side::Cgw, |e, _| e.trap(aws));
    pair.run_to(Duration::from_secs(60));
    assert!(pair.aws.kinds().is_empty(), "{:?}", pair.aws.kinds());
    let (a, vpc) = ("10.0.1.7".parse().unwrap(), "172.31.0.9".parse().unwrap());
    let outside = "192.168.9.9".parse().unwrap();
    assert!(!acquire(&mut pair, outside, vpc), "no pair holds it");
    assert!(acquire(&mut pair, a, vpc));
    assert!(!acquire(&mut pair, a, vpc), "the IKE SA is on its way");
    pair.run_to(Duration::from_secs(61));
    assert_eq!(established(&pair), 1, "{:?}", pair.aws.kinds());
    assert_eq!(pair.cgw.endpoint.ike_sas().len(), 1);

    let now = pair.now();
    pair.cgw.endpoint.delete_ike_sas(now);
    pair.run_to(Duration::from_secs(62));
    assert!(pair.cgw.endpoint.ike_sas().is_empty());
    assert!(acquire(&mut pair, a, vpc), "the trap is still there");
    pair.run_to(Duration::from_secs(63));
    assert_eq!(pair.cgw.endpoint.ike_sas().len(), 1);
    assert_eq!(established(&pair), 2);

    let mut untrapped = pair_with_cgw(NewChildSa::ReplaceOthers, one_pair);
    untrapped.run_to(Duration::from_secs(1));
    assert!(!acquire(&mut untrapped, a, vpc), "no trap policy");
}
