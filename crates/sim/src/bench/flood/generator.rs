//! The flood generator: what an attacker points at `ikesim serve` (issue 14 §1).
//!
//! - **Spoofed IKE_SA_INIT requests** at a steady rate, round-robin from a pool of
//!   loopback source addresses (127.N.x.y, each a real bound socket: no root needed, and
//!   serve's answers come back to us). Each request has a fresh SPIi and nonce and a real
//!   public value of the proposed group (one key pair per run: the responder's DH work is
//!   the same whatever the value), so every one costs the responder what a real
//!   initiator's would — MODP-8192 (group 18) when asked, the lever of RFC 7296 §2.6.
//! - **Malformed datagrams**: random bytes, and truncated and bit-flipped IKE_SA_INIT
//!   requests, each with and without the non-ESP marker (RFC 3948 §2.2), from a pool of
//!   their own.
//! - Optionally a **cookie-answering attacker**: the sources send the request again with
//!   the COOKIE they were given (RFC 7296 §2.6), which a real attacker can do only from
//!   addresses it owns.
//!
//! Every answer is classified ([`Answer`]) and counted per second ([`FloodReport`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ike_wire::{
    DhGroup, EncrId, ExchangeType, Flags, Header, IntegId, KeyExchange, Message, Notify,
    NotifyType, Payload, PrfId, Proposal, ProtocolId, Transform,
};
use rand::{Rng, RngCore};
use tokio::net::UdpSocket;

use crate::bench::BenchError;

pub use super::answers::{Answer, Answers, FloodReport, Second};

/// The four zero bytes before an IKE message on a port shared with ESP (RFC 3948 §2.2).
pub(super) const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// What to send, where, for how long.
#[derive(Clone, Debug)]
pub struct FloodSpec {
    /// Where to send, round-robin (serve's tunnels). Loopback only: anything else is
    /// refused ([`BenchError::Unexpected`]).
    pub targets: Vec<SocketAddr>,
    /// Spoofed IKE_SA_INIT requests per second (0: none).
    pub rate: f64,
    /// Malformed datagrams per second (0: none).
    pub malformed_rate: f64,
    /// How long to send; the counts are `rate × duration`.
    pub duration: Duration,
    /// How many source addresses the requests rotate through.
    pub sources: usize,
    /// The second octet of the source addresses: requests come from 127.`net`.x.y,
    /// malformed datagrams from 127.(`net`+1).x.y. Keep it clear of the legitimate hosts'
    /// addresses.
    pub net: u8,
    /// The D-H group the requests propose (and whose public value they carry).
    pub group: DhGroup,
    /// Send the request again with the COOKIE each COOKIE answer carries.
    pub answer_cookies: bool,
    /// How long to keep listening for answers after the last datagram.
    pub drain: Duration,
}

impl FloodSpec {
    /// `rate` requests per second for `duration` at `targets`, from 1,000 addresses of
    /// 127.200/16, proposing ECP-256 (group 19: the cheapest DH AWS allows, so the flood
    /// measures serve's handling rather than its DH), no malformed datagrams, cookies
    /// ignored (as a spoofing attacker must), one second of draining.
    pub fn requests(targets: Vec<SocketAddr>, rate: f64, duration: Duration) -> Self {
        FloodSpec {
            targets,
            rate,
            malformed_rate: 0.0,
            duration,
            sources: 1000,
            net: 200,
            group: DhGroup::ECP_256,
            answer_cookies: false,
            drain: Duration::from_secs(1),
        }
    }
}

/// Shared by the sending and the receiving tasks.
#[derive(Default)]
struct Tally {
    report: FloodReport,
    /// Per request source: its last request (unmarked), for a COOKIE reply.
    last: Vec<Option<Message>>,
    t0: Option<Instant>,
}

impl Tally {
    fn second(&mut self, now: Instant) -> &mut Second {
        let t0 = *self.t0.get_or_insert(now);
        let i = usize::try_from(now.saturating_duration_since(t0).as_secs()).unwrap_or(0);
        let seconds = &mut self.report.seconds;
        if seconds.len() <= i {
            seconds.resize(i + 1, Second::default());
        }
        &mut seconds[i]
    }
}

