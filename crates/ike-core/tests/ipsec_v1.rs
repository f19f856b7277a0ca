//! What the core tells the data plane (`ike_core::ipsec`), IKEv1: quick mode installs the
//! IPsec SA pair on both ends, in either role (the CGW's quick mode, and AWS's when it
//! rekeys phase 2), its KEYMAT derived per direction with the receiver's SPI (RFC 2409
//! §5.5); a phase 2 rekey installs the new pair before the old one goes; a phase 1 rekey
//! moves the IPsec SAs to the new ISAKMP SA without a change; deletion and expiry remove
//! them. The pair's `DataPlane` checks the contract after every input (see tests/ipsec.rs).

mod common;

use std::time::Duration;

use common::dataplane::{install, remove, the_pair};
use common::*;
use ike_core::{DpdAction, DpdConfig, EndpointConfig, IkeVersion, Lifetimes};

const IKE: &str = "aes128-sha256-modp2048";
const ESP_PFS: &str = "aes128-sha256-modp2048";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn aws() -> EndpointConfig {
    let mut c = aws_config(PSK, None, None);
    c.dpd = Some(DpdConfig::aws(secs(30), DpdAction::Clear));
    c
}

fn cgw(esp: &str, lifetimes: Option<Lifetimes>) -> EndpointConfig {
    let mut c = cgw_config(PSK, &[IKE], &[esp]);
    c.ike_version = IkeVersion::V1;
    if let Some(l) = lifetimes {
        c.lifetimes = l;
    }
    c
}

/// Lifetimes without fuzz (phase 1, phase 2, margin in seconds).
fn lifetimes(ike: u64, child: u64, margin: u64) -> Lifetimes {
    Lifetimes {
        ike: secs(ike),
        child: secs(child),
        margin: secs(margin),
        fuzz_percent: 0,
        rekey: true,
    }
}

/// The CGW brings the tunnel up, and traffic flows both ways (on-demand DPD stays quiet).
fn up(aws: EndpointConfig, cgw: EndpointConfig) -> Pair {
    let mut pair = Pair::new(aws, cgw, 1, 2);
    pair.initiate();
    pair.drive_until(pair.now() + secs(1));
    let now = pair.now();
    pair.aws.endpoint.set_peer_traffic(now, true);
    pair.cgw.endpoint.set_peer_traffic(now, true);
    pair
}

#[test]
fn quick_mode_installs_the_ipsec_sas_on_both_ends_with_crossed_keys() {
    for esp in [ESP_PFS, "aes256-sha1-modp2048", "aes256gcm16-modp2048"] {
        let pair = up(aws(), cgw(esp, None));
        let (a, c) = the_pair(&pair);
        for (host, p) in [(&pair.aws, &a), (&pair.cgw, &c)] {
            assert_eq!(host.sad.since(0), [install(p)], "{esp}");
            assert_eq!(p.ike_version, IkeVersion::V1);
            assert_eq!((p.replaces, p.esn, p.encapsulated), (None, false, false));
        }
        assert_eq!((a.local, a.remote), (addr(AWS_ADDR), addr(CGW_ADDR)));
        assert_eq!((c.local, c.remote), (addr(CGW_ADDR), addr(AWS_ADDR)));
    }
}

/// A phase 2 rekey by `initiator` (for AWS: AWS is the quick mode's initiator, the
/// ISAKMP SA's responder): the new pair replaces the old one, installed on both ends
/// before the old one is removed.
fn phase2_rekey_by(initiator: Side) {
    let l = match initiator {
        Side::Cgw => lifetimes(28_800, 3_600, 600),
        Side::Aws => lifetimes(28_800, 3_600, 60),
    };
    let mut pair = up(aws(), cgw(ESP_PFS, Some(l)));
    let (old_a, old_c) = the_pair(&pair);
    pair.drive_until(pair.now() + secs(3_400));
    pair.drive();
    let (new_a, new_c) = the_pair(&pair);
    for (host, old, new) in [(&pair.aws, &old_a, &new_a), (&pair.cgw, &old_c, &new_c)] {
        assert_eq!(new.replaces, Some(old.spi_in), "{initiator:?}");
        assert!(!new.defer_outbound, "quick mode's responder sends at once");
        assert_ne!(new.inbound, old.inbound);
        assert_eq!(
            host.sad.since(0),
            [install(old), install(new), remove(old.spi_in)],
            "{initiator:?}"
        );
    }
}

