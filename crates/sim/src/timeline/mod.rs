//! The timeline collector: what a run (or `serve`) did, as a [`timeline::Timeline`] for
//! the ladder-diagram page (issue 12 §2).
//!
//! # Design
//! Three sources, each telling what only it knows:
//! - **the driver's hooks** (`driver::Observer`): each datagram an endpoint hands
//!   out (`sending`, the bytes as the core wrote them) and what its host's egress made of
//!   it (`egress`: lost with a reason, delivered at a time, a duplicate copy later); a NAT
//!   dropping one it has no mapping for (`nat_dropped`); for `serve`, a real CGW's
//!   datagrams as they arrive (`handle`, `not_ike`);
//! - **the core's trace** (`ike_core::EndpointConfig::trace`, drained with the events
//!   after every input): the plaintext of every protected message an endpoint sealed or
//!   opened, keyed by the digest of the datagram's bytes, and each timer that fired;
//! - **the AWS records**, as the AWS view writes them.
//!
//! Each datagram is decoded with ike-wire (`decode`: header, plain payloads) and its
//! protected contents found in the trace by digest (`Sealed` before the datagram leaves;
//! `Opened` after it arrived, which is how `serve` shows a real CGW's messages decrypted).
//! A datagram nobody here could open (a peer with another key) stays `Opaque`. The
//! same bytes sent again by the same host are a retransmission (`transmission` 2, 3, …).
//! Payloads become words (`words` for IKEv2, `words_v1`), lanes and routes are `lanes`.
//!
//! Memory: the collector keeps the words of each event, never the bytes; what it needs
//! to match (recent digests, plaintexts not yet matched, datagrams in flight) lives in
//! short bounded queues.
//!
//! Writing the page ([`write_page`]) is atomic: a temporary file beside the target,
//! renamed over it, so an interrupted write never leaves half a page.

mod decode;
mod esp;
mod lanes;
#[cfg(test)]
mod tests;
mod words;
mod words_v1;

use std::collections::VecDeque;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ike_core::trace::digest;
use ike_core::{Plaintext, Trace, Transmit};
use timeline::{
    Datagram, Event, Fate as Shown, Message, Protection, RecordMark, Timeline, TimerMark, What,
};
use vpn_log::TunnelRecord;

pub(crate) use lanes::{HostSpec, Lanes};

use crate::network::{DropReason, Fate};

/// How many recent datagrams, unmatched plaintexts and datagrams in flight are kept for
/// matching: far more than are ever outstanding at once (one request per IKE SA, RFC 7296
/// §2.3), far fewer than a 30-day run sends.
const WINDOW: usize = 64;

fn push_bounded<T>(q: &mut VecDeque<T>, item: T) {
    if q.len() == WINDOW {
        q.pop_front();
    }
    q.push_back(item);
}

/// A datagram sent lately, to tell its retransmissions and to reveal its contents.
struct Recent {
    lane: usize,
    digest: u64,
    event: usize,
    transmissions: u32,
}

/// Builds a timeline as a run goes on.
pub(crate) struct Collector {
    t0: Instant,
    lanes: Lanes,
    events: Vec<Event>,
    /// The datagram the driver just reported with `sending`: (host, bytes before framing).
    sending: Option<(usize, Vec<u8>)>,
    /// Plaintexts sealed whose datagram has not left yet: (host, digest, plaintext).
    sealed: VecDeque<(usize, u64, Plaintext)>,
    recent: VecDeque<Recent>,
    /// Delivered datagrams the NAT may still drop: (digest of the framed bytes, dst, event).
    in_flight: VecDeque<(u64, SocketAddr, usize)>,
    /// IKEv1: who sent the first message of each (initiator cookie, message id).
    v1_started: VecDeque<((u64, u32), usize)>,
    /// ESP, per tunnel and direction (`esp`).
    bands: Vec<timeline::EspBand>,
}

impl Collector {
    /// An empty timeline for these lanes, time zero at `t0`.
    pub(crate) fn new(t0: Instant, lanes: Lanes) -> Collector {
        Collector {
            t0,
            lanes,
            events: Vec::new(),
            sending: None,
            sealed: VecDeque::new(),
            recent: VecDeque::new(),
            in_flight: VecDeque::new(),
            v1_started: VecDeque::new(),
            bands: Vec::new(),
        }
    }

