//! What the core tells the data plane (`ike_core::ipsec`), IKEv2: an `Install` on both
//! ends whenever a CHILD SA goes into use, one end's outbound SA the other's inbound (keys
//! sealed on one side and opened on the other), a `Remove` exactly once for each, whatever
//! ends the CHILD SA, and nothing for a CHILD SA that only changes IKE SA. The pair's
//! `DataPlane` (tests/common/dataplane.rs) checks the contract after every input of every
//! pair test in this crate: no SPI installed twice, no removal or update of an SA not
//! installed, every CHILD SA that is up (`Endpoint::child_sas`) installed — and, once a
//! pair has settled (`Pair::drive`), nothing installed but those.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::dataplane::{install, remove, the_pair};
use common::*;
use ike_core::{EndpointConfig, EventKind, IkeVersion, IpsecChange, SaState};
use ike_wire::EncrId;

const IKE: &str = "aes128-sha256-ecp256";
const ESP: &str = "aes256gcm16-ecp384";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn configs(esp: &str) -> (EndpointConfig, EndpointConfig) {
    (aws_config(PSK, None, None), cgw_config(PSK, &[IKE], &[esp]))
}

fn up(aws: EndpointConfig, cgw: EndpointConfig) -> Pair {
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.initiate();
    pair.drive();
    for host in [&pair.aws, &pair.cgw] {
        assert_eq!(
            host.endpoint.phase_states(),
            (SaState::Established, SaState::Established)
        );
    }
    pair
}

#[test]
fn ikev2_both_ends_install_the_child_sa_with_crossed_keys() {
    for esp in [
        "aes256gcm16-ecp384",
        "aes128gcm16-modp2048",
        "aes128-sha256-ecp256",
        "aes256-sha512-modp2048",
        "aes128-sha1-ecp256",
    ] {
        let (aws, cgw) = configs(esp);
        let pair = up(aws, cgw);
        let (a, c) = the_pair(&pair);
        for (host, p) in [(&pair.aws, &a), (&pair.cgw, &c)] {
            assert_eq!(host.sad.since(0), [install(p)], "{esp}: only the Install");
            assert_eq!(p.ike_version, IkeVersion::V2);
            assert_eq!(p.replaces, None);
            assert!(!p.encapsulated, "{esp}: no NAT, plain ESP");
            assert_eq!(host.endpoint.child_sas(), [(p.spi_in, p.spi_out)]);
        }
        // The IKE SA's own addresses: no NAT-T without a NAT.
        assert_eq!((a.local, a.remote), (addr(AWS_ADDR), addr(CGW_ADDR)));
        assert_eq!((c.local, c.remote), (addr(CGW_ADDR), addr(AWS_ADDR)));
        let gcm = esp.contains("gcm");
        assert_eq!(a.integrity.is_none(), gcm, "{esp}");
        assert_eq!(
            a.outbound.encryption.len(),
            match (gcm, a.key_bits) {
                (true, Some(bits)) => usize::from(bits / 8) + 4,
                (false, Some(bits)) => usize::from(bits / 8),
                _ => unreachable!("AES has a key length"),
            },
            "{esp}: GCM keys carry their 4-byte salt (RFC 4106 §8.1)"
        );
        if !gcm {
            assert_eq!(a.encryption, EncrId::AES_CBC);
            assert!(!a.outbound.integrity.is_empty());
        }
    }
}

#[test]
fn extended_sequence_numbers_are_installed_as_negotiated() {
    // Two generic peers that both want ESN (AWS's tunnels do not offer it).
    let aws = cgw_config(PSK, &[IKE], &["aes128gcm16-ecp256-esn"]);
    let cgw = cgw_config(PSK, &[IKE], &["aes128gcm16-ecp256-esn"]);
    let pair = up(aws, cgw);
    let (a, c) = the_pair(&pair);
    assert!(a.esn && c.esn);
    let (aws, cgw) = configs(ESP);
    let (a, _) = the_pair(&up(aws, cgw));
    assert!(!a.esn);
}

#[test]
fn without_a_data_plane_nothing_is_queued() {
    let (mut aws, mut cgw) = configs(ESP);
    aws.data_plane = false;
    cgw.data_plane = false;
    let aws = aws.child_rekey_after(secs(3_600), secs(3_000));
    let mut pair = up(aws, cgw);
    pair.drive_until(pair.now() + secs(3_100));
    pair.act(Side::Cgw, |ep, now| ep.delete_ike_sas(now));
    pair.drive();
    assert!(pair
        .aws
        .kinds()
        .iter()
        .any(|k| matches!(k, EventKind::ChildSaRekeyed { .. })));
    assert!(pair.aws.sad.log.is_empty() && pair.cgw.sad.log.is_empty());
}

