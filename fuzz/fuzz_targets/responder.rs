//! The state machine: a responder `ike_core::Endpoint` with an AWS tunnel's configuration
//! (IKEv2 and IKEv1 both accepted, every algorithm AWS supports, AWS's DPD, lifetimes and
//! half-open timeout) fed an arbitrary sequence of steps (`arbitrary`): datagrams of two
//! genuine CGW endpoints (IKEv2 and IKEv1) relayed, dropped, duplicated or mutated;
//! datagrams captured from the built-in scenarios (the ikev2_message and ikev1_message
//! corpora), verbatim or mutated; bytes of the fuzzer's own; from a few source addresses
//! and either port; with time advancing between them and every due timer run.
//!
//! Invariants checked after every step, beyond "no panic":
//! - after `handle_timeout(t)`, `poll_timeout()` is never at or before `t` (a caller would
//!   spin);
//! - every counter of `Stats` only grows;
//! - no event names an SA after the event stream said it was removed, and every event's
//!   peer, and every datagram the responder sends, is an address that sent to it (a
//!   responder never initiates: nothing goes to an address it never heard from).
#![no_main]

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use ike_core::{
    parse_proposal, DpdAction, DpdConfig, DropReason, Endpoint, EndpointConfig, Event, IkeVersion,
    Lifetimes, NewChildSa, Policy, ProposalKind, ProposalSpec, SaChange, SaHandle, Selection,
    Stats, Transmit,
};
use libfuzzer_sys::fuzz_target;

const PSK: &[u8] = b"ikesim.fuzz_psk_0123456789";
const AWS_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);
/// The IKEv2 CGW, the IKEv1 CGW, and a stranger.
const SOURCES: [Ipv4Addr; 3] = [
    Ipv4Addr::new(127, 0, 0, 2),
    Ipv4Addr::new(127, 0, 0, 3),
    Ipv4Addr::new(127, 0, 0, 66),
];
/// At most this many steps and timer rounds per input: an input is one short story.
const MAX_STEPS: usize = 64;
const MAX_TIMER_ROUNDS: usize = 256;

#[derive(Arbitrary, Debug)]
enum Mutation {
    None,
    Flip { at: u16, bit: u8 },
    Truncate { len: u16 },
    Overwrite { at: u16, bytes: [u8; 4] },
    Insert { at: u16, bytes: Vec<u8> },
}

impl Mutation {
    fn apply(&self, mut d: Vec<u8>) -> Vec<u8> {
        match self {
            Mutation::None => {}
            Mutation::Flip { at, bit } => {
                if !d.is_empty() {
                    let at = usize::from(*at) % d.len();
                    d[at] ^= 1 << (bit % 8);
                }
            }
            Mutation::Truncate { len } => d.truncate(usize::from(*len)),
            Mutation::Overwrite { at, bytes } => {
                for (i, b) in bytes.iter().enumerate() {
                    if let Some(x) = d.get_mut(usize::from(*at) + i) {
                        *x = *b;
                    }
                }
            }
            Mutation::Insert { at, bytes } => {
                let at = usize::from(*at).min(d.len());
                d.splice(at..at, bytes.iter().copied());
            }
        }
        d
    }
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// The oldest datagram a CGW sent to AWS, delivered (mutated as said) and, unless
    /// `again`, taken off the queue; `spoof` sends it from the stranger instead.
    Relay {
        v1: bool,
        mutation: Mutation,
        again: bool,
        spoof: bool,
    },
    /// The oldest datagram a CGW sent, lost.
    Drop { v1: bool },
    /// A captured datagram.
    Seed {
        index: u16,
        source: u8,
        nat_port: bool,
        mutation: Mutation,
    },
    /// Bytes of the fuzzer's own.
    Raw {
        source: u8,
        nat_port: bool,
        bytes: Vec<u8>,
    },
    /// Time passes (milliseconds), and every timer due runs.
    WaitMs(u16),
    /// Time passes (seconds: lifetimes, rekeys, DPD, half-open expiry).
    WaitS(u16),
    /// A CGW starts (another) IKE SA.
    Initiate { v1: bool },
    /// A CGW says its tunnel's traffic flows or stops (what DPD and idle checks read).
    Traffic { flowing: bool },
    /// ESP arrived for an SPI from a source.
    Esp { source: u8, spi: u32 },
}