    fn at(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.t0).as_micros()).unwrap_or(u64::MAX)
    }

    fn push(&mut self, now: Instant, what: What) -> usize {
        let at_us = self.at(now);
        self.events.push(Event { at_us, what });
        self.events.len() - 1
    }

    /// `Observer::sending`: the bytes as the core wrote them, before framing.
    pub(crate) fn sending(&mut self, host: usize, t: &Transmit) {
        self.sending = Some((host, t.payload.clone()));
    }

    /// `Observer::trace`.
    pub(crate) fn trace(&mut self, host: usize, now: Instant, trace: Trace) {
        match trace {
            Trace::Sealed {
                datagram,
                plaintext,
                ..
            } => push_bounded(&mut self.sealed, (host, datagram, plaintext)),
            Trace::Opened {
                datagram,
                plaintext,
                ..
            } => {
                let event = self
                    .recent
                    .iter()
                    .rev()
                    .find(|r| r.digest == datagram)
                    .map(|r| r.event);
                if let Some(What::Datagram(d)) = event
                    .and_then(|e| self.events.get_mut(e))
                    .map(|e| &mut e.what)
                {
                    decode::reveal(&mut d.message, &plaintext);
                }
            }
            Trace::Timer { timer, sa, child } => {
                let Some(lane) = self.lanes.of_host(host) else {
                    return;
                };
                let sa = match child {
                    Some(spi) => format!("CHILD SA {spi:08x}"),
                    None => format!("IKE SA {:016x}/{:016x}", sa.spi_i, sa.spi_r),
                };
                self.push(
                    now,
                    What::Timer(TimerMark {
                        lane,
                        timer: timer.name().to_owned(),
                        sa,
                    }),
                );
            }
        }
    }

    /// The message in `bytes` sent by `lane` (its host `host`, if simulated), and which
    /// transmission of those bytes it is.
    fn message(&mut self, lane: usize, host: Option<usize>, bytes: &[u8]) -> (Message, u32, u64) {
        let d = digest(bytes);
        if let Some(r) = self
            .recent
            .iter_mut()
            .rev()
            .find(|r| r.lane == lane && r.digest == d)
        {
            r.transmissions += 1;
            let n = r.transmissions;
            if let Some(What::Datagram(prev)) = self.events.get(r.event).map(|e| &e.what) {
                return (prev.message.clone(), n, d);
            }
        }
        let mut message = decode::decode(bytes);
        if message.protection == Protection::Opaque {
            let found = self
                .sealed
                .iter()
                .position(|(h, s, _)| Some(*h) == host && *s == d);
            if let Some((_, _, plaintext)) = found.and_then(|i| self.sealed.remove(i)) {
                decode::reveal(&mut message, &plaintext);
            }
        }
        if message.ike_version == 1 {
            self.v1_roles(&mut message, lane, bytes);
        }
        (message, 1, d)
    }

    /// IKEv1's header has no I or R flag: the sender of an exchange's first message is its
    /// initiator; the sender of main mode's first is the ISAKMP SA's (RFC 2409 §5).
    fn v1_roles(&mut self, message: &mut Message, lane: usize, bytes: &[u8]) {
        let Ok(h) = ike_wire::v1::Header::parse(bytes) else {
            return;
        };
        let key = (h.cky_i, h.message_id);
        let first = match self.v1_started.iter().find(|(k, _)| *k == key) {
            Some(&(_, l)) => l,
            None => {
                push_bounded(&mut self.v1_started, (key, lane));
                lane
            }
        };
        let phase1 = self
            .v1_started
            .iter()
            .find(|(k, _)| *k == (h.cky_i, 0))
            .map(|&(_, l)| l);
        message.initiator = phase1 == Some(lane);
        message.response = if message.exchange == "Informational" {
            message
                .payloads
                .iter()
                .any(|p| p.name == "N(R_U_THERE_ACK)")
        } else {
            first != lane
        };
    }

    fn record_sent(&mut self, lane: usize, digest: u64, transmissions: u32, event: usize) {
        if transmissions == 1 {
            push_bounded(
                &mut self.recent,
                Recent {
                    lane,
                    digest,
                    event,
                    transmissions,
                },
            );
        }
    }

    /// `Observer::egress`: `host` sent `t` (framed) and its egress decided `fate`.
    pub(crate) fn egress(&mut self, host: usize, now: Instant, t: &Transmit, fate: &Fate) {
        let bytes = match self.sending.take() {
            Some((h, bytes)) if h == host => bytes,
            _ => t.payload.clone(),
        };
        let Some((from, to, via)) = self.lanes.route(host, t.dst) else {
            return;
        };
        let (message, transmission, d) = self.message(from, Some(host), &bytes);
        let datagram = |fate, duplicate| Datagram {
            from,
            to,
            via,
            src: t.src.to_string(),
            dst: t.dst.to_string(),
            len: t.payload.len(),
            transmission,
            duplicate,
            fate,
            message: message.clone(),
        };
        let framed = digest(&t.payload);
        match *fate {
            Fate::Dropped(reason) => {
                let reason = lost_reason(reason).to_owned();
                let e = self.push(
                    now,
                    What::Datagram(Box::new(datagram(Shown::Lost { reason }, false))),
                );
                self.record_sent(from, d, transmission, e);
            }
            Fate::Delivered { at, copy } => {
                let shown = Shown::Delivered { at_us: self.at(at) };
                let e = self.push(now, What::Datagram(Box::new(datagram(shown, false))));
                self.record_sent(from, d, transmission, e);
                push_bounded(&mut self.in_flight, (framed, t.dst, e));
                if let Some(copy) = copy {
                    let shown = Shown::Delivered {
                        at_us: self.at(copy),
                    };
                    let c = self.push(now, What::Datagram(Box::new(datagram(shown, true))));
                    push_bounded(&mut self.in_flight, (framed, t.dst, c));
                }
            }
        }
    }

    /// `Observer::nat_dropped`: the NAT dropped `t` (framed as sent) at its arrival.
    pub(crate) fn nat_dropped(&mut self, t: &Transmit) {
        let reason = if self.lanes.is_nat(t.dst.ip()) {
            "NAT: no mapping"
        } else {
            "NAT: no way in from outside"
        };
        self.lost_on_arrival(&t.payload, t.dst, reason);
    }

    /// `Observer::host_down`: `data` reached `local`, on a host that is down.
    pub(crate) fn host_down(&mut self, local: SocketAddr, data: &[u8]) {
        self.lost_on_arrival(data, local, "host down");
    }

    /// A datagram in flight (framed bytes `framed`, sent to `dst`) never reached its
    /// endpoint after all.
    fn lost_on_arrival(&mut self, framed: &[u8], dst: SocketAddr, reason: &str) {
        let framed = digest(framed);
        let Some(i) = self
            .in_flight
            .iter()
            .position(|&(d, to, _)| d == framed && to == dst)
        else {
            return;
        };
        let Some((_, _, e)) = self.in_flight.remove(i) else {
            return;
        };
        if let Some(What::Datagram(d)) = self.events.get_mut(e).map(|e| &mut e.what) {
            d.fate = Shown::Lost {
                reason: reason.to_owned(),
            };
        }
    }

    /// `serve`: a real peer's datagram arrived at `host` (`what`: the IKE message, or what
    /// else it was). Its protected contents come with the endpoint's `Opened` trace.
    pub(crate) fn arrived(
        &mut self,
        host: usize,
        (now, local, from): (Instant, SocketAddr, SocketAddr),
        what: Arrival<'_>,
    ) {
        let Some(to) = self.lanes.of_host(host) else {
            return;
        };
        let peer = self.lanes.real_peer(from.ip());
        let (message, transmission, d, len) = match what {
            Arrival::Ike(bytes) => {
                let (m, n, d) = self.message(peer, None, bytes);
                (m, n, Some(d), bytes.len())
            }
            Arrival::Other(name, len) => (decode::not_ike(name), 1, None, len),
        };
        let at_us = self.at(now);
        let e = self.push(
            now,
            What::Datagram(Box::new(Datagram {
                from: peer,
                to,
                via: None,
                src: from.to_string(),
                dst: local.to_string(),
                len,
                transmission,
                duplicate: false,
                fate: Shown::Delivered { at_us },
                message,
            })),
        );
        if let Some(d) = d {
            self.record_sent(peer, d, transmission, e);
        }
    }

    /// An AWS record of tunnel `tunnel`'s stream `stream`, written at `now`.
    pub(crate) fn record(&mut self, aws_host: usize, now: Instant, stream: &str, r: &TunnelRecord) {
        let Some(lane) = self.lanes.of_host(aws_host) else {
            return;
        };
        self.push(
            now,
            What::Record(RecordMark {
                lane,
                stream: stream.to_owned(),
                details: r.details.clone(),
                phase1: r.ike_phase1_state.as_str().to_owned(),
                phase2: r.ike_phase2_state.as_str().to_owned(),
                json: r.to_json(vpn_log::Schema::Current),
            }),
        );
    }

    /// The timeline, titled `title`, time zero at `origin`.
    pub(crate) fn finish(self, title: String, origin: DateTime<Utc>) -> Timeline {
        Timeline {
            title,
            origin,
            lanes: self.lanes.lanes,
            events: self.events,
            esp: self.bands,
        }
    }
}

