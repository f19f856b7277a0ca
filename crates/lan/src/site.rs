//! What a simulated network is made of: its hosts and the flows they send ([`Site`]).

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::marker::Marker;
use crate::schedule::Schedule;

/// The network behind one end of a tunnel: the hosts that live there and the flows they send
/// into the tunnel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Site {
    /// The hosts of this network. Each flow's source must be one of them.
    pub hosts: Vec<HostSpec>,
    /// The traffic this network's hosts send towards hosts on the other side of the tunnel.
    pub flows: Vec<FlowSpec>,
}

/// One host: an address and the services it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostSpec {
    /// The host's IPv4 address (unique within its site).
    pub addr: Ipv4Addr,
    /// Whether it answers ICMP echo requests (RFC 792), as `ping` expects.
    pub icmp_echo: bool,
    /// The UDP port of its echo service (RFC 862; port 7 by tradition), if it has one.
    pub udp_echo: Option<u16>,
}

impl HostSpec {
    /// The usual host: answers ping and has UDP echo on port 7.
    #[must_use]
    pub fn echo(addr: Ipv4Addr) -> HostSpec {
        HostSpec {
            addr,
            icmp_echo: true,
            udp_echo: Some(7),
        }
    }
}

/// What a flow's packets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    /// ICMP echo requests (as `ping`); the destination host answers with an echo reply of the
    /// same size if it has `icmp_echo`.
    Icmp,
    /// UDP datagrams to `port`; answered (echoed) if the destination's `udp_echo` is that port,
    /// otherwise one-way (the source counts them unanswered after the answer time-out).
    Udp {
        /// The destination port.
        port: u16,
    },
    /// A TCP-like request/response: each UDP request to `port` carries the request marker
    /// (`docs/lan.md`) and the destination host — any host of the other Lan, on any port —
    /// answers it with one UDP packet of IP total length `response_size`, with the request's
    /// DF bit (as TCP sets DF on every segment).
    RequestResponse {
        /// The destination port.
        port: u16,
        /// The IP total length of each response.
        response_size: u16,
    },
}

/// When a flow sends, while it runs. All schedules are computed from the packet's index, never
/// accumulated, so they do not drift: the rate is held exactly as micro-packets per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Packet `n` at `start + n / rate`.
    Steady,
    /// On for `on`, off for `off`, repeated from `start`; within each on window packets go at
    /// `rate` from the window's start (packet `j` of a window at `window + j / rate`, for every
    /// `j / rate < on`).
    OnOff {
        /// How long each on window lasts.
        on: Duration,
        /// The silence after each on window.
        off: Duration,
    },
    /// `count` packets at `rate` from `start + k * every`, for every `k`.
    Burst {
        /// The time between the starts of two bursts.
        every: Duration,
        /// Packets in each burst.
        count: u32,
    },
}

/// One stream of packets from a host of this site to a host behind the other end.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSpec {
    /// The flow's name, for counters and reports (unique within its site).
    pub name: String,
    /// What its packets are.
    pub kind: FlowKind,
    /// The sending host (a host of this site).
    pub src: Ipv4Addr,
    /// The destination (a host of the other site).
    pub dst: Ipv4Addr,
    /// Packets per second while the flow is on (resolution 10⁻⁶ packets per second).
    pub rate: f64,
    /// Each packet's IP total length, header included (at least [`FlowSpec::MIN_SIZE`]).
    pub size: u16,
    /// The Don't Fragment bit of its packets (RFC 791).
    pub df: bool,
    /// When it sends.
    pub pattern: Pattern,
    /// When it begins, after the Lan's start.
    pub start: Duration,
    /// When it ends (exclusive), after the Lan's start; `None`: never.
    pub stop: Option<Duration>,
}

impl FlowSpec {
    /// The smallest packet a flow can send: an IPv4 header (20), an ICMP or UDP header (8) and
    /// the marker that matches answers to flows (28).
    pub const MIN_SIZE: u16 = 20 + 8 + Marker::LEN as u16;

    /// How many packets this flow has sent `elapsed` after the Lan's start (packets scheduled
    /// at or before that instant), in closed form: the count [`crate::Lan`] reaches once
    /// `handle_timeout` has run at that instant.
    ///
    /// # Errors
    /// The flow's own [`SiteError`] if it is not valid.
    pub fn sent_by(&self, elapsed: Duration) -> Result<u64, SiteError> {
        let through = elapsed.saturating_add(Duration::from_nanos(1));
        Ok(Schedule::new(self)?.count_before(through))
    }
}

