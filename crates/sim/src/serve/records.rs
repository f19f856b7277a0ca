//! Which records a `serve` tunnel writes, and for whom.
//!
//! AWS logs a tunnel for its customer gateway: the CGW is part of the VPN connection's
//! configuration, and AWS answers no other address. Anyone can send an IKE_SA_INIT from
//! any address, though, so `serve` must not write a record per spoofed source:
//!
//! - **The CGW's address is known** (`--cgw IP`, or `[cgw] outside_ip`): the driver lets
//!   in that address alone, so every event is the CGW's and is written as it happens.
//! - **It is not**: each source address (`Peer`) gets its own view of its own SAs
//!   (`TunnelView`, `TunnelLog`), so another source's SAs never change the phase states
//!   its records show, and its records are **held back** until one of its IKE SAs
//!   authenticates (`EventKind::IkeSaEstablished`: AUTH verified, RFC 7296 §2.15; IKEv1:
//!   main mode 5 decrypted and verified, RFC 2409 §5). The first source that authenticates
//!   becomes the tunnel's CGW: its held records are written, in order, with the times
//!   they happened, and from then on only its records are. Records of any other source
//!   are never written; they are counted ([`TunnelRecords::unwritten`]). So a pre-shared
//!   key mismatch of the real CGW, which never authenticates, is logged only with `--cgw`.
//!
//! Memory stays bounded under a flood: at most [`MAX_SOURCES`] sources are followed (the
//! one heard from least recently is forgotten first, its held records counted as
//! unwritten), each holding at most [`MAX_HELD`] records.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ike_core::{Event, EventKind, SaChange, SaHandle};
use vpn_log::{StreamSeparator, TunnelRecord};

use crate::aws::{TunnelLog, TunnelView};

/// How many source addresses a tunnel without a known CGW follows at once.
pub const MAX_SOURCES: usize = 1024;

/// How many records one source that has not authenticated may hold back (a handshake
/// writes two or three; the oldest go first).
pub const MAX_HELD: usize = 16;

/// A record and the loop's time when it happened (for the timeline).
pub type Timed = (Instant, TunnelRecord);

/// One source address's own view of its SAs, and the records it holds back.
struct Peer {
    ip: IpAddr,
    view: TunnelView,
    log: TunnelLog,
    held: Vec<Timed>,
    /// Changes to this source's SAs told by other sources' events: applied before its
    /// next event (the view needs them only then). One per SA: the last.
    pending: Vec<SaChange>,
    /// Some of its records were not written.
    lost: bool,
}

impl Peer {
    fn new(ip: IpAddr, stream: &Stream) -> Peer {
        Peer {
            ip,
            view: TunnelView::new(),
            log: TunnelLog::new(
                &stream.vpn_connection_id,
                stream.outside_ip,
                stream.separator,
            ),
            held: Vec::new(),
            pending: Vec::new(),
            lost: false,
        }
    }

    /// The records of `event` (whose changes are this source's own) at `time`.
    fn record(&mut self, time: DateTime<Utc>, mut event: Event) -> Vec<TunnelRecord> {
        if !self.pending.is_empty() {
            let own = std::mem::take(&mut event.changes);
            event.changes = std::mem::take(&mut self.pending);
            event.changes.extend(own);
        }
        let state = self.view.observe(&event);
        self.log.record(time, &event, &state);
        std::mem::take(&mut self.log.records)
    }

    fn defer(&mut self, change: SaChange) {
        let sa = handle(change);
        match self.pending.iter_mut().find(|c| handle(**c) == sa) {
            Some(c) => *c = change,
            None => self.pending.push(change),
        }
    }
}

fn handle(change: SaChange) -> SaHandle {
    match change {
        SaChange::Facts(sa, _) | SaChange::Removed(sa) => sa,
    }
}

/// What names a tunnel's stream (every source's `TunnelLog` has the same).
struct Stream {
    vpn_connection_id: String,
    outside_ip: IpAddr,
    separator: StreamSeparator,
}

/// Whether the CGW was given or chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// `--cgw` / `[cgw] outside_ip`: the driver admits no one else.
    Given,
    /// The first source that authenticated.
    Chosen,
}

/// What one event gave.
#[derive(Debug, Default)]
pub struct Written {
    /// Records to write now, in order (held ones first, with their own times).
    pub records: Vec<Timed>,
    /// The CGW was chosen by this event: this address authenticated first.
    pub chosen: Option<IpAddr>,
}

/// One tunnel's records, by the rule of the module documentation.
pub struct TunnelRecords {
    /// The log stream's name.
    pub stream: String,
    name: Stream,
    cgw: Option<(Known, Peer)>,
    /// Sources that are not the CGW, least recently heard from first.
    others: Vec<Peer>,
    /// Which source each SA the events told of belongs to.
    owner: HashMap<SaHandle, IpAddr>,
    /// Records never written: held back by a source that did not authenticate before it
    /// was forgotten (or before serve stopped), or of a source other than the CGW.
    pub unwritten: u64,
    /// The sources those records came from (each counted once, when it is forgotten or
    /// serve stops).
    pub unwritten_sources: u64,
}

