//! A simulated AWS endpoint and CGW on a virtual clock, in the shape of quinn-proto's test
//! `Pair`: `step()` delivers the next due datagram or jumps the clock to the next
//! deadline; `drive()` steps until both sides are idle. Latency and per-direction drops
//! are fields of the pair. No sockets: datagrams go straight from one `Endpoint`'s
//! `poll_transmit` to the other's `handle`.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

pub mod dataplane;
pub use dataplane::DataPlane;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::{
    parse_proposal, DpdConfig, Endpoint, EndpointConfig, Event, EventKind, IkeSaSecrets, Lifetimes,
    NatTPorts, Policy, ProposalKind, ProposalSpec, SaChange, SaFacts, SaHandle, SaState, Selection,
};
use ike_crypto::{Encryption, Integrity, SkCipher};
use ike_wire::{parse_payloads, ExchangeType, Message, Payload};

pub const PSK: &str = "ikesim-test-psk";
/// The AWS tunnel's outside address and the CGW's (fake; nothing is bound).
pub const AWS_ADDR: &str = "127.0.1.1:500";
pub const CGW_ADDR: &str = "127.0.2.1:500";
/// The outside address of the NAT `Pair::behind_nat` puts in front of the CGW.
pub const NAT_IP: &str = "127.0.3.1";
/// Both hosts' NAT-T port, where they move once a NAT is detected.
pub const NAT_T_PORT: u16 = 4500;
/// How long `drive()` keeps going before it gives up on the pair becoming idle.
pub const DRIVE_LIMIT: Duration = Duration::from_secs(600);

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("literal address")
}

/// Which host of the pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Aws,
    Cgw,
}

impl Side {
    pub fn peer(self) -> Side {
        match self {
            Side::Aws => Side::Cgw,
            Side::Cgw => Side::Aws,
        }
    }
}

/// A datagram a host sent, as the network saw it.
#[derive(Clone, Debug)]
pub struct Datagram {
    /// Time since the pair was created.
    pub at: Duration,
    /// Its position among the datagrams this host sent (0 = the first).
    pub index: usize,
    /// Its addresses as the sending host wrote them (before any NAT).
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
    pub dropped: bool,
}

impl Datagram {
    pub fn message(&self) -> Message {
        Message::parse(&self.bytes).expect("the endpoint sent a datagram that does not parse")
    }
}

/// Decides, for each datagram a host sends, whether the network loses it.
pub type DropFilter = Box<dyn FnMut(&Datagram) -> bool>;

/// Loses the datagrams at these positions (0 = the host's first datagram).
pub fn drop_nth(indices: &[usize]) -> DropFilter {
    let indices = indices.to_vec();
    Box::new(move |d| indices.contains(&d.index))
}

/// Loses everything (a blackhole).
pub fn drop_all() -> DropFilter {
    Box::new(|_| true)
}

/// One simulated host and what it did.
pub struct Host {
    pub endpoint: Endpoint,
    pub addr: SocketAddr,
    /// Every event, with the time since the pair was created.
    pub events: Vec<(Duration, Event)>,
    /// The phase states after each event (same index as `events`), merged over the
    /// endpoint's SAs: the furthest along of every SA's facts, as AWS's view merges them.
    pub merged: Vec<(SaState, SaState)>,
    /// Every SA's facts as the events told them, for `merged`.
    facts: Vec<(SaHandle, SaFacts)>,
    /// IKE SA keys handed out (`export_secrets`), to decrypt captures.
    pub secrets: Vec<IkeSaSecrets>,
    /// Every datagram sent, delivered or not.
    pub sent: Vec<Datagram>,
    /// Egress loss: consulted for each datagram this host sends.
    pub drop: DropFilter,
    /// The data plane's SA database as `poll_ipsec` built it (with
    /// `EndpointConfig::data_plane`, which `aws_config` and `cgw_config` turn on).
    pub sad: DataPlane,
}

fn set_facts(facts: &mut Vec<(SaHandle, SaFacts)>, sa: SaHandle, f: SaFacts) {
    match facts.iter_mut().find(|(h, _)| *h == sa) {
        Some((_, old)) => *old = f,
        None => facts.push((sa, f)),
    }
}

