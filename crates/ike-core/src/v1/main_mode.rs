//! Main mode with pre-shared keys (RFC 2409 §5, §5.4): six messages, the last two
//! encrypted with keys derived from the PSK — so a wrong PSK shows as a message that does
//! not decrypt. NAT detection per RFC 3947.

use std::net::SocketAddr;
use std::time::Duration;

use ike_crypto::v1::{hash_i, hash_r, nat_d, phase1_iv, phase1_keys, skeyid_psk, Cbc, Hash};
use ike_crypto::KeyExchange;
use ike_wire::v1::{
    doi, id_type, ike_attr, protocol, Body, ExchangeType, Id, Message, Notification, NotifyType,
    Payload, Proposal, Sa, Transform,
};
use ike_wire::DhGroup;

use super::exchange::notification;
use super::proposal::{attr, chosen, lifetime, phase1_as_proposal, phase1_transforms};
use super::{Awaiting, MainMode, P1Keys, Phase1Sa, Step, DPD_VENDOR_ID, NAT_T_VENDOR_ID};
use crate::event::{Direction, Event, EventKind, IkeVersion, SaState};
use crate::proposal::{select, Negotiation, Selected};
use crate::shell::timer::Timer;
use crate::shell::{same_mac, Ctx, Effect, IkeSaId, Role};

const NONCE_LEN: usize = 32;

fn vendor_ids(ctx: &Ctx<'_>) -> Vec<Payload> {
    let dpd =
        (!ctx.config.impair.no_dpd_vendor_id).then(|| Payload::VendorId(DPD_VENDOR_ID.to_vec()));
    dpd.into_iter()
        .chain([Payload::VendorId(NAT_T_VENDOR_ID.to_vec())])
        .collect()
}

fn sa_payload(transforms: Vec<Transform>) -> Payload {
    let proposal = Proposal {
        number: 1,
        protocol: protocol::ISAKMP,
        spi: Vec::new(),
        transforms,
    };
    Payload::Sa(Sa {
        doi: doi::IPSEC,
        situation: doi::SIT_IDENTITY_ONLY,
        proposals: vec![proposal],
    })
}

fn own_id(addr: SocketAddr) -> Payload {
    let (ty, data) = match addr.ip() {
        std::net::IpAddr::V4(a) => (id_type::IPV4_ADDR, a.octets().to_vec()),
        std::net::IpAddr::V6(a) => (id_type::IPV6_ADDR, a.octets().to_vec()),
    };
    Payload::Id(Id {
        id_type: ty,
        protocol: 0,
        port: 0,
        data,
    })
}

fn find_sa(p: &[Payload]) -> Option<&Sa> {
    p.iter().find_map(|p| {
        if let Payload::Sa(s) = p {
            Some(s)
        } else {
            None
        }
    })
}

fn find_ke(p: &[Payload]) -> Option<&Vec<u8>> {
    p.iter().find_map(|p| {
        if let Payload::Ke(k) = p {
            Some(k)
        } else {
            None
        }
    })
}

fn find_nonce(p: &[Payload]) -> Option<&Vec<u8>> {
    p.iter().find_map(|p| {
        if let Payload::Nonce(n) = p {
            Some(n)
        } else {
            None
        }
    })
}

fn nat_ds(p: &[Payload]) -> Vec<&Vec<u8>> {
    p.iter()
        .filter_map(|p| {
            if let Payload::NatD(d) = p {
                Some(d)
            } else {
                None
            }
        })
        .collect()
}

/// Names the peer's vendor IDs in the diagnostics (`-vv`).
fn log_vendor_ids(p: &[Payload]) {
    let names: Vec<String> = p
        .iter()
        .filter_map(|p| {
            if let Payload::VendorId(v) = p {
                Some(super::vendor_id_name(v))
            } else {
                None
            }
        })
        .collect();
    if !names.is_empty() {
        tracing::debug!(?names, "peer's vendor IDs");
    }
}

fn says_dpd(p: &[Payload]) -> bool {
    p.iter()
        .any(|p| matches!(p, Payload::VendorId(v) if v.as_slice() == DPD_VENDOR_ID))
}

