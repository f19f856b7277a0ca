//! The SA database of a host and its peer: outbound by selectors (newest pair first),
//! inbound by SPI, rekeys that lose nothing in flight, and every drop counted.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{ping4, spec, udp4, udp6};
use esp::{Drop, KeyError, PairSpec, Sad, Selector, Suite};

const VPC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const ONPREM: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 20);

fn net(first: [u8; 4], last: [u8; 4]) -> Selector {
    Selector::addresses(IpAddr::from(first)..=IpAddr::from(last))
}

fn vpc() -> Vec<Selector> {
    vec![net([10, 0, 0, 0], [10, 0, 255, 255])]
}

fn onprem() -> Vec<Selector> {
    vec![net([192, 168, 1, 0], [192, 168, 1, 255])]
}

/// One CHILD SA as each side installs it: AWS's inbound SPI `spi_aws`, the CGW's
/// `spi_cgw`; AWS's selectors `aws`, the CGW's `cgw`.
fn child(
    suite: Suite,
    spi_aws: u32,
    spi_cgw: u32,
    aws: Vec<Selector>,
    cgw: Vec<Selector>,
    replaces: Option<(u32, u32)>,
) -> (PairSpec, PairSpec) {
    let to_aws = spec(suite, spi_aws, false, spi_aws as u8);
    let to_cgw = spec(suite, spi_cgw, false, spi_cgw as u8 ^ 0x80);
    (
        PairSpec {
            inbound: to_aws.clone(),
            outbound: to_cgw.clone(),
            local: aws.clone(),
            remote: cgw.clone(),
            replay_window: 1024,
            replaces: replaces.map(|r| r.0),
            defer_outbound: false,
            iv_seed: u64::from(spi_aws),
        },
        PairSpec {
            inbound: to_cgw,
            outbound: to_aws,
            local: cgw,
            remote: aws,
            replay_window: 1024,
            replaces: replaces.map(|r| r.1),
            defer_outbound: false,
            iv_seed: u64::from(spi_cgw),
        },
    )
}

fn gcm() -> Suite {
    Suite::AesGcm16 { key_bits: 128 }
}

fn installed(suite: Suite) -> (Sad, Sad) {
    let (aws, cgw) = child(suite, 0x1000, 0x2000, vpc(), onprem(), None);
    let (mut a, mut c) = (Sad::new(), Sad::new());
    a.install(aws).unwrap();
    c.install(cgw).unwrap();
    (a, c)
}

/// Seals `inner` at `from` and opens it at `to`: the inner packet that arrived.
fn carry(from: &mut Sad, to: &mut Sad, inner: &[u8]) -> Result<Vec<u8>, Drop> {
    let mut wire = Vec::new();
    from.seal(inner, &mut wire)?;
    let opened = to.open(&mut wire)?;
    Ok(wire[opened.inner].to_vec())
}

#[test]
fn packets_cross_both_ways_and_are_counted() {
    for suite in common::suites() {
        let (mut aws, mut cgw) = installed(suite);
        let ping = ping4(ONPREM, VPC, 1, &[0xab; 56]);
        assert_eq!(carry(&mut cgw, &mut aws, &ping).unwrap(), ping);
        let reply = udp4(VPC, ONPREM, 7, 40000, b"echo");
        assert_eq!(carry(&mut aws, &mut cgw, &reply).unwrap(), reply);
        let a = aws.counters(0x1000).unwrap();
        assert_eq!((a.packets_in, a.bytes_in), (1, ping.len() as u64));
        assert_eq!((a.packets_out, a.bytes_out), (1, reply.len() as u64));
        let c = cgw.counters(0x2000).unwrap();
        assert_eq!((c.packets_out, c.bytes_out), (1, ping.len() as u64));
        assert_eq!((c.packets_in, c.bytes_in), (1, reply.len() as u64));
        assert_eq!(aws.drops().total() + cgw.drops().total(), 0);
    }
}

