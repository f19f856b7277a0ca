//! The traffic tests (issue 15 §4): a real `ping` and UDP echo from strongSwan's side into
//! `serve`'s simulated VPC, in a namespace of each test's own (tests/interop/traffic.rs).

use std::time::Duration;

use crate::common::Need;
use crate::harness::spis;
use crate::netns::VPC_HOST;
use crate::traffic::{needs_traffic, traffic, Capture};

/// charon routes a ping from the CGW's inside address into its tunnel: ESP-in-UDP from its
/// NAT-T port to serve's port, on the SPI of AWS's inbound CHILD SA, one per echo request.
#[test]
fn a_ping_into_the_vpc_leaves_strongswan_as_esp_in_udp_to_serve() {
    needs_traffic!(Need::Tshark);
    let tr = traffic("ping-esp", 40, "", "", &[]);
    let (_, p2) = tr.t.establish();
    tr.wait_route(Duration::from_secs(5));
    let (serve_port, natt) = (tr.t.serve.addr.port(), tr.t.peer.natt_port);
    let filter = format!("udp and src port {natt} and dst port {serve_port}");
    let capture = Capture::start(&tr.ns, &filter, serve_port);
    let (_, said) = tr.ns.ping(VPC_HOST, 3, 56);
    // AWS's inbound SPI is charon's outbound one (the record's first CHILD SA SPI).
    let aws_in = format!("0x{}", spis(&p2)[0]);
    let seen = capture.wait_esp(3, Duration::from_secs(5));
    let expected: Vec<(String, u32)> = (1..=3).map(|seq| (aws_in.clone(), seq)).collect();
    assert_eq!(seen, expected, "{said}{}", tr.report());
    // charon encrypted just those: its outbound SA counts three packets.
    assert_eq!(
        sa_packets(&tr.t.peer.list(), "out", &spis(&p2)[0]),
        Some(3),
        "{}",
        tr.report()
    );
}

/// The packets `swanctl --list-sas` counts on the CHILD SA `spi` in `direction` (`in` or
/// `out`): `    out 80d48dbd,    252 bytes,     3 packets,     7s ago`.
pub fn sa_packets(list: &str, direction: &str, spi: &str) -> Option<u64> {
    let line = list
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{direction} {spi}")))?;
    let packets = line
        .split(',')
        .find(|f| f.trim_end().ends_with(" packets"))?;
    packets
        .trim()
        .trim_end_matches(" packets")
        .trim()
        .parse()
        .ok()
}