fn notify_of(p: &[Payload]) -> Option<NotifyType> {
    p.iter().find_map(|p| {
        if let Payload::Notification(n) = p {
            Some(n.ty)
        } else {
            None
        }
    })
}

impl Phase1Sa {
    /// Starts main mode: message 1 offers one transform per suite we accept.
    pub(crate) fn initiate(
        ctx: &mut Ctx<'_>,
        local: SocketAddr,
        remote: SocketAddr,
        replaces: Option<IkeSaId>,
    ) -> Option<Phase1Sa> {
        let secs = u32::try_from(ctx.config.lifetimes.ike.as_secs()).unwrap_or(u32::MAX);
        let transforms = phase1_transforms(&ctx.config.ike.proposals, secs);
        if transforms.is_empty() {
            tracing::warn!("no IKE proposal can be expressed in IKEv1: cannot initiate");
            return None;
        }
        let cky_i = ctx.ike_spi();
        let mut sa = Phase1Sa::new(Role::Initiator, cky_i, 0, local, remote, ctx.now);
        sa.replaces = replaces;
        let sa_p = sa_payload(transforms);
        let sai_b = sa_p.body();
        let mut payloads = vec![sa_p];
        payloads.extend(vendor_ids(ctx));
        sa.mm = Some(Box::new(MainMode {
            sai_b,
            transform: None,
            ke: None,
            g_xi: Vec::new(),
            g_xr: Vec::new(),
            ni: Vec::new(),
            nr: Vec::new(),
        }));
        let datagram = sa.plain(ExchangeType::IDENTITY_PROTECTION, payloads);
        sa.send_awaiting(ctx, Awaiting::MainMode, datagram);
        if replaces.is_none() {
            sa.emit(
                ctx,
                EventKind::IkeSaNegotiating {
                    spi_i: cky_i,
                    spi_r: 0,
                },
            );
        }
        Some(sa)
    }

    /// Answers main mode message 1, or refuses it (NO_PROPOSAL_CHOSEN, no state kept).
    pub(crate) fn accept(
        ctx: &mut Ctx<'_>,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message,
        raw: &[u8],
    ) -> Option<Phase1Sa> {
        let Body::Plain(payloads) = &msg.body else {
            return None;
        };
        let offered = find_sa(payloads)?;
        let transforms: Vec<Transform> = offered
            .proposals
            .iter()
            .filter(|p| p.protocol == protocol::ISAKMP)
            .flat_map(|p| p.transforms.clone())
            .collect();
        let as_v2: Vec<_> = transforms.iter().filter_map(phase1_as_proposal).collect();
        let cky_r = ctx.ike_spi();
        let mut sa = Phase1Sa::new(
            Role::Responder,
            msg.header.cky_i,
            cky_r,
            local,
            remote,
            ctx.now,
        );
        let selected = match select(&as_v2, &ctx.config.ike, Negotiation::Ike) {
            Ok(s) => s,
            Err(no_match) => {
                let n = notification(
                    NotifyType::NO_PROPOSAL_CHOSEN,
                    protocol::ISAKMP,
                    Vec::new(),
                    Vec::new(),
                );
                sa.cky_r = 0;
                ctx.send(
                    local,
                    remote,
                    sa.plain(ExchangeType::INFORMATIONAL, vec![n]),
                );
                ctx.events.push(Event {
                    kind: EventKind::IkeNoProposalChosen {
                        unsupported: no_match.unsupported,
                        direction: Direction::Sent,
                    },
                    phase1: SaState::Down,
                    phase2: SaState::Down,
                    nat_t_detected: false,
                    peer: remote,
                    ike_version: IkeVersion::V1,
                    dpd_enabled: false,
                });
                return None;
            }
        };
        let transform = chosen(&transforms, &selected)?.clone();
        log_vendor_ids(payloads);
        sa.peer_dpd = says_dpd(payloads);
        sa.selected = Some(selected);
        sa.timers
            .set(Timer::HalfOpen, ctx.now + ctx.config.half_open_timeout);
        sa.mm = Some(Box::new(MainMode {
            sai_b: Payload::Sa(offered.clone()).body(),
            transform: Some(transform.clone()),
            ke: None,
            g_xi: Vec::new(),
            g_xr: Vec::new(),
            ni: Vec::new(),
            nr: Vec::new(),
        }));
        let mut out = vec![sa_payload(vec![transform])];
        out.extend(vendor_ids(ctx));
        let datagram = sa.plain(ExchangeType::IDENTITY_PROTECTION, out);
        sa.send_answer(ctx, raw, datagram);
        sa.emit(
            ctx,
            EventKind::IkeSaNegotiating {
                spi_i: sa.cky_i,
                spi_r: cky_r,
            },
        );
        Some(sa)
    }

