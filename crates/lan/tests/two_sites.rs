//! Two Lans wired back to back by a toy link (a virtual clock, a fixed delay, deterministic
//! loss and duplication, an MTU that fragments or, with DF, drops): what each side counts is
//! exactly what the link did.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use lan::{fragment, FlowKind, FlowSpec, FragmentError, HostSpec, Lan, Pattern, Site};

const VPC_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
const ONPREM_HOST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
const STOP: Duration = Duration::from_secs(60);

/// What the link between the two sites does.
#[derive(Debug, Clone, Copy)]
struct Link {
    delay: Duration,
    mtu: Option<u16>,
    /// Drop every n-th datagram (fragments counted one by one).
    drop_every: Option<u64>,
    /// Deliver every datagram twice.
    duplicate: bool,
}

impl Link {
    const CLEAN: Link = Link {
        delay: Duration::from_millis(15),
        mtu: None,
        drop_every: None,
        duplicate: false,
    };
}

/// What the link counted.
#[derive(Debug, Default)]
struct Wire {
    datagrams: u64,
    dropped: u64,
    too_big: u64,
    /// Packets fragmented of which some but not all fragments were dropped.
    partly_lost: u64,
    /// Every datagram's bytes, in the order they were sent.
    log: Vec<Vec<u8>>,
}

/// A datagram on the link: `(arrival, order sent, to which side, bytes)`.
type InFlight = Reverse<(Instant, u64, usize, Vec<u8>)>;

/// Two Lans, the link, the virtual clock.
struct Pair {
    sides: [Lan; 2],
    link: Link,
    now: Instant,
    flight: BinaryHeap<InFlight>,
    order: u64,
    wire: Wire,
}

impl Pair {
    fn new(vpc: Site, onprem: Site, link: Link, seed: u64) -> Pair {
        Pair::starting(Instant::now(), vpc, onprem, link, seed)
    }

    fn starting(now: Instant, vpc: Site, onprem: Site, link: Link, seed: u64) -> Pair {
        Pair {
            sides: [
                Lan::new(vpc, now, seed).unwrap(),
                Lan::new(onprem, now, seed + 1).unwrap(),
            ],
            link,
            now,
            flight: BinaryHeap::new(),
            order: 0,
            wire: Wire::default(),
        }
    }

