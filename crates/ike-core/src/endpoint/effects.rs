//! How the endpoint applies the cross-SA effects its SAs ask for (`shell::effect`).

use std::time::Instant;

use super::sas::Sa;
use super::Endpoint;
use crate::event::IkeVersion;
use crate::shell::Effect;

impl Endpoint {
    /// Applies one effect an SA asked for.
    pub(super) fn apply(&mut self, now: Instant, effect: Effect) {
        // An effect may change any SA: the next event's changes look at all of them.
        self.sas.mark_all_dirty();
        match effect {
            Effect::Adopt { to, children } => {
                let heir = self.sas.iter_mut().find_map(|e| match &mut e.sa {
                    Sa::V2(sa) if sa.id() == to => Some(sa),
                    _ => None,
                });
                match heir {
                    Some(sa) => sa.children.extend(children),
                    None => tracing::debug!(
                        "no IKE SA {:016x}_i {:016x}_r to adopt CHILD SAs",
                        to.spi_i,
                        to.spi_r
                    ),
                }
            }
            Effect::Orphans(mut children) => {
                let heir = self.sas.iter_mut().rev().find_map(|e| match &mut e.sa {
                    Sa::V1(sa) if sa.is_established() => Some(sa),
                    _ => None,
                });
                if let Some(heir) = heir {
                    heir.children.append(&mut children);
                }
            }
            Effect::Spawn(sa) => self.spawn(Sa::V2(*sa)),
            Effect::InitialContact { peer, from } => {
                // Forget the stale SAs (either IKE version) without a word to the peer,
                // which no longer knows them. Only established ones, as strongSwan does: a
                // half-open SA was never authenticated and times out on its own (and says
                // so).
                for e in self.sas.iter_mut() {
                    let sa = &mut e.sa;
                    if sa.remote().ip() == peer && sa.id() != from && sa.is_established() {
                        match sa {
                            Sa::V2(sa) => tracing::debug!(
                                spi_i = sa.spi_i,
                                "INITIAL_CONTACT: dropping a stale IKE SA"
                            ),
                            Sa::V1(sa) => tracing::debug!(
                                cky_i = sa.cky_i,
                                "INITIAL-CONTACT: dropping a stale ISAKMP SA"
                            ),
                        }
                        sa.close();
                    }
                }
            }
            Effect::ReplacePhase1 { old } => {
                // The new ISAKMP SA takes over the IPsec SAs; the old one is deleted.
                let is_old = |sa: &Sa| matches!(sa, Sa::V1(_)) && sa.id() == old;
                let Some(handle) = self.sas.iter().find(|e| is_old(&e.sa)).map(|e| e.handle) else {
                    return;
                };
                let Some(old_sa) = self.sas.get_mut(handle) else {
                    return;
                };
                let children = std::mem::take(old_sa.children_mut());
                // So do the trap policies of pairs without an IPsec SA (`CloseAction::Trap`).
                let traps = match old_sa {
                    Sa::V1(sa) => std::mem::take(&mut sa.reacquire),
                    Sa::V2(_) => Vec::new(),
                };
                let new = self.sas.iter_mut().find_map(|e| match &mut e.sa {
                    Sa::V1(sa) if sa.replaces == Some(old) => Some(sa),
                    _ => None,
                });
                if let Some(new) = new {
                    new.children.extend(children);
                    new.reacquire.extend(traps);
                    new.arm_reacquire();
                }
                self.with_sa(now, handle, |ctx, sa| sa.delete(ctx));
            }
            Effect::RekeyPhase1 { local, remote, old } => {
                self.start(now, local, remote, IkeVersion::V1, Some(old));
            }
            Effect::Restart {
                local,
                remote,
                version,
            } => self.start(now, local, remote, version, None),
        }
    }
}
