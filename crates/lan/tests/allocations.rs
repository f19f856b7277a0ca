//! Allocations per packet on the lans' hot path, in steady state: a flow's packet made
//! (`handle_timeout` + `poll_packet`), taken by the other side's host and answered
//! (`deliver` + `poll_packet`), and its answer matched to the flow (`deliver`). Counted
//! per thread by allocation-counter's global allocator.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use lan::{Delivery, FlowKind, FlowSpec, HostSpec, Lan, Pattern, Site};

const VPC_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
const ONPREM_HOST: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 10);

fn site(host: Ipv4Addr, flows: Vec<FlowSpec>) -> Site {
    Site {
        hosts: vec![HostSpec::echo(host)],
        flows,
    }
}

fn flow(kind: FlowKind) -> FlowSpec {
    FlowSpec {
        name: "f".into(),
        kind,
        src: ONPREM_HOST,
        dst: VPC_HOST,
        rate: 1000.0,
        size: 1400,
        df: false,
        pattern: Pattern::Steady,
        start: Duration::ZERO,
        stop: None,
    }
}

/// Allocations of each step, summed over `packets` packets.
#[derive(Debug, Default, PartialEq, Eq)]
struct Steps {
    emit: u64,
    answer: u64,
    matched: u64,
}

fn count(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

/// Runs `packets` flow packets through both sides, one every millisecond, each answered at
/// once; returns the allocations of each step.
fn run(onprem: &mut Lan, vpc: &mut Lan, t0: Instant, from: u64, packets: u64) -> Steps {
    let mut steps = Steps::default();
    for i in from..from + packets {
        let now = t0 + Duration::from_millis(i);
        let mut request = None;
        steps.emit += count(|| {
            onprem.handle_timeout(now);
            request = onprem.poll_packet();
        });
        let request = request.expect("a flow packet every millisecond");
        let mut reply = None;
        steps.answer += count(|| {
            let d = vpc.deliver(now, &request);
            assert_eq!(d, Delivery::ToHost { answered: true });
            reply = vpc.poll_packet();
        });
        let reply = reply.expect("an answer");
        steps.matched += count(|| {
            let d = onprem.deliver(now, &reply);
            assert_eq!(d, Delivery::Answer { flow: 0 });
        });
        // What the caller does with the packets (sim seals them) is not the lan's.
        drop((request, reply));
    }
    steps
}

#[test]
fn allocations_per_packet_in_steady_state() {
    for kind in [
        FlowKind::Icmp,
        FlowKind::Udp { port: 7 },
        FlowKind::RequestResponse {
            port: 7,
            response_size: 1400,
        },
    ] {
        let t0 = Instant::now();
        let mut onprem = Lan::new(site(ONPREM_HOST, vec![flow(kind)]), t0, 1).unwrap();
        let mut vpc = Lan::new(site(VPC_HOST, vec![]), t0, 2).unwrap();
        // Warm up: queues and the answer window grow to their steady size.
        run(&mut onprem, &mut vpc, t0, 1, 10_000);
        let n = 1000;
        let steps = run(&mut onprem, &mut vpc, t0, 10_001, n);
        println!("{kind:?}: per {n} packets {steps:?}");
        assert_eq!(
            steps,
            Steps {
                emit: n,
                answer: n,
                matched: 0
            },
            "{kind:?}: one allocation per packet made (the Vec poll_packet hands over), \
             none else"
        );
    }
}