#[test]
fn phase2_rekey_by_the_cgw() {
    phase2_rekey_by(Side::Cgw);
}

#[test]
fn phase2_rekey_by_aws() {
    phase2_rekey_by(Side::Aws);
}

/// A phase 1 rekey by `initiator`: a new main mode, and the new ISAKMP SA takes the
/// IPsec SAs over on both ends (the old one is deleted): nothing changes for the data
/// plane until they are deleted.
fn phase1_rekey_by(initiator: Side) {
    let l = match initiator {
        Side::Cgw => lifetimes(1_800, 3_600, 600),
        Side::Aws => lifetimes(1_800, 3_600, 60),
    };
    let mut pair = up(aws(), cgw(ESP_PFS, Some(l)));
    let (a, c) = the_pair(&pair);
    let old = pair.aws.endpoint.ike_sas();
    pair.drive_until(pair.now() + secs(1_600));
    pair.drive();
    assert_ne!(
        pair.aws.endpoint.ike_sas(),
        old,
        "{initiator:?}: a new ISAKMP SA"
    );
    assert_eq!(pair.aws.endpoint.ike_sas().len(), 1);
    assert_eq!(the_pair(&pair), (a.clone(), c.clone()));
    assert_eq!(pair.aws.sad.since(1), [], "{initiator:?}");
    assert_eq!(pair.cgw.sad.since(1), [], "{initiator:?}");
    pair.act(initiator.peer(), |ep, now| ep.delete_ike_sas(now));
    pair.drive();
    assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)]);
    assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)]);
}

#[test]
fn phase1_rekey_by_the_cgw_keeps_the_ipsec_sas() {
    phase1_rekey_by(Side::Cgw);
}

#[test]
fn phase1_rekey_by_aws_keeps_the_ipsec_sas() {
    phase1_rekey_by(Side::Aws);
}

#[test]
fn deleting_the_isakmp_sa_removes_its_ipsec_sas_on_both_ends() {
    for deleter in [Side::Aws, Side::Cgw] {
        let mut pair = up(aws(), cgw(ESP_PFS, None));
        let (a, c) = the_pair(&pair);
        pair.act(deleter, |ep, now| ep.delete_ike_sas(now));
        pair.drive();
        assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)], "{deleter:?}");
        assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)], "{deleter:?}");
    }
}

/// Without rekeys, the IPsec SA ends at its lifetime; and an ISAKMP SA that ends at its
/// own deletes its IPsec SAs first (what the core models, as strongSwan does).
#[test]
fn expiry_removes_the_ipsec_sas() {
    let mut l = lifetimes(28_800, 3_600, 60);
    l.rekey = false;
    let mut pair = up(aws().no_rekey(), cgw(ESP_PFS, Some(l)));
    let (a, c) = the_pair(&pair);
    pair.drive_until(pair.now() + secs(3_700));
    pair.drive();
    assert_eq!(pair.aws.endpoint.ike_sas().len(), 1, "phase 1 stays");
    assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)]);
    assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)]);

    let mut l = lifetimes(1_800, 3_600, 60);
    l.rekey = false;
    let mut pair = up(aws().no_rekey(), cgw(ESP_PFS, Some(l)));
    let (a, c) = the_pair(&pair);
    pair.drive_until(pair.now() + secs(1_900));
    pair.drive();
    assert!(pair.aws.endpoint.ike_sas().is_empty());
    assert_eq!(pair.aws.sad.since(1), [remove(a.spi_in)]);
    assert_eq!(pair.cgw.sad.since(1), [remove(c.spi_in)]);
}