fn lock(t: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    t.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A source address of a pool: 127.`net`.x.y, y from 1 to 250.
fn source_ip(net: u8, i: usize) -> IpAddr {
    let x = u8::try_from(i / 250).unwrap_or(u8::MAX);
    let y = u8::try_from(i % 250 + 1).unwrap_or(1);
    IpAddr::V4(Ipv4Addr::new(127, net, x, y))
}

/// What every spoofed request proposes: AES-CBC-128, HMAC-SHA2-256, the given group (one
/// AWS accepts by default), with a valid public value of that group.
struct Template {
    group: DhGroup,
    public: Vec<u8>,
}

impl Template {
    fn new(group: DhGroup) -> Result<Self, BenchError> {
        let key = ike_crypto::KeyExchange::generate(group)?;
        Ok(Template {
            group,
            public: key.public_value().to_vec(),
        })
    }

    /// A first IKE_SA_INIT request (RFC 7296 §1.2) with a fresh SPIi and nonce.
    fn request(&self, rng: &mut impl RngCore) -> Message {
        let mut nonce = vec![0u8; 32];
        rng.fill_bytes(&mut nonce);
        Message {
            header: Header {
                spi_i: rng.next_u64() | 1,
                spi_r: 0,
                major: 2,
                exchange: ExchangeType::IKE_SA_INIT,
                flags: Flags::INITIATOR,
                ..Header::default()
            },
            payloads: vec![
                Payload::Sa(vec![Proposal {
                    number: 1,
                    protocol: ProtocolId::IKE,
                    spi: Vec::new(),
                    transforms: vec![
                        Transform::encr(EncrId::AES_CBC, Some(128)),
                        Transform::prf(PrfId::HMAC_SHA2_256),
                        Transform::integ(IntegId::HMAC_SHA2_256_128),
                        Transform::dh(self.group),
                    ],
                }]),
                Payload::Ke(KeyExchange {
                    group: self.group,
                    data: self.public.clone(),
                }),
                Payload::Nonce(nonce),
            ],
        }
    }
}

/// The datagram for `ike` to `to`: behind the non-ESP marker unless `to` is port 500.
fn framed(ike: &[u8], to: SocketAddr) -> Vec<u8> {
    if to.port() == 500 {
        return ike.to_vec();
    }
    let mut d = Vec::with_capacity(ike.len() + 4);
    d.extend_from_slice(&NON_ESP_MARKER);
    d.extend_from_slice(ike);
    d
}

/// The `n`th malformed datagram: random bytes, a truncated or a bit-flipped request, each
/// with and without the non-ESP marker (in turn).
fn malformed(n: u64, template: &Template, rng: &mut impl RngCore) -> Vec<u8> {
    let valid = template.request(rng).encode();
    let mut body = match n % 3 {
        0 => {
            let len = rng.gen_range(1..=1400);
            let mut b = vec![0u8; len];
            rng.fill_bytes(&mut b);
            b
        }
        1 => {
            let cut = rng.gen_range(0..valid.len());
            valid[..cut].to_vec()
        }
        _ => {
            let mut b = valid;
            for _ in 0..rng.gen_range(1..=8) {
                let bit = rng.gen_range(0..b.len() * 8);
                b[bit / 8] ^= 1 << (bit % 8);
            }
            b
        }
    };
    if (n / 3).is_multiple_of(2) {
        let mut d = NON_ESP_MARKER.to_vec();
        d.append(&mut body);
        d
    } else {
        body
    }
}

/// Binds `n` sockets on 127.`net`.x.y (the OS picks the ports).
async fn pool(net: u8, n: usize) -> Result<Vec<Arc<UdpSocket>>, BenchError> {
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        let s = UdpSocket::bind(SocketAddr::new(source_ip(net, i), 0)).await?;
        sockets.push(Arc::new(s));
    }
    Ok(sockets)
}

/// Receives on `socket` until aborted, counting each answer; `source` is the socket's
/// index in the request pool (`None`: the malformed pool).
async fn listen(
    socket: Arc<UdpSocket>,
    source: Option<usize>,
    tally: Arc<Mutex<Tally>>,
    answer_cookies: bool,
) {
    let mut buf = vec![0u8; 65_536];
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        let answer = Answer::of(&buf[..n], from);
        let mut reply = None;
        {
            let mut t = lock(&tally);
            match source {
                None => t.report.malformed_answers.count(answer),
                Some(i) => {
                    t.report.answers.count(answer);
                    t.second(Instant::now()).answers.count(answer);
                    if answer == Answer::Cookie && answer_cookies {
                        reply = cookie_reply(&mut t, i, &buf[..n], from);
                    }
                }
            }
        }
        if let Some(d) = reply {
            if socket.send_to(&d, from).await.is_ok() {
                lock(&tally).report.cookie_replies += 1;
            }
        }
    }
}

