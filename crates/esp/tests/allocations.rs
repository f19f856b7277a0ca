//! The hot path allocates nothing: once its buffer has grown, sealing and opening a packet
//! — with one SA each way, and through two SA databases (selectors, counters, the inner
//! header) — makes no heap allocation, for every suite and with ESN. Counted by
//! allocation-counter's global allocator, per thread.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{spec, suites, udp4};
use esp::{Inbound, Outbound, PairSpec, Sad, Selector};

/// Allocations (and reallocations) this thread made while `f` ran.
fn allocations(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

/// Packets per measurement, after as many to warm up (the buffer grows once).
const PACKETS: usize = 200;

fn inner(len: usize) -> Vec<u8> {
    let payload = vec![0x42; len - 28];
    udp4(
        Ipv4Addr::new(192, 168, 1, 20),
        Ipv4Addr::new(10, 0, 0, 5),
        40_000,
        7,
        &payload,
    )
}

#[test]
fn an_sa_pair_seals_and_opens_without_allocating() {
    for suite in suites() {
        for esn in [false, true] {
            let sa = spec(suite, 0x1000, esn, 7);
            let mut out = Outbound::new(&sa, 1).unwrap();
            let mut inb = Inbound::new(&sa, 1024).unwrap();
            let mut wire = Vec::new();
            let mut opened = 0;
            for len in [1400, 84] {
                let packet = inner(len);
                let mut round = || {
                    for _ in 0..PACKETS {
                        out.seal(4, &packet, &mut wire).unwrap();
                        opened += usize::from(inb.open(&mut wire).is_ok());
                    }
                };
                let growing = allocations(&mut round);
                // The counter counts: the first round grows the empty buffer.
                assert!(len != 1400 || growing > 0, "{suite:?}: nothing counted");
                let n = allocations(round);
                assert_eq!(n, 0, "{suite:?} esn={esn} {len} B: {n} allocations");
            }
            assert_eq!(opened, 4 * PACKETS, "{suite:?}");
        }
    }
}

#[test]
fn two_sa_databases_seal_and_open_without_allocating() {
    let net = |a: [u8; 4], b: [u8; 4]| vec![Selector::addresses(IpAddr::from(a)..=IpAddr::from(b))];
    for suite in suites() {
        let (to_aws, to_cgw) = (spec(suite, 0x1000, false, 1), spec(suite, 0x2000, false, 2));
        let pair = |inbound, outbound, local, remote| PairSpec {
            inbound,
            outbound,
            local,
            remote,
            replay_window: 1024,
            replaces: None,
            defer_outbound: false,
            iv_seed: 3,
        };
        let onprem = net([192, 168, 1, 0], [192, 168, 1, 255]);
        let vpc = net([10, 0, 0, 0], [10, 0, 255, 255]);
        let mut cgw = Sad::new();
        cgw.install(pair(
            to_cgw.clone(),
            to_aws.clone(),
            onprem.clone(),
            vpc.clone(),
        ))
        .unwrap();
        let mut aws = Sad::new();
        aws.install(pair(to_aws, to_cgw, vpc, onprem)).unwrap();
        let packet = inner(1400);
        let mut wire = Vec::new();
        let mut round = || {
            for _ in 0..PACKETS {
                cgw.seal(&packet, &mut wire).unwrap();
                aws.open(&mut wire).unwrap();
            }
        };
        round();
        let n = allocations(round);
        assert_eq!(n, 0, "{suite:?}: {n} allocations per {PACKETS} packets");
        assert_eq!(aws.counters(0x1000).unwrap().packets_in, 2 * PACKETS as u64);
    }
}
