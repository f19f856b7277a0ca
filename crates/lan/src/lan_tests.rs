//! Tests of one [`Lan`] on its own: its hosts' answers, its refusals, its schedule, and
//! `deliver` against any bytes.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::marker::{Marker, MarkerKind};
use crate::packet::{build, parse, Body, Ip, Parse, Transport};
use crate::{
    fragment, Delivery, FlowKind, FlowSpec, HostSpec, Lan, Pattern, Site, SiteError, Undeliverable,
};

const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
const QUIET: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 11);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);

fn site(flows: Vec<FlowSpec>) -> Site {
    Site {
        hosts: vec![
            HostSpec::echo(HOST),
            HostSpec {
                addr: QUIET,
                icmp_echo: false,
                udp_echo: None,
            },
        ],
        flows,
    }
}

fn flow(name: &str, kind: FlowKind, rate: f64, pattern: Pattern) -> FlowSpec {
    FlowSpec {
        name: name.into(),
        kind,
        src: HOST,
        dst: PEER,
        rate,
        size: 100,
        df: true,
        pattern,
        start: Duration::ZERO,
        stop: None,
    }
}

/// A request from the peer with a marker for flow 0, packet 3.
fn request(dst: Ipv4Addr, transport: Transport, kind: MarkerKind, size: usize) -> Vec<u8> {
    let marker = Marker {
        kind,
        flow: 0,
        seq: 3,
        sent_ns: 5,
        response_size: 700,
    };
    let mut payload = marker.to_bytes().to_vec();
    payload.resize(size - 28, 0xab);
    let ip = Ip {
        src: PEER,
        dst,
        id: 1,
        df: false,
    };
    build(ip, transport, &payload)
}

#[test]
fn hosts_answer_ping_udp_echo_and_requests() {
    let t0 = Instant::now();
    let mut lan = Lan::new(site(vec![]), t0, 1).unwrap();
    assert_eq!(lan.poll_timeout(), None);
    let ping = request(
        HOST,
        Transport::Echo {
            reply: false,
            id: 9,
            seq: 4,
        },
        MarkerKind::Echo,
        84,
    );
    assert_eq!(lan.deliver(t0, &ping), Delivery::ToHost { answered: true });
    let reply = lan.poll_packet().unwrap();
    let Some(Parse::Whole(p)) = parse(&reply) else {
        panic!()
    };
    assert_eq!((p.src, p.dst, p.len), (HOST, PEER, 84));
    assert!(
        matches!(p.body, Body::Echo { transport: Transport::Echo { reply: true, id: 9, seq: 4 }, payload } if payload == &ping[28..])
    );

    let echo = request(
        HOST,
        Transport::Udp {
            src: 50_000,
            dst: 7,
        },
        MarkerKind::Echo,
        300,
    );
    assert_eq!(lan.deliver(t0, &echo), Delivery::ToHost { answered: true });
    let back = lan.poll_packet().unwrap();
    let Some(Parse::Whole(p)) = parse(&back) else {
        panic!()
    };
    assert!(matches!(
        p.body,
        Body::Udp {
            transport: Transport::Udp {
                src: 7,
                dst: 50_000
            },
            ..
        }
    ));
    assert_eq!(p.len, 300);

    // A request on any port, to any host (even one without services), gets its response size.
    for dst in [HOST, QUIET] {
        let req = request(
            dst,
            Transport::Udp {
                src: 50_001,
                dst: 443,
            },
            MarkerKind::Request,
            120,
        );
        assert_eq!(lan.deliver(t0, &req), Delivery::ToHost { answered: true });
        let resp = lan.poll_packet().unwrap();
        assert_eq!(resp.len(), 700);
        let Some(Parse::Whole(p)) = parse(&resp) else {
            panic!()
        };
        let Body::Udp { transport, payload } = p.body else {
            panic!()
        };
        assert_eq!(
            transport,
            Transport::Udp {
                src: 443,
                dst: 50_001
            }
        );
        let m = Marker::parse(payload).unwrap();
        assert_eq!(
            (m.kind, m.flow, m.seq, m.sent_ns),
            (MarkerKind::Response, 0, 3, 5)
        );
    }
    assert_eq!(lan.poll_packet(), None);
    let s = *lan.stats();
    assert_eq!(
        (s.packets_in, s.to_hosts, s.answers_queued, s.packets_out),
        (4, 4, 4, 4)
    );
    assert_eq!(s.bytes_out, 84 + 300 + 700 + 700);
    assert_eq!(s.undeliverable(), 0);
}