impl Host {
    fn new(config: EndpointConfig, addr: SocketAddr, seed: u64) -> Host {
        let mut endpoint = Endpoint::new(config, addr, seed);
        endpoint.set_nat_t_ports(NatTPorts {
            local: Some(NAT_T_PORT),
            peer: None,
        });
        Host {
            endpoint,
            addr,
            events: Vec::new(),
            merged: Vec::new(),
            facts: Vec::new(),
            secrets: Vec::new(),
            sent: Vec::new(),
            drop: Box::new(|_| false),
            sad: DataPlane::default(),
        }
    }

    /// The kinds of the events so far, in order.
    pub fn kinds(&self) -> Vec<EventKind> {
        self.events.iter().map(|(_, e)| e.kind.clone()).collect()
    }

    /// The merged phase states after each event.
    pub fn states(&self) -> Vec<(SaState, SaState)> {
        self.merged.clone()
    }

    /// Records `e` and the merged phase states after it: the other SAs' changes first,
    /// then the event's own SA.
    fn push_event(&mut self, at: Duration, e: Event) {
        for c in &e.changes {
            match *c {
                SaChange::Facts(sa, f) => set_facts(&mut self.facts, sa, f),
                SaChange::Removed(sa) => self.facts.retain(|(h, _)| *h != sa),
            }
        }
        set_facts(&mut self.facts, e.sa, e.facts);
        let merged = self
            .facts
            .iter()
            .fold((SaState::Down, SaState::Down), |(a, b), (_, f)| {
                (a.max(f.phase1), b.max(f.phase2))
            });
        self.merged.push(merged);
        self.events.push((at, e));
    }

    /// The first event matching `pred`, with its time.
    pub fn find(&self, pred: impl Fn(&EventKind) -> bool) -> Option<&(Duration, Event)> {
        self.events.iter().find(|(_, e)| pred(&e.kind))
    }

    /// Send times of the datagrams this host sent.
    pub fn send_times(&self) -> Vec<Duration> {
        self.sent.iter().map(|d| d.at).collect()
    }

    /// The events from position `from` on (what happened since `events.len()` was `from`).
    pub fn events_since(&self, from: usize) -> &[(Duration, Event)] {
        &self.events[from.min(self.events.len())..]
    }

    /// The kinds of the events from position `from` on.
    pub fn kinds_since(&self, from: usize) -> Vec<EventKind> {
        self.events_since(from)
            .iter()
            .map(|(_, e)| e.kind.clone())
            .collect()
    }

    /// The datagrams this host sent of `exchange`: its requests (`response` false) or its
    /// responses, in order, retransmissions included.
    pub fn sent_of(&self, exchange: ExchangeType, response: bool) -> Vec<&Datagram> {
        self.sent
            .iter()
            .filter(|d| {
                let h = d.message().header;
                h.exchange == exchange && h.flags.is_response() == response
            })
            .collect()
    }
}

struct InFlight {
    deliver_at: Instant,
    to: Side,
    src: SocketAddr,
    dst: SocketAddr,
    bytes: Vec<u8>,
}

/// The AWS endpoint (responder) and the CGW (initiator) on one virtual clock.
pub struct Pair {
    pub aws: Host,
    pub cgw: Host,
    /// One-way delay of every datagram.
    pub latency: Duration,
    start: Instant,
    now: Instant,
    /// Datagrams on the wire, in delivery order.
    in_flight: VecDeque<InFlight>,
    /// A NAT in front of the CGW (`behind_nat`).
    pub nat: Option<PairNat>,
}

/// A NAT in front of the CGW: each inside port gets an outside port on the NAT's address
/// (never the same number), and `rebind` gives every inside port a new one — datagrams to
/// an old outside port are lost.
pub struct PairNat {
    pub ip: std::net::IpAddr,
    /// (inside, outside) port pairs, live ones only.
    pub map: Vec<(SocketAddr, u16)>,
    next_port: u16,
}

