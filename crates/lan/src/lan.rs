//! [`Lan`]: one simulated network behind one end of a tunnel, sans-IO.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::flow::{Answered, FlowState};
use crate::host::HostState;
use crate::marker::{Marker, MarkerKind};
use crate::packet::{parse, Body, Parse, Parsed, Transport};
use crate::reassembly::{Added, Reassembler};
use crate::site::{FlowKind, Site, SiteError};
use crate::stats::{FlowStats, LanStats};

/// The first ephemeral port (RFC 6335); flow `i` sends UDP from one of the 16,384 above it.
const EPHEMERAL: u16 = 49_152;
/// The number of ephemeral ports.
const PORTS: u16 = 16_384;

/// The hosts and flows behind one end of a tunnel, sans-IO like ike-core's `Endpoint`: every
/// input carries `now`, outputs are pulled. After each input the driver drains
/// [`Lan::poll_packet`] and asks [`Lan::poll_timeout`] for the next deadline.
///
/// Deterministic: the same site, start and seed give the same packets, byte for byte (the
/// seed picks the hosts' first IP identification and the padding bytes).
#[derive(Debug)]
pub struct Lan {
    start: Instant,
    hosts: Vec<HostState>,
    flows: Vec<FlowState>,
    /// Each flow's next send time (after `start`), earliest first, ties by flow index.
    due: BinaryHeap<Reverse<(Duration, usize)>>,
    /// `(answer deadline, flow, seq)` of every packet sent and not settled, in send order
    /// (which is deadline order: packets go in schedule order and wait the same time).
    awaiting: VecDeque<(Instant, usize, u64)>,
    /// Flow `i`'s UDP source port is `EPHEMERAL + (port_base + i) % 16,384`.
    port_base: u16,
    out: VecDeque<Vec<u8>>,
    reassembly: Reassembler,
    rng: ChaCha8Rng,
    stats: LanStats,
}