#[test]
fn refusals_are_counted_by_reason() {
    let t0 = Instant::now();
    let mut lan = Lan::new(site(vec![]), t0, 1).unwrap();
    let ping = |dst| {
        request(
            dst,
            Transport::Echo {
                reply: false,
                id: 1,
                seq: 1,
            },
            MarkerKind::Echo,
            84,
        )
    };
    let udp = |dst, port| {
        request(
            dst,
            Transport::Udp {
                src: 50_000,
                dst: port,
            },
            MarkerKind::Echo,
            84,
        )
    };
    let cases = [
        (ping(Ipv4Addr::new(10, 9, 9, 9)), Undeliverable::NoHost),
        (ping(QUIET), Undeliverable::NoService),
        (udp(QUIET, 7), Undeliverable::NoService),
        (udp(HOST, 8), Undeliverable::NoService),
        (
            request(
                HOST,
                Transport::Echo {
                    reply: true,
                    id: 0,
                    seq: 3,
                },
                MarkerKind::Echo,
                84,
            ),
            Undeliverable::Unmatched,
        ),
        (vec![0x45, 0, 0], Undeliverable::Malformed),
    ];
    for (packet, why) in &cases {
        assert_eq!(
            lan.deliver(t0, packet),
            Delivery::Undeliverable(*why),
            "{why:?}"
        );
    }
    let mut bad_sum = ping(HOST);
    bad_sum[40] ^= 1;
    assert_eq!(
        lan.deliver(t0, &bad_sum),
        Delivery::Undeliverable(Undeliverable::Malformed)
    );
    let s = *lan.stats();
    assert_eq!(
        (s.no_host, s.no_service, s.unmatched, s.malformed),
        (1, 3, 1, 2)
    );
    assert_eq!(lan.poll_packet(), None);
}

#[test]
fn fragments_are_reassembled_then_answered() {
    let t0 = Instant::now();
    let mut lan = Lan::new(site(vec![]), t0, 1).unwrap();
    let big = request(
        HOST,
        Transport::Echo {
            reply: false,
            id: 1,
            seq: 1,
        },
        MarkerKind::Echo,
        3000,
    );
    let frags = fragment(&big, 1000).unwrap();
    assert_eq!(frags.len(), 4);
    for f in frags[1..].iter().rev() {
        assert_eq!(lan.deliver(t0, f), Delivery::Fragment);
    }
    assert_eq!(lan.poll_timeout(), Some(t0 + Lan::REASSEMBLY_TIMEOUT));
    assert_eq!(
        lan.deliver(t0, &frags[0]),
        Delivery::ToHost { answered: true }
    );
    assert_eq!(lan.poll_packet().map(|p| p.len()), Some(3000));
    // Three of four fragments, then the time-out.
    for f in &frags[1..] {
        lan.deliver(t0, f);
    }
    lan.handle_timeout(t0 + Lan::REASSEMBLY_TIMEOUT);
    let s = *lan.stats();
    assert_eq!(
        (s.fragments, s.reassembled, s.reassembly_timeouts),
        (7, 1, 1)
    );
    assert_eq!(lan.poll_timeout(), None);
}

#[test]
fn site_errors() {
    let t0 = Instant::now();
    let ok = flow("a", FlowKind::Icmp, 1.0, Pattern::Steady);
    let with = |f: FlowSpec| Lan::new(site(vec![f]), t0, 0).err();
    assert_eq!(
        with(FlowSpec {
            src: PEER,
            ..ok.clone()
        }),
        Some(SiteError::UnknownSource {
            flow: "a".into(),
            src: PEER
        })
    );
    assert_eq!(
        with(FlowSpec {
            dst: QUIET,
            ..ok.clone()
        }),
        Some(SiteError::LocalDestination {
            flow: "a".into(),
            dst: QUIET
        })
    );
    assert_eq!(
        with(FlowSpec {
            size: 55,
            ..ok.clone()
        }),
        Some(SiteError::TooSmall {
            flow: "a".into(),
            size: 55
        })
    );
    let rr = FlowKind::RequestResponse {
        port: 1,
        response_size: 10,
    };
    assert_eq!(
        with(FlowSpec {
            kind: rr,
            ..ok.clone()
        }),
        Some(SiteError::TooSmall {
            flow: "a".into(),
            size: 10
        })
    );
    assert!(matches!(
        with(FlowSpec {
            rate: 0.0,
            ..ok.clone()
        }),
        Some(SiteError::BadRate { .. })
    ));
    let twice = Site {
        flows: vec![ok.clone(), ok.clone()],
        ..site(vec![])
    };
    assert_eq!(
        Lan::new(twice, t0, 0).err(),
        Some(SiteError::DuplicateFlow("a".into()))
    );
    let mut dup_hosts = site(vec![]);
    dup_hosts.hosts.push(HostSpec::echo(HOST));
    assert_eq!(
        Lan::new(dup_hosts, t0, 0).err(),
        Some(SiteError::DuplicateHost(HOST))
    );
    assert_eq!(ok.sent_by(Duration::from_secs(10)), Ok(11));
}

