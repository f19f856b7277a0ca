//! What a flood of IKE_SA_INIT requests costs a responder `Endpoint` (issue 14 §1), as
//! figures for docs/flood-defence.md:
//!
//! 1. the cost per call of `handle` (a new half-open SA; a datagram for no SA) and of
//!    `poll_timeout` / `handle_timeout` with N half-open SAs held (defences off, so the
//!    table grows to N);
//! 2. the CPU one IKE_SA_INIT request costs the responder per KE group, and what the
//!    defences answer instead under pressure (a COOKIE; INVALID_KE_PAYLOAD toward a
//!    cheaper group the request offered).
//!
//! `cargo run --release -p ike-core --example flood_cost [N]` (N defaults to 50,000).

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::{parse_proposal, DosConfig, Endpoint, EndpointConfig, Policy, ProposalKind};

const AWS: &str = "127.0.1.1:500";
const PSK: &str = "flood-cost";

fn policy(proposals: &[&str], kind: ProposalKind) -> Policy {
    Policy {
        proposals: proposals
            .iter()
            .map(|p| parse_proposal(p, kind).expect("a valid proposal"))
            .collect(),
        selection: ike_core::Selection::PeerPreference,
        universe: None,
    }
}

fn config(ike: &[&str], dos: DosConfig) -> EndpointConfig {
    let mut c = EndpointConfig::new(
        PSK,
        policy(ike, ProposalKind::Ike),
        policy(&["aes128-sha256"], ProposalKind::Esp),
    );
    c.dos = dos;
    c
}

/// Defences off: the table holds whatever comes.
fn open_door() -> DosConfig {
    DosConfig {
        cookie_threshold: usize::MAX,
        block_threshold: 0,
        half_open_limit: 0,
        ..DosConfig::default()
    }
}

fn source(n: u32) -> SocketAddr {
    let [_, a, b, c] = (0x7f_10_00_00u32 + n).to_be_bytes();
    SocketAddr::from(([127, a, b, c], 500))
}

/// The first IKE_SA_INIT request of a CGW at `from` offering `ike`.
fn request(from: SocketAddr, seed: u64, ike: &[&str]) -> Vec<u8> {
    let aws: SocketAddr = AWS.parse().expect("an address");
    let mut cgw = Endpoint::new(config(ike, open_door()), from, seed);
    cgw.initiate(Instant::now(), aws);
    cgw.poll_transmit().expect("a request").payload
}

fn per_call(d: Duration, calls: u32) -> String {
    format!("{:>9.2} µs", d.as_secs_f64() * 1e6 / f64::from(calls))
}

fn table_costs(n: u32) {
    let aws: SocketAddr = AWS.parse().expect("an address");
    let t0 = Instant::now();
    eprintln!("building {n} requests …");
    let requests: Vec<(SocketAddr, Vec<u8>)> = (0..n)
        .map(|i| {
            (
                source(i),
                request(source(i), u64::from(i), &["aes128-sha256-ecp256"]),
            )
        })
        .collect();
    let mut ep = Endpoint::new(config(&["aes128-sha256-ecp256"], open_door()), aws, 1);
    let drain = |ep: &mut Endpoint| {
        while ep.poll_transmit().is_some() {}
        while ep.poll_event().is_some() {}
    };
    let batch = 1_000.min(n);
    let mut first = Duration::ZERO;
    let mut last = Duration::ZERO;
    for (i, (from, bytes)) in requests.iter().enumerate() {
        let start = Instant::now();
        ep.handle(t0, aws, *from, bytes);
        let took = start.elapsed();
        if i < batch as usize {
            first += took;
        }
        if i >= (n - batch) as usize {
            last += took;
        }
        drain(&mut ep);
    }
    println!("half-open SAs held: {}", ep.half_open());
    println!(
        "handle, new half-open SA, first {batch}: {}",
        per_call(first, batch)
    );
    println!(
        "handle, new half-open SA, last {batch}:  {}",
        per_call(last, batch)
    );
    let calls = 100_000;
    let start = Instant::now();
    for _ in 0..calls {
        black_box(ep.poll_timeout());
    }
    println!(
        "poll_timeout with {n} SAs:           {}",
        per_call(start.elapsed(), calls)
    );
    // A datagram for no SA (an IKE_AUTH for unknown SPIs): the dispatch lookup.
    let mut stray = requests[0].1.clone();
    stray[8..16].copy_from_slice(&7u64.to_be_bytes());
    stray[18] = 35;
    stray[20..24].copy_from_slice(&1u32.to_be_bytes());
    let start = Instant::now();
    for _ in 0..calls {
        ep.handle(t0, aws, requests[0].0, &stray);
    }
    println!(
        "handle, datagram for no SA:           {}",
        per_call(start.elapsed(), calls)
    );
    let start = Instant::now();
    for _ in 0..calls {
        ep.handle_timeout(t0);
    }
    println!(
        "handle_timeout, nothing due:          {}",
        per_call(start.elapsed(), calls)
    );
    let start = Instant::now();
    let expiry = t0 + ep.config().half_open_timeout;
    ep.handle_timeout(expiry);
    drain(&mut ep);
    println!(
        "handle_timeout expiring all {n}:     {} per SA; {} left",
        per_call(start.elapsed(), n),
        ep.half_open()
    );
}

