//! Several IPsec SAs with their own selectors on one ISAKMP SA (a quick mode per pair, RFC
//! 2409 §5.5), IKEv1's side of a policy-based CGW: the trap policy that negotiates a pair
//! anew after the peer deleted its SA (`CloseAction::Trap`), and a responder's one-pair
//! limit (`NewChildSa`). IKEv2's is `sa::rekey::create`.

use ike_wire::TrafficSelector;

use super::Phase1Sa;
use crate::config::{CloseAction, NewChildSa};
use crate::shell::timer::Timer;
use crate::shell::{Ctx, Spi};
use crate::ts;

impl Phase1Sa {
    /// Whether the one-pair policy refuses a quick mode for these selectors (ours `tsr`,
    /// the peer's `tsi`): `NewChildSa::Refuse`, an IPsec SA is up, and none has them (a
    /// quick mode for the selectors of a live SA replaces it: a rekey).
    pub(super) fn one_pair_refuses(
        &self,
        ctx: &Ctx<'_>,
        tsi: &TrafficSelector,
        tsr: &TrafficSelector,
    ) -> bool {
        let live = || self.children.iter().filter(|c| !c.is_deleting());
        ctx.config.new_child_sa == NewChildSa::Refuse
            && live().next().is_some()
            && !live().any(|c| {
                c.ts_local.as_slice() == [tsr.clone()] && c.ts_remote.as_slice() == [tsi.clone()]
            })
    }

    /// One SA pair per tunnel, the newest wins (`NewChildSa::ReplaceOthers`): every other
    /// live IPsec SA is deleted now that `kept` is up.
    pub(super) fn delete_other_children(&mut self, ctx: &mut Ctx<'_>, kept: Spi) {
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

    /// The peer deleted an IPsec SA with these selectors (ours first): with a trap policy
    /// and traffic flowing, its configured pair is negotiated anew when its next packet
    /// comes.
    pub(super) fn trap_pair_of(
        &mut self,
        ctx: &Ctx<'_>,
        ts_local: &[TrafficSelector],
        ts_remote: &[TrafficSelector],
    ) {
        let found = ctx.config.ts_pairs().position(|(local, remote)| {
            ts::all_within(ts_local, local) && ts::all_within(ts_remote, remote)
        });
        let (Some(i), CloseAction::Trap { after }) = (found, ctx.config.close_action) else {
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

    /// The data plane has a packet for the selector pair `i` that no IPsec SA takes (the
    /// kernel's acquire, `Endpoint::acquire`): a trap policy starts its quick mode now,
    /// unless the pair is up or a quick mode is under way or queued. Whether it started.
    pub(crate) fn acquire(&mut self, ctx: &mut Ctx<'_>, i: usize) -> bool {
        let Some((local, remote)) = ctx.config.ts_pairs().nth(i) else {
            return false;
        };
        if !self.is_established()
            || !self.quick.is_empty()
            || !self.queued_quick.is_empty()
            || self.pair_is_up(local, remote)
        {
            return false;
        }
        self.start_quick_mode(ctx, None, i);
        true
    }

    fn pair_is_up(&self, local: &[TrafficSelector], remote: &[TrafficSelector]) -> bool {
        self.children.iter().any(|c| {
            !c.is_deleting()
                && ts::all_within(&c.ts_local, local)
                && ts::all_within(&c.ts_remote, remote)
        })
    }

    pub(crate) fn arm_reacquire(&mut self) {
        let next = self.reacquire.iter().map(|&(at, _)| at).min();
        self.timers.arm(Timer::Reacquire, next);
    }

    /// `Timer::Reacquire`: the trap policy caught traffic for the pairs that are due; a
    /// pair with an IPsec SA again (or whose traffic stopped) needs nothing.
    pub(super) fn reacquire(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let (due, later): (Vec<_>, Vec<_>) = self.reacquire.iter().partition(|&&(at, _)| at <= now);
        self.reacquire = later;
        self.arm_reacquire();
        if !self.traffic || !self.is_established() {
            return;
        }
        for (_, i) in due {
            let Some((local, remote)) = ctx.config.ts_pairs().nth(i) else {
                continue;
            };
            if !self.pair_is_up(local, remote) {
                self.start_quick_mode(ctx, None, i);
            }
        }
    }
}