fn spec(kind: ProposalKind, text: &str) -> ProposalSpec {
    match parse_proposal(text, kind) {
        Ok(s) => s,
        Err(e) => panic!("{text}: {e}"),
    }
}

/// What AWS allows by default (reference §3): AES128/256 (CBC, GCM-16), SHA1/SHA2,
/// groups 2, 14–24 as far as ike-crypto computes them (phase 2 adds 5).
fn aws_universe(kind: ProposalKind) -> ProposalSpec {
    let mut s = spec(
        kind,
        "aes128-aes256-aes128gcm16-aes256gcm16-sha1-sha256-sha384-sha512-modp1024-modp2048-\
         modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-\
         modp2048s256",
    );
    s.dh.retain(|g| ike_crypto::dh_supported(*g));
    if kind == ProposalKind::Esp {
        s.dh.insert(1, ike_wire::DhGroup::MODP_1536);
    }
    s
}

/// An AWS tunnel with its default options, as `sim::aws` configures it; `short`: with the
/// shortest lifetimes AWS allows (900 s for both phases, a 60 s rekey margin), so that an
/// input reaches AWS's own rekeys in a few steps.
fn aws_config(short: bool) -> EndpointConfig {
    let policy = |kind| Policy {
        proposals: vec![aws_universe(kind)],
        selection: Selection::LocalPreference,
        universe: Some(aws_universe(kind)),
    };
    let mut c = EndpointConfig::new(PSK, policy(ProposalKind::Ike), policy(ProposalKind::Esp));
    c.local_id = Some(ike_wire::Identification::from_ip(IpAddr::V4(AWS_IP)));
    c.initial_contact = false;
    c.dpd = Some(DpdConfig::aws(Duration::from_secs(30), DpdAction::Clear));
    c.half_open_timeout = Duration::from_secs(30);
    c.accept_ikev1 = true;
    c.accept_ikev2 = true;
    c.refuse_aggressive_mode = true;
    c.new_child_sa = NewChildSa::ReplaceOthers;
    if short {
        c.lifetimes = Lifetimes {
            ike: Duration::from_secs(900),
            child: Duration::from_secs(900),
            margin: Duration::from_secs(60),
            ..Lifetimes::default()
        };
    }
    c
}

/// A CGW on a cheap group (ECP-256), so that an input's DH work stays small.
fn cgw_config(version: IkeVersion) -> EndpointConfig {
    let policy = |kind, text| Policy {
        proposals: vec![spec(kind, text)],
        selection: Selection::PeerPreference,
        universe: None,
    };
    let mut c = EndpointConfig::new(
        PSK,
        policy(ProposalKind::Ike, "aes128-sha256-ecp256"),
        policy(ProposalKind::Esp, "aes128gcm16-ecp256"),
    );
    c.ike_version = version;
    c.dpd = Some(DpdConfig::aws(Duration::from_secs(30), DpdAction::Restart));
    c
}

/// The captured datagrams of the two message corpora (fuzz/corpus/ikev{2,1}_message,
/// written by fuzz/seed-corpora), read once.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        for dir in ["ikev2_message", "ikev1_message"] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/");
            let Ok(entries) = std::fs::read_dir(format!("{path}{dir}")) else {
                continue;
            };
            let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            files.sort();
            out.extend(files.iter().filter_map(|f| std::fs::read(f).ok()));
        }
        out
    })
}

fn source(i: u8, nat_port: bool) -> SocketAddr {
    let ip = SOURCES[usize::from(i) % SOURCES.len()];
    SocketAddr::new(IpAddr::V4(ip), if nat_port { 4500 } else { 500 })
}

/// The whole set-up: the AWS responder, the two CGWs and what is in flight.
struct World {
    now: Instant,
    aws: Endpoint,
    aws_ports: [SocketAddr; 2],
    cgws: [Endpoint; 2],
    /// Per CGW, what it sent to AWS and the fuzzer has not delivered yet.
    queues: [VecDeque<Transmit>; 2],
    /// Every address that sent AWS a datagram.
    heard_from: HashSet<SocketAddr>,
    stats: Stats,
    removed: HashSet<SaHandle>,
}