#[test]
fn sealed_names_the_pair_and_the_next_header_is_the_ip_version() {
    let (mut aws, mut cgw) = installed(gcm());
    let mut wire = Vec::new();
    let sealed = aws.seal(&udp4(VPC, ONPREM, 1, 2, b"x"), &mut wire).unwrap();
    assert_eq!(
        (sealed.spi_in, sealed.spi_out, sealed.seq),
        (0x1000, 0x2000, 1)
    );
    assert_eq!(esp::spi_of(&wire), Some(0x2000));
    let opened = cgw.open(&mut wire).unwrap();
    assert_eq!((opened.spi_in, opened.seq), (0x2000, 1));
    // IPv6 inside: next header 41, selectors of IPv6 ranges.
    let v6 = |last: u8| {
        let mut a = [0u8; 16];
        a[0] = 0xfd;
        a[15] = last;
        a
    };
    let sel6 = |lo: u8, hi: u8| Selector::addresses(IpAddr::from(v6(lo))..=IpAddr::from(v6(hi)));
    let (a6, c6) = child(
        gcm(),
        0x3000,
        0x4000,
        vec![sel6(0, 9)],
        vec![sel6(10, 19)],
        None,
    );
    aws.install(a6).unwrap();
    cgw.install(c6).unwrap();
    let packet = udp6(v6(12), v6(3), 5000, 53, b"query");
    assert_eq!(carry(&mut cgw, &mut aws, &packet).unwrap(), packet);
    assert_eq!(aws.counters(0x3000).unwrap().packets_in, 1);
    // An IPv4 packet does not match the IPv6 pair nor the reverse.
    let mut wire = Vec::new();
    assert_eq!(
        cgw.seal(&udp6(v6(12), v6(3), 1, 2, b""), &mut wire)
            .unwrap()
            .spi_in,
        0x4000
    );
    assert_eq!(
        cgw.seal(&udp4(ONPREM, VPC, 1, 2, b""), &mut wire)
            .unwrap()
            .spi_in,
        0x2000
    );
}

/// A rekey, as strongSwan does it (RFC 7296 §2.8):
///
/// ```text
///   CGW                                   AWS
///    |-- ESP on old (0x2000→0x1000) ---x   (in flight)
///    |   CREATE_CHILD_SA: both install new, replacing old
///    |-- ESP on new ---------------------->|  outbound switched
///    |   ... the in-flight old packet ---->|  still opens: old inbound kept
///    |   DELETE old: both remove it
///    |   a late old packet --------------->|  UnknownSpi, counted
/// ```
#[test]
fn a_rekey_keeps_the_old_inbound_sa_until_removed() {
    for suite in [gcm(), common::suites()[5]] {
        let (mut aws, mut cgw) = installed(suite);
        let ping = ping4(ONPREM, VPC, 1, b"before");
        let mut in_flight = Vec::new();
        cgw.seal(&ping, &mut in_flight).unwrap();
        let mut late = Vec::new();
        cgw.seal(&ping, &mut late).unwrap();

        let (a2, c2) = child(
            suite,
            0x1001,
            0x2001,
            vpc(),
            onprem(),
            Some((0x1000, 0x2000)),
        );
        aws.install(a2).unwrap();
        cgw.install(c2).unwrap();

        let mut wire = Vec::new();
        let sealed = cgw
            .seal(&ping4(ONPREM, VPC, 2, b"after"), &mut wire)
            .unwrap();
        assert_eq!(sealed.spi_in, 0x2001, "the CGW sends on the new pair");
        assert_eq!(aws.open(&mut wire).unwrap().spi_in, 0x1001);
        assert_eq!(
            aws.seal(&udp4(VPC, ONPREM, 1, 2, b""), &mut wire)
                .unwrap()
                .spi_out,
            0x2001
        );

        let opened = aws.open(&mut in_flight).unwrap();
        assert_eq!(
            opened.spi_in, 0x1000,
            "the old inbound SA still takes packets"
        );
        assert_eq!(&in_flight[opened.inner], &ping[..]);

        let old = aws.remove(0x1000).unwrap();
        assert_eq!(old.packets_in, 1);
        assert_eq!(cgw.remove(0x2000).unwrap().packets_out, 2);
        assert_eq!(aws.open(&mut late), Err(Drop::UnknownSpi));
        assert_eq!(aws.drops().get(Drop::UnknownSpi), 1);
        assert_eq!(aws.counters(0x1000), None);
        assert_eq!(aws.spis_in().collect::<Vec<_>>(), [0x1001]);
    }
}