    fn group_and_hash(&self) -> Option<(DhGroup, Hash, usize)> {
        let t = self.mm.as_ref()?.transform.as_ref()?;
        let group = DhGroup(u16::try_from(attr(t, ike_attr::GROUP_DESCRIPTION)?).ok()?);
        let hash =
            Hash::from_attribute(u16::try_from(attr(t, ike_attr::HASH_ALGORITHM)?).ok()?).ok()?;
        let key_len = attr(t, ike_attr::KEY_LENGTH).map_or(16, |bits| bits as usize / 8);
        Some((group, hash, key_len))
    }

    /// A main mode message for this SA.
    pub(super) fn handle_main_mode(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        match (self.step, &msg.body) {
            (Step::I1, Body::Plain(p)) => self.on_message2(ctx, msg, p),
            (Step::R2, Body::Plain(p)) => self.on_message3(ctx, msg, raw, p),
            (Step::I3, Body::Plain(p)) => self.on_message4(ctx, msg, p),
            (Step::R4, Body::Encrypted(_)) => self.on_message5(ctx, msg, raw),
            (Step::I5, Body::Encrypted(_)) => self.on_message6(ctx, msg),
            _ => ctx.stats.unmatched += 1,
        }
    }

    /// A plain informational during main mode: the responder refused us.
    pub(super) fn handle_plain_notify(&mut self, ctx: &mut Ctx<'_>, payloads: &[Payload]) {
        if self.role != Role::Initiator || self.step != Step::I1 {
            return;
        }
        if notify_of(payloads) == Some(NotifyType::NO_PROPOSAL_CHOSEN) {
            self.close();
            self.emit(
                ctx,
                EventKind::IkeNoProposalChosen {
                    unsupported: false,
                    direction: Direction::Received,
                },
            );
        }
    }

