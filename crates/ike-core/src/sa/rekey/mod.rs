//! CREATE_CHILD_SA (RFC 7296 §1.3): rekeying CHILD SAs (§1.3.3, with optional PFS) and the
//! IKE SA itself (§1.3.2, §2.18), for both roles, including simultaneous rekeys resolved
//! by nonce comparison (§2.8.1).
//!
//! ```text
//! initiator                                   responder
//!  |-- HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr} -->|   CHILD SA rekey
//!  |<-- HDR, SK {SA, Nr, [KEr], TSi, TSr} ---------------|
//!  |-- HDR, SK {D(old SPI)} ---------------------------->|   the initiator deletes the old SA
//!
//!  |-- HDR, SK {SA(new SPIi), Ni, KEi} ----------------->|   IKE SA rekey
//!  |<-- HDR, SK {SA(new SPIr), Nr, KEr} -----------------|
//!  |-- HDR(old SPIs), SK {D} --------------------------->|
//! ```

mod child;
mod create;
mod ike;

use std::time::Duration;

use ike_crypto::{Encryption, IkeSuite, Integrity, Prf};
use ike_wire::PayloadsExt;
use ike_wire::{DhGroup, ExchangeType, Notify, NotifyType, Payload, ProtocolId};

use super::{IkeSa, Keys, State};
use crate::event::EventKind;
use crate::proposal::Selected;
use crate::shell::{Ctx, MessageId};

/// How long to wait at least before retrying an exchange the peer refused with
/// TEMPORARY_FAILURE (up to twice this, at random; strongSwan waits 5–15 s).
const TEMPORARY_FAILURE_WAIT: Duration = Duration::from_secs(5);

/// The DH group a CREATE_CHILD_SA response's INVALID_KE_PAYLOAD asks for (RFC 7296
/// §1.3), if it is one of our ESP proposals' and not tried yet: the request goes again
/// with it.
fn invalid_ke_retry(ctx: &Ctx<'_>, payloads: &[Payload], tried: &[DhGroup]) -> Option<DhGroup> {
    let n = payloads.notify(NotifyType::INVALID_KE_PAYLOAD)?;
    let group = <[u8; 2]>::try_from(n.data.as_slice())
        .map(|b| DhGroup(u16::from_be_bytes(b)))
        .ok()?;
    let ours = ctx
        .config
        .esp
        .proposals
        .iter()
        .any(|p| p.dh.contains(&group));
    (ours && !tried.contains(&group)).then_some(group)
}

/// Why a CREATE_CHILD_SA response refused the CHILD SA, if it did (its first error
/// notify: refused proposals and selectors are the peer's incompatibility, anything else
/// as notified).
fn child_refusal(payloads: &[Payload]) -> Option<crate::event::ChildFailure> {
    use crate::event::{ChildFailure, Direction};
    use crate::failure::PeerIncompatible;
    first_error(payloads).map(|ty| match ty {
        NotifyType::NO_PROPOSAL_CHOSEN => ChildFailure::Incompatible(
            PeerIncompatible::NoProposalChosen { unsupported: false },
            Direction::Received,
        ),
        NotifyType::TS_UNACCEPTABLE => {
            ChildFailure::Incompatible(PeerIncompatible::TsUnacceptable, Direction::Received)
        }
        other => ChildFailure::Notified(other),
    })
}