/// A CHILD SA rekey by `initiator`: each end installs the new SA (it `replaces` the old
/// one) before it removes the old one, and the new SAs cross as the first did. With AWS
/// as the initiator, the original responder started the exchange, so AWS's KEYMAT half
/// comes first (RFC 7296 §2.17: "i" is the exchange's initiator).
fn child_rekey_by(initiator: Side) {
    let (aws, cgw) = configs(ESP);
    let (aws, cgw) = match initiator {
        Side::Aws => (
            aws.child_rekey_after(secs(3_600), secs(3_000)),
            cgw.child_rekey_after(secs(7_200), secs(6_000)),
        ),
        Side::Cgw => (
            aws.child_rekey_after(secs(7_200), secs(6_000)),
            cgw.child_rekey_after(secs(3_600), secs(3_000)),
        ),
    };
    let mut pair = up(aws, cgw);
    let (old_a, old_c) = the_pair(&pair);
    pair.drive_until(pair.now() + secs(3_100));
    pair.drive();
    let (new_a, new_c) = the_pair(&pair);
    assert_ne!(new_a.inbound, old_a.inbound, "fresh keys");
    for (side, host, old, new) in [
        (Side::Aws, &pair.aws, &old_a, &new_a),
        (Side::Cgw, &pair.cgw, &old_c, &new_c),
    ] {
        assert_eq!(new.replaces, Some(old.spi_in));
        // The responder's new outbound SA waits for the DELETE of the old one.
        assert_eq!(
            new.defer_outbound,
            side != initiator,
            "{initiator:?}'s rekey"
        );
        assert_eq!(
            host.sad.since(0),
            [install(old), install(new), remove(old.spi_in)],
            "{initiator:?}'s rekey"
        );
    }
}

/// Until its DELETE is done, the old SA of a rekey is still installed — packets on it
/// still arrive — and an authenticated one counts as hearing from the peer.
#[test]
fn the_old_sa_of_a_rekey_takes_packets_until_its_delete() {
    let (aws, cgw) = configs(ESP);
    let mut pair = up(aws, cgw.child_rekey_after(secs(3_600), secs(3_000)));
    let (old_a, _) = the_pair(&pair);
    // The CGW's DELETE of the old SA is lost, again and again.
    pair.cgw.drop =
        Box::new(|d| d.message().header.exchange == ike_wire::ExchangeType::INFORMATIONAL);
    pair.run_to(secs(3_010));
    let new_a = pair
        .aws
        .sad
        .installs()
        .last()
        .map(|p| (*p).clone())
        .unwrap();
    assert_eq!(new_a.replaces, Some(old_a.spi_in));
    assert!(pair.aws.sad.installed.contains_key(&old_a.spi_in));
    let (now, cgw) = (pair.now(), addr(CGW_ADDR));
    assert!(pair.aws.endpoint.esp_arrived(now, cgw, old_a.spi_in));
    assert!(pair.aws.endpoint.esp_arrived(now, cgw, new_a.spi_in));
    assert!(!pair.aws.endpoint.esp_arrived(now, cgw, old_a.spi_in ^ 1));
    pair.cgw.drop = Box::new(|_| false);
    pair.drive();
    assert_eq!(pair.aws.sad.removes(), [old_a.spi_in]);
}

#[test]
fn aws_rekeys_the_child_sa() {
    child_rekey_by(Side::Aws);
}

#[test]
fn cgw_rekeys_the_child_sa() {
    child_rekey_by(Side::Cgw);
}

