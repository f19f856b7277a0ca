//! The endpoint's SAs and the indexes that keep every per-datagram and per-deadline
//! operation O(log n) in the number of SAs, so a flood of half-open SAs slows nothing
//! down (issue 14; `crate::dos`):
//!
//! - the SAs by handle, in creation order (handles only grow), boxed so that a removal
//!   moves nothing and an endpoint with one SA holds one;
//! - an index by SPIi (IKEv1: CKY-I), which never changes in an SA's life, for
//!   dispatch and for recognising a retransmitted or replayed IKE_SA_INIT;
//! - a heap of each SA's next deadline (stale entries skipped, the heap rebuilt when they
//!   outnumber the live ones), for `poll_timeout` and `handle_timeout`;
//! - the half-open count, total and per source IP, for the bounds;
//! - what the events have told of each SA, and which SAs may have changed since
//!   (`dirty`), so an event's `SaChange`s look at those alone;
//! - with a data plane (`EndpointConfig::data_plane`), which SAs may have changed since
//!   the ledger last looked (`touched`), so it looks at those alone (`super::ledger`).
//!
//! Every change to an SA goes through `Endpoint::with`, which calls `refresh` for the SA
//! it ran (or `refresh_all` after cross-SA effects); `refresh` removes a closed SA.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::net::IpAddr;
use std::time::Instant;

use super::sas::Sa;
use crate::config::EndpointConfig;
use crate::event::{SaChange, SaFacts, SaHandle};

/// One SA and what the table knows of it.
pub(crate) struct Entry {
    pub handle: SaHandle,
    pub sa: Sa,
    /// The facts the events told of it last (its own events or `SaChange`s).
    told: Option<SaFacts>,
    /// Its deadline as the heap has it.
    deadline: Option<Instant>,
    /// The source IP it counts against while half-open.
    half_open: Option<IpAddr>,
}

/// How an SA's half-open state changed in a `refresh`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HalfOpenChange {
    /// Nothing changed.
    None,
    /// It was half-open and is authenticated now (its SPIi and peer IP, for the replay
    /// memory).
    Authenticated(u64, IpAddr),
}

#[derive(Default)]
pub(crate) struct SaTable {
    entries: BTreeMap<SaHandle, Box<Entry>>,
    by_spi_i: BTreeSet<(u64, SaHandle)>,
    deadlines: BinaryHeap<Reverse<(Instant, SaHandle)>>,
    half_open: usize,
    per_ip: HashMap<IpAddr, usize>,
    /// SAs that may have changed since the last `changes`.
    dirty: BTreeSet<SaHandle>,
    /// Facts told of handles the table does not hold: an SA about to be inserted (its
    /// first events come before it is), or one that never was (a refused request).
    told_elsewhere: Vec<(SaHandle, SaFacts)>,
    /// Told SAs removed since the last `changes`.
    gone: Vec<SaHandle>,
    /// SAs refreshed (changed, or removed) since the last `take_touched`; kept only with a
    /// data plane.
    touched: BTreeSet<SaHandle>,
}

impl SaTable {
    pub fn get(&self, handle: SaHandle) -> Option<&Sa> {
        self.entries.get(&handle).map(|e| &e.sa)
    }

    /// The SA to change; the caller refreshes it afterwards (`Endpoint::with` does).
    pub fn get_mut(&mut self, handle: SaHandle) -> Option<&mut Sa> {
        self.entries.get_mut(&handle).map(|e| &mut e.sa)
    }