fn pattern() -> impl Strategy<Value = Pattern> {
    let ms = Duration::from_millis;
    prop_oneof![
        Just(Pattern::Steady),
        (1u64..3_000, 0u64..3_000).prop_map(move |(on, off)| Pattern::OnOff {
            on: ms(on),
            off: ms(off)
        }),
        (1u64..3_000, 1u32..10).prop_map(move |(every, count)| Pattern::Burst {
            every: ms(every),
            count
        }),
    ]
}

proptest! {
    /// Driven at its own deadlines or at random instants, a flow sends exactly the
    /// closed-form count, in time order, and the Lan never loses track of a packet.
    #[test]
    fn sent_equals_closed_form(
        // Whole rates too, so packets fall exactly on the instants the Lan is driven at.
        rate in prop_oneof![0.01f64..400.0, (1u32..100).prop_map(f64::from)],
        pattern in pattern(),
        start in 0u64..2_000,
        stop in proptest::option::of(0u64..20_000),
        until in 0u64..20_000,
        jumps in proptest::collection::vec(1u64..700, 0..40),
        seed in any::<u64>(),
    ) {
        let mut f = flow("f", FlowKind::Udp { port: 9 }, rate, pattern);
        f.start = Duration::from_millis(start);
        f.stop = stop.map(Duration::from_millis);
        prop_assume!(f.sent_by(Duration::ZERO).is_ok());
        let t0 = Instant::now();
        let end = t0 + Duration::from_millis(until);
        let mut lan = Lan::new(site(vec![f.clone()]), t0, seed).unwrap();
        let mut now = t0;
        let mut jumps = jumps.into_iter();
        loop {
            // Either the Lan's own deadline or a random (possibly late) instant.
            let next = match jumps.next() {
                Some(j) => now + Duration::from_millis(j),
                None => match lan.poll_timeout() {
                    Some(t) => t.max(now),
                    None => break,
                },
            };
            if next > end {
                break;
            }
            now = next;
            lan.handle_timeout(now);
        }
        lan.handle_timeout(end);
        let mut sent = 0;
        while lan.poll_packet().is_some() {
            sent += 1;
        }
        let stats = lan.flow("f").unwrap();
        prop_assert_eq!(stats.sent, f.sent_by(Duration::from_millis(until)).unwrap());
        prop_assert_eq!(stats.sent, sent);
        prop_assert_eq!(stats.answered + stats.unanswered + stats.outstanding(), stats.sent);
    }

    /// `deliver` of any bytes never panics, and every packet is accounted for exactly once.
    #[test]
    fn deliver_anything(packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..30), seed in any::<u64>()) {
        deliver_all(&packets, seed)?;
    }

    /// The same for damaged real packets (which get past the first length checks).
    #[test]
    fn deliver_damaged(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        size in 56usize..1500,
        kind in 0u8..4,
        mtu in proptest::option::of(68u16..600),
    ) {
        let transport = match kind {
            0 => Transport::Echo { reply: false, id: 0, seq: 0 },
            1 => Transport::Echo { reply: true, id: 0, seq: 0 },
            2 => Transport::Udp { src: 7, dst: 49_152 },
            _ => Transport::Udp { src: 1, dst: 7 },
        };
        let mut p = request(HOST, transport, if kind == 3 { MarkerKind::Request } else { MarkerKind::Echo }, size);
        p[6] &= !0x40; // fragmentable
        let mut pieces = mtu.map_or_else(|| vec![p.clone()], |m| fragment(&p, m).unwrap_or_default());
        for (i, x) in &flips {
            let n = pieces.len();
            if n == 0 { break; }
            let piece = &mut pieces[i.index(n)];
            let at = i.index(piece.len());
            piece[at] ^= x;
        }
        deliver_all(&pieces, 3)?;
    }
}

fn deliver_all(packets: &[Vec<u8>], seed: u64) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let f = flow("f", FlowKind::Icmp, 10.0, Pattern::Steady);
    let mut lan = Lan::new(site(vec![f]), t0, seed).unwrap();
    lan.handle_timeout(t0 + Duration::from_secs(1));
    let (mut held, mut hosts, mut answers, mut refused) = (0, 0, 0, 0);
    for p in packets {
        match lan.deliver(t0 + Duration::from_secs(1), p) {
            Delivery::Fragment => held += 1,
            Delivery::ToHost { .. } => hosts += 1,
            Delivery::Answer { .. } | Delivery::LateOrDuplicate { .. } => answers += 1,
            Delivery::Undeliverable(_) => refused += 1,
        }
    }
    let s = *lan.stats();
    prop_assert_eq!(s.packets_in, packets.len() as u64);
    prop_assert_eq!(s.to_hosts, hosts);
    prop_assert_eq!(s.answers_to_flows, answers);
    prop_assert_eq!(s.undeliverable(), refused);
    prop_assert_eq!(held + hosts + answers + refused, packets.len() as u64);
    while lan.poll_packet().is_some() {}
    Ok(())
}
