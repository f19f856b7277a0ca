//! INFORMATIONAL exchanges (RFC 7296 §1.4): liveness checks, DELETE of CHILD and IKE SAs,
//! and error notifications. Also the refusal of CREATE_CHILD_SA until rekeying lands.

use ike_wire::{Delete, ExchangeType, Message, Notify, NotifyType, Payload, ProtocolId};

use super::{Ctx, IkeSa, InfoPurpose, Purpose};
use crate::event::EventKind;

impl IkeSa {
    /// A request from the peer on an established SA.
    pub(super) fn handle_info_request(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let Some(keys) = self.keys() else { return };
        let Some(payloads) = Self::open(ctx, keys, msg, raw) else {
            return;
        };
        let id = msg.header.message_id;
        let mut delete_ike = false;
        let mut deleted_children = Vec::new();
        for p in &payloads {
            match p {
                Payload::Delete(d) if d.protocol == ProtocolId::IKE => delete_ike = true,
                Payload::Delete(d)
                    if d.protocol == ProtocolId::ESP || d.protocol == ProtocolId::AH =>
                {
                    for spi in &d.spis {
                        let Ok(bytes) = <[u8; 4]>::try_from(spi.as_slice()) else {
                            continue;
                        };
                        deleted_children.push(u32::from_be_bytes(bytes));
                    }
                }
                Payload::Notify(n) if n.ty == NotifyType::AUTHENTICATION_FAILED => {
                    delete_ike = true
                }
                _ => {}
            }
        }
        if delete_ike {
            // The response is empty (§1.4.1); the SA is gone for both sides afterwards.
            self.send_protected_response(ctx, ExchangeType::INFORMATIONAL, id, &[]);
            self.close();
            self.emit(ctx, EventKind::IkeSaDeleteReceived);
            return;
        }
        // The peer names the SPIs it receives with: our outbound SPIs. We answer with the
        // matching inbound ones (§1.4.1).
        let mut ours = Vec::new();
        let mut events = Vec::new();
        for spi in deleted_children {
            if let Some(pos) = self.children.iter().position(|c| c.spi_out == spi) {
                let child = self.children.remove(pos);
                ours.push(child.spi_in.to_be_bytes().to_vec());
                events.push(EventKind::ChildSaDeleteReceived { spi });
            }
        }
        let response = if ours.is_empty() {
            Vec::new()
        } else {
            vec![Payload::Delete(Delete {
                protocol: ProtocolId::ESP,
                spi_size: 4,
                spis: ours,
            })]
        };
        self.send_protected_response(ctx, ExchangeType::INFORMATIONAL, id, &response);
        for e in events {
            self.emit(ctx, e);
        }
    }

    /// The response to an INFORMATIONAL request of ours.
    pub(super) fn handle_info_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        purpose: InfoPurpose,
        msg: &Message,
        raw: &[u8],
    ) {
        let Some(keys) = self.keys() else { return };
        if Self::open(ctx, keys, msg, raw).is_none() {
            return;
        }
        self.pending = None;
        if purpose == InfoPurpose::DeleteIke {
            self.close();
            self.emit(ctx, EventKind::IkeSaDeleted);
        }
    }

    /// Deletes this IKE SA (and with it every CHILD SA, §1.4.1).
    pub(crate) fn delete(&mut self, ctx: &mut Ctx<'_>) {
        let delete = Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: Vec::new(),
        };
        self.pending = None;
        self.send_protected_request(
            ctx,
            ExchangeType::INFORMATIONAL,
            Purpose::Informational(InfoPurpose::DeleteIke),
            &[Payload::Delete(delete)],
        );
    }

    /// CREATE_CHILD_SA is not negotiated yet: refuse with NO_ADDITIONAL_SAS (§1.3).
    pub(super) fn refuse_create_child(&mut self, ctx: &mut Ctx<'_>, msg: &Message, raw: &[u8]) {
        let Some(keys) = self.keys() else { return };
        if Self::open(ctx, keys, msg, raw).is_none() {
            return;
        }
        let n = Notify::new(NotifyType::NO_ADDITIONAL_SAS, Vec::new());
        self.send_protected_response(
            ctx,
            ExchangeType::CREATE_CHILD_SA,
            msg.header.message_id,
            &[Payload::Notify(n)],
        );
    }
}
