//! [`Lan`]: one simulated network behind one end of a tunnel, sans-IO.

use std::time::{Duration, Instant};

use crate::site::{Site, SiteError};
use crate::stats::{FlowStats, LanStats};

/// The hosts and flows behind one end of a tunnel, sans-IO like ike-core's `Endpoint`: every
/// input carries `now`, outputs are pulled. After each input the driver drains
/// [`Lan::poll_packet`] and asks [`Lan::poll_timeout`] for the next deadline.
///
/// Deterministic: the same site, start and seed give the same packets, byte for byte (the
/// seed picks the hosts' first IP identification and the padding bytes).
#[derive(Debug)]
pub struct Lan {
    _private: (),
}

/// What [`Lan::deliver`] did with a packet out of the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// A host took it (a request, or one-way UDP to an open port); `answered`: it queued an
    /// answer.
    ToHost {
        /// Whether an answer was queued for `poll_packet`.
        answered: bool,
    },
    /// The first answer to one of this network's flow packets, within the time-out.
    Answer {
        /// The flow's index in the site.
        flow: usize,
    },
    /// An answer to a flow packet that had already been answered or timed out.
    LateOrDuplicate {
        /// The flow's index in the site.
        flow: usize,
    },
    /// A fragment, held until its datagram is complete.
    Fragment,
    /// Turned away (and counted in [`LanStats`]).
    Undeliverable(Undeliverable),
}

/// Why [`Lan::deliver`] turned a packet away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Undeliverable {
    /// Not well-formed IPv4: truncated, a bad checksum, inconsistent fragments, IPv6.
    Malformed,
    /// No host of this network has the destination address.
    NoHost,
    /// The host does not offer what the packet asks for (ICMP echo off, a closed port, a
    /// protocol it does not speak).
    NoService,
    /// An answer for no flow of this network.
    Unmatched,
}

impl Lan {
    /// How long a flow packet waits for its answer before it counts as unanswered (as
    /// `ping -W`).
    pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long fragments wait for the rest of their datagram (Linux's `ipfrag_time`; RFC 791
    /// suggests 15 s as a lower bound).
    pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(30);
    /// The most datagrams reassembled at once; past it the oldest is dropped (counted as a
    /// reassembly time-out), so fragments cannot grow memory without bound.
    pub const MAX_REASSEMBLIES: usize = 256;

    /// A network from its description; flows' times count from `start`.
    ///
    /// # Errors
    /// The site's first problem ([`Site::validate`]).
    pub fn new(site: Site, start: Instant, seed: u64) -> Result<Lan, SiteError> {
        let _ = (site, start, seed);
        unimplemented!("API commit: the body follows")
    }

    /// The next instant [`Lan::handle_timeout`] has work: a flow packet to send, an answer
    /// time-out, a reassembly time-out. `None` when nothing will ever happen without input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        unimplemented!("API commit: the body follows")
    }

    /// Does what is due at `now`: queues every flow packet scheduled at or before `now` (in
    /// schedule order, each stamped with its scheduled time), counts the answers that did not
    /// come in time, and drops reassemblies that timed out.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
        unimplemented!("API commit: the body follows")
    }

    /// The next IPv4 packet this network's hosts send into the tunnel (flow packets and
    /// answers), oldest first. Packets are whole: fitting them to an MTU is the link's job
    /// ([`crate::fragment`]).
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        unimplemented!("API commit: the body follows")
    }

    /// A packet out of the tunnel, arriving at `now`: fragments are reassembled first; then a
    /// request goes to its host (which may queue an answer), an answer to its flow (counted,
    /// its round trip measured), anything else is counted undeliverable. Never panics, whatever
    /// the bytes.
    pub fn deliver(&mut self, now: Instant, packet: &[u8]) -> Delivery {
        let _ = (now, packet);
        unimplemented!("API commit: the body follows")
    }

    /// Each flow's name and counters, in the site's order.
    pub fn flows(&self) -> impl Iterator<Item = (&str, &FlowStats)> {
        std::iter::empty()
    }

    /// One flow's counters, by name.
    #[must_use]
    pub fn flow(&self, name: &str) -> Option<&FlowStats> {
        let _ = name;
        unimplemented!("API commit: the body follows")
    }

    /// The network's counters.
    #[must_use]
    pub fn stats(&self) -> &LanStats {
        unimplemented!("API commit: the body follows")
    }
}
