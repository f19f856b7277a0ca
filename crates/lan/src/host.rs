//! What a host does with a request addressed to it: ICMP echo (RFC 792), UDP echo (RFC 862),
//! and the responses of request/response flows.

use rand::RngCore;

use crate::lan::Undeliverable;
use crate::marker::{Marker, MarkerKind};
use crate::packet::{build, seal, Body, Ip, Parsed, Transport, HEADERS};
use crate::site::{FlowSpec, HostSpec};

/// A host at run time.
#[derive(Debug)]
pub(crate) struct HostState {
    /// What the host is.
    pub(crate) spec: HostSpec,
    /// The IP identification of its next packet.
    next_id: u16,
}

impl HostState {
    /// A host whose first packet has IP identification `first_id`.
    pub(crate) fn new(spec: HostSpec, first_id: u16) -> HostState {
        HostState {
            spec,
            next_id: first_id,
        }
    }

    /// The IP identification for its next packet (a counter per host, as Linux keeps one per
    /// destination).
    pub(crate) fn take_id(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// The host's answer to a request `p` addressed to it (ICMP echo request or UDP), or why
    /// it has none: an echo reply copies the request's data and DF bit; a request/response
    /// request gets a response of the size it asks for (at least [`FlowSpec::MIN_SIZE`]);
    /// UDP to the echo port comes back with the ports swapped.
    pub(crate) fn answer(
        &mut self,
        p: &Parsed<'_>,
        rng: &mut impl RngCore,
    ) -> Result<Vec<u8>, Undeliverable> {
        let addr = self.spec.addr;
        let ip = |id| Ip {
            src: addr,
            dst: p.src,
            id,
            df: p.df,
        };
        match p.body {
            Body::Echo {
                transport:
                    Transport::Echo {
                        reply: false,
                        id,
                        seq,
                    },
                payload,
            } => {
                if !self.spec.icmp_echo {
                    return Err(Undeliverable::NoService);
                }
                let reply = Transport::Echo {
                    reply: true,
                    id,
                    seq,
                };
                Ok(build(ip(self.take_id()), reply, payload))
            }
            Body::Udp {
                transport: Transport::Udp { src, dst },
                payload,
            } => {
                let back = Transport::Udp { src: dst, dst: src };
                match Marker::parse(payload) {
                    Some(m) if m.kind == MarkerKind::Request => {
                        let size = m.response_size.max(FlowSpec::MIN_SIZE);
                        let response = Marker {
                            kind: MarkerKind::Response,
                            ..m
                        };
                        let mut packet = vec![0u8; usize::from(size)];
                        packet[HEADERS..HEADERS + Marker::LEN]
                            .copy_from_slice(&response.to_bytes());
                        rng.fill_bytes(&mut packet[HEADERS + Marker::LEN..]);
                        seal(&mut packet, ip(self.take_id()), back);
                        Ok(packet)
                    }
                    _ if self.spec.udp_echo == Some(dst) => {
                        Ok(build(ip(self.take_id()), back, payload))
                    }
                    _ => Err(Undeliverable::NoService),
                }
            }
            _ => Err(Undeliverable::NoService),
        }
    }
}