/// Source `i`'s last request again with the COOKIE notify of `answer` first (RFC 7296
/// §2.6), framed for `to`.
fn cookie_reply(t: &mut Tally, i: usize, answer: &[u8], to: SocketAddr) -> Option<Vec<u8>> {
    let ike = answer.strip_prefix(&NON_ESP_MARKER[..]).unwrap_or(answer);
    let cookie = Message::parse(ike)
        .ok()?
        .notify(NotifyType::COOKIE)?
        .data
        .clone();
    let mut request = t.last.get_mut(i)?.take()?;
    request
        .payloads
        .retain(|p| !matches!(p, Payload::Notify(n) if n.ty == NotifyType::COOKIE));
    request
        .payloads
        .insert(0, Payload::Notify(Notify::new(NotifyType::COOKIE, cookie)));
    Some(framed(&request.encode(), to))
}

/// Runs a flood to the end (blocking: its own single-threaded runtime) and reports.
pub fn flood(spec: &FloodSpec) -> Result<FloodReport, BenchError> {
    if let Some(bad) = spec.targets.iter().find(|a| !a.ip().is_loopback()) {
        return Err(BenchError::Unexpected(format!(
            "the flood generator sends to loopback only, not {bad}"
        )));
    }
    if spec.targets.is_empty() {
        return Err(BenchError::Unexpected("the flood has no target".into()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(spec))
}

/// How many of `rate` per second are due `elapsed` into the flood, at most `total`.
fn due(rate: f64, elapsed: Duration, total: u64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (rate * elapsed.as_secs_f64()).floor().max(0.0) as u64;
    n.min(total)
}

/// `rate × duration`, rounded.
fn total(rate: f64, duration: Duration) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (rate * duration.as_secs_f64()).round().max(0.0) as u64;
    n
}

async fn run(spec: &FloodSpec) -> Result<FloodReport, BenchError> {
    let template = Template::new(spec.group)?;
    let requests_total = total(spec.rate, spec.duration);
    let malformed_total = total(spec.malformed_rate, spec.duration);
    let sources = if requests_total > 0 {
        pool(spec.net, spec.sources.max(1)).await?
    } else {
        Vec::new()
    };
    let bad = if malformed_total > 0 {
        pool(spec.net.wrapping_add(1), spec.sources.clamp(1, 250)).await?
    } else {
        Vec::new()
    };
    let tally = Arc::new(Mutex::new(Tally {
        last: vec![None; sources.len()],
        ..Tally::default()
    }));
    let mut listeners = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        let task = listen(s.clone(), Some(i), tally.clone(), spec.answer_cookies);
        listeners.push(tokio::spawn(task));
    }
    for s in &bad {
        listeners.push(tokio::spawn(listen(s.clone(), None, tally.clone(), false)));
    }

    let mut rng = rand::thread_rng();
    let (mut sent, mut sent_bad, mut errors) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    lock(&tally).t0 = Some(start);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while sent < requests_total || sent_bad < malformed_total {
        tick.tick().await;
        let elapsed = start.elapsed();
        while sent < due(spec.rate, elapsed, requests_total) {
            let i = usize::try_from(sent).unwrap_or(0) % sources.len();
            let to = spec.targets[usize::try_from(sent).unwrap_or(0) % spec.targets.len()];
            let request = template.request(&mut rng);
            let d = framed(&request.encode(), to);
            if sources[i].try_send_to(&d, to).is_err() {
                errors += 1;
            }
            sent += 1;
            let mut t = lock(&tally);
            t.second(Instant::now()).sent += 1;
            if let Some(slot) = t.last.get_mut(i) {
                *slot = Some(request);
            }
        }
        while sent_bad < due(spec.malformed_rate, elapsed, malformed_total) {
            let s = &bad[usize::try_from(sent_bad).unwrap_or(0) % bad.len()];
            let to = spec.targets[usize::try_from(sent_bad).unwrap_or(0) % spec.targets.len()];
            if s.try_send_to(&malformed(sent_bad, &template, &mut rng), to)
                .is_err()
            {
                errors += 1;
            }
            sent_bad += 1;
        }
    }
    tokio::time::sleep(spec.drain).await;
    for l in &listeners {
        l.abort();
    }
    let mut t = lock(&tally);
    let mut report = std::mem::take(&mut t.report);
    report.requests = sent;
    report.malformed = sent_bad;
    report.send_errors = errors;
    report.sources = sources.len();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A responder on loopback that answers every request the way `answer` says, to check
    /// the generator's sending, classifying and COOKIE replies without `serve`.
    fn responder(answer: fn(&Message, bool) -> Option<Message>) -> (SocketAddr, Arc<Mutex<u64>>) {
        let socket = std::net::UdpSocket::bind("127.0.9.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(0u64));
        let count = seen.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                *count.lock().unwrap() += 1;
                let Some(ike) = buf[..n].strip_prefix(&NON_ESP_MARKER[..]) else {
                    continue;
                };
                let Ok(m) = Message::parse(ike) else { continue };
                let cookie = m.notify(NotifyType::COOKIE).is_some();
                if let Some(a) = answer(&m, cookie) {
                    let _ = socket.send_to(&framed(&a.encode(), from), from);
                }
            }
        });
        (addr, seen)
    }

    fn response(to: &Message, payloads: Vec<Payload>) -> Message {
        Message {
            header: Header {
                flags: Flags::RESPONSE,
                spi_r: 7,
                ..to.header
            },
            payloads,
        }
    }

    /// A COOKIE answer to a request without one, a full answer (KE) to one with it: the
    /// generator counts both, and with `answer_cookies` it replied to every COOKIE.
    #[test]
    fn requests_are_answered_classified_and_cookies_replied_to() {
        let (addr, seen) = responder(|m, cookie| {
            Some(if cookie {
                response(
                    m,
                    vec![Payload::Ke(KeyExchange {
                        group: DhGroup::ECP_256,
                        data: vec![1; 64],
                    })],
                )
            } else {
                response(
                    m,
                    vec![Payload::Notify(Notify::new(
                        NotifyType::COOKIE,
                        vec![9; 16],
                    ))],
                )
            })
        });
        let mut spec = FloodSpec::requests(vec![addr], 200.0, Duration::from_millis(250));
        spec.sources = 10;
        spec.net = 201;
        spec.group = DhGroup::ECP_256;
        spec.answer_cookies = true;
        spec.malformed_rate = 400.0;
        let r = flood(&spec).unwrap();
        assert_eq!((r.requests, r.malformed, r.sources), (50, 100, 10));
        assert_eq!(r.answers.cookie, 50, "{r:?}");
        assert_eq!(r.cookie_replies, 50, "{r:?}");
        assert_eq!(r.answers.full, 50, "{r:?}");
        assert_eq!(r.unanswered(), 0);
        assert_eq!(
            *seen.lock().unwrap(),
            200,
            "requests, COOKIE replies and malformed ones"
        );
        assert_eq!(r.half_open_peak(|_| 0), 50);
        assert_eq!(r.half_open_peak(|_| 50), 0);
    }

    #[test]
    fn only_loopback_targets() {
        let spec = FloodSpec::requests(vec!["192.0.2.1:500".parse().unwrap()], 1.0, Duration::ZERO);
        assert!(flood(&spec)
            .unwrap_err()
            .to_string()
            .contains("loopback only"));
    }

    /// Every kind of answer reads as what it is; a stranger is `Other`.
    #[test]
    fn answers_are_classified() {
        let t = Template::new(DhGroup::ECP_256).unwrap();
        let req = t.request(&mut rand::thread_rng());
        let from: SocketAddr = "127.0.1.1:4500".parse().unwrap();
        let of = |m: &Message| Answer::of(&framed(&m.encode(), from), from);
        assert_eq!(of(&req), Answer::Other, "a request is no answer");
        let ke = response(&req, vec![req.payloads[1].clone()]);
        assert_eq!(of(&ke), Answer::Full);
        let invalid_ke = Notify::new(NotifyType::INVALID_KE_PAYLOAD, vec![0, 19]);
        assert_eq!(
            of(&response(&req, vec![Payload::Notify(invalid_ke)])),
            Answer::InvalidKe
        );
        let npc = Notify::new(NotifyType::NO_PROPOSAL_CHOSEN, vec![]);
        assert_eq!(
            of(&response(&req, vec![Payload::Notify(npc)])),
            Answer::Other
        );
        assert_eq!(Answer::of(&[1, 2, 3], from), Answer::Other);
        // Malformed datagrams: a third random, a third truncated, a third bit-flipped;
        // every other run of three behind the marker.
        let mut rng = rand::thread_rng();
        assert!(malformed(0, &t, &mut rng).starts_with(&NON_ESP_MARKER));
        let truncated = malformed(4, &t, &mut rng);
        assert!(truncated.len() < req.encode().len());
    }
}
