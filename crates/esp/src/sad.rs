//! The SA database of one host (RFC 4301 §4.4.2): the ESP SA pairs its CHILD SAs
//! installed, outbound chosen by the inner packet against their selectors, inbound by SPI.

use std::collections::HashMap;
use std::ops::Range;

use crate::inner::Flow;
use crate::{spi_of, Drop, Drops, Inbound, KeyError, Outbound, SaCounters, SaSpec, Selector};

/// One CHILD SA for the data plane: its two ESP SAs and its selectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairSpec {
    /// The SA we receive with (its SPI is ours: the pair's key in the database).
    pub inbound: SaSpec,
    /// The SA we send with (its SPI is the peer's).
    pub outbound: SaSpec,
    /// Our selectors: what we send comes from inside them, what we receive goes to them.
    pub local: Vec<Selector>,
    /// The peer's selectors: what we send goes to them, what we receive comes from them.
    pub remote: Vec<Selector>,
    /// The inbound anti-replay window in packets (0: off).
    pub replay_window: u32,
    /// For a rekey, the inbound SPI of the pair this one replaces: that pair sends no more,
    /// but keeps receiving until it is removed.
    pub replaces: Option<u32>,
    /// With `replaces`: this pair sends only once the pair it replaces is removed, which
    /// goes on sending until then (the responder of a rekey: the peer installs its
    /// inbound side of the new SA only when the response arrives).
    pub defer_outbound: bool,
    /// Seeds the outbound SA's IVs (AES-CBC; see [`Outbound::new`]).
    pub iv_seed: u64,
}

/// What [`Sad::seal`] sent a packet with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The inbound SPI of the pair: which CHILD SA.
    pub spi_in: u32,
    /// The SPI the ESP packet carries.
    pub spi_out: u32,
    /// Its sequence number.
    pub seq: u64,
}

/// What [`Sad::open`] delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedInner {
    /// The inbound SPI it arrived on: which CHILD SA.
    pub spi_in: u32,
    /// Where the inner IP packet is in the datagram given to `open` (TFC padding after it,
    /// RFC 4303 §2.7, left out).
    pub inner: Range<usize>,
    /// Its sequence number.
    pub seq: u64,
}

struct Pair {
    inbound: Inbound,
    outbound: Outbound,
    local: Vec<Selector>,
    remote: Vec<Selector>,
    /// A newer pair replaced it: it only receives.
    retired: bool,
    /// The pair this one replaced.
    replaces: Option<u32>,
    /// It sends only once `replaces` is removed.
    defer_outbound: bool,
    counters: SaCounters,
}

/// The ESP SAs of one host.
#[derive(Default)]
pub struct Sad {
    pairs: HashMap<u32, Pair>,
    /// Inbound SPIs, oldest installed first.
    order: Vec<u32>,
    drops: Drops,
}

impl std::fmt::Debug for Sad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sad")
            .field("spis_in", &self.order)
            .field("drops", &self.drops)
            .finish_non_exhaustive()
    }
}

impl Sad {
    /// An empty database.
    pub fn new() -> Sad {
        Sad::default()
    }

    /// Installs a CHILD SA's pair. It becomes the first choice for what its selectors hold;
    /// the pair it `replaces` stops sending but keeps receiving until removed. A second
    /// pair that replaces the same one (a rekey collision) only receives while the first
    /// is installed (see `settle_senders`). A pair with `defer_outbound` only receives
    /// while the one it replaces is installed, and that one goes on sending.
    pub fn install(&mut self, spec: PairSpec) -> Result<(), KeyError> {
        let spi_in = spec.inbound.spi;
        if self.pairs.contains_key(&spi_in) {
            return Err(KeyError::DuplicateSpi(spi_in));
        }
        let pair = Pair {
            inbound: Inbound::new(&spec.inbound, spec.replay_window)?,
            outbound: Outbound::new(&spec.outbound, spec.iv_seed)?,
            local: spec.local,
            remote: spec.remote,
            retired: false,
            replaces: spec.replaces,
            defer_outbound: spec.defer_outbound,
            counters: SaCounters::default(),
        };
        self.pairs.insert(spi_in, pair);
        self.order.push(spi_in);
        self.settle_senders();
        Ok(())
    }

    /// Removes the pair whose inbound SPI is `spi_in`, returning its counters. If it had
    /// replaced a pair that is still installed (a rekey undone), the other pair replacing
    /// that one sends in its place (a collision's second SA) or, if there is none, the
    /// older pair sends again.
    pub fn remove(&mut self, spi_in: u32) -> Option<SaCounters> {
        let pair = self.pairs.remove(&spi_in)?;
        self.order.retain(|&spi| spi != spi_in);
        self.settle_senders();
        Some(pair.counters)
    }