/// Median time of `f` over `runs`.
fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut v: Vec<Duration> = (0..runs).map(|_| f()).collect();
    v.sort();
    v[runs / 2]
}

fn dh_costs() {
    let aws: SocketAddr = AWS.parse().expect("an address");
    let groups = [
        ("ECP-256 (19)", "aes128-sha256-ecp256"),
        ("MODP-2048 (14)", "aes128-sha256-modp2048"),
        ("MODP-3072 (15)", "aes128-sha256-modp3072"),
        ("MODP-8192 (18)", "aes128-sha256-modp8192"),
    ];
    let all: Vec<&str> = groups.iter().map(|(_, p)| *p).collect();
    println!("one IKE_SA_INIT request's CPU at the responder (median of 15):");
    for (name, proposal) in groups {
        let mut seed = 0;
        let d = median(15, || {
            seed += 1;
            let from = source(seed);
            let bytes = request(from, u64::from(seed), &[proposal]);
            let mut ep = Endpoint::new(config(&all, open_door()), aws, 1);
            let start = Instant::now();
            ep.handle(Instant::now(), aws, from, &bytes);
            start.elapsed()
        });
        println!("  accepted, {name:<15} {:>9.1} µs", d.as_secs_f64() * 1e6);
    }
    // Under pressure (cookies always required): a request without a cookie gets one, and
    // a MODP-8192 request that also offered ECP-256 gets INVALID_KE_PAYLOAD(19).
    let pressure = DosConfig {
        cookie_threshold: 0,
        ..DosConfig::default()
    };
    let offer = ["aes128-sha256-modp8192", "aes128-sha256-ecp256"];
    let mut seed = 100;
    let cookie = median(15, || {
        seed += 1;
        let from = source(seed);
        let bytes = request(from, u64::from(seed), &offer);
        let mut ep = Endpoint::new(config(&all, pressure.clone()), aws, 1);
        let start = Instant::now();
        ep.handle(Instant::now(), aws, from, &bytes);
        start.elapsed()
    });
    println!(
        "  under pressure, no cookie: COOKIE   {:>9.1} µs",
        cookie.as_secs_f64() * 1e6
    );
    let deflect = median(15, || {
        seed += 1;
        let from = source(seed);
        let mut cgw = Endpoint::new(config(&offer, open_door()), from, u64::from(seed));
        let now = Instant::now();
        cgw.initiate(now, aws);
        let first = cgw.poll_transmit().expect("a request").payload;
        let mut ep = Endpoint::new(config(&all, pressure.clone()), aws, 1);
        ep.handle(now, aws, from, &first);
        let answer = ep.poll_transmit().expect("a cookie").payload;
        cgw.handle(now, from, aws, &answer);
        let with_cookie = cgw.poll_transmit().expect("the request again").payload;
        let start = Instant::now();
        ep.handle(now, aws, from, &with_cookie);
        let took = start.elapsed();
        assert_eq!(ep.stats().expensive_dh_deflected, 1);
        took
    });
    println!(
        "  under pressure, MODP-8192 with a cookie: INVALID_KE(19) {:>9.1} µs",
        deflect.as_secs_f64() * 1e6
    );
}

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    table_costs(n);
    dh_costs();
}