#[test]
fn the_newest_pair_sends_and_an_older_one_takes_over_when_it_goes() {
    let (mut aws, mut cgw) = installed(gcm());
    // A second CHILD SA for the same traffic, not a rekey (no `replaces`).
    let (a2, c2) = child(gcm(), 0x1002, 0x2002, vpc(), onprem(), None);
    aws.install(a2).unwrap();
    cgw.install(c2).unwrap();
    let packet = udp4(VPC, ONPREM, 9, 9, b"x");
    let mut wire = Vec::new();
    assert_eq!(aws.seal(&packet, &mut wire).unwrap().spi_in, 0x1002);
    aws.remove(0x1002).unwrap();
    assert_eq!(aws.seal(&packet, &mut wire).unwrap().spi_in, 0x1000);
    assert_eq!(cgw.open(&mut wire).unwrap().spi_in, 0x2000);
    assert_eq!(aws.len(), 1);
    assert!(aws.remove(0x1002).is_none());
}

#[test]
fn a_packet_no_selector_holds_is_no_sa() {
    let (mut aws, _) = installed(gcm());
    let mut wire = vec![1, 2, 3];
    let elsewhere = udp4(VPC, Ipv4Addr::new(172, 16, 0, 1), 1, 2, b"");
    assert_eq!(aws.seal(&elsewhere, &mut wire), Err(Drop::NoSa));
    assert!(wire.is_empty());
    let spoofed = udp4(Ipv4Addr::new(10, 2, 0, 0), ONPREM, 1, 2, b"");
    assert_eq!(aws.seal(&spoofed, &mut wire), Err(Drop::NoSa));
    assert_eq!(
        aws.seal(b"not an IP packet", &mut wire),
        Err(Drop::Malformed)
    );
    assert_eq!(aws.drops().get(Drop::NoSa), 2);
    assert_eq!(aws.drops().get(Drop::Malformed), 1);
    assert_eq!(aws.counters(0x1000).unwrap().packets_out, 0);
}

#[test]
fn an_inner_packet_outside_the_selectors_is_a_mismatch() {
    // The CGW's own view is wider than what AWS agreed to: it sends from 192.168.9.9.
    let (aws_spec, mut cgw_spec) = child(gcm(), 0x1000, 0x2000, vpc(), onprem(), None);
    cgw_spec.local = vec![net([192, 168, 0, 0], [192, 168, 255, 255])];
    let (mut aws, mut cgw) = (Sad::new(), Sad::new());
    aws.install(aws_spec).unwrap();
    cgw.install(cgw_spec).unwrap();
    let stray = ping4(Ipv4Addr::new(192, 168, 9, 9), VPC, 1, b"");
    assert_eq!(
        carry(&mut cgw, &mut aws, &stray),
        Err(Drop::SelectorMismatch)
    );
    let c = aws.counters(0x1000).unwrap();
    assert_eq!((c.selector_mismatches, c.packets_in), (1, 0));
    assert_eq!(aws.drops().get(Drop::SelectorMismatch), 1);
    // Inside the agreed range it passes.
    assert!(carry(&mut cgw, &mut aws, &ping4(ONPREM, VPC, 2, b"")).is_ok());
}

#[test]
fn protocol_and_port_selectors() {
    // AWS's side: only DNS over UDP to 10.0.0.53, and ICMP echo requests (type 8) to it.
    let host = IpAddr::from([10, 0, 0, 53]);
    let dns = Selector {
        addrs: host..=host,
        protocol: 17,
        ports: 53..=53,
    };
    let echo = Selector {
        addrs: host..=host,
        protocol: 1,
        ports: 0x0800..=0x08ff,
    };
    let any_onprem = Selector {
        protocol: 0,
        ..onprem()[0].clone()
    };
    let (a, c) = child(
        gcm(),
        0x1000,
        0x2000,
        vec![dns, echo],
        vec![any_onprem],
        None,
    );
    let (mut aws, mut cgw) = (Sad::new(), Sad::new());
    aws.install(a).unwrap();
    cgw.install(c).unwrap();
    let dst = Ipv4Addr::new(10, 0, 0, 53);
    let mut wire = Vec::new();
    assert!(cgw
        .seal(&udp4(ONPREM, dst, 5353, 53, b"q"), &mut wire)
        .is_ok());
    assert_eq!(
        cgw.seal(&udp4(ONPREM, dst, 5353, 54, b"q"), &mut wire),
        Err(Drop::NoSa)
    );
    assert!(cgw.seal(&ping4(ONPREM, dst, 1, b""), &mut wire).is_ok());
    // The reply from port 53 goes back; one from port 54 has no SA.
    assert!(aws
        .seal(&udp4(dst, ONPREM, 53, 5353, b"a"), &mut wire)
        .is_ok());
    assert_eq!(
        aws.seal(&udp4(dst, ONPREM, 54, 5353, b"a"), &mut wire),
        Err(Drop::NoSa)
    );
}