/// How the timeline words the path's reason for losing a datagram.
fn lost_reason(reason: DropReason) -> &'static str {
    match reason {
        DropReason::Blackhole => "blackhole",
        DropReason::TooBig => "MTU",
        DropReason::Burst => "burst loss",
        DropReason::Loss => "loss",
    }
}

/// What arrived from a real peer (`serve`).
pub(crate) enum Arrival<'a> {
    /// An IKE message (without the non-ESP marker).
    Ike(&'a [u8]),
    /// Something else (`NAT-keepalive`, `ESP`, …) of this many bytes.
    Other(&'static str, usize),
}

/// The temporary file `write_page` writes beside `path` before renaming it.
fn temporary(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a file name", path.display()),
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    Ok(dir.join(tmp_name))
}

/// Checks, before a long run or `serve`, that the page can be written at `path` (its
/// directory exists and takes a file), so that the failure comes first, not last.
pub fn check_page_path(path: &Path) -> std::io::Result<()> {
    let tmp = temporary(path)?;
    std::fs::File::create(&tmp)?;
    std::fs::remove_file(&tmp)
}

/// Writes `timeline` as its HTML page at `path`, atomically: into a temporary file in the
/// same directory, then renamed over `path` (a rename within one file system replaces
/// the file whole), so a reader never sees half a page.
pub fn write_page(path: &Path, timeline: &Timeline) -> std::io::Result<()> {
    let html = timeline::render_html(timeline);
    let tmp = temporary(path)?;
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(html.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