/// Why a [`Site`] cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// Two hosts share an address.
    #[error("two hosts have the address {0}")]
    DuplicateHost(Ipv4Addr),
    /// Two flows share a name.
    #[error("two flows are named {0:?}")]
    DuplicateFlow(String),
    /// A flow's source is not a host of the site.
    #[error("flow {flow:?}: its source {src} is not a host of this site")]
    UnknownSource {
        /// The flow.
        flow: String,
        /// Its source address.
        src: Ipv4Addr,
    },
    /// A flow's destination is a host of its own site: it would never cross the tunnel.
    #[error("flow {flow:?}: its destination {dst} is a host of its own site")]
    LocalDestination {
        /// The flow.
        flow: String,
        /// Its destination address.
        dst: Ipv4Addr,
    },
    /// A flow's rate is not a positive number of packets per second (10⁻⁶ or more).
    #[error("flow {flow:?}: the rate {rate} is not a positive number of packets per second (at least 0.000001, at most 1e9)")]
    BadRate {
        /// The flow.
        flow: String,
        /// The rate given.
        rate: f64,
    },
    /// A packet size below [`FlowSpec::MIN_SIZE`].
    #[error("flow {flow:?}: {size} bytes is smaller than the smallest packet ({min} bytes: IPv4, ICMP/UDP and the flow marker)", min = FlowSpec::MIN_SIZE)]
    TooSmall {
        /// The flow.
        flow: String,
        /// The size given (a packet size or a response size).
        size: u16,
    },
    /// A pattern that sends nothing or cannot be kept: an empty on window or burst, a zero
    /// period, or a burst that lasts longer than its period.
    #[error("flow {flow:?}: {why}")]
    BadPattern {
        /// The flow.
        flow: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A stop before the start.
    #[error("flow {flow:?}: it stops before it starts")]
    StopBeforeStart {
        /// The flow.
        flow: String,
    },
    /// More flows than the flow marker and the ephemeral ports can tell apart.
    #[error("{0} flows: a site has at most {max}", max = Site::MAX_FLOWS)]
    TooManyFlows(usize),
}

impl Site {
    /// The most flows one site can have: each gets its own UDP source port out of the 16,384
    /// ephemeral ports (49152–65535, RFC 6335).
    pub const MAX_FLOWS: usize = 16_384;

    /// Checks the site: unique hosts and flow names, flows from its own hosts to elsewhere,
    /// sizes, rates and patterns that can be kept.
    ///
    /// # Errors
    /// The first problem found, as a [`SiteError`].
    pub fn validate(&self) -> Result<(), SiteError> {
        if self.flows.len() > Site::MAX_FLOWS {
            return Err(SiteError::TooManyFlows(self.flows.len()));
        }
        for (i, host) in self.hosts.iter().enumerate() {
            if self.hosts[..i].iter().any(|h| h.addr == host.addr) {
                return Err(SiteError::DuplicateHost(host.addr));
            }
        }
        for (i, flow) in self.flows.iter().enumerate() {
            if self.flows[..i].iter().any(|f| f.name == flow.name) {
                return Err(SiteError::DuplicateFlow(flow.name.clone()));
            }
            if !self.hosts.iter().any(|h| h.addr == flow.src) {
                return Err(SiteError::UnknownSource {
                    flow: flow.name.clone(),
                    src: flow.src,
                });
            }
            if self.hosts.iter().any(|h| h.addr == flow.dst) {
                return Err(SiteError::LocalDestination {
                    flow: flow.name.clone(),
                    dst: flow.dst,
                });
            }
            let too_small = |size: u16| SiteError::TooSmall {
                flow: flow.name.clone(),
                size,
            };
            if flow.size < FlowSpec::MIN_SIZE {
                return Err(too_small(flow.size));
            }
            if let FlowKind::RequestResponse { response_size, .. } = flow.kind {
                if response_size < FlowSpec::MIN_SIZE {
                    return Err(too_small(response_size));
                }
            }
            Schedule::new(flow)?;
        }
        Ok(())
    }
}