/// A CREATE_CHILD_SA request's body for a CHILD SA (new, or a rekey once its REKEY_SA
/// notify is put in front): our ESP proposals with `spi_in`, the nonce, the KE payload when
/// PFS is on (its group noted in `tried`, for INVALID_KE_PAYLOAD), and the selectors
/// (RFC 7296 §1.3.1, §1.3.3).
fn child_request_payloads(
    ctx: &Ctx<'_>,
    spi_in: crate::shell::Spi,
    ni: &[u8],
    ke: Option<&ike_crypto::KeyExchange>,
    tried: &mut Vec<DhGroup>,
    (ts_local, ts_remote): (
        Vec<ike_wire::TrafficSelector>,
        Vec<ike_wire::TrafficSelector>,
    ),
) -> Vec<Payload> {
    let spi = spi_in.to_be_bytes().to_vec();
    let proposals = ctx.config.esp.proposals.iter().zip(1u8..);
    let mut payloads = vec![
        Payload::Sa(
            proposals
                .map(|(p, n)| p.to_wire(n, ProtocolId::ESP, spi.clone(), true))
                .collect(),
        ),
        Payload::Nonce(ni.to_vec()),
    ];
    if let Some(ke) = ke {
        payloads.push(Payload::Ke(ike_wire::KeyExchange {
            group: ke.group(),
            data: ke.public_value().to_vec(),
        }));
        tried.push(ke.group());
    }
    payloads.push(Payload::TsI(ts_local));
    payloads.push(Payload::TsR(ts_remote));
    payloads
}

fn first_error(p: &[Payload]) -> Option<NotifyType> {
    p.iter().find_map(|p| match p {
        Payload::Notify(n) if n.ty.is_error() => Some(n.ty),
        _ => None,
    })
}

fn spi32(bytes: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(bytes).ok().map(u32::from_be_bytes)
}

fn spi64(bytes: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_be_bytes)
}

/// The lowest of the nonces of an exchange: the one with the lowest of all four is the
/// redundant one in a collision (§2.8.1).
fn lowest<'a>(a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    a.min(b)
}

fn suite_of(selected: &Selected) -> Result<IkeSuite, ike_crypto::CryptoError> {
    let prf = selected
        .prf
        .ok_or(ike_crypto::CryptoError::Unsupported { what: "PRF", id: 0 })?;
    Ok(IkeSuite {
        encryption: Encryption::new(selected.encryption.id, selected.encryption.key_bits)?,
        integrity: selected.integrity.map(Integrity::new).transpose()?,
        prf: Prf::new(prf)?,
    })
}

impl IkeSa {
    fn established_keys(&self) -> Option<&Keys> {
        match &self.state {
            State::Established(e) => Some(&e.keys),
            _ => None,
        }
    }

    /// The DH group for a CHILD SA rekey with PFS: the old SA's, else the IKE SA's if our
    /// ESP policy allows it, else our first. `None` when we do not do PFS.
    fn pfs_group(&self, ctx: &Ctx<'_>, old: Option<Selected>) -> Option<DhGroup> {
        let groups: Vec<DhGroup> = ctx
            .config
            .esp
            .proposals
            .iter()
            .flat_map(|p| p.dh.iter().copied())
            .collect();
        if groups.is_empty() {
            return None;
        }
        let ike_group = self
            .ike_selected
            .and_then(|s| s.dh)
            .filter(|g| groups.contains(g));
        old.and_then(|s| s.dh)
            .or(ike_group)
            .or(groups.first().copied())
    }

    /// A CREATE_CHILD_SA request from the peer: an IKE SA rekey, a CHILD SA rekey, or a
    /// new CHILD SA.
    pub(super) fn handle_create_child_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        payloads: &[Payload],
    ) {
        let is_ike = payloads
            .sa()
            .is_some_and(|s| s.iter().any(|p| p.protocol == ProtocolId::IKE));
        if is_ike {
            self.answer_ike_rekey(ctx, id, payloads);
        } else {
            self.answer_child_request(ctx, id, payloads);
        }
    }

    fn respond_error(&mut self, ctx: &mut Ctx<'_>, id: MessageId, ty: NotifyType, data: Vec<u8>) {
        self.respond_notify(ctx, id, Notify::new(ty, data));
    }

    fn respond_notify(&mut self, ctx: &mut Ctx<'_>, id: MessageId, notify: Notify) {
        self.send_protected_response(
            ctx,
            ExchangeType::CREATE_CHILD_SA,
            id,
            &[Payload::Notify(notify)],
        );
        self.emit(ctx, EventKind::CreateChildResponseSent { id: id.0 });
    }
}
