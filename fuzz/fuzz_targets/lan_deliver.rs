//! The simulated networks behind a tunnel (`lan`): two `Lan`s with flows of every kind, fed a
//! sequence of steps decoded by `arbitrary` — any bytes delivered to either side, the
//! packets one side sent relayed to the other (fragmented at any MTU, some dropped,
//! reordered), one of them damaged on the way, waits with every due timer run at its own
//! instant. Beyond "no panic":
//! - after `handle_timeout(t)` the next `poll_timeout()` is after `t`;
//! - every counter only grows, and each `deliver` counts exactly one packet in;
//! - a flow never has more answered and unanswered packets than it sent;
//! - everything a Lan sends is a well-formed IPv4 packet (`fragment` takes it whole).
#![no_main]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use lan::{fragment, FlowKind, FlowSpec, FlowStats, HostSpec, Lan, LanStats, Pattern, Site};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Step {
    /// Any bytes into one side.
    Raw { to: bool, bytes: Vec<u8> },
    /// Everything one side has sent, to the other: fragmented at `mtu` if given, every
    /// `drop`-th datagram lost, the order reversed if `reverse`.
    Relay {
        from: bool,
        mtu: Option<u16>,
        drop: u8,
        reverse: bool,
    },
    /// One packet of one side, a byte changed, to the other.
    Damage { from: bool, at: u16, xor: u8 },
    /// Time passes (up to ~65 s), every due timer run at its own instant.
    Wait { ms: u16 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    seed: u64,
    steps: Vec<Step>,
}

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
const B: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);

fn flow(name: &str, kind: FlowKind, src: Ipv4Addr, dst: Ipv4Addr, size: u16, df: bool) -> FlowSpec {
    FlowSpec {
        name: name.into(),
        kind,
        src,
        dst,
        rate: 5.0,
        size,
        df,
        pattern: Pattern::Steady,
        start: Duration::ZERO,
        stop: None,
    }
}

fn sites() -> [Site; 2] {
    let mut burst = flow("burst", FlowKind::Icmp, A, B, 1500, false);
    burst.pattern = Pattern::Burst {
        every: Duration::from_secs(3),
        count: 4,
    };
    let mut onoff = flow("onoff", FlowKind::Udp { port: 7 }, B, A, 900, false);
    onoff.pattern = Pattern::OnOff {
        on: Duration::from_secs(1),
        off: Duration::from_secs(2),
    };
    let rr = FlowKind::RequestResponse {
        port: 443,
        response_size: 1400,
    };
    [
        Site {
            hosts: vec![HostSpec::echo(A)],
            flows: vec![burst, flow("closed", FlowKind::Udp { port: 9 }, A, B, 60, true)],
        },
        Site {
            hosts: vec![HostSpec::echo(B)],
            flows: vec![
                flow("ping", FlowKind::Icmp, B, A, 84, true),
                onoff,
                flow("transfer", rr, B, A, 80, false),
            ],
        },
    ]
}

/// The counters that only grow.
fn counters(lan: &Lan) -> (Vec<u64>, Vec<FlowStats>) {
    let s: LanStats = *lan.stats();
    let lan_counters = vec![
        s.packets_out,
        s.bytes_out,
        s.packets_in,
        s.bytes_in,
        s.to_hosts,
        s.answers_queued,
        s.answers_to_flows,
        s.fragments,
        s.reassembled,
        s.reassembly_timeouts,
        s.malformed,
        s.no_host,
        s.no_service,
        s.unmatched,
    ];
    (lan_counters, lan.flows().map(|(_, f)| *f).collect())
}

fn check_grew(before: &(Vec<u64>, Vec<FlowStats>), after: &(Vec<u64>, Vec<FlowStats>)) {
    for (b, a) in before.0.iter().zip(&after.0) {
        assert!(a >= b, "a Lan counter went down: {before:?} -> {after:?}");
    }
    for (b, a) in before.1.iter().zip(&after.1) {
        assert!(a.sent >= b.sent && a.answered >= b.answered && a.unanswered >= b.unanswered);
        assert!(a.late_or_duplicate >= b.late_or_duplicate && a.rtt_max >= b.rtt_max);
        assert!(a.bytes_sent >= b.bytes_sent && a.bytes_answered >= b.bytes_answered);
        assert!(a.answered + a.unanswered <= a.sent, "{a:?}");
    }
}

struct World {
    lans: [Lan; 2],
    sent: [Vec<Vec<u8>>; 2],
    now: Instant,
}

impl World {
    /// Takes what each side sent, checking it is whole IPv4.
    fn collect(&mut self) {
        for (lan, out) in self.lans.iter_mut().zip(&mut self.sent) {
            while let Some(p) = lan.poll_packet() {
                assert_eq!(fragment(&p, u16::MAX).ok(), Some(vec![p.clone()]), "sent {p:?}");
                out.push(p);
            }
        }
    }

    fn deliver(&mut self, to: usize, bytes: &[u8]) {
        let before = counters(&self.lans[to]);
        self.lans[to].deliver(self.now, bytes);
        let after = counters(&self.lans[to]);
        check_grew(&before, &after);
        assert_eq!(after.0[2], before.0[2] + 1, "one packet in per deliver");
    }
}

fuzz_target!(|input: Input| {
    let start = Instant::now();
    let [a, b] = sites();
    let (Ok(a), Ok(b)) = (Lan::new(a, start, input.seed), Lan::new(b, start, !input.seed)) else {
        panic!("the fuzz sites are valid");
    };
    let mut w = World {
        lans: [a, b],
        sent: [Vec::new(), Vec::new()],
        now: start,
    };
    for step in input.steps.into_iter().take(64) {
        match step {
            Step::Raw { to, bytes } => w.deliver(usize::from(to), &bytes),
            Step::Relay {
                from,
                mtu,
                drop,
                reverse,
            } => {
                let from = usize::from(from);
                let mut packets = std::mem::take(&mut w.sent[from]);
                if reverse {
                    packets.reverse();
                }
                let mut n = 0u32;
                for p in packets {
                    let pieces = match mtu {
                        Some(mtu) => fragment(&p, mtu).unwrap_or_default(),
                        None => vec![p],
                    };
                    for piece in pieces {
                        n += 1;
                        if drop > 1 && n % u32::from(drop) == 0 {
                            continue;
                        }
                        w.deliver(1 - from, &piece);
                    }
                }
            }
            Step::Damage { from, at, xor } => {
                let from = usize::from(from);
                if let Some(mut p) = w.sent[from].pop() {
                    let i = usize::from(at) % p.len().max(1);
                    if let Some(byte) = p.get_mut(i) {
                        *byte ^= xor;
                    }
                    w.deliver(1 - from, &p);
                }
            }
            Step::Wait { ms } => {
                let end = w.now + Duration::from_millis(u64::from(ms));
                loop {
                    let next = w.lans.iter().filter_map(Lan::poll_timeout).min();
                    let Some(t) = next.filter(|&t| t <= end) else {
                        break;
                    };
                    w.now = w.now.max(t);
                    for lan in &mut w.lans {
                        let before = counters(lan);
                        lan.handle_timeout(w.now);
                        check_grew(&before, &counters(lan));
                        if let Some(after) = lan.poll_timeout() {
                            assert!(after > w.now, "a deadline at or before the instant just run");
                        }
                    }
                    w.collect();
                }
                w.now = end;
            }
        }
        w.collect();
    }
});