/// What [`Lan::deliver`] did with a packet out of the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// A host took it (ICMP echo request, UDP to its echo port, a request/response request).
    ToHost {
        /// Whether an answer was queued for `poll_packet` (always, for the services hosts
        /// have today; a host that only listens would say `false`).
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
        site.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let hosts: Vec<HostState> = site
            .hosts
            .iter()
            .map(|&h| HostState::new(h, rng.gen()))
            .collect();
        let port_base = rng.gen_range(0..PORTS);
        let mut flows = Vec::with_capacity(site.flows.len());
        for (i, spec) in site.flows.into_iter().enumerate() {
            // Validated: at most MAX_FLOWS (16,384) flows, from hosts of the site.
            let index = u16::try_from(i).unwrap_or(u16::MAX);
            let host = hosts
                .iter()
                .position(|h| h.spec.addr == spec.src)
                .unwrap_or(0);
            let src_port = EPHEMERAL + (port_base + index) % PORTS;
            flows.push(FlowState::new(spec, index, src_port, host)?);
        }
        let due = flows
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.next_due().map(|d| Reverse((d, i))))
            .collect();
        Ok(Lan {
            start,
            hosts,
            flows,
            due,
            awaiting: VecDeque::new(),
            port_base,
            out: VecDeque::new(),
            reassembly: Reassembler::new(Lan::REASSEMBLY_TIMEOUT, Lan::MAX_REASSEMBLIES),
            rng,
            stats: LanStats::default(),
        })
    }

    /// The next instant [`Lan::handle_timeout`] has work: a flow packet to send, an answer
    /// time-out, a reassembly time-out. `None` when nothing will ever happen without input.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let send = self
            .due
            .peek()
            .and_then(|Reverse((d, _))| self.start.checked_add(*d));
        let answer = self.awaiting.front().map(|(deadline, _, _)| *deadline);
        [send, answer, self.reassembly.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Does what is due at `now`: queues every flow packet scheduled at or before `now` (in
    /// schedule order, each stamped with its scheduled time), counts the answers that did not
    /// come in time, and drops reassemblies that timed out.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(elapsed) = now.checked_duration_since(self.start) {
            while let Some(&Reverse((due, i))) = self.due.peek() {
                if due > elapsed {
                    break;
                }
                self.due.pop();
                self.send(i, due);
            }
        }
        self.settle(now);
        self.reassembly.expire(now);
        self.stats.reassembly_timeouts = self.reassembly.timed_out;
    }

    /// Queues flow `i`'s next packet, due `due` after the start.
    fn send(&mut self, i: usize, due: Duration) {
        let Some(sent) = self.start.checked_add(due) else {
            return;
        };
        let flow = &mut self.flows[i];
        let id = self.hosts[flow.host].take_id();
        let (packet, seq) = flow.emit(sent, due, id, &mut self.rng);
        if let Some(next) = flow.next_due() {
            self.due.push(Reverse((next, i)));
        }
        let deadline = sent.checked_add(Lan::ANSWER_TIMEOUT).unwrap_or(sent);
        self.awaiting.push_back((deadline, i, seq));
        self.out.push_back(packet);
    }

    /// Settles the oldest packets that have their answer or whose time is up at `now`.
    fn settle(&mut self, now: Instant) {
        while let Some(&(deadline, i, seq)) = self.awaiting.front() {
            if deadline > now && !self.flows[i].front_answered(seq) {
                break;
            }
            self.flows[i].retire(seq);
            self.awaiting.pop_front();
        }
    }

    /// The next IPv4 packet this network's hosts send into the tunnel (flow packets and
    /// answers), oldest first. Packets are whole: fitting them to an MTU is the link's job
    /// ([`crate::fragment`]).
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        let packet = self.out.pop_front()?;
        self.stats.packets_out += 1;
        self.stats.bytes_out += packet.len() as u64;
        Some(packet)
    }

    /// A packet out of the tunnel, arriving at `now`: fragments are reassembled first; then a
    /// request goes to its host (which may queue an answer), an answer to its flow (counted,
    /// its round trip measured), anything else is counted undeliverable. Never panics, whatever
    /// the bytes.
    pub fn deliver(&mut self, now: Instant, packet: &[u8]) -> Delivery {
        self.stats.packets_in += 1;
        self.stats.bytes_in += packet.len() as u64;
        let delivery = match parse(packet) {
            None => Delivery::Undeliverable(Undeliverable::Malformed),
            Some(Parse::Whole(p)) => self.dispatch(now, &p),
            Some(Parse::Fragment(fragment)) => {
                self.stats.fragments += 1;
                match self.reassembly.add(now, &fragment) {
                    Added::Held => Delivery::Fragment,
                    Added::Malformed => Delivery::Undeliverable(Undeliverable::Malformed),
                    Added::Whole(whole) => {
                        self.stats.reassembled += 1;
                        match parse(&whole) {
                            Some(Parse::Whole(p)) => self.dispatch(now, &p),
                            _ => Delivery::Undeliverable(Undeliverable::Malformed),
                        }
                    }
                }
            }
        };
        self.stats.reassembly_timeouts = self.reassembly.timed_out;
        if let Delivery::Undeliverable(why) = delivery {
            let counter = match why {
                Undeliverable::Malformed => &mut self.stats.malformed,
                Undeliverable::NoHost => &mut self.stats.no_host,
                Undeliverable::NoService => &mut self.stats.no_service,
                Undeliverable::Unmatched => &mut self.stats.unmatched,
            };
            *counter += 1;
        }
        delivery
    }

    /// A whole packet to this network: an answer to a flow, or a request to a host.
    fn dispatch(&mut self, now: Instant, p: &Parsed<'_>) -> Delivery {
        let Some(host) = self.hosts.iter().position(|h| h.spec.addr == p.dst) else {
            return Delivery::Undeliverable(Undeliverable::NoHost);
        };
        let answer = match p.body {
            Body::Echo {
                transport:
                    Transport::Echo {
                        reply: true, id, ..
                    },
                payload,
            } => Some(self.echo_reply_flow(p, id, payload)),
            Body::Udp {
                transport: Transport::Udp { src, dst },
                payload,
            } => self.udp_answer_flow(p, src, dst, payload),
            _ => None,
        };
        if let Some(matched) = answer {
            let Some((i, seq)) = matched else {
                return Delivery::Undeliverable(Undeliverable::Unmatched);
            };
            let result = self.flows[i].answer(now, seq, p.len, Lan::ANSWER_TIMEOUT);
            let delivery = match result {
                Answered::First => Delivery::Answer { flow: i },
                Answered::LateOrDuplicate => Delivery::LateOrDuplicate { flow: i },
                Answered::Unknown => return Delivery::Undeliverable(Undeliverable::Unmatched),
            };
            self.stats.answers_to_flows += 1;
            self.settle(now);
            return delivery;
        }
        match self.hosts[host].answer(p, &mut self.rng) {
            Ok(reply) => {
                self.stats.to_hosts += 1;
                self.stats.answers_queued += 1;
                self.out.push_back(reply);
                Delivery::ToHost { answered: true }
            }
            Err(why) => Delivery::Undeliverable(why),
        }
    }

    /// The flow and packet an echo reply answers, if any.
    fn echo_reply_flow(&self, p: &Parsed<'_>, id: u16, payload: &[u8]) -> Option<(usize, u64)> {
        let m = Marker::parse(payload)?;
        let flow = self.flows.get(usize::from(m.flow))?;
        let fits = m.kind == MarkerKind::Echo
            && flow.spec.kind == FlowKind::Icmp
            && flow.index == id
            && flow.spec.src == p.dst
            && flow.spec.dst == p.src;
        fits.then_some((usize::from(m.flow), m.seq))
    }

    /// For UDP to a flow's source port: `Some` with the flow and packet it answers (`None`
    /// inside if it matches none); `None` for UDP to any other port (a request).
    #[allow(clippy::option_option)]
    fn udp_answer_flow(
        &self,
        p: &Parsed<'_>,
        src: u16,
        dst: u16,
        payload: &[u8],
    ) -> Option<Option<(usize, u64)>> {
        let slot = dst.checked_sub(EPHEMERAL)?;
        let index = usize::from((slot + PORTS - self.port_base) % PORTS);
        let flow = self.flows.get(index).filter(|f| f.spec.src == p.dst)?;
        let matched = Marker::parse(payload).and_then(|m| {
            let (port, kind) = match flow.spec.kind {
                FlowKind::Udp { port } => (port, MarkerKind::Echo),
                FlowKind::RequestResponse { port, .. } => (port, MarkerKind::Response),
                FlowKind::Icmp => return None,
            };
            let fits = m.kind == kind
                && usize::from(m.flow) == index
                && src == port
                && flow.spec.dst == p.src;
            fits.then_some((index, m.seq))
        });
        Some(matched)
    }

    /// Each flow's name and counters, in the site's order.
    pub fn flows(&self) -> impl Iterator<Item = (&str, &FlowStats)> {
        self.flows.iter().map(|f| (f.spec.name.as_str(), &f.stats))
    }

    /// One flow's counters, by name.
    #[must_use]
    pub fn flow(&self, name: &str) -> Option<&FlowStats> {
        self.flows
            .iter()
            .find(|f| f.spec.name == name)
            .map(|f| &f.stats)
    }

    /// The network's counters.
    #[must_use]
    pub fn stats(&self) -> &LanStats {
        &self.stats
    }
}
