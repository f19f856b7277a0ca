//! Where an incoming datagram goes: its version byte picks the machinery, its SPIs (or
//! cookies) the SA; a request that starts an exchange creates one.

use std::net::SocketAddr;
use std::time::Instant;

use ike_wire::{ExchangeType, Message};

use super::sas::Sa;
use super::Endpoint;
use crate::event::SaHandle;
use crate::sa::{IkeSa, State};
use crate::shell::{Role, Transmit};
use crate::v1::Phase1Sa;

impl Endpoint {
    pub(super) fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.stats.datagrams_in += 1;
        if ike_wire::ike_major_version(data) == Some(1) {
            self.handle_v1(now, local, remote, data);
            return;
        }
        let msg = match Message::parse(data) {
            Ok(m) if m.header.major == 2 && self.config.accept_ikev2 => m,
            Ok(m) => {
                tracing::debug!(%remote, major = m.header.major, "IKE version not accepted: dropped");
                self.stats.malformed += 1;
                return;
            }
            Err(e) => {
                tracing::debug!(%remote, "malformed datagram dropped: {e}");
                self.stats.malformed += 1;
                return;
            }
        };
        let h = msg.header;
        if h.exchange == ExchangeType::IKE_SA_INIT && !h.flags.is_response() {
            self.handle_init_request(now, local, remote, &msg, data);
            return;
        }
        // The INITIATOR flag tells which end sent it, and so which SPI is ours (§3.1).
        let found = self.find_v2(|sa| {
            sa.spi_i == h.spi_i
                && if h.flags.is_initiator() {
                    sa.role == Role::Responder && sa.spi_r == h.spi_r
                } else {
                    sa.role == Role::Initiator && (sa.spi_r == h.spi_r || sa.spi_r == 0)
                }
        });
        match found {
            Some(handle) => self.with_sa(now, handle, |ctx, sa| {
                if let Sa::V2(sa) = sa {
                    sa.handle(ctx, &msg, data);
                }
            }),
            None => {
                tracing::debug!(%remote, spi_i = h.spi_i, spi_r = h.spi_r, "message for no known IKE SA dropped");
                self.stats.unmatched += 1;
            }
        }
    }

    /// The first IKEv2 SA that `pick` accepts.
    fn find_v2(&self, pick: impl Fn(&IkeSa) -> bool) -> Option<SaHandle> {
        self.sas.iter().find_map(|e| match &e.sa {
            Sa::V2(sa) if pick(sa) => Some(e.handle),
            _ => None,
        })
    }

    /// The first IKEv1 SA that `pick` accepts.
    fn find_v1(&self, pick: impl Fn(&Phase1Sa) -> bool) -> Option<SaHandle> {
        self.sas.iter().find_map(|e| match &e.sa {
            Sa::V1(sa) if pick(sa) => Some(e.handle),
            _ => None,
        })
    }

    fn handle_init_request(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message,
        data: &[u8],
    ) {
        let h = msg.header;
        if h.spi_r != 0 || h.message_id != 0 {
            self.stats.unmatched += 1;
            return;
        }
        let existing = self
            .find_v2(|sa| sa.role == Role::Responder && sa.spi_i == h.spi_i && sa.remote == remote);
        if let Some(Sa::V2(sa)) = existing.and_then(|handle| self.get(handle)) {
            // A retransmitted request gets our response again; anything else is ignored.
            match &sa.state {
                State::InitReplied(st) if st.init_request == data => {
                    let transmit = Transmit {
                        src: sa.local,
                        dst: sa.remote,
                        payload: st.init_response.clone(),
                    };
                    self.stats.retransmits += 1;
                    self.stats.datagrams_out += 1;
                    self.transmits.push_back(transmit);
                }
                _ => self.stats.unmatched += 1,
            }
            return;
        }
        let handle = self.reserve();
        let sa = self.with(now, handle, |ctx, _| {
            IkeSa::accept(ctx, local, remote, msg, data)
        });
        if let Some(sa) = sa {
            self.insert(handle, Sa::V2(sa));
        }
    }

    fn handle_v1(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, data: &[u8]) {
        let msg = match ike_wire::v1::Message::parse(data) {
            Ok(m) if self.config.accept_ikev1 => m,
            Ok(_) => {
                tracing::debug!(%remote, "IKEv1 not accepted: dropped");
                self.stats.malformed += 1;
                return;
            }
            Err(e) => {
                tracing::debug!(%remote, "malformed IKEv1 datagram dropped: {e}");
                self.stats.malformed += 1;
                return;
            }
        };
        let h = msg.header;
        let found = self.find_v1(|sa| {
            sa.cky_i == h.cky_i && (sa.cky_r == h.cky_r || sa.cky_r == 0 || h.cky_r == 0)
        });
        match found {
            Some(handle) => self.with_sa(now, handle, |ctx, sa| {
                if let Sa::V1(sa) = sa {
                    sa.handle(ctx, &msg, data);
                }
            }),
            None if h.cky_r == 0
                && h.exchange == ike_wire::v1::ExchangeType::IDENTITY_PROTECTION =>
            {
                let handle = self.reserve();
                let sa = self.with(now, handle, |ctx, _| {
                    Phase1Sa::accept(ctx, local, remote, &msg, data)
                });
                if let Some(sa) = sa {
                    self.insert(handle, Sa::V1(sa));
                }
            }
            None if h.cky_r == 0
                && h.exchange == ike_wire::v1::ExchangeType::AGGRESSIVE
                && self.config.refuse_aggressive_mode =>
            {
                // The policy (AWS's): say we do not do it (RFC 2408 §3.14.1), keep nothing.
                tracing::debug!(%remote, "IKEv1 aggressive mode refused");
                let refusal = crate::v1::unsupported_exchange(&h);
                self.stats.unmatched += 1;
                self.stats.datagrams_out += 1;
                self.transmits.push_back(Transmit {
                    src: local,
                    dst: remote,
                    payload: refusal,
                });
            }
            None => {
                tracing::debug!(%remote, "IKEv1 message for no known ISAKMP SA dropped");
                self.stats.unmatched += 1;
            }
        }
    }
}