    /// Which pairs send (the rest only receive): not one that an installed pair replaces,
    /// and, of the pairs that replace the same one — both new SAs of a rekey collision
    /// (RFC 7296 §2.8.1) — only the one installed first, which each end keeps sending on
    /// until it is removed (the rule of ike-core's `ipsec` module: it keeps a collision
    /// lossless). A pair that defers its outbound SA retires no one and does not send
    /// while the pair it replaces is installed. A host holds a handful of pairs, so this
    /// looks at all of them.
    fn settle_senders(&mut self) {
        let is_waiting = |p: &Pair| {
            p.defer_outbound && p.replaces.is_some_and(|old| self.pairs.contains_key(&old))
        };
        let replaced: Vec<u32> = self
            .order
            .iter()
            .filter_map(|spi| self.pairs.get(spi))
            .filter(|p| !is_waiting(p))
            .filter_map(|p| p.replaces)
            .collect();
        let waiting: Vec<u32> = self
            .order
            .iter()
            .copied()
            .filter(|spi| self.pairs.get(spi).is_some_and(is_waiting))
            .collect();
        let mut heirs: Vec<u32> = Vec::new();
        for spi in &self.order {
            let Some(pair) = self.pairs.get_mut(spi) else {
                continue;
            };
            let later_heir = match pair.replaces {
                Some(old) if heirs.contains(&old) => true,
                Some(old) => {
                    heirs.push(old);
                    false
                }
                None => false,
            };
            pair.retired = replaced.contains(spi) || later_heir || waiting.contains(spi);
        }
    }

    /// Seals `inner`, an IPv4 or IPv6 packet, with the newest sending pair whose local selectors
    /// hold its source and remote selectors its destination (protocol and ports
    /// included), next header 4 or 41. `out` is cleared and filled with the ESP packet
    /// (left empty on a drop). Bytes after the length the IP header gives are not sent.
    /// [`Drop::Malformed`] if `inner` is not an IP packet, [`Drop::NoSa`] if no pair
    /// takes it, [`Drop::SequenceExhausted`] if that pair must be rekeyed first.
    pub fn seal(&mut self, inner: &[u8], out: &mut Vec<u8>) -> Result<Sealed, Drop> {
        let result = self.seal_inner(inner, out);
        if let Err(reason) = result {
            out.clear();
            self.drops.add(reason);
        }
        result
    }

    /// Opens an ESP packet in place: by SPI, then replay window, integrity, decryption,
    /// and the inner packet against the pair's selectors (its source in the remote ones,
    /// its destination in the local ones). What is not the IPv4 or IPv6 packet its next
    /// header says — a dummy packet (next header 59, RFC 4303 §2.6) included — is
    /// [`Drop::Malformed`]. Every drop is counted in [`drops`](Self::drops) and, when the
    /// SPI is ours, in the pair's counters. After a drop the datagram's bytes may have
    /// changed ([`Inbound::open`]).
    pub fn open(&mut self, datagram: &mut [u8]) -> Result<OpenedInner, Drop> {
        let result = self.open_inner(datagram);
        if let Err(reason) = result {
            self.drops.add(reason);
            if let Some(pair) = spi_of(datagram).and_then(|spi| self.pairs.get_mut(&spi)) {
                let c = &mut pair.counters;
                match reason {
                    Drop::Replayed | Drop::BeforeWindow => c.replay_drops += 1,
                    Drop::Integrity => c.integrity_failures += 1,
                    Drop::SelectorMismatch => c.selector_mismatches += 1,
                    _ => c.malformed += 1,
                }
            }
        }
        result
    }

    fn seal_inner(&mut self, inner: &[u8], out: &mut Vec<u8>) -> Result<Sealed, Drop> {
        let flow = Flow::parse(inner).ok_or(Drop::Malformed)?;
        let pairs = &mut self.pairs;
        let spi_in = self
            .order
            .iter()
            .rev()
            .copied()
            .find(|spi| {
                pairs
                    .get(spi)
                    .is_some_and(|p| !p.retired && flow.between(&p.local, &p.remote))
            })
            .ok_or(Drop::NoSa)?;
        let pair = pairs.get_mut(&spi_in).ok_or(Drop::NoSa)?;
        let seq = pair
            .outbound
            .seal(flow.next_header, &inner[..flow.len], out)?;
        pair.counters.packets_out += 1;
        pair.counters.bytes_out += flow.len as u64;
        Ok(Sealed {
            spi_in,
            spi_out: pair.outbound.spi(),
            seq,
        })
    }

    fn open_inner(&mut self, datagram: &mut [u8]) -> Result<OpenedInner, Drop> {
        let spi_in = spi_of(datagram).ok_or(Drop::Truncated)?;
        let pair = self.pairs.get_mut(&spi_in).ok_or(Drop::UnknownSpi)?;
        let opened = pair.inbound.open(datagram)?;
        let flow = Flow::parse(&datagram[opened.payload.clone()])
            .filter(|f| f.next_header == opened.next_header)
            .ok_or(Drop::Malformed)?;
        if !flow.between(&pair.remote, &pair.local) {
            return Err(Drop::SelectorMismatch);
        }
        pair.counters.packets_in += 1;
        pair.counters.bytes_in += flow.len as u64;
        let start = opened.payload.start;
        Ok(OpenedInner {
            spi_in,
            inner: start..start + flow.len,
            seq: opened.seq,
        })
    }

    /// The counters of the pair whose inbound SPI is `spi_in`.
    pub fn counters(&self, spi_in: u32) -> Option<SaCounters> {
        self.pairs.get(&spi_in).map(|p| p.counters)
    }

    /// Drops per reason, unknown SPIs and packets no SA took included.
    pub fn drops(&self) -> &Drops {
        &self.drops
    }

    /// The inbound SPIs installed, oldest first.
    pub fn spis_in(&self) -> impl Iterator<Item = u32> + '_ {
        self.order.iter().copied()
    }

    /// How many pairs are installed.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no pair is installed.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
