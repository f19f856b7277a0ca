//! New CHILD SAs on an established IKE SA (RFC 7296 §1.3.1): the CREATE_CHILD_SA without
//! REKEY_SA that a policy-based initiator sends for each further selector pair, the trap
//! policy that negotiates a pair anew after the peer deleted it (`CloseAction::Trap`), and
//! a responder's one-pair limit (`NewChildSa::ReplaceOthers`).
//!
//! ```text
//! CGW (policy-based)                               AWS (one SA pair per tunnel)
//!  |-- IKE_AUTH {…, SA, TSi=A, TSr=X} ------------->|   pair 1 with the IKE SA
//!  |<-- IKE_AUTH {…, SA, TSi=A, TSr=X} -------------|
//!  |-- CREATE_CHILD_SA {SA, Ni, KEi, TSi=B, TSr=Y} >|   pair 2 (§1.3.1)
//!  |<-- CREATE_CHILD_SA {SA, Nr, KEr, TSi=B, TSr=Y} |
//!  |<-- INFORMATIONAL {D(pair 1's SPI)} ------------|   the newest wins
//!  |-- INFORMATIONAL {D(pair 1's SPI)} ------------>|
//!  :      trap policy: pair 1's next packet          :
//!  |-- CREATE_CHILD_SA {…, TSi=A, TSr=X} ---------->|   and round it goes
//! ```

use ike_crypto::KeyExchange;
use ike_wire::{DhGroup, ExchangeType, Payload};

use super::{child_refusal, child_request_payloads, invalid_ke_retry, IkeSa};
use crate::child::ChildSa;
use crate::config::{CloseAction, EndpointConfig, TsPair};
use crate::event::EventKind;
use crate::sa::{ChildCreate, Purpose};
use crate::shell::timer::{ChildTimer, Timer};
use crate::shell::{Ctx, MessageId, Spi};
use crate::ts;

/// The configured selector pair `i`: 0 is `local_ts`/`remote_ts` (negotiated with
/// IKE_AUTH), then `more_children`.
fn pair(config: &EndpointConfig, i: usize) -> Option<TsPair> {
    match i {
        0 => Some(TsPair {
            local: config.local_ts.clone(),
            remote: config.remote_ts.clone(),
        }),
        _ => config.more_children.get(i - 1).cloned(),
    }
}

impl IkeSa {
    /// After IKE_AUTH: one CREATE_CHILD_SA for each further selector pair (they queue
    /// behind one another, the window being one request, §2.3).
    pub(in crate::sa) fn create_more_children(&mut self, ctx: &mut Ctx<'_>) {
        for i in 1..=ctx.config.more_children.len() {
            self.send_child_create(ctx, i, None, Vec::new());
        }
    }

    /// Sends (or queues) a CREATE_CHILD_SA for the selector pair `i`, with PFS if our ESP
    /// policy has a DH group (`group`: the one to use; `None`: `pfs_group`'s choice).
    pub(super) fn send_child_create(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        group: Option<DhGroup>,
        mut tried: Vec<DhGroup>,
    ) {
        let Some(TsPair { local, remote }) = pair(ctx.config, i) else {
            return;
        };
        let group = group.or_else(|| self.pfs_group(ctx, None));
        let ke = match group.map(KeyExchange::generate).transpose() {
            Ok(ke) => ke,
            Err(e) => {
                tracing::warn!("cannot create a CHILD SA with PFS group {group:?}: {e}");
                return;
            }
        };
        let spi_in = ctx.esp_spi();
        let ni = ctx.random_bytes(32);
        let payloads =
            child_request_payloads(ctx, spi_in, &ni, ke.as_ref(), &mut tried, (local, remote));
        // Phase 2 shows negotiating while the exchange is under way (nothing else may be
        // up: a CHILD SA recreated after CHILD_SA_NOT_FOUND, a trap policy's pair).
        crate::shell::push_exact(&mut self.children, ChildSa::negotiating(spi_in));
        let create = ChildCreate {
            spi_in,
            ni,
            ke,
            tried_groups: tried,
            pair: i,
        };
        self.request(
            ctx,
            ExchangeType::CREATE_CHILD_SA,
            Purpose::CreateChild(Box::new(create)),
            payloads,
        );
    }

