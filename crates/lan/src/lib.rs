//! The simulated networks behind each end of a tunnel (`docs/data-plane.md`): hosts that answer
//! ICMP echo (RFC 792) and UDP echo (RFC 862), flows (ICMP echo, UDP, a TCP-like
//! request/response) with a rate, a size, the DF bit, steady, on/off and burst patterns, IPv4
//! fragmentation and reassembly (RFC 791), and the counters that show what got through.
//!
//! Sans-IO and deterministic by seed, like ike-core's `Endpoint`: [`Lan::handle_timeout`],
//! [`Lan::deliver`] and [`Lan::poll_packet`] take and give whole IPv4 packets; the caller (sim's
//! data plane) carries them through ESP. Packets are built and parsed with etherparse.
//! IPv4 only: IPv6 inside the tunnel is not simulated yet (nor IP options beyond carrying
//! them through fragmentation, nor AH or TCP: the request/response flow stands in for TCP).
//!
//! # How answers find their flow
//!
//! Every flow packet's payload (ICMP echo data, UDP payload) starts with a 28-byte marker:
//! `"IKSL"`, a kind (1 echo, 2 request, 3 response), the flow's index in its site (u16), the
//! packet's index in its flow (u64), its scheduled send time in nanoseconds after the Lan's
//! start (u64) and, for a request, the response's IP total length (u16); the rest of the
//! packet is padding from the seeded RNG. A flow's packets also carry its index as the ICMP
//! echo identifier, and go from its own UDP source port (one of the ephemeral ports
//! 49152–65535, picked by the seed). An echo host copies the data back (as any ping or RFC 862
//! echo host would); a host receiving a request builds the response itself, marker kind 3, from
//! the port the request went to. At the source an answer counts when its addresses, ports or
//! echo identifier and its marker name a packet the flow sent, within
//! [`Lan::ANSWER_TIMEOUT`] of its scheduled send time; its round trip is measured from then.
//! A real host's ping through the tunnel (no marker) is answered like any other; only answers
//! to this Lan's own flows are counted per flow.
//!
//! # A stateful firewall
//!
//! [`Firewall`] stands between a network and its tunnels as a CGW's per-interface connection
//! tracking does: a connection (UDP ports, or the ICMP echo identifier) is bound to the link
//! its originator's last packet took, and the other end's packets on another link are
//! dropped — what asymmetric routing over two tunnels runs into.
//!
//! # What is counted
//!
//! [`FlowStats`] per flow, [`LanStats`] for the network; [`Lan::deliver`] says what it did
//! with each packet ([`Delivery`]). A packet the hosts cannot take — no host with that
//! address, ICMP echo off, a closed port, a bad checksum, a truncated or contradictory
//! fragment — is counted by reason, never answered (no ICMP errors are sent).

#![warn(missing_docs)]

mod firewall;
mod flow;
mod fragment;
mod host;
mod lan;
#[cfg(test)]
mod lan_tests;
mod marker;
mod packet;
mod reassembly;
mod schedule;
mod site;
mod stats;

pub use firewall::{Firewall, FirewallDrop, FirewallStats, Inbound};
pub use fragment::{fragment, FragmentError};
pub use lan::{Delivery, Lan, Undeliverable};
pub use site::{FlowKind, FlowSpec, HostSpec, Pattern, Site, SiteError};
pub use stats::{FlowStats, LanStats};
