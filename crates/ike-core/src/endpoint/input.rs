//! Where an incoming datagram goes: its version byte picks the machinery, its SPIs (or
//! cookies) the SA; a request that starts an exchange creates one, once it has passed
//! the flood defences (`crate::dos`).

use std::net::SocketAddr;
use std::time::Instant;

use ike_wire::{ExchangeType, Header, Message, NotifyType, Payload, PayloadsExt};

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
            Err(ike_wire::ParseError::UnsupportedVersion { major, .. }) if major > 2 => {
                self.invalid_major_version(now, local, remote, data);
                return;
            }
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
        let found = self.find_v2(h.spi_i, |sa| {
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

    /// The first IKEv2 SA with this SPIi that `pick` accepts.
    fn find_v2(&self, spi_i: u64, pick: impl Fn(&IkeSa) -> bool) -> Option<SaHandle> {
        self.sas.with_spi_i(spi_i).find_map(|(h, sa)| match sa {
            Sa::V2(sa) if pick(sa) => Some(h),
            _ => None,
        })
    }

    /// The first IKEv1 SA with this CKY-I that `pick` accepts.
    fn find_v1(&self, cky_i: u64, pick: impl Fn(&Phase1Sa) -> bool) -> Option<SaHandle> {
        self.sas.with_spi_i(cky_i).find_map(|(h, sa)| match sa {
            Sa::V1(sa) if pick(sa) => Some(h),
            _ => None,
        })
    }

    /// A datagram of a major version above ours (RFC 7296 §2.5): counted; a request is
    /// answered with INVALID_MAJOR_VERSION and our version (§1.5) while the stateless
    /// budget lasts, a response (which we never asked for) is not.
    fn invalid_major_version(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.stats.invalid_major_version += 1;
        let Ok(h) = Header::parse(data) else {
            return;
        };
        tracing::debug!(%remote, major = h.major, "IKE major version above 2");
        if h.flags.is_response() || !self.config.accept_ikev2 {
            return;
        }
        let rate = self.config.dos.stateless_answers_per_second;
        if !self.guard.budget.take(now, rate) {
            self.stats.stateless_answers_limited += 1;
            return;
        }
        self.stats.datagrams_out += 1;
        self.transmits.push_back(Transmit {
            src: local,
            dst: remote,
            payload: crate::dos::invalid_major_version(&h),
        });
    }

    /// Whether a new SA from `remote` stays within the half-open bounds
    /// (`DosConfig::block_threshold`, `half_open_limit`); counts a refusal.
    fn within_half_open_bounds(&mut self, remote: SocketAddr) -> bool {
        let dos = &self.config.dos;
        let per_ip = self.sas.half_open_from(remote.ip());
        let refused = (dos.block_threshold > 0 && per_ip >= dos.block_threshold)
            || (dos.half_open_limit > 0 && self.sas.half_open() >= dos.half_open_limit);
        if refused {
            tracing::debug!(%remote, per_ip, total = self.sas.half_open(), "half-open limit: IKE SA setup ignored");
            self.stats.half_open_refused += 1;
        }
        !refused
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
        // An SA of ours with this SPIi from this peer: a retransmission or a replay.
        let existing = self.find_v2(h.spi_i, |sa| {
            sa.role == Role::Responder && sa.remote.ip() == remote.ip()
        });
        if let Some(Sa::V2(sa)) = existing.and_then(|handle| self.get(handle)) {
            match &sa.state {
                // A retransmitted request gets our response again.
                State::InitReplied(st) if st.init_request == data && sa.remote == remote => {
                    let transmit = Transmit {
                        src: sa.local,
                        dst: sa.remote,
                        payload: st.init_response.clone(),
                    };
                    self.stats.retransmits += 1;
                    self.stats.datagrams_out += 1;
                    self.transmits.push_back(transmit);
                }
                State::InitReplied(_) => self.stats.unmatched += 1,
                _ => {
                    tracing::debug!(%remote, spi_i = h.spi_i, "IKE_SA_INIT replayed for an SA past it: dropped");
                    self.stats.replays_dropped += 1;
                }
            }
            return;
        }
        if self.guard.replays.contains(h.spi_i, remote.ip()) {
            tracing::debug!(%remote, spi_i = h.spi_i, "IKE_SA_INIT replayed for an SA we had: dropped");
            self.stats.replays_dropped += 1;
            return;
        }
        let pressure = self
            .guard
            .cookies_required(now, self.sas.half_open(), &self.config.dos);
        if pressure && !self.has_valid_cookie(now, remote, msg) {
            self.send_cookie(now, local, remote, msg);
            return;
        }
        if !self.within_half_open_bounds(remote) {
            return;
        }
        let handle = self.reserve();
        let sa = self.with(now, handle, |ctx, _| {
            IkeSa::accept(ctx, local, remote, msg, data, pressure)
        });
        if let Some(sa) = sa {
            self.insert(handle, Sa::V2(sa));
        }
    }

    /// The request's COOKIE notify (RFC 7296 §2.6) is one we made for it.
    fn has_valid_cookie(&self, now: Instant, remote: SocketAddr, msg: &Message) -> bool {
        let cookie = msg.payloads.iter().find_map(|p| match p {
            Payload::Notify(n) if n.ty == NotifyType::COOKIE => Some(&n.data),
            _ => None,
        });
        let (Some(cookie), Some(ni)) = (cookie, msg.payloads.nonce()) else {
            return false;
        };
        self.guard
            .cookies
            .verify(now, cookie, (ni, remote.ip(), msg.header.spi_i))
    }

    /// Answers an IKE_SA_INIT request with a COOKIE and nothing else: no DH, no SA, no
    /// event (RFC 7296 §2.6).
    fn send_cookie(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, msg: &Message) {
        let Some(ni) = msg.payloads.nonce() else {
            // No nonce, no cookie: the request could not start an SA anyway.
            self.stats.malformed += 1;
            return;
        };
        let cookie = self.guard.cookies.make(
            now,
            &mut self.rng,
            &self.config.dos,
            (ni, remote.ip(), msg.header.spi_i),
        );
        self.stats.cookies_sent += 1;
        self.stats.datagrams_out += 1;
        self.transmits.push_back(Transmit {
            src: local,
            dst: remote,
            payload: crate::sa::cookie_response(&msg.header, cookie),
        });
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
        let found = self.find_v1(h.cky_i, |sa| {
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
                // IKEv1 has no stateless challenge (its cookies are its SPIs), but the
                // half-open bounds hold as for IKEv2, as strongSwan's do.
                if !self.within_half_open_bounds(remote) {
                    return;
                }
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