    /// The responder's answer to our new CHILD SA.
    pub(in crate::sa) fn handle_child_create_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: MessageId,
        c: ChildCreate,
        payloads: &[Payload],
    ) {
        self.emit(ctx, EventKind::CreateChildResponseProcessed { id: id.0 });
        if let Some(group) = invalid_ke_retry(ctx, payloads, &c.tried_groups) {
            self.send_child_create(ctx, c.pair, Some(group), c.tried_groups);
            return;
        }
        // The placeholder goes; `complete_child` installs the CHILD SA itself.
        self.children.retain(|x| x.spi_in != c.spi_in);
        let failure = child_refusal(payloads);
        let offered = pair(ctx.config, c.pair).map(|p| (p.local, p.remote));
        let outcome = match failure {
            Some(f) => Err(f),
            None => self.complete_child(c.spi_in, &c.ni, c.ke, offered, payloads),
        };
        match outcome {
            Ok((selected, spi_out)) => {
                let (rekey_at, expire_at) = ctx.lifetime(ctx.config.lifetimes.child);
                if let Some(child) = self.children.iter_mut().find(|x| x.spi_in == c.spi_in) {
                    child.timers.arm(ChildTimer::Rekey, rekey_at);
                    child.timers.set(ChildTimer::Expire, expire_at);
                }
                self.emit(
                    ctx,
                    EventKind::ChildSaEstablished {
                        spi_in: c.spi_in.0,
                        spi_out,
                        selected,
                    },
                );
            }
            Err(failure) => {
                self.emit(ctx, EventKind::ChildSaFailed { failure });
                // The pair still has no SA: its next packet hits the trap policy again.
                self.trap(ctx, c.pair);
            }
        }
    }

    /// One SA pair per tunnel, the newest wins (`NewChildSa::ReplaceOthers`): every other
    /// live CHILD SA is deleted (§1.4.1) now that `kept` is up.
    pub(in crate::sa) fn delete_other_children(&mut self, ctx: &mut Ctx<'_>, kept: Spi) {
        let others: Vec<Spi> = self
            .children
            .iter()
            .filter(|c| c.spi_in != kept && !c.is_deleting())
            .map(|c| c.spi_in)
            .collect();
        for spi_in in others {
            self.delete_child(ctx, spi_in);
        }
    }

    /// The peer deleted a CHILD SA with these selectors (ours first): with a trap policy
    /// (`CloseAction::Trap`) and traffic flowing, the configured pair it belonged to is
    /// negotiated anew when its next packet comes.
    pub(in crate::sa) fn peer_deleted_child(
        &mut self,
        ctx: &Ctx<'_>,
        ts_local: &[ike_wire::TrafficSelector],
        ts_remote: &[ike_wire::TrafficSelector],
    ) {
        let found = ctx.config.ts_pairs().position(|(local, remote)| {
            ts::all_within(ts_local, local) && ts::all_within(ts_remote, remote)
        });
        if let Some(i) = found {
            self.trap(ctx, i);
        }
    }

    /// Sets the trap for each configured pair that has no live CHILD SA.
    pub(in crate::sa) fn trap_missing_pairs(&mut self, ctx: &Ctx<'_>) {
        let missing: Vec<usize> = ctx
            .config
            .ts_pairs()
            .enumerate()
            .filter(|(_, (local, remote))| {
                !self.children.iter().any(|c| {
                    !c.is_deleting()
                        && ts::all_within(&c.ts_local, local)
                        && ts::all_within(&c.ts_remote, remote)
                })
            })
            .map(|(i, _)| i)
            .collect();
        for i in missing {
            self.trap(ctx, i);
        }
    }

    /// The selector pair `i` has no CHILD SA: with a trap policy and traffic flowing, its
    /// next packet (`CloseAction::Trap`'s `after` from now) negotiates one.
    fn trap(&mut self, ctx: &Ctx<'_>, i: usize) {
        let CloseAction::Trap { after } = ctx.config.close_action else {
            return;
        };
        if !self.traffic {
            return;
        }
        if !self.reacquire.iter().any(|&(_, j)| j == i) {
            self.reacquire.push((ctx.now + after, i));
        }
        self.arm_reacquire();
    }

    /// The data plane has a packet for the selector pair `i` that no CHILD SA takes (the
    /// kernel's acquire, `Endpoint::acquire`): a trap policy negotiates the pair now,
    /// unless it is up or a CHILD SA is being negotiated (the acquire waits for that one,
    /// as strongSwan's trap manager ignores acquires for a pending SA). Whether it started.
    pub(crate) fn acquire(&mut self, ctx: &mut Ctx<'_>, i: usize) -> bool {
        let Some(p) = pair(ctx.config, i) else {
            return false;
        };
        if !self.is_established()
            || self
                .children
                .iter()
                .any(|c| c.state == crate::child::ChildState::Negotiating)
            || self.pair_is_up(&p)
        {
            return false;
        }
        self.send_child_create(ctx, i, None, Vec::new());
        true
    }

    fn pair_is_up(&self, p: &TsPair) -> bool {
        self.children.iter().any(|c| {
            !c.is_deleting()
                && ts::all_within(&c.ts_local, &p.local)
                && ts::all_within(&c.ts_remote, &p.remote)
        })
    }

    pub(in crate::sa) fn arm_reacquire(&mut self) {
        let next = self.reacquire.iter().map(|&(at, _)| at).min();
        self.timers.arm(Timer::Reacquire, next);
    }

    /// `Timer::Reacquire`: the trap policy caught traffic for the pairs that are due. A
    /// pair that has a CHILD SA again (or whose traffic stopped) needs nothing.
    pub(in crate::sa) fn reacquire(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let (due, later): (Vec<_>, Vec<_>) = self.reacquire.iter().partition(|&&(at, _)| at <= now);
        self.reacquire = later;
        self.arm_reacquire();
        if !self.traffic || !self.is_established() {
            return;
        }
        for (_, i) in due {
            let Some(p) = pair(ctx.config, i) else {
                continue;
            };
            if !self.pair_is_up(&p) {
                self.send_child_create(ctx, i, None, Vec::new());
            }
        }
    }
}
