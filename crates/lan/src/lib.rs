//! The simulated networks behind each end of a tunnel (`docs/data-plane.md`): hosts that answer
//! ICMP echo (RFC 792) and UDP echo (RFC 862), flows (ICMP echo, UDP, a TCP-like
//! request/response) with a rate, a size, the DF bit, steady, on/off and burst patterns, IPv4
//! fragmentation and reassembly (RFC 791), and the counters that show what got through.
//!
//! Sans-IO and deterministic by seed, like ike-core's `Endpoint`: [`Lan::handle_timeout`],
//! [`Lan::deliver`] and [`Lan::poll_packet`] take and give whole IPv4 packets; the caller (sim's
//! data plane) carries them through ESP. Packets are built and parsed with etherparse.
//! IPv4 only: IPv6 inside the tunnel is not simulated yet.

#![warn(missing_docs)]

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

pub use fragment::{fragment, FragmentError};
pub use lan::{Delivery, Lan, Undeliverable};
pub use site::{FlowKind, FlowSpec, HostSpec, Pattern, Site, SiteError};
pub use stats::{FlowStats, LanStats};
