//! The payloads main mode builds and looks for (RFC 2409 §5, RFC 3947, RFC 3706).

use std::net::SocketAddr;

use ike_wire::v1::{doi, id_type, protocol, Id, NotifyType, Payload, Proposal, Sa, Transform};

use super::{DPD_VENDOR_ID, NAT_T_VENDOR_ID};
use crate::shell::Ctx;

pub(super) fn vendor_ids(ctx: &Ctx<'_>) -> Vec<Payload> {
    let dpd =
        (!ctx.config.impair.no_dpd_vendor_id).then(|| Payload::VendorId(DPD_VENDOR_ID.to_vec()));
    dpd.into_iter()
        .chain([Payload::VendorId(NAT_T_VENDOR_ID.to_vec())])
        .collect()
}

pub(super) fn sa_payload(transforms: Vec<Transform>) -> Payload {
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

pub(super) fn own_id(addr: SocketAddr) -> Payload {
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

pub(super) fn find_sa(p: &[Payload]) -> Option<&Sa> {
    p.iter().find_map(|p| {
        if let Payload::Sa(s) = p {
            Some(s)
        } else {
            None
        }
    })
}

pub(super) fn find_ke(p: &[Payload]) -> Option<&Vec<u8>> {
    p.iter().find_map(|p| {
        if let Payload::Ke(k) = p {
            Some(k)
        } else {
            None
        }
    })
}

pub(super) fn find_nonce(p: &[Payload]) -> Option<&Vec<u8>> {
    p.iter().find_map(|p| {
        if let Payload::Nonce(n) = p {
            Some(n)
        } else {
            None
        }
    })
}

pub(super) fn nat_ds(p: &[Payload]) -> Vec<&Vec<u8>> {
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
pub(super) fn log_vendor_ids(p: &[Payload]) {
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

pub(super) fn says_dpd(p: &[Payload]) -> bool {
    p.iter()
        .any(|p| matches!(p, Payload::VendorId(v) if v.as_slice() == DPD_VENDOR_ID))
}

pub(super) fn notify_of(p: &[Payload]) -> Option<NotifyType> {
    p.iter().find_map(|p| {
        if let Payload::Notification(n) = p {
            Some(n.ty)
        } else {
            None
        }
    })
}