    /// Moves packets until `until` after the start.
    fn run(&mut self, until: Duration) {
        let end = self.now + until;
        loop {
            for from in 0..2 {
                while let Some(p) = self.sides[from].poll_packet() {
                    self.send(1 - from, p);
                }
            }
            let next = [
                self.sides[0].poll_timeout(),
                self.sides[1].poll_timeout(),
                self.flight.peek().map(|Reverse((t, ..))| *t),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next.filter(|&t| t <= end) else {
                break;
            };
            self.now = self.now.max(next);
            while let Some(Reverse((t, ..))) = self.flight.peek() {
                if *t > self.now {
                    break;
                }
                let Some(Reverse((_, _, to, bytes))) = self.flight.pop() else {
                    break;
                };
                self.sides[to].deliver(self.now, &bytes);
            }
            for side in &mut self.sides {
                side.handle_timeout(self.now);
            }
        }
    }

    fn send(&mut self, to: usize, packet: Vec<u8>) {
        let pieces = match self.link.mtu.map(|mtu| fragment(&packet, mtu)) {
            None => vec![packet],
            Some(Ok(pieces)) => pieces,
            Some(Err(FragmentError::TooBig { .. })) => {
                self.wire.too_big += 1;
                return;
            }
            Some(Err(e)) => panic!("{e}"),
        };
        let count = pieces.len();
        let mut lost = 0;
        for piece in pieces {
            self.wire.datagrams += 1;
            if self
                .link
                .drop_every
                .is_some_and(|n| self.wire.datagrams.is_multiple_of(n))
            {
                self.wire.dropped += 1;
                lost += 1;
                continue;
            }
            let at = self.now + self.link.delay;
            self.wire.log.push(piece.clone());
            let copies = if self.link.duplicate { 2 } else { 1 };
            for _ in 0..copies {
                // Same arrival time: first sent, first delivered.
                self.order += 1;
                self.flight
                    .push(Reverse((at, self.order, to, piece.clone())));
            }
        }
        if count > 1 && lost > 0 && lost < count {
            self.wire.partly_lost += 1;
        }
    }
}

fn flow(
    name: &str,
    kind: FlowKind,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    rate: f64,
    size: u16,
) -> FlowSpec {
    FlowSpec {
        name: name.into(),
        kind,
        src,
        dst,
        rate,
        size,
        df: true,
        pattern: Pattern::Steady,
        start: Duration::ZERO,
        stop: Some(STOP),
    }
}

/// The VPC: one host with ping and UDP echo, sending bursts of pings to the on-premises host.
fn vpc() -> Site {
    let mut ping = flow("vpc-ping", FlowKind::Icmp, VPC_HOST, ONPREM_HOST, 100.0, 84);
    ping.pattern = Pattern::Burst {
        every: Duration::from_secs(10),
        count: 3,
    };
    Site {
        hosts: vec![HostSpec::echo(VPC_HOST)],
        flows: vec![ping],
    }
}

/// On premises: ping, UDP echo on/off, a TCP-like transfer (small requests, 1,400-byte
/// responses with DF), and one-way UDP to a closed port.
fn onprem(transfer_df: bool) -> Site {
    let mut udp = flow(
        "udp-echo",
        FlowKind::Udp { port: 7 },
        ONPREM_HOST,
        VPC_HOST,
        20.0,
        512,
    );
    udp.pattern = Pattern::OnOff {
        on: Duration::from_secs(2),
        off: Duration::from_secs(3),
    };
    udp.start = Duration::from_millis(500);
    let rr = FlowKind::RequestResponse {
        port: 443,
        response_size: 1400,
    };
    let mut transfer = flow("transfer", rr, ONPREM_HOST, VPC_HOST, 10.0, 80);
    transfer.df = transfer_df;
    Site {
        hosts: vec![HostSpec::echo(ONPREM_HOST)],
        flows: vec![
            flow("ping", FlowKind::Icmp, ONPREM_HOST, VPC_HOST, 1.0, 84),
            udp,
            transfer,
            flow(
                "oneway",
                FlowKind::Udp { port: 9 },
                ONPREM_HOST,
                VPC_HOST,
                5.0,
                200,
            ),
        ],
    }
}

/// Each flow's closed-form count of packets over the whole run.
fn expected(site: &Site) -> Vec<u64> {
    site.flows
        .iter()
        .map(|f| f.sent_by(Duration::MAX).unwrap())
        .collect()
}

/// The answer size of each on-premises flow.
const ANSWER_SIZES: [u64; 4] = [84, 512, 1400, 0];

#[test]
fn clean_link_every_ping_answered_counters_exact() {
    let want = expected(&onprem(true));
    assert_eq!(want, [60, 20 * 2 * 12, 600, 300]);
    let mut pair = Pair::new(vpc(), onprem(true), Link::CLEAN, 7);
    pair.run(STOP + Duration::from_secs(10));
    let [vpc_lan, onprem_lan] = &pair.sides;
    let flows: Vec<_> = onprem_lan.flows().map(|(_, s)| *s).collect();
    for (i, s) in flows.iter().enumerate() {
        assert_eq!(s.sent, want[i], "flow {i}");
        assert_eq!(s.late_or_duplicate, 0);
        assert_eq!(s.outstanding(), 0);
        if i == 3 {
            assert_eq!(
                (s.answered, s.unanswered, s.rtt_max),
                (0, s.sent, Duration::ZERO)
            );
        } else {
            assert_eq!((s.answered, s.unanswered), (s.sent, 0), "flow {i}");
            assert_eq!(s.bytes_answered, s.sent * ANSWER_SIZES[i]);
            assert_eq!(s.rtt_max, 2 * Link::CLEAN.delay);
            assert!(s.last_answer.is_some());
        }
    }
    assert_eq!(flows[1].bytes_sent, want[1] * 512);
    let vping = vpc_lan.flow("vpc-ping").unwrap();
    assert_eq!((vping.sent, vping.answered), (18, 18));

    let v = vpc_lan.stats();
    let requests = want[0] + want[1] + want[2];
    assert_eq!(v.packets_in, requests + want[3] + 18);
    assert_eq!((v.to_hosts, v.answers_queued), (requests, requests));
    assert_eq!((v.no_service, v.undeliverable()), (want[3], want[3]));
    assert_eq!(v.answers_to_flows, 18);
    let o = onprem_lan.stats();
    assert_eq!(o.answers_to_flows, requests);
    assert_eq!(o.packets_out, requests + want[3] + 18);
    assert_eq!(o.undeliverable(), 0);
    assert_eq!(pair.sides[0].poll_timeout(), None);
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes_same_counters() {
    let t0 = Instant::now();
    let run = |seed| {
        let mut pair = Pair::starting(t0, vpc(), onprem(true), Link::CLEAN, seed);
        pair.run(Duration::from_secs(20));
        let counters: Vec<_> = pair.sides[1].flows().map(|(_, s)| *s).collect();
        (pair.wire.log, counters)
    };
    let (a, ca) = run(1);
    let (b, cb) = run(1);
    let (c, cc) = run(2);
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(ca, cb);
    assert_ne!(a, c);
    // Counters carry instants of each run's own clock; compare the counts.
    let counts = |c: &[lan::FlowStats]| {
        c.iter()
            .map(|s| (s.sent, s.answered, s.unanswered))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&ca), counts(&cc));
}

#[test]
fn loss_each_dropped_datagram_costs_one_answer() {
    let link = Link {
        drop_every: Some(7),
        ..Link::CLEAN
    };
    let mut pair = Pair::new(vpc(), onprem(true), link, 3);
    pair.run(STOP + Duration::from_secs(10));
    let want = expected(&onprem(true));
    let flows: Vec<_> = pair.sides[1].flows().map(|(_, s)| *s).collect();
    let vping = *pair.sides[0].flow("vpc-ping").unwrap();
    let mut unanswered = vping.unanswered;
    for (i, s) in flows.iter().enumerate() {
        assert_eq!(s.sent, want[i]);
        assert_eq!(s.answered + s.unanswered, s.sent);
        if i < 3 {
            unanswered += s.unanswered;
        }
    }
    let oneway_lost = want[3] - pair.sides[0].stats().no_service;
    assert!(pair.wire.dropped > 100);
    assert_eq!(pair.wire.dropped, unanswered + oneway_lost);
}

#[test]
fn mtu_fragments_what_may_be_fragmented() {
    let link = Link {
        mtu: Some(1000),
        ..Link::CLEAN
    };
    let mut pair = Pair::new(vpc(), onprem(false), link, 4);
    pair.run(STOP + Duration::from_secs(10));
    let transfer = *pair.sides[1].flow("transfer").unwrap();
    assert_eq!(transfer.sent, 600);
    assert_eq!(
        (transfer.answered, transfer.bytes_answered),
        (600, 600 * 1400)
    );
    let o = pair.sides[1].stats();
    assert_eq!(
        (o.fragments, o.reassembled, o.reassembly_timeouts),
        (1200, 600, 0)
    );
    assert_eq!(pair.wire.too_big, 0);
}

#[test]
fn df_and_a_small_mtu_make_the_black_hole() {
    let link = Link {
        mtu: Some(1000),
        ..Link::CLEAN
    };
    let mut site = onprem(true);
    site.flows.push(flow(
        "big-ping",
        FlowKind::Icmp,
        ONPREM_HOST,
        VPC_HOST,
        1.0,
        1200,
    ));
    let mut pair = Pair::new(vpc(), site, link, 5);
    pair.run(STOP + Duration::from_secs(10));
    let o = &pair.sides[1];
    // Small packets get through both ways.
    for name in ["ping", "udp-echo"] {
        let s = o.flow(name).unwrap();
        assert_eq!((s.answered, s.unanswered), (s.sent, 0), "{name}");
    }
    // The transfer's requests arrive, its 1,400-byte DF responses never do: a black hole.
    let transfer = o.flow("transfer").unwrap();
    assert_eq!(
        (transfer.sent, transfer.answered, transfer.unanswered),
        (600, 0, 600)
    );
    assert_eq!(pair.sides[0].stats().answers_queued, 60 + 480 + 600);
    let big = o.flow("big-ping").unwrap();
    assert_eq!((big.sent, big.answered, big.unanswered), (60, 0, 60));
    assert_eq!(pair.wire.too_big, 600 + 60);
    assert_eq!(o.stats().fragments, 0);
}

#[test]
fn lost_fragments_time_out_reassembly() {
    let link = Link {
        mtu: Some(600),
        drop_every: Some(5),
        ..Link::CLEAN
    };
    let mut pair = Pair::new(vpc(), onprem(false), link, 6);
    pair.run(STOP + Lan::REASSEMBLY_TIMEOUT + Duration::from_secs(5));
    let o = pair.sides[1].stats();
    assert!(pair.wire.partly_lost > 20);
    assert_eq!(o.reassembly_timeouts, pair.wire.partly_lost);
    let transfer = pair.sides[1].flow("transfer").unwrap();
    assert_eq!(transfer.answered + transfer.unanswered, transfer.sent);
    assert_eq!(transfer.answered, o.reassembled);
    assert_eq!(pair.sides[1].poll_timeout(), None);
}

#[test]
fn answers_after_the_time_out_are_late() {
    let link = Link {
        delay: Lan::ANSWER_TIMEOUT / 2 + Duration::from_millis(1),
        ..Link::CLEAN
    };
    let mut pair = Pair::new(vpc(), onprem(true), link, 8);
    pair.run(STOP + Duration::from_secs(20));
    let ping = pair.sides[1].flow("ping").unwrap();
    assert_eq!(ping.sent, 60);
    assert_eq!(
        (ping.answered, ping.unanswered, ping.late_or_duplicate),
        (0, 60, 60)
    );
    assert_eq!(ping.last_answer, None);
}

#[test]
fn duplicated_datagrams_are_counted_once() {
    let link = Link {
        duplicate: true,
        ..Link::CLEAN
    };
    let mut pair = Pair::new(vpc(), onprem(true), link, 9);
    pair.run(STOP + Duration::from_secs(10));
    let ping = pair.sides[1].flow("ping").unwrap();
    // Each request arrives twice and is answered twice; each answer arrives twice.
    assert_eq!(
        (ping.sent, ping.answered, ping.late_or_duplicate),
        (60, 60, 180)
    );
    assert_eq!(ping.bytes_answered, 60 * 84);
}
