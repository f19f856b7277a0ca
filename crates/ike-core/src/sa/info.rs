//! INFORMATIONAL requests from the peer (RFC 7296 §1.4): liveness checks, DELETE of CHILD
//! and IKE SAs (including a DELETE that crosses our rekey of the same SA, §2.25.1), and
//! error notifications.

use ike_wire::{Delete, ExchangeType, NotifyType, Payload, ProtocolId};

use super::{IkeSa, Purpose};
use crate::event::{DropReason, EventKind};
use crate::shell::{Ctx, Effect, MessageId, Spi};

impl IkeSa {
    /// An INFORMATIONAL request from the peer on an established SA (already decrypted).
    pub(super) fn handle_info_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        payloads: &[Payload],
    ) {
        let mut delete_ike = false;
        let mut deleted_children = Vec::new();
        for p in payloads {
            match p {
                Payload::Delete(d) if d.protocol == ProtocolId::IKE => delete_ike = true,
                Payload::Delete(d)
                    if d.protocol == ProtocolId::ESP || d.protocol == ProtocolId::AH =>
                {
                    for spi in &d.spis {
                        let Ok(bytes) = <[u8; 4]>::try_from(spi.as_slice()) else {
                            ctx.drop_message(
                                DropReason::Unusable,
                                "DELETE with an ESP SPI not 4 bytes",
                            );
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
            if let Some(peer) = self.ike_rekey_collision.take() {
                // We answered the peer's IKE rekey while ours was in flight and kept the
                // CHILD SAs here until the nonces would decide; the peer deleting this SA
                // decides instead: its new SA stands, ours is forgotten (§2.25.2).
                ctx.effects.push(Effect::Adopt {
                    to: peer.new_sa,
                    children: std::mem::take(&mut self.children),
                });
            }
            self.close();
            self.emit(ctx, EventKind::IkeSaDeleteReceived);
            return;
        }
        // The peer names the SPIs it receives with: our outbound SPIs. We answer with the
        // matching inbound ones (§1.4.1).
        let rekeying = match self.pending.as_ref().map(|p| &p.purpose) {
            Some(Purpose::RekeyChild(r)) => Some(r.old_spi_in),
            _ => None,
        };
        let mut ours = Vec::new();
        let mut events = Vec::new();
        for spi in deleted_children {
            let Some(pos) = self.children.iter().position(|c| c.spi_out == Spi(spi)) else {
                continue;
            };
            let child = self.children.remove(pos);
            ours.push(child.spi_in.to_be_bytes().to_vec());
            if rekeying == Some(child.spi_in) {
                events.push(EventKind::ChildRekeyCollisionDelete { spi });
            } else {
                events.push(EventKind::ChildSaDeleteReceived { spi });
                // An SA a rekey replaced has its heir; any other leaves its pair without.
                if !child.is_deleting() {
                    self.peer_deleted_child(ctx, &child.ts_local, &child.ts_remote);
                }
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
}