impl PairNat {
    fn outbound(&mut self, inside: SocketAddr) -> SocketAddr {
        let port = match self.map.iter().find(|(i, _)| *i == inside) {
            Some((_, p)) => *p,
            None => {
                self.next_port += 1;
                self.map.push((inside, self.next_port));
                self.next_port
            }
        };
        SocketAddr::new(self.ip, port)
    }

    fn inbound(&self, outside: SocketAddr) -> Option<SocketAddr> {
        if outside.ip() != self.ip {
            return Some(outside);
        }
        self.map
            .iter()
            .find(|(_, p)| *p == outside.port())
            .map(|(i, _)| *i)
    }

    /// Forgets every mapping: the next datagram out gets a new outside port.
    pub fn rebind(&mut self) {
        self.map.clear();
    }

    /// The outside address `inside` is mapped to now.
    pub fn outside(&self, inside: SocketAddr) -> Option<SocketAddr> {
        self.map
            .iter()
            .find(|(i, _)| *i == inside)
            .map(|(_, p)| SocketAddr::new(self.ip, *p))
    }
}

impl Pair {
    pub fn new(aws: EndpointConfig, cgw: EndpointConfig, aws_seed: u64, cgw_seed: u64) -> Pair {
        let start = Instant::now();
        Pair {
            aws: Host::new(aws, addr(AWS_ADDR), aws_seed),
            cgw: Host::new(cgw, addr(CGW_ADDR), cgw_seed),
            latency: Duration::from_millis(10),
            start,
            now: start,
            in_flight: VecDeque::new(),
            nat: None,
        }
    }

    /// Puts the CGW behind a NAT at `NAT_IP` (call before `initiate`).
    pub fn behind_nat(mut self) -> Pair {
        self.nat = Some(PairNat {
            ip: NAT_IP.parse().expect("literal address"),
            map: Vec::new(),
            next_port: 31_000,
        });
        self
    }