    /// Every SA, in creation order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.values().map(|e| &**e)
    }

    /// Every SA to change, in creation order; the caller calls `refresh_all` afterwards.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Entry> {
        self.entries.values_mut().map(|e| &mut **e)
    }

    /// The SAs whose SPIi (IKEv1: CKY-I) is `spi_i`, in creation order.
    pub fn with_spi_i(&self, spi_i: u64) -> impl Iterator<Item = (SaHandle, &Sa)> {
        self.by_spi_i
            .range((spi_i, SaHandle(0))..=(spi_i, SaHandle(u64::MAX)))
            .filter_map(|&(_, h)| self.get(h).map(|sa| (h, sa)))
    }

    /// Half-open SAs now, and those from `ip`.
    pub fn half_open(&self) -> usize {
        self.half_open
    }

    pub fn half_open_from(&self, ip: IpAddr) -> usize {
        self.per_ip.get(&ip).copied().unwrap_or(0)
    }

    pub fn insert(&mut self, handle: SaHandle, sa: Sa, config: &EndpointConfig) {
        let told = self
            .told_elsewhere
            .iter()
            .position(|(h, _)| *h == handle)
            .map(|i| self.told_elsewhere.swap_remove(i).1);
        self.by_spi_i.insert((sa.id().spi_i, handle));
        self.entries.insert(
            handle,
            Box::new(Entry {
                handle,
                sa,
                told,
                deadline: None,
                half_open: None,
            }),
        );
        self.refresh(handle, config);
    }

    /// Brings the indexes up to date with the SA `handle` after a change, and removes it
    /// if it closed.
    pub fn refresh(&mut self, handle: SaHandle, config: &EndpointConfig) -> HalfOpenChange {
        let Some(e) = self.entries.get_mut(&handle) else {
            return HalfOpenChange::None;
        };
        self.dirty.insert(handle);
        if config.data_plane {
            self.touched.insert(handle);
        }
        let mut change = HalfOpenChange::None;
        let half_open = e.sa.is_half_open().then(|| e.sa.remote().ip());
        if half_open.is_some() != e.half_open.is_some() {
            match (e.half_open, half_open) {
                (None, Some(ip)) => {
                    self.half_open += 1;
                    *self.per_ip.entry(ip).or_default() += 1;
                }
                (Some(ip), None) => {
                    self.half_open -= 1;
                    release_ip(&mut self.per_ip, ip);
                    if !e.sa.is_closed() {
                        change = HalfOpenChange::Authenticated(e.sa.id().spi_i, ip);
                    }
                }
                _ => {}
            }
            e.half_open = half_open;
        }
        if e.sa.is_closed() {
            self.remove(handle);
            return change;
        }
        let deadline = e.sa.deadline(config);
        if deadline != e.deadline {
            e.deadline = deadline;
            if let Some(t) = deadline {
                self.deadlines.push(Reverse((t, handle)));
            }
        }
        self.tidy_deadlines();
        change
    }

    /// `refresh` for every SA (after a change that may touch any of them).
    pub fn refresh_all(&mut self, config: &EndpointConfig) {
        let handles: Vec<SaHandle> = self.entries.keys().copied().collect();
        for h in handles {
            self.refresh(h, config);
        }
    }

    /// Puts the SA's deadline back in the heap after `pop_due` took it out.
    pub fn rearm(&mut self, handle: SaHandle) {
        if let Some(t) = self.entries.get(&handle).and_then(|e| e.deadline) {
            self.deadlines.push(Reverse((t, handle)));
        }
    }

    fn remove(&mut self, handle: SaHandle) {
        let Some(e) = self.entries.remove(&handle) else {
            return;
        };
        self.by_spi_i.remove(&(e.sa.id().spi_i, handle));
        if let Some(ip) = e.half_open {
            self.half_open -= 1;
            release_ip(&mut self.per_ip, ip);
        }
        if e.told.is_some() {
            self.gone.push(handle);
        }
        self.dirty.remove(&handle);
        self.tidy_deadlines();
    }

    fn is_current(&self, (t, h): (Instant, SaHandle)) -> bool {
        self.entries.get(&h).is_some_and(|e| e.deadline == Some(t))
    }

    /// Drops stale deadlines from the top of the heap (so `next_deadline` is true), and
    /// rebuilds the heap when stale ones outnumber the live ones (memory given back).
    fn tidy_deadlines(&mut self) {
        while let Some(&Reverse(top)) = self.deadlines.peek() {
            if self.is_current(top) {
                break;
            }
            self.deadlines.pop();
        }
        if self.deadlines.len() > 2 * self.entries.len() + 16 {
            let live: Vec<_> = self
                .entries
                .values()
                .filter_map(|e| e.deadline.map(|t| Reverse((t, e.handle))))
                .collect();
            self.deadlines = BinaryHeap::from(live);
        }
    }

    /// The earliest deadline of any SA.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((t, _))| *t)
    }

    /// Takes the SAs due at `now` out of the heap (each once); `rearm` puts each back
    /// after its timers ran.
    pub fn pop_due(&mut self, now: Instant) -> Vec<SaHandle> {
        let mut due = Vec::new();
        while let Some(&Reverse((t, h))) = self.deadlines.peek() {
            if t > now {
                break;
            }
            self.deadlines.pop();
            if self.is_current((t, h)) {
                due.push(h);
            }
        }
        due.sort_unstable();
        due.dedup();
        self.tidy_deadlines();
        due
    }

    /// The SAs refreshed since the last call (with a data plane; otherwise none), in
    /// creation order.
    pub fn take_touched(&mut self) -> BTreeSet<SaHandle> {
        std::mem::take(&mut self.touched)
    }

    /// Every SA may have changed (a cross-SA effect ran).
    pub fn mark_all_dirty(&mut self) {
        self.dirty.extend(self.entries.keys().copied());
    }

    /// Notes that the events told `facts` of the SA `handle`.
    pub fn told(&mut self, handle: SaHandle, facts: SaFacts) {
        match self.entries.get_mut(&handle) {
            Some(e) => e.told = Some(facts),
            None => match self.told_elsewhere.iter_mut().find(|(h, _)| *h == handle) {
                Some((_, f)) => *f = facts,
                None => self.told_elsewhere.push((handle, facts)),
            },
        }
    }

    /// What changed in the SAs other than `from` since the events last told them, and
    /// notes it as told: the SAs gone, then the SAs whose facts differ, in creation order.
    pub fn changes(&mut self, from: SaHandle, config: &EndpointConfig) -> Vec<SaChange> {
        let mut changes = Vec::new();
        self.gone.retain(|&h| {
            if h != from {
                changes.push(SaChange::Removed(h));
            }
            h == from
        });
        self.told_elsewhere.retain(|&(h, _)| {
            if h != from {
                changes.push(SaChange::Removed(h));
            }
            h == from
        });
        for h in std::mem::take(&mut self.dirty) {
            if h == from {
                continue;
            }
            let Some(e) = self.entries.get_mut(&h) else {
                continue;
            };
            let facts = e.sa.facts(config);
            if e.told != Some(facts) {
                e.told = Some(facts);
                changes.push(SaChange::Facts(h, facts));
            }
        }
        changes
    }
}

/// One half-open SA from `ip` fewer; the map gives its memory back as a flood ends.
fn release_ip(per_ip: &mut HashMap<IpAddr, usize>, ip: IpAddr) {
    if let Some(n) = per_ip.get_mut(&ip) {
        *n -= 1;
        if *n == 0 {
            per_ip.remove(&ip);
        }
    }
    if per_ip.capacity() > 4 * per_ip.len() + 16 {
        per_ip.shrink_to_fit();
    }
}