#[test]
fn replays_damage_and_strangers_are_counted() {
    let (mut aws, mut cgw) = installed(common::suites()[3]);
    let mut wire = Vec::new();
    cgw.seal(&ping4(ONPREM, VPC, 1, b"once"), &mut wire)
        .unwrap();
    let copy = wire.clone();
    aws.open(&mut wire).unwrap();
    assert_eq!(aws.open(&mut copy.clone()), Err(Drop::Replayed));
    let mut damaged = Vec::new();
    cgw.seal(&ping4(ONPREM, VPC, 2, b"twice"), &mut damaged)
        .unwrap();
    damaged[20] ^= 0x40;
    assert_eq!(aws.open(&mut damaged), Err(Drop::Integrity));
    assert_eq!(aws.open(&mut [0, 0, 0x10]), Err(Drop::Truncated));
    assert_eq!(
        aws.open(&mut [0, 0, 0x10, 0, 0, 0, 0, 1]),
        Err(Drop::Truncated)
    );
    assert_eq!(aws.open(&mut [0xee; 80]), Err(Drop::UnknownSpi));
    let c = aws.counters(0x1000).unwrap();
    assert_eq!(
        (c.replay_drops, c.integrity_failures, c.malformed),
        (1, 1, 1)
    );
    let d = aws.drops();
    assert_eq!(
        [
            d.get(Drop::Replayed),
            d.get(Drop::Integrity),
            d.get(Drop::Truncated),
            d.get(Drop::UnknownSpi)
        ],
        [1, 1, 2, 1]
    );
    assert_eq!(d.total(), 5);
    assert_eq!(d.iter().map(|(_, n)| n).sum::<u64>(), 5);
}

#[test]
fn an_authentic_packet_that_is_not_ip_inside_is_malformed() {
    let spec_in = spec(gcm(), 0x1000, false, 1);
    let (mut aws_spec, _) = child(gcm(), 0x1000, 0x2000, vpc(), onprem(), None);
    aws_spec.inbound = spec_in.clone();
    let mut aws = Sad::new();
    aws.install(aws_spec).unwrap();
    let mut out = esp::Outbound::new(&spec_in, 0).unwrap();
    let mut wire = Vec::new();
    // Next header 4 (IPv4) over bytes that are no IPv4 packet; then a real IPv4 packet
    // with next header 41 (IPv6).
    out.seal(4, b"\x45 too short", &mut wire).unwrap();
    assert_eq!(aws.open(&mut wire), Err(Drop::Malformed));
    out.seal(41, &ping4(ONPREM, VPC, 1, b""), &mut wire)
        .unwrap();
    assert_eq!(aws.open(&mut wire), Err(Drop::Malformed));
    assert_eq!(aws.counters(0x1000).unwrap().malformed, 2);
}

#[test]
fn tfc_padding_after_the_inner_packet_is_left_out() {
    let spec_in = spec(gcm(), 0x1000, false, 1);
    let (mut aws_spec, _) = child(gcm(), 0x1000, 0x2000, vpc(), onprem(), None);
    aws_spec.inbound = spec_in.clone();
    let mut aws = Sad::new();
    aws.install(aws_spec).unwrap();
    let ping = ping4(ONPREM, VPC, 1, b"abc");
    let mut padded = ping.clone();
    padded.extend_from_slice(&[0; 33]);
    let mut wire = Vec::new();
    esp::Outbound::new(&spec_in, 0)
        .unwrap()
        .seal(4, &padded, &mut wire)
        .unwrap();
    let opened = aws.open(&mut wire).unwrap();
    assert_eq!(&wire[opened.inner], &ping[..]);
    assert_eq!(aws.counters(0x1000).unwrap().bytes_in, ping.len() as u64);
}