/// An IKE SA rekey by `initiator`: the CHILD SAs move to the new IKE SA (RFC 7296 §2.8:
/// the new SA inherits them), so the data plane hears nothing — until they are deleted.
fn ike_rekey_by(initiator: Side) {
    let (aws, cgw) = configs(ESP);
    let (mut aws, mut cgw) = match initiator {
        Side::Aws => (
            aws.ike_rekey_after(secs(3_600), secs(3_000)),
            cgw.ike_rekey_after(secs(7_200), secs(6_000)),
        ),
        Side::Cgw => (
            aws.ike_rekey_after(secs(7_200), secs(6_000)),
            cgw.ike_rekey_after(secs(3_600), secs(3_000)),
        ),
    };
    aws.lifetimes.child = secs(20_000);
    cgw.lifetimes.child = secs(20_000);
    let mut pair = up(aws, cgw);
    let (a, c) = the_pair(&pair);
    let ike = pair.aws.endpoint.ike_sas();
    pair.drive_until(pair.now() + secs(3_100));
    pair.drive();
    assert_ne!(pair.aws.endpoint.ike_sas(), ike, "the IKE SA was rekeyed");
    assert_eq!(
        the_pair(&pair),
        (a.clone(), c.clone()),
        "the CHILD SA lives on"
    );
    assert_eq!(pair.aws.sad.since(0), [install(&a)]);
    assert_eq!(pair.cgw.sad.since(0), [install(&c)]);
    // Deleting the new IKE SA takes the inherited CHILD SA with it, once.
    pair.act(initiator, |ep, now| ep.delete_ike_sas(now));
    pair.drive();
    assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)]);
    assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)]);
}

#[test]
fn aws_rekeys_the_ike_sa_and_the_child_sa_stays_installed() {
    ike_rekey_by(Side::Aws);
}

#[test]
fn cgw_rekeys_the_ike_sa_and_the_child_sa_stays_installed() {
    ike_rekey_by(Side::Cgw);
}

/// Simultaneous IKE SA rekeys (RFC 7296 §2.8.1), whichever exchange wins: the CHILD SA
/// ends up under the surviving IKE SA (moved there with the redundant one's help or
/// adopted), and the data plane hears nothing of it.
#[test]
fn simultaneous_ike_rekeys_leave_the_child_sa_installed() {
    for seed in 0..6u64 {
        let (aws, cgw) = configs(ESP);
        let aws = aws.with_lifetimes(exact_lifetimes(secs(7_200), secs(10_000), secs(270)));
        let cgw = cgw.with_lifetimes(exact_lifetimes(
            secs(7_200),
            secs(20_000),
            secs(270) + Duration::from_millis(5),
        ));
        let mut pair = Pair::new(aws, cgw, seed, 100 + seed);
        pair.initiate();
        pair.drive();
        let (a, c) = the_pair(&pair);
        let ike = pair.aws.endpoint.ike_sas();
        pair.drive_until(pair.now() + secs(7_000));
        pair.drive();
        let [new] = pair.aws.endpoint.ike_sas()[..] else {
            panic!("one IKE SA left: {:?}", pair.aws.endpoint.ike_sas())
        };
        assert!(!ike.contains(&new), "seed {seed}: rekeyed");
        for host in [&pair.aws, &pair.cgw] {
            // Each sent its rekey before it saw the other's.
            let kinds = host.kinds();
            let sent = kinds
                .iter()
                .position(|k| matches!(k, EventKind::CreateChildRequestSent { .. }));
            let seen = kinds
                .iter()
                .position(|k| matches!(k, EventKind::CreateChildRequestProcessed { .. }));
            assert!(sent < seen && sent.is_some(), "seed {seed}: {kinds:?}");
        }
        assert_eq!(the_pair(&pair), (a.clone(), c.clone()), "seed {seed}");
        assert_eq!(pair.aws.sad.since(0), [install(&a)], "seed {seed}");
        assert_eq!(pair.cgw.sad.since(0), [install(&c)], "seed {seed}");
    }
}

#[test]
fn deleting_the_ike_sa_removes_its_child_sas_on_both_ends() {
    for deleter in [Side::Aws, Side::Cgw] {
        let (aws, cgw) = configs(ESP);
        let mut pair = up(aws, cgw);
        let (a, c) = the_pair(&pair);
        pair.act(deleter, |ep, now| ep.delete_ike_sas(now));
        pair.drive();
        assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)], "{deleter:?}");
        assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)], "{deleter:?}");
    }
}

#[test]
fn an_expired_child_sa_is_removed_and_so_are_those_of_an_expired_ike_sa() {
    // The CHILD SA's hard lifetime ends first: it goes, the IKE SA stays.
    let (aws, cgw) = configs(ESP);
    let mut pair = up(aws.no_rekey(), cgw.no_rekey());
    let (a, c) = the_pair(&pair);
    pair.drive_until(pair.now() + secs(3_700));
    pair.drive();
    assert_eq!(pair.aws.endpoint.ike_sas().len(), 1);
    assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)]);
    assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)]);

    // The IKE SA's ends first: its CHILD SA goes with it.
    let (mut aws, mut cgw) = configs(ESP);
    for c in [&mut aws, &mut cgw] {
        c.lifetimes.ike = secs(3_600);
        c.lifetimes.child = secs(7_200);
        c.lifetimes.rekey = false;
    }
    let mut pair = up(aws, cgw);
    let (a, c) = the_pair(&pair);
    pair.drive_until(pair.now() + secs(3_700));
    pair.drive();
    assert!(pair.aws.endpoint.ike_sas().is_empty());
    assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)]);
    assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)]);
}