impl World {
    fn new(short_lifetimes: bool) -> World {
        let now = Instant::now();
        let aws_ports = [
            SocketAddr::new(IpAddr::V4(AWS_IP), 500),
            SocketAddr::new(IpAddr::V4(AWS_IP), 4500),
        ];
        let cgw = |version, i: u8| {
            let mut e = Endpoint::new(cgw_config(version), source(i, false), u64::from(i));
            e.initiate(now, aws_ports[0]);
            e
        };
        let mut w = World {
            now,
            aws: Endpoint::new(aws_config(short_lifetimes), aws_ports[0], 7),
            aws_ports,
            cgws: [cgw(IkeVersion::V2, 0), cgw(IkeVersion::V1, 1)],
            queues: [VecDeque::new(), VecDeque::new()],
            heard_from: HashSet::new(),
            stats: Stats::default(),
            removed: HashSet::new(),
        };
        w.drain_cgws();
        w
    }

    /// A datagram arrives at AWS.
    fn to_aws(&mut self, from: SocketAddr, nat_port: bool, data: &[u8]) {
        let local = self.aws_ports[usize::from(nat_port)];
        self.heard_from.insert(from);
        self.aws.handle(self.now, local, from, data);
        self.drain_aws();
    }

    /// What AWS sent: checked, and handed to the CGW it is addressed to.
    fn drain_aws(&mut self) {
        while let Some(t) = self.aws.poll_transmit() {
            assert!(self.aws_ports.contains(&t.src), "AWS sent from {}", t.src);
            assert!(
                self.heard_from.contains(&t.dst),
                "AWS sent to {}, which never sent it anything",
                t.dst
            );
            for cgw in &mut self.cgws {
                if cgw.local().ip() == t.dst.ip() {
                    cgw.handle(self.now, t.dst, t.src, &t.payload);
                }
            }
        }
        while let Some(e) = self.aws.poll_event() {
            self.check_event(&e);
        }
        self.check_stats();
        self.drain_cgws();
    }

    fn drain_cgws(&mut self) {
        for (cgw, queue) in self.cgws.iter_mut().zip(&mut self.queues) {
            while let Some(t) = cgw.poll_transmit() {
                if queue.len() < 32 {
                    queue.push_back(t);
                }
            }
            while cgw.poll_event().is_some() {}
        }
    }

    fn check_event(&mut self, e: &Event) {
        if std::env::var_os("IKESIM_FUZZ_TRACE").is_some() {
            eprintln!("event {:?} sa {:?} peer {}", e.kind, e.sa, e.peer);
        }
        assert!(
            self.heard_from.contains(&e.peer),
            "event {:?} for peer {}, which never sent anything",
            e.kind,
            e.peer
        );
        for change in &e.changes {
            match change {
                SaChange::Removed(h) => {
                    self.removed.insert(*h);
                }
                SaChange::Facts(h, _) => {
                    assert!(!self.removed.contains(h), "facts for removed SA {h:?}");
                }
            }
        }
        assert!(
            !self.removed.contains(&e.sa),
            "event {:?} for SA {:?} after it was removed",
            e.kind,
            e.sa
        );
    }