#[test]
fn install_refuses_duplicates_and_bad_keys_and_installs_nothing() {
    let (mut aws, _) = installed(gcm());
    let (again, _) = child(gcm(), 0x1000, 0x2005, vpc(), onprem(), None);
    assert_eq!(aws.install(again), Err(KeyError::DuplicateSpi(0x1000)));
    let (mut bad, _) = child(gcm(), 0x1007, 0x2007, vpc(), onprem(), None);
    bad.outbound.encryption_key.truncate(3);
    assert!(matches!(
        aws.install(bad),
        Err(KeyError::WrongKeyLength { .. })
    ));
    let (mut wide, _) = child(gcm(), 0x1008, 0x2008, vpc(), onprem(), None);
    wide.replay_window = esp::ReplayWindow::MAX + 1;
    assert!(aws.install(wide).is_err());
    assert_eq!(aws.spis_in().collect::<Vec<_>>(), [0x1000]);
}

#[test]
fn removing_a_rekey_s_new_pair_lets_the_old_one_send_again() {
    let (mut aws, _) = installed(gcm());
    let (a2, _) = child(
        gcm(),
        0x1001,
        0x2001,
        vpc(),
        onprem(),
        Some((0x1000, 0x2000)),
    );
    aws.install(a2).unwrap();
    let packet = udp4(VPC, ONPREM, 1, 2, b"");
    let mut wire = Vec::new();
    assert_eq!(aws.seal(&packet, &mut wire).unwrap().spi_in, 0x1001);
    aws.remove(0x1001).unwrap();
    assert_eq!(aws.seal(&packet, &mut wire).unwrap().spi_in, 0x1000);
}

/// The responder of a rekey installs the new pair when it answers, before the initiator
/// has its inbound side: it goes on sending on the old pair (while receiving on both)
/// until the old one is removed — the initiator's DELETE — as strongSwan's responder does.
#[test]
fn a_deferred_pair_sends_once_the_pair_it_replaces_is_removed() {
    let (mut aws, mut cgw) = installed(gcm());
    let replacing = Some((0x1000, 0x2000));
    let (mut a2, c2) = child(gcm(), 0x1001, 0x2001, vpc(), onprem(), replacing);
    a2.defer_outbound = true;
    aws.install(a2).unwrap();
    let reply = udp4(VPC, ONPREM, 1, 2, b"reply");
    let mut wire = Vec::new();
    assert_eq!(
        aws.seal(&reply, &mut wire).unwrap().spi_in,
        0x1000,
        "the responder sends on the old pair"
    );
    assert_eq!(cgw.open(&mut wire).unwrap().spi_in, 0x2000);

    cgw.install(c2).unwrap();
    let request = ping4(ONPREM, VPC, 1, b"request");
    assert_eq!(cgw.seal(&request, &mut wire).unwrap().spi_in, 0x2001);
    assert_eq!(
        aws.open(&mut wire).unwrap().spi_in,
        0x1001,
        "and receives on the new"
    );
    assert_eq!(aws.seal(&reply, &mut wire).unwrap().spi_in, 0x1000);

    aws.remove(0x1000).unwrap();
    let sealed = aws.seal(&reply, &mut wire).unwrap();
    assert_eq!((sealed.spi_in, sealed.spi_out), (0x1001, 0x2001));
    assert_eq!(cgw.open(&mut wire).unwrap().spi_in, 0x2001);
}

/// A rekey collision (RFC 7296 §2.8.1): two pairs replace the same SA. The one installed
/// first sends (ike-core's rule: it keeps the collision lossless), the second only
/// receives until the first goes — the old SA's removal changes nothing.
#[test]
fn of_two_pairs_replacing_one_the_first_installed_sends_until_removed() {
    let (mut aws, _) = installed(gcm());
    let replacing = Some((0x1000, 0x2000));
    let (first, _) = child(gcm(), 0x1001, 0x2001, vpc(), onprem(), replacing);
    let (second, _) = child(gcm(), 0x1002, 0x2002, vpc(), onprem(), replacing);
    aws.install(first).unwrap();
    aws.install(second).unwrap();
    let packet = udp4(VPC, ONPREM, 1, 2, b"");
    let mut wire = Vec::new();
    assert_eq!(aws.seal(&packet, &mut wire).unwrap().spi_in, 0x1001);
    aws.remove(0x1000).unwrap();
    assert_eq!(aws.seal(&packet, &mut wire).unwrap().spi_in, 0x1001);
    aws.remove(0x1001).unwrap();
    assert_eq!(aws.seal(&packet, &mut wire).unwrap().spi_in, 0x1002);
}