    fn on_message2(&mut self, ctx: &mut Ctx<'_>, msg: &Message, payloads: &[Payload]) {
        let Some(sa) = find_sa(payloads) else { return };
        let Some(t) = sa.proposals.first().and_then(|p| p.transforms.first()) else {
            return;
        };
        let acceptable = phase1_as_proposal(t)
            .and_then(|p| Selected::from_wire(&p))
            .filter(|s| ctx.config.ike.proposals.iter().any(|p| p.allows(s)));
        let Some(selected) = acceptable else {
            self.close();
            self.emit(
                ctx,
                EventKind::IkeSaFailed {
                    notify: ike_wire::NotifyType::NO_PROPOSAL_CHOSEN,
                },
            );
            return;
        };
        self.cky_r = msg.header.cky_r;
        self.clear_pending();
        log_vendor_ids(payloads);
        self.peer_dpd = says_dpd(payloads);
        self.selected = Some(selected);
        if let Some(mm) = self.mm.as_mut() {
            mm.transform = Some(t.clone());
        }
        let Some((group, hash, _)) = self.group_and_hash() else {
            return;
        };
        let ke = match KeyExchange::generate(group) {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!("main mode group {group}: {e}");
                self.close();
                return;
            }
        };
        let ni = ctx.random_bytes(NONCE_LEN);
        let out = vec![
            Payload::Ke(ke.public_value().to_vec()),
            Payload::Nonce(ni.clone()),
            Payload::NatD(nat_d(hash, self.cky_i, self.cky_r, self.remote)),
            Payload::NatD(nat_d(hash, self.cky_i, self.cky_r, self.local)),
        ];
        if let Some(mm) = self.mm.as_mut() {
            mm.g_xi = ke.public_value().to_vec();
            mm.ke = Some(ke);
            mm.ni = ni;
        }
        self.step = Step::I3;
        let datagram = self.plain(ExchangeType::IDENTITY_PROTECTION, out);
        self.send_awaiting(ctx, Awaiting::MainMode, datagram);
    }

    /// RFC 3947 §3.2: the first NAT-D is the hash of the receiver's address, the others of
    /// the sender's possible addresses.
    fn detect_nat(&mut self, hash: Hash, payloads: &[Payload]) {
        let ds = nat_ds(payloads);
        if let Some((first, rest)) = ds.split_first() {
            self.nat.local_behind = **first != nat_d(hash, self.cky_i, self.cky_r, self.local);
            let peer = nat_d(hash, self.cky_i, self.cky_r, self.remote);
            self.nat.peer_behind = !rest.iter().any(|d| **d == peer);
        }
    }

    /// Derives SKEYID and the rest from the DH result and the PSK (RFC 2409 §5).
    fn derive(&mut self, ctx: &mut Ctx<'_>, peer_public: &[u8]) -> Option<()> {
        let (_, hash, key_len) = self.group_and_hash()?;
        let mm = self.mm.as_mut()?;
        let ke = mm.ke.take()?;
        let g_xy = ke.shared_secret(peer_public).ok()?;
        let prf = hash.prf();
        let skeyid = skeyid_psk(&prf, &ctx.config.psk, &mm.ni, &mm.nr);
        let k = phase1_keys(&prf, skeyid.clone(), &g_xy, self.cky_i, self.cky_r, key_len);
        let cbc = Cbc::new(&k.enc_key).ok()?;
        if ctx.config.export_secrets {
            ctx.secrets.push(crate::event::IkeSaSecrets::ikev1(
                self.cky_i,
                self.cky_r,
                k.enc_key.clone(),
            ));
        }
        let iv = phase1_iv(hash, &mm.g_xi, &mm.g_xr, Cbc::BLOCK);
        self.keys = Some(Box::new(P1Keys {
            hash,
            prf,
            skeyid,
            skeyid_d: k.skeyid_d.clone(),
            skeyid_a: k.skeyid_a.clone(),
            cbc,
            iv,
            last_block: Vec::new(),
        }));
        Some(())
    }

    fn on_message3(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8], payloads: &[Payload]) {
        let (Some(ke), Some(ni)) = (find_ke(payloads), find_nonce(payloads)) else {
            return;
        };
        let Some((group, hash, _)) = self.group_and_hash() else {
            return;
        };
        let ours = match KeyExchange::generate(group) {
            Ok(k) => k,
            Err(_) => return,
        };
        let nr = ctx.random_bytes(NONCE_LEN);
        if let Some(mm) = self.mm.as_mut() {
            mm.g_xi = ke.clone();
            mm.g_xr = ours.public_value().to_vec();
            mm.ni = ni.clone();
            mm.nr = nr.clone();
            mm.ke = Some(ours);
        }
        let g_xr = self.mm.as_ref().map(|m| m.g_xr.clone()).unwrap_or_default();
        if self.derive(ctx, ke).is_none() {
            tracing::debug!(cky_i = msg.header.cky_i, "main mode message 3 unusable");
            return;
        }
        self.detect_nat(hash, payloads);
        self.last_heard = ctx.now;
        let out = vec![
            Payload::Ke(g_xr),
            Payload::Nonce(nr),
            Payload::NatD(nat_d(hash, self.cky_i, self.cky_r, self.remote)),
            Payload::NatD(nat_d(hash, self.cky_i, self.cky_r, self.local)),
        ];
        self.step = Step::R4;
        let datagram = self.plain(ExchangeType::IDENTITY_PROTECTION, out);
        self.send_answer(ctx, raw, datagram);
    }

    fn on_message4(&mut self, ctx: &mut Ctx<'_>, _msg: &Message, payloads: &[Payload]) {
        let (Some(ke), Some(nr)) = (find_ke(payloads), find_nonce(payloads)) else {
            return;
        };
        let Some((_, hash, _)) = self.group_and_hash() else {
            return;
        };
        if let Some(mm) = self.mm.as_mut() {
            mm.g_xr = ke.clone();
            mm.nr = nr.clone();
        }
        if self.derive(ctx, ke).is_none() {
            self.close();
            self.emit(
                ctx,
                EventKind::IkeSaFailed {
                    notify: ike_wire::NotifyType::INVALID_SYNTAX,
                },
            );
            return;
        }
        self.clear_pending();
        self.detect_nat(hash, payloads);
        self.last_heard = ctx.now;
        if ctx.config.impair.abandon_after_sa_init {
            // IKEv1's counterpart of abandoning after IKE_SA_INIT: main mode 5 never comes.
            tracing::debug!(
                cky_i = self.cky_i,
                "impair: abandoning the ISAKMP SA after main mode message 4"
            );
            self.close();
            return;
        }
        // RFC 3947 §4: behind or in front of a NAT, message 5 goes from the NAT-T port.
        self.ends().float(ctx.nat_t);
        let (Some(keys), Some(mm)) = (self.keys.as_ref(), self.mm.as_ref()) else {
            return;
        };
        let id = own_id(self.local);
        let h = hash_i(
            &keys.prf,
            &keys.skeyid,
            &mm.g_xi,
            &mm.g_xr,
            self.cky_i,
            self.cky_r,
            &mm.sai_b,
            &id.body(),
        );
        let mut payloads = vec![id, Payload::Hash(h)];
        // A first ISAKMP SA with the peer says so, as strongSwan does (a phase 1 rekey
        // replaces an SA the peer should keep until it is deleted).
        if ctx.config.initial_contact && self.replaces.is_none() {
            payloads.push(Payload::Notification(Notification::initial_contact(
                self.cky_i, self.cky_r,
            )));
        }
        let (datagram, next_iv) = self.encrypted(
            keys,
            ExchangeType::IDENTITY_PROTECTION,
            0,
            &keys.iv,
            &payloads,
        );
        if let Some(keys) = self.keys.as_mut() {
            keys.iv = next_iv;
        }
        self.step = Step::I5;
        self.send_awaiting(ctx, Awaiting::MainMode, datagram);
    }

    /// Message 5: the first encrypted one. With a PSK that differs from ours, the keys
    /// differ and it decrypts to garbage.
    fn on_message5(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let Some(keys) = self.keys.as_ref() else {
            return;
        };
        let verified = Self::decrypt(keys, msg, &keys.iv).and_then(|(payloads, next_iv)| {
            let id = payloads.iter().find(|p| matches!(p, Payload::Id(_)))?;
            let got = payloads.iter().find_map(|p| {
                if let Payload::Hash(h) = p {
                    Some(h)
                } else {
                    None
                }
            })?;
            let mm = self.mm.as_ref()?;
            let expected = hash_i(
                &keys.prf,
                &keys.skeyid,
                &mm.g_xi,
                &mm.g_xr,
                self.cky_i,
                self.cky_r,
                &mm.sai_b,
                &id.body(),
            );
            let initial_contact = payloads.iter().any(
                |p| matches!(p, Payload::Notification(n) if n.ty == NotifyType::INITIAL_CONTACT),
            );
            same_mac(got, &expected).then_some((next_iv, initial_contact))
        });
        let Some((next_iv, initial_contact)) = verified else {
            tracing::debug!(
                cky_i = self.cky_i,
                "main mode message 5 does not decrypt with our PSK"
            );
            self.close();
            self.emit(ctx, EventKind::PayloadDecryptionFailed);
            return;
        };
        // An initiator that moved to its NAT-T port for message 5 takes us along.
        self.ends().move_with_peer(ctx.arrival);
        if initial_contact {
            // Every other SA with this peer is stale: it rebooted (RFC 2407 §4.6.3.3).
            ctx.effects.push(Effect::InitialContact {
                peer: self.remote.ip(),
                from: self.id(),
            });
        }
        let Some(keys) = self.keys.as_ref() else {
            return;
        };
        let Some(mm) = self.mm.as_ref() else { return };
        let id = own_id(self.local);
        let h = hash_r(
            &keys.prf,
            &keys.skeyid,
            &mm.g_xr,
            &mm.g_xi,
            self.cky_r,
            self.cky_i,
            &mm.sai_b,
            &id.body(),
        );
        let (datagram, last) = self.encrypted(
            keys,
            ExchangeType::IDENTITY_PROTECTION,
            0,
            &next_iv,
            &[id, Payload::Hash(h)],
        );
        if let Some(keys) = self.keys.as_mut() {
            keys.iv = last.clone();
            keys.last_block = last;
        }
        self.send_answer(ctx, raw, datagram);
        self.established(ctx);
    }

    fn on_message6(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        let Some(keys) = self.keys.as_ref() else {
            return;
        };
        let verified = Self::decrypt(keys, msg, &keys.iv).and_then(|(payloads, _)| {
            let id = payloads.iter().find(|p| matches!(p, Payload::Id(_)))?;
            let got = payloads.iter().find_map(|p| {
                if let Payload::Hash(h) = p {
                    Some(h)
                } else {
                    None
                }
            })?;
            let mm = self.mm.as_ref()?;
            let expected = hash_r(
                &keys.prf,
                &keys.skeyid,
                &mm.g_xr,
                &mm.g_xi,
                self.cky_r,
                self.cky_i,
                &mm.sai_b,
                &id.body(),
            );
            same_mac(got, &expected).then_some(())
        });
        if verified.is_none() {
            tracing::debug!(cky_i = self.cky_i, "main mode message 6 does not verify");
            self.close();
            self.emit(ctx, EventKind::PayloadDecryptionFailed);
            return;
        }
        let Body::Encrypted(ciphertext) = &msg.body else {
            return;
        };
        let last = ike_crypto::v1::last_block(ciphertext);
        if let Some(keys) = self.keys.as_mut() {
            keys.iv = last.clone();
            keys.last_block = last;
        }
        self.clear_pending();
        self.established(ctx);
        // A phase 1 rekey keeps the IPsec SAs it takes over; a first main mode needs one.
        if self.replaces.is_none() {
            self.start_quick_mode(ctx, None);
        }
    }

    /// The ISAKMP SA is up: its lifetime starts (the shorter of ours and the peer's).
    fn established(&mut self, ctx: &mut Ctx<'_>) {
        self.step = Step::Established;
        self.timers.stop(Timer::HalfOpen);
        self.last_heard = ctx.now;
        let ours = ctx.config.lifetimes.ike;
        let theirs = self
            .mm
            .as_ref()
            .and_then(|m| m.transform.as_ref())
            .and_then(|t| lifetime(t, ike_attr::LIFE_TYPE, ike_attr::LIFE_DURATION))
            .map(|s| Duration::from_secs(s.into()));
        self.lifetime = theirs.map_or(ours, |t| t.min(ours));
        let (rekey_at, expire_at) = ctx.lifetime(self.lifetime);
        self.timers.arm(Timer::RekeyIke, rekey_at);
        self.timers.set(Timer::ExpireIke, expire_at);
        self.mm = None;
        let selected = self.selected.unwrap_or(Selected {
            number: 0,
            encryption: crate::proposal::Cipher::new(ike_wire::EncrId::AES_CBC, None),
            integrity: None,
            prf: None,
            dh: None,
            esn: None,
        });
        if let Some(old) = self.replaces {
            ctx.effects.push(Effect::ReplacePhase1 { old });
            self.emit_with(
                ctx,
                EventKind::IkeSaRekeyed {
                    spi_i: self.cky_i,
                    spi_r: self.cky_r,
                },
                SaState::Established,
                self.phase2(),
            );
        } else {
            self.emit(
                ctx,
                EventKind::IkeSaEstablished {
                    spi_i: self.cky_i,
                    spi_r: self.cky_r,
                    selected,
                },
            );
        }
    }
}