    fn check_stats(&mut self) {
        let (old, new) = (self.stats, self.aws.stats());
        let pairs = [
            ("datagrams_in", old.datagrams_in, new.datagrams_in),
            ("datagrams_out", old.datagrams_out, new.datagrams_out),
            ("malformed", old.malformed, new.malformed),
            (
                "integrity_failures",
                old.integrity_failures,
                new.integrity_failures,
            ),
            ("unmatched", old.unmatched, new.unmatched),
            ("retransmits", old.retransmits, new.retransmits),
            ("cookies_sent", old.cookies_sent, new.cookies_sent),
            ("half_open_refused", old.half_open_refused, new.half_open_refused),
            ("half_open_expired", old.half_open_expired, new.half_open_expired),
            (
                "invalid_major_version",
                old.invalid_major_version,
                new.invalid_major_version,
            ),
            ("replays_dropped", old.replays_dropped, new.replays_dropped),
            (
                "expensive_dh_deflected",
                old.expensive_dh_deflected,
                new.expensive_dh_deflected,
            ),
            (
                "stateless_answers_limited",
                old.stateless_answers_limited,
                new.stateless_answers_limited,
            ),
            ("misbehaved", old.misbehaved.total(), new.misbehaved.total()),
            (
                "incompatible",
                old.incompatible.total(),
                new.incompatible.total(),
            ),
        ];
        for (name, a, b) in pairs {
            assert!(b >= a, "Stats::{name} went from {a} to {b}");
        }
        for reason in [
            DropReason::MissingPayload,
            DropReason::UnexpectedMessage,
            DropReason::Unusable,
            DropReason::NoKeys,
        ] {
            let (a, b) = (old.drops.get(reason), new.drops.get(reason));
            assert!(b >= a, "Stats::drops[{reason:?}] went from {a} to {b}");
        }
        self.stats = new;
    }

    /// Time moves on to `until`, every deadline on the way run at its own instant.
    fn advance(&mut self, until: Instant) {
        for _ in 0..MAX_TIMER_ROUNDS {
            let next = [
                self.aws.poll_timeout(),
                self.cgws[0].poll_timeout(),
                self.cgws[1].poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(at) = next.filter(|&t| t <= until) else {
                break;
            };
            self.now = self.now.max(at);
            if self.aws.poll_timeout().is_some_and(|t| t <= self.now) {
                self.aws.handle_timeout(self.now);
                if let Some(t) = self.aws.poll_timeout() {
                    assert!(
                        t > self.now,
                        "poll_timeout {t:?} not after handle_timeout({:?})",
                        self.now
                    );
                }
                self.drain_aws();
            }
            for cgw in &mut self.cgws {
                if cgw.poll_timeout().is_some_and(|t| t <= self.now) {
                    cgw.handle_timeout(self.now);
                }
            }
            self.drain_cgws();
        }
        self.now = self.now.max(until);
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Relay {
                v1,
                mutation,
                again,
                spoof,
            } => {
                let q = &mut self.queues[usize::from(*v1)];
                let t = if *again {
                    q.front().cloned()
                } else {
                    q.pop_front()
                };
                if let Some(t) = t {
                    let nat_port = t.dst.port() == 4500;
                    let from = if *spoof {
                        source(2, t.src.port() == 4500)
                    } else {
                        t.src
                    };
                    self.to_aws(from, nat_port, &mutation.apply(t.payload));
                }
            }
            Step::Drop { v1 } => {
                self.queues[usize::from(*v1)].pop_front();
            }
            Step::Seed {
                index,
                source: s,
                nat_port,
                mutation,
            } => {
                let seeds = seeds();
                if !seeds.is_empty() {
                    let d = seeds[usize::from(*index) % seeds.len()].clone();
                    self.to_aws(source(*s, *nat_port), *nat_port, &mutation.apply(d));
                }
            }
            Step::Raw {
                source: s,
                nat_port,
                bytes,
            } => {
                self.to_aws(source(*s, *nat_port), *nat_port, bytes);
            }
            Step::WaitMs(ms) => self.advance(self.now + Duration::from_millis(u64::from(*ms))),
            Step::WaitS(s) => self.advance(self.now + Duration::from_secs(u64::from(*s))),
            Step::Initiate { v1 } => {
                let to = self.aws_ports[0];
                self.cgws[usize::from(*v1)].initiate(self.now, to);
                self.drain_cgws();
            }
            Step::Traffic { flowing } => {
                self.aws.set_peer_traffic(self.now, *flowing);
                self.drain_aws();
            }
            Step::Esp { source: s, spi } => {
                let from = source(*s, true);
                let _ = self.aws.esp_arrived(self.now, from, *spi);
                self.drain_aws();
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    short_lifetimes: bool,
    steps: Vec<Step>,
}

fuzz_target!(|input: Input| {
    let mut world = World::new(input.short_lifetimes);
    for step in input.steps.iter().take(MAX_STEPS) {
        world.step(step);
    }
});
