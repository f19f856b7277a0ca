//! Rekeys under traffic, as a property: whatever the interleaving of packets sent,
//! delivered late and out of order, rekeys (both sides install a new pair replacing the
//! newest) and removals of the oldest pair, a packet opens exactly when the receiver still
//! has the SA it was sealed for, and the sender always uses the newest pair.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{ping4, spec, suites};
use esp::{Drop, PairSpec, Sad, Selector, Suite};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    /// The CGW seals a packet; it is in flight.
    Send,
    /// The n-th packet in flight arrives at AWS.
    Deliver(usize),
    /// Both sides install a new CHILD SA replacing the newest.
    Rekey,
    /// Both sides remove their oldest CHILD SA (while another is left).
    RemoveOldest,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => Just(Op::Send),
        5 => any::<usize>().prop_map(Op::Deliver),
        1 => Just(Op::Rekey),
        1 => Just(Op::RemoveOldest),
    ]
}

fn selectors(first: [u8; 4], last: [u8; 4]) -> Vec<Selector> {
    vec![Selector::addresses(
        IpAddr::from(first)..=IpAddr::from(last),
    )]
}

/// Generation `n`'s CHILD SA: AWS's inbound SPI 0x1000 + n, the CGW's 0x2000 + n.
fn generation(suite: Suite, n: u32) -> (PairSpec, PairSpec) {
    let (to_aws, to_cgw) = (
        spec(suite, 0x1000 + n, false, n as u8),
        spec(suite, 0x2000 + n, false, !(n as u8)),
    );
    let replaces = n.checked_sub(1);
    let vpc = selectors([10, 0, 0, 0], [10, 0, 255, 255]);
    let onprem = selectors([192, 168, 1, 0], [192, 168, 1, 255]);
    let pair = |inbound, outbound, local, remote, base: u32| PairSpec {
        inbound,
        outbound,
        local,
        remote,
        replay_window: 1024, // above the most packets a case sends: no window drops
        replaces: replaces.map(|r| base + r),
        defer_outbound: false,
        iv_seed: u64::from(base + n),
    };
    (
        pair(
            to_aws.clone(),
            to_cgw.clone(),
            vpc.clone(),
            onprem.clone(),
            0x1000,
        ),
        pair(to_cgw, to_aws, onprem, vpc, 0x2000),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_packet_is_lost_to_a_rekey_while_its_sa_is_installed(
        suite in proptest::sample::select(suites()),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let (mut aws, mut cgw) = (Sad::new(), Sad::new());
        let (a, c) = generation(suite, 0);
        aws.install(a).unwrap();
        cgw.install(c).unwrap();
        let mut newest = 0u32;
        let mut installed = vec![0u32];
        let mut in_flight: Vec<(u32, Vec<u8>, Vec<u8>)> = Vec::new();
        let (mut opened, mut unknown) = (0u64, 0u64);
        for (i, op) in ops.into_iter().enumerate() {
            match op {
                Op::Send => {
                    let inner = ping4(Ipv4Addr::new(192, 168, 1, 7), Ipv4Addr::new(10, 0, 0, 9), i as u16, b"data");
                    let mut wire = Vec::new();
                    let sealed = cgw.seal(&inner, &mut wire).unwrap();
                    prop_assert_eq!(sealed.spi_out, 0x1000 + newest, "the newest pair sends");
                    in_flight.push((sealed.spi_out, wire, inner));
                }
                Op::Deliver(n) if !in_flight.is_empty() => {
                    let (spi, mut wire, inner) = in_flight.remove(n % in_flight.len());
                    let result = aws.open(&mut wire);
                    if installed.contains(&(spi - 0x1000)) {
                        let got = result.unwrap();
                        prop_assert_eq!(got.spi_in, spi);
                        prop_assert_eq!(&wire[got.inner], &inner[..]);
                        opened += 1;
                    } else {
                        prop_assert_eq!(result, Err(Drop::UnknownSpi));
                        unknown += 1;
                    }
                }
                Op::Deliver(_) => {}
                Op::Rekey => {
                    newest += 1;
                    let (a, c) = generation(suite, newest);
                    aws.install(a).unwrap();
                    cgw.install(c).unwrap();
                    installed.push(newest);
                }
                Op::RemoveOldest if installed.len() > 1 => {
                    let old = installed.remove(0);
                    prop_assert!(aws.remove(0x1000 + old).is_some());
                    prop_assert!(cgw.remove(0x2000 + old).is_some());
                }
                Op::RemoveOldest => {}
            }
        }
        let delivered: u64 = installed.iter().filter_map(|g| aws.counters(0x1000 + g)).map(|c| c.packets_in).sum();
        prop_assert!(delivered <= opened);
        prop_assert_eq!(aws.drops().get(Drop::UnknownSpi), unknown);
        prop_assert_eq!(aws.drops().total(), unknown, "nothing else is dropped");
    }
}