    pub fn host(&mut self, side: Side) -> &mut Host {
        match side {
            Side::Aws => &mut self.aws,
            Side::Cgw => &mut self.cgw,
        }
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time since the pair was created.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// The CGW brings the tunnel up (AWS's startup action `add`: AWS waits).
    pub fn initiate(&mut self) {
        let (now, aws) = (self.now, self.aws.addr);
        self.cgw.endpoint.initiate(now, aws);
        self.drain();
    }

    /// Runs an administrative action on one endpoint (e.g. `delete_ike_sas`) and collects
    /// what it produced.
    pub fn act(&mut self, side: Side, f: impl FnOnce(&mut Endpoint, Instant)) {
        let now = self.now;
        f(&mut self.host(side).endpoint, now);
        self.drain();
    }

    /// Hands `bytes` to `to` now, as if its peer had sent them (forged or corrupted input).
    pub fn inject(&mut self, to: Side, bytes: &[u8]) {
        let now = self.now;
        let mut src = self.host(to.peer()).addr;
        if let (Some(nat), Side::Aws) = (&mut self.nat, to) {
            src = nat.outbound(src);
        }
        let host = self.host(to);
        let local = host.addr;
        host.endpoint.handle(now, local, src, bytes);
        self.drain();
    }

    /// The instant `since_start` after the pair was created.
    pub fn at(&self, since_start: Duration) -> Instant {
        self.start + since_start
    }

    /// Runs everything due up to `since_start` after the pair was created (deliveries and
    /// timers at exactly that instant included) and leaves the clock there, so an action
    /// taken next happens at that exact instant.
    pub fn run_to(&mut self, since_start: Duration) {
        let limit = self.start + since_start;
        assert!(
            limit >= self.now,
            "run_to({since_start:?}) is in the past ({:?})",
            self.elapsed()
        );
        self.drive_until(limit);
        self.now = limit;
    }

    /// Lets virtual time pass without anything happening in between (timers included):
    /// only for moving the clock when both sides are idle.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Delivers the next datagram that is due, or else jumps the clock to the earliest
    /// deadline (a delivery or either endpoint's timer) no later than `limit` and fires
    /// the timers due then. Returns false when there was nothing to do before `limit`.
    pub fn step_until(&mut self, limit: Instant) -> bool {
        if self
            .in_flight
            .front()
            .is_some_and(|d| d.deliver_at <= self.now)
        {
            let Some(d) = self.in_flight.pop_front() else {
                return false;
            };
            let now = self.now;
            self.host(d.to).endpoint.handle(now, d.dst, d.src, &d.bytes);
            self.drain();
            return true;
        }
        let next = [
            self.in_flight.front().map(|d| d.deliver_at),
            self.aws.endpoint.poll_timeout(),
            self.cgw.endpoint.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next.filter(|t| *t <= limit) else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        for side in [Side::Aws, Side::Cgw] {
            let ep = &mut self.host(side).endpoint;
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
        }
        self.drain();
        true
    }

    pub fn step(&mut self) -> bool {
        let limit = self.now + DRIVE_LIMIT;
        self.step_until(limit)
    }

    /// Steps until no datagram is in flight and no timer falls within `DRIVE_LIMIT` (an
    /// established tunnel's next timer is its rekey, hours away).
    pub fn drive(&mut self) {
        let limit = self.now + DRIVE_LIMIT;
        self.drive_until(limit);
        // Settled: every exchange is over, so the data plane holds exactly the CHILD SAs
        // that are up — no old SA of a rekey, nothing being deleted.
        for host in [&self.aws, &self.cgw] {
            if host.endpoint.config().data_plane {
                host.sad.assert_settled(&host.endpoint);
            }
        }
    }

    pub fn drive_until(&mut self, limit: Instant) {
        let mut steps = 0;
        while self.step_until(limit) {
            steps += 1;
            assert!(steps < 10_000, "the pair does not settle");
        }
    }

    /// Collects both endpoints' output: datagrams onto the wire (through the drop
    /// filters), events and secrets, stamped with the current time.
    fn drain(&mut self) {
        let (now, at, latency) = (self.now, self.now - self.start, self.latency);
        for side in [Side::Aws, Side::Cgw] {
            let host = match side {
                Side::Aws => &mut self.aws,
                Side::Cgw => &mut self.cgw,
            };
            while let Some(t) = host.endpoint.poll_transmit() {
                let (src, dst) = (t.src, t.dst);
                let mut d = Datagram {
                    at,
                    index: host.sent.len(),
                    src,
                    dst,
                    bytes: t.payload,
                    dropped: false,
                };
                d.dropped = (host.drop)(&d);
                // Through the NAT in front of the CGW, if there is one.
                let translated = match (&mut self.nat, side) {
                    (None, _) => Some((src, dst)),
                    (Some(nat), Side::Cgw) => Some((nat.outbound(src), dst)),
                    (Some(nat), Side::Aws) => nat.inbound(dst).map(|inside| (src, inside)),
                };
                match translated {
                    Some((src, dst)) if !d.dropped => {
                        let deliver_at = now + latency;
                        let pos = self
                            .in_flight
                            .partition_point(|f| f.deliver_at <= deliver_at);
                        let (to, bytes) = (side.peer(), d.bytes.clone());
                        self.in_flight.insert(
                            pos,
                            InFlight {
                                deliver_at,
                                to,
                                src,
                                dst,
                                bytes,
                            },
                        );
                    }
                    Some(_) => {}
                    None => d.dropped = true,
                }
                host.sent.push(d);
            }
            while let Some(e) = host.endpoint.poll_event() {
                host.push_event(at, e);
            }
            while let Some(s) = host.endpoint.poll_secrets() {
                host.secrets.push(s);
            }
            while let Some(c) = host.endpoint.poll_ipsec() {
                host.sad.apply(at, c);
            }
            if host.endpoint.config().data_plane {
                host.sad.check(&host.endpoint);
            }
        }
    }
}

/// A policy from strongSwan proposal strings, one proposal each.
pub fn policy(kind: ProposalKind, proposals: &[&str], selection: Selection) -> Policy {
    let proposals = proposals
        .iter()
        .map(|p| parse_proposal(p, kind).expect("valid proposal string"))
        .collect();
    Policy {
        proposals,
        selection,
        universe: None,
    }
}

/// Every algorithm AWS supports, lowest value first (the AWS tunnel's default options):
/// AES128, AES256, AES128-GCM-16, AES256-GCM-16; SHA1, SHA2-256/384/512; DH groups 2,
/// 14–24 (phase 1 without group 5) as far as ike-crypto computes them.
pub fn aws_universe(kind: ProposalKind) -> ProposalSpec {
    let ciphers = "aes128-aes256-aes128gcm16-aes256gcm16-sha1-sha256-sha384-sha512";
    let groups = "modp1024-modp2048-modp3072-modp4096-modp6144-modp8192-ecp256-ecp384-ecp521-modp1024s160-modp2048s224-modp2048s256";
    let mut spec =
        parse_proposal(&format!("{ciphers}-{groups}"), kind).expect("valid proposal string");
    spec.dh.retain(|g| ike_crypto::dh_supported(*g));
    if kind == ProposalKind::Esp {
        // Phase 2 also allows group 5 (reference §3), lowest value first.
        spec.dh.insert(1, ike_wire::DhGroup::MODP_1536);
    }
    spec
}

/// An AWS tunnel's configuration: local preference, lowest value first, AWS's universe,
/// and AWS's own address as its identity. `ike`/`esp` restrict the allowed algorithms
/// (as the tunnel options do); `None` allows everything AWS supports.
pub fn aws_config(
    psk: &str,
    ike: Option<ProposalSpec>,
    esp: Option<ProposalSpec>,
) -> EndpointConfig {
    let policy = |kind, restricted: Option<ProposalSpec>| Policy {
        proposals: vec![restricted.unwrap_or_else(|| aws_universe(kind))],
        selection: Selection::LocalPreference,
        universe: Some(aws_universe(kind)),
    };
    let mut config = EndpointConfig::new(
        psk,
        policy(ProposalKind::Ike, ike),
        policy(ProposalKind::Esp, esp),
    );
    config.initial_contact = false;
    config.export_secrets = true;
    config.refuse_aggressive_mode = true;
    // Every pair test checks the data plane's contract as it goes (`DataPlane`).
    config.data_plane = true;
    config
}

/// A CGW's configuration from strongSwan proposal strings.
pub fn cgw_config(psk: &str, ike: &[&str], esp: &[&str]) -> EndpointConfig {
    let mut config = EndpointConfig::new(
        psk,
        policy(ProposalKind::Ike, ike, Selection::PeerPreference),
        policy(ProposalKind::Esp, esp, Selection::PeerPreference),
    );
    config.export_secrets = true;
    config.data_plane = true;
    config
}

/// A spec from one proposal string (for restricting an AWS tunnel's options).
pub fn spec(kind: ProposalKind, text: &str) -> ProposalSpec {
    parse_proposal(text, kind).expect("valid proposal string")
}

/// Decrypts the SK payload of `datagram` with the exported keys of its IKE SA, as
/// Wireshark would with an IKEv2 decryption table. The INITIATOR flag says whose keys
/// (SK_ei/SK_ai or SK_er/SK_ar) protected it.
pub fn decrypt(secrets: &[IkeSaSecrets], datagram: &[u8]) -> Vec<Payload> {
    let msg = Message::parse(datagram).expect("datagram parses");
    let h = msg.header;
    let s = secrets
        .iter()
        .find(|s| s.spi_i == h.spi_i && s.spi_r == h.spi_r)
        .expect("no exported keys for this IKE SA");
    let Some(Payload::Encrypted(sk)) = msg.payloads.last() else {
        panic!("no SK payload in {:?}", msg.payloads);
    };
    let (sk_e, sk_a) = if h.flags.is_initiator() {
        (&s.sk_ei, &s.sk_ai)
    } else {
        (&s.sk_er, &s.sk_ar)
    };
    let encryption = Encryption::new(s.encryption, s.key_bits).expect("supported cipher");
    let integrity = s
        .integrity
        .map(|i| Integrity::new(i).expect("supported integrity"));
    let cipher = SkCipher::new(encryption, integrity, sk_e, sk_a).expect("keys fit the cipher");
    let prefix = &datagram[..datagram.len() - sk.data.len()];
    let plaintext = cipher
        .open(prefix, &sk.data)
        .expect("SK payload opens with the exported keys");
    parse_payloads(sk.first_inner, &plaintext).expect("decrypted payloads parse")
}

/// Lifetimes without fuzz, so every rekey happens at an exact instant: `lifetime - margin`
/// after the SA was set up (`margin` is at most half the lifetime, see `Ctx::lifetime`).
pub fn exact_lifetimes(ike: Duration, child: Duration, margin: Duration) -> Lifetimes {
    Lifetimes {
        ike,
        child,
        margin,
        fuzz_percent: 0,
        rekey: true,
    }
}

/// Builder-style settings for one side of a pair, applied before `Pair::new`.
pub trait ConfigExt: Sized {
    fn with_lifetimes(self, lifetimes: Lifetimes) -> Self;
    /// The CHILD SAs of this side are rekeyed exactly `after` their setup (lifetime
    /// `child`, no fuzz); `after` must be at least half of `child`.
    fn child_rekey_after(self, child: Duration, after: Duration) -> Self;
    /// The IKE SAs of this side are rekeyed exactly `after` their setup (lifetime `ike`,
    /// no fuzz); `after` must be at least half of `ike`. The CHILD SAs keep their
    /// lifetime but are rekeyed `ike - after` before its end too.
    fn ike_rekey_after(self, ike: Duration, after: Duration) -> Self;
    /// Never rekey: SAs expire at their lifetime.
    fn no_rekey(self) -> Self;
    fn with_dpd(self, dpd: DpdConfig) -> Self;
}

impl ConfigExt for EndpointConfig {
    fn with_lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    fn child_rekey_after(mut self, child: Duration, after: Duration) -> Self {
        assert!(
            after * 2 >= child && after <= child,
            "rekey at {after:?} of a {child:?} lifetime cannot be exact"
        );
        self.lifetimes.child = child;
        self.lifetimes.margin = child - after;
        self.lifetimes.fuzz_percent = 0;
        self.lifetimes.rekey = true;
        self
    }

    fn ike_rekey_after(mut self, ike: Duration, after: Duration) -> Self {
        assert!(
            after * 2 >= ike && after <= ike,
            "rekey at {after:?} of a {ike:?} lifetime cannot be exact"
        );
        self.lifetimes.ike = ike;
        self.lifetimes.margin = ike - after;
        self.lifetimes.fuzz_percent = 0;
        self.lifetimes.rekey = true;
        self
    }

    fn no_rekey(mut self) -> Self {
        self.lifetimes.rekey = false;
        self
    }

    fn with_dpd(mut self, dpd: DpdConfig) -> Self {
        self.dpd = Some(dpd);
        self
    }
}

// ---- IKEv1 ----

impl Datagram {
    /// The datagram as an ISAKMP (IKEv1) message.
    pub fn v1(&self) -> ike_wire::v1::Message {
        ike_wire::v1::Message::parse(&self.bytes)
            .expect("the endpoint sent an ISAKMP datagram that does not parse")
    }
}

/// An IKEv1 capture decrypted the way Wireshark does with an ISAKMP decryption table: the
/// exported encryption key of each ISAKMP SA, and the IV chains rebuilt from what is on
/// the wire (RFC 2409 App. B) — main mode 5 from `hash(g^xi | g^xr)` of the KE payloads
/// of messages 3 and 4, main mode 6 from message 5's last block, the first message of a
/// quick mode or informational exchange from `hash(last block of message 6 | M-ID)`, and
/// each later message of that exchange from the previous one's last block. The hash is
/// the one the responder chose in main mode message 2.
pub struct V1Capture {
    /// Both hosts' datagrams in the order they were sent, retransmissions left out.
    datagrams: Vec<ike_wire::v1::Message>,
}

impl V1Capture {
    /// Everything both hosts of `pair` sent so far (lost datagrams included: their
    /// retransmissions are bitwise identical).
    pub fn of(pair: &Pair) -> V1Capture {
        let mut all: Vec<&Datagram> = pair.aws.sent.iter().chain(&pair.cgw.sent).collect();
        all.sort_by_key(|d| d.at);
        let mut seen: Vec<&[u8]> = Vec::new();
        let mut datagrams = Vec::new();
        for d in all {
            if !seen.contains(&d.bytes.as_slice()) {
                seen.push(&d.bytes);
                datagrams.push(d.v1());
            }
        }
        V1Capture { datagrams }
    }

    fn of_sa(&self, cky_i: u64, cky_r: u64) -> impl Iterator<Item = &ike_wire::v1::Message> {
        self.datagrams
            .iter()
            .filter(move |m| m.header.cky_i == cky_i && m.header.cky_r == cky_r)
    }

    /// The payloads inside an encrypted message of this capture, decrypted with the keys
    /// in `secrets`.
    pub fn open(&self, secrets: &[IkeSaSecrets], datagram: &[u8]) -> Vec<ike_wire::v1::Payload> {
        use ike_crypto::v1::{last_block, phase1_iv, phase2_iv, Cbc, Hash};
        use ike_wire::v1::{ike_attr, Body, ExchangeType, Message, Payload};
        let msg = Message::parse(datagram).expect("datagram parses");
        let h = msg.header;
        let Body::Encrypted(ciphertext) = &msg.body else {
            panic!("not encrypted: {msg:?}")
        };
        let body = |m: &Message| match &m.body {
            Body::Encrypted(c) => c.clone(),
            Body::Plain(_) => Vec::new(),
        };
        let main_mode: Vec<&Message> = self
            .of_sa(h.cky_i, h.cky_r)
            .filter(|m| m.header.exchange == ExchangeType::IDENTITY_PROTECTION)
            .collect();
        let hash = main_mode
            .iter()
            .find_map(|m| {
                m.payloads().iter().find_map(|p| match p {
                    Payload::Sa(sa) => sa
                        .proposals
                        .first()?
                        .transforms
                        .first()?
                        .attr(ike_attr::HASH_ALGORITHM),
                    _ => None,
                })
            })
            .and_then(|a| Hash::from_attribute(u16::try_from(a).ok()?).ok())
            .expect("main mode message 2 with the chosen hash in the capture");
        let kes: Vec<&Vec<u8>> = main_mode
            .iter()
            .flat_map(|m| {
                m.payloads().iter().filter_map(|p| {
                    if let Payload::Ke(k) = p {
                        Some(k)
                    } else {
                        None
                    }
                })
            })
            .collect();
        let encrypted_mm: Vec<&Message> = main_mode
            .iter()
            .copied()
            .filter(|m| m.header.flags.is_encrypted())
            .collect();
        let iv = if h.exchange == ExchangeType::IDENTITY_PROTECTION {
            match encrypted_mm.iter().position(|m| body(m) == *ciphertext) {
                Some(0) => phase1_iv(hash, kes[0], kes[1], Cbc::BLOCK),
                Some(1) => last_block(&body(encrypted_mm[0])),
                _ => panic!("main mode message not in the capture"),
            }
        } else {
            let m6 = encrypted_mm
                .get(1)
                .expect("main mode message 6 in the capture");
            let exchange: Vec<&Message> = self
                .of_sa(h.cky_i, h.cky_r)
                .filter(|m| m.header.message_id == h.message_id)
                .collect();
            match exchange.iter().position(|m| body(m) == *ciphertext) {
                Some(0) | None => phase2_iv(hash, &last_block(&body(m6)), h.message_id, Cbc::BLOCK),
                Some(i) => last_block(&body(exchange[i - 1])),
            }
        };
        let s = secrets
            .iter()
            .find(|s| s.spi_i == h.cky_i && s.spi_r == h.cky_r)
            .expect("no exported keys for this ISAKMP SA");
        let cbc = Cbc::new(&s.sk_ei).expect("an AES key");
        let plaintext = cbc.decrypt(&iv, ciphertext).expect("whole blocks");
        ike_wire::v1::parse_payloads(h.next_payload, &plaintext).expect("decrypted payloads parse")
    }
}