/// `forget_child_sas` drops the CHILD SAs without a word: removed here at once, still
/// installed at the peer — until the peer's rekey gets CHILD_SA_NOT_FOUND and it creates
/// a new CHILD SA from scratch (RFC 7296 §2.25), installed on both ends.
#[test]
fn forgotten_child_sas_are_removed_and_their_replacement_installed() {
    let (aws, cgw) = configs(ESP);
    let mut pair = up(aws, cgw.child_rekey_after(secs(3_600), secs(3_000)));
    let (a, c) = the_pair(&pair);
    pair.act(Side::Aws, |ep, now| ep.forget_child_sas(now));
    assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)]);
    assert!(pair.aws.sad.installed.is_empty());
    assert_eq!(pair.cgw.sad.spis(), BTreeSet::from([c.spi_in]));
    pair.drive_until(pair.now() + secs(3_100));
    pair.drive();
    assert!(pair
        .cgw
        .kinds()
        .iter()
        .any(|k| matches!(k, EventKind::ChildSaFailed { .. })));
    let (new_a, new_c) = the_pair(&pair);
    assert_eq!(pair.aws.sad.since(2), [install(&new_a)]);
    assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in), install(&new_c)]);
    assert_eq!(new_c.replaces, None, "a new CHILD SA, not a rekey");
}

/// Simultaneous CHILD SA rekeys (RFC 7296 §2.8.1): each end installs both new SAs — its
/// own exchange's and the peer's, either may carry packets until the redundant one's
/// DELETE — and removes the old SA and the redundant one, whichever end made it.
#[test]
fn a_rekey_collision_installs_both_new_sas_and_removes_the_loser() {
    let mut outcomes = BTreeSet::new();
    for seed in 0..40u64 {
        // The IKE SA's group is the one AWS's rekey takes for PFS, and the CGW's: no
        // INVALID_KE_PAYLOAD round trip, so both requests cross.
        let mut aws = aws_config(PSK, None, None);
        let mut cgw = cgw_config(PSK, &["aes256gcm16-prfsha384-ecp384"], &[ESP]);
        for c in [&mut aws, &mut cgw] {
            c.lifetimes.child = secs(3_600);
            c.lifetimes.margin = secs(270);
            c.lifetimes.fuzz_percent = 0;
        }
        // The CGW's SA comes up a latency after AWS's: fire 5 ms earlier, both in flight.
        cgw.lifetimes.margin += Duration::from_millis(5);
        let mut pair = Pair::new(aws, cgw, 100 + seed, 200 + seed);
        pair.initiate();
        pair.drive();
        let (old_a, old_c) = the_pair(&pair);
        pair.drive_until(pair.now() + secs(3_400));
        pair.drive();
        let (a, c) = the_pair(&pair);
        let aws_lost = pair
            .aws
            .find(|k| matches!(k, EventKind::RedundantChildSaDeleted { .. }))
            .is_some();
        for (host, old, survivor) in [(&pair.aws, &old_a, &a), (&pair.cgw, &old_c, &c)] {
            let installs = host.sad.installs();
            assert_eq!(installs.len(), 3, "the first SA and both new ones");
            assert!(installs
                .iter()
                .all(|p| p.spi_in == old.spi_in || p.replaces == Some(old.spi_in)));
            assert!(
                installs.iter().all(|p| !p.defer_outbound),
                "in a collision the first-installed rule decides who sends"
            );
            let removed: BTreeSet<u32> = host.sad.removes().into_iter().collect();
            let expected: BTreeSet<u32> = installs
                .iter()
                .map(|p| p.spi_in)
                .filter(|s| *s != survivor.spi_in)
                .collect();
            assert_eq!(removed, expected, "the old SA and the redundant one");
        }
        // "The one installed first sends" (`ike_core::ipsec`): the end that deletes the
        // redundant SA installed it second and sends on the survivor; the other end sends
        // on the redundant one until its DELETE, which the deleter answers only after
        // those packets arrived.
        let (deleter, other, survivor) = if aws_lost {
            (&pair.aws, &pair.cgw, &a)
        } else {
            (&pair.cgw, &pair.aws, &c)
        };
        let firsts = |h: &Host| h.sad.installs()[1].spi_in;
        assert_eq!(firsts(deleter), survivor.spi_in, "seed {seed}");
        assert_ne!(firsts(other), survivor.spi_out, "seed {seed}");
        outcomes.insert(aws_lost);
        if outcomes.len() == 2 {
            return;
        }
    }
    panic!("40 seeds did not give both outcomes: {outcomes:?}");
}