impl TunnelRecords {
    /// The records of the tunnel with outside IP `outside_ip`, for the CGW at `cgw` when it
    /// is known.
    pub fn new(
        vpn_connection_id: &str,
        outside_ip: IpAddr,
        separator: StreamSeparator,
        cgw: Option<IpAddr>,
    ) -> TunnelRecords {
        let name = Stream {
            vpn_connection_id: vpn_connection_id.to_owned(),
            outside_ip,
            separator,
        };
        TunnelRecords {
            stream: vpn_log::stream_name(vpn_connection_id, outside_ip, separator),
            cgw: cgw.map(|ip| (Known::Given, Peer::new(ip, &name))),
            name,
            others: Vec::new(),
            owner: HashMap::new(),
            unwritten: 0,
            unwritten_sources: 0,
        }
    }

    /// The CGW's address, once known.
    pub fn cgw(&self) -> Option<IpAddr> {
        self.cgw.as_ref().map(|(_, p)| p.ip)
    }

    /// Takes in `event`, which happened at `now` (record time `time`).
    pub fn observe(&mut self, now: Instant, time: DateTime<Utc>, event: &Event) -> Written {
        if let Some((Known::Given, cgw)) = &mut self.cgw {
            // Every event is the CGW's (the driver admits no one else): written as it
            // happens, exactly as AWS would.
            let records = cgw.record(time, event.clone());
            return Written {
                records: records.into_iter().map(|r| (now, r)).collect(),
                chosen: None,
            };
        }
        let ip = event.peer.ip();
        let mut event = event.clone();
        let mut own = Vec::new();
        for change in std::mem::take(&mut event.changes) {
            let sa = handle(change);
            let owner = match change {
                SaChange::Removed(_) => self.owner.remove(&sa),
                SaChange::Facts(..) => self.owner.get(&sa).copied(),
            }
            .unwrap_or(ip);
            if owner == ip {
                own.push(change);
            } else {
                if matches!(change, SaChange::Facts(..)) {
                    self.owner.insert(sa, owner);
                }
                if let Some(p) = self.peer_mut(owner) {
                    p.defer(change);
                }
            }
        }
        event.changes = own;
        for change in &event.changes {
            if let SaChange::Facts(sa, _) = change {
                self.owner.insert(*sa, ip);
            }
        }
        self.owner.insert(event.sa, ip);

        if let Some((_, cgw)) = self.cgw.as_mut().filter(|(_, p)| p.ip == ip) {
            let records = cgw.record(time, event);
            return Written {
                records: records.into_iter().map(|r| (now, r)).collect(),
                chosen: None,
            };
        }
        let authenticated = matches!(event.kind, EventKind::IkeSaEstablished { .. });
        let mut peer = self.take_other(ip);
        let records = peer.record(time, event);
        if self.cgw.is_some() {
            // Not the tunnel's CGW: never written.
            self.unwritten += records.len() as u64;
            peer.lost |= !records.is_empty();
            self.others.push(peer);
            return Written::default();
        }
        peer.held.extend(records.into_iter().map(|r| (now, r)));
        if peer.held.len() > MAX_HELD {
            let over = peer.held.len() - MAX_HELD;
            peer.held.drain(..over);
            self.unwritten += over as u64;
            peer.lost = true;
        }
        if !authenticated {
            self.others.push(peer);
            return Written::default();
        }
        // The first source to authenticate: the tunnel's CGW from now on. What the others
        // hold is never written.
        let records = std::mem::take(&mut peer.held);
        self.cgw = Some((Known::Chosen, peer));
        for p in &mut self.others {
            if !p.held.is_empty() {
                self.unwritten += p.held.len() as u64;
                p.lost = true;
                p.held = Vec::new();
            }
        }
        Written {
            records,
            chosen: Some(ip),
        }
    }

    /// serve stops: what is still held back is never written (counted).
    pub fn finish(&mut self) {
        for p in std::mem::take(&mut self.others) {
            self.forget(p);
        }
    }

    fn peer_mut(&mut self, ip: IpAddr) -> Option<&mut Peer> {
        match &mut self.cgw {
            Some((_, p)) if p.ip == ip => Some(p),
            _ => self.others.iter_mut().find(|p| p.ip == ip),
        }
    }

    /// The source at `ip` (taken out of `others`: it goes back last, as the most recently
    /// heard), or a new one — forgetting the least recently heard when there are too many.
    fn take_other(&mut self, ip: IpAddr) -> Peer {
        if let Some(i) = self.others.iter().position(|p| p.ip == ip) {
            return self.others.remove(i);
        }
        if self.others.len() >= MAX_SOURCES {
            let gone = self.others.remove(0);
            self.owner.retain(|_, owner| *owner != gone.ip);
            self.forget(gone);
        }
        Peer::new(ip, &self.name)
    }

    /// A source no longer followed: what it holds is never written.
    fn forget(&mut self, p: Peer) {
        self.unwritten += p.held.len() as u64;
        if p.lost || !p.held.is_empty() {
            self.unwritten_sources += 1;
        }
    }
}