/// Behind a NAT the CHILD SA is UDP-encapsulated on the NAT-T ports (RFC 3948), both IKE
/// versions; AWS following the CGW to a new outside port moves the SA too (`Update`).
fn behind_a_nat(version: IkeVersion) {
    let (aws, mut cgw) = configs("aes128-sha256-ecp256");
    cgw.ike_version = version;
    cgw.dpd = Some(ike_core::DpdConfig::aws(
        secs(30),
        ike_core::DpdAction::Restart,
    ));
    let mut pair = Pair::new(aws, cgw, 1, 2).behind_nat();
    pair.initiate();
    pair.drive_until(pair.now() + secs(1));
    let (a, c) = the_pair(&pair);
    let nat_t = |s: &str| {
        let mut x = addr(s);
        x.set_port(NAT_T_PORT);
        x
    };
    let outside = pair.nat.as_ref().unwrap().outside(nat_t(CGW_ADDR)).unwrap();
    assert!(a.encapsulated && c.encapsulated, "{version:?}");
    assert_eq!((c.local, c.remote), (nat_t(CGW_ADDR), nat_t(AWS_ADDR)));
    assert_eq!((a.local, a.remote), (nat_t(AWS_ADDR), outside));
    assert_eq!(a.ike_version, version);

    pair.nat.as_mut().unwrap().rebind();
    pair.drive_until(pair.now() + secs(120));
    let moved = pair.nat.as_ref().unwrap().outside(nat_t(CGW_ADDR)).unwrap();
    assert_ne!(moved, outside);
    assert_eq!(
        pair.aws.sad.since(1),
        [IpsecChange::Update {
            spi_in: a.spi_in,
            local: nat_t(AWS_ADDR),
            remote: moved,
            encapsulated: true,
        }]
    );
    assert_eq!(
        pair.cgw.sad.since(1),
        [],
        "the CGW behind the NAT stays put"
    );
    assert_eq!(pair.aws.sad.installed[&a.spi_in].remote, moved);
}

/// An authenticated ESP packet puts AWS's on-demand DPD off (10 s from the packet) — but
/// not behind a NAT, where AWS's DPD is periodic: 10 s from the last IKE message, whatever
/// the traffic (AWS Knowledge Center: "on-demand DPD … for peers that are not using NAT,
/// and periodic DPDs for peers using NAT").
#[test]
fn esp_puts_dpd_off_without_a_nat_only() {
    for nat in [false, true] {
        let (mut aws, cgw) = configs(ESP);
        aws.dpd = Some(ike_core::DpdConfig::aws(
            secs(30),
            ike_core::DpdAction::Clear,
        ));
        let mut pair = Pair::new(aws, cgw, 1, 2);
        if nat {
            pair = pair.behind_nat();
        }
        pair.initiate();
        pair.drive_until(pair.now() + secs(1));
        let (a, _) = the_pair(&pair);
        let probe = pair.aws.endpoint.poll_timeout().expect("a DPD deadline");
        let at = pair.now() + secs(5);
        pair.drive_until(at);
        assert!(
            pair.aws.endpoint.esp_arrived(at, a.remote, a.spi_in),
            "nat {nat}"
        );
        let after = pair.aws.endpoint.poll_timeout().expect("a DPD deadline");
        if nat {
            assert_eq!(after, probe, "periodic behind a NAT");
        } else {
            assert_eq!(after, at + secs(10), "on demand");
        }
    }
}

#[test]
fn ikev2_behind_a_nat_the_child_sa_is_encapsulated_and_follows_a_rebind() {
    behind_a_nat(IkeVersion::V2);
}

#[test]
fn ikev1_behind_a_nat_the_child_sa_is_encapsulated_and_follows_a_rebind() {
    behind_a_nat(IkeVersion::V1);
}
