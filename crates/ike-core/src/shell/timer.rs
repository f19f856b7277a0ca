//! An SA's timers in quinn-proto's shape: one enum naming them, a small table indexed by
//! it, the next deadline its minimum, and one walk (`handle_timeout`) that fires what is
//! due in a fixed order, shared by both IKE versions. Each version says only what firing
//! a timer does (`Timed`).

use std::time::Instant;

use crate::child::ChildSa;
use crate::config::EndpointConfig;
use crate::shell::{Ctx, IkeSaId, Spi};
use crate::trace::TimerKind;

/// An IKE SA's timers, in the order simultaneous ones fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Resend the outstanding request or give up on it (RFC 7296 §2.1, §2.4).
    Retransmit = 0,
    /// A responder's IKE SA still not authenticated: forget it.
    HalfOpen = 1,
    /// The IKE SA's lifetime is over: delete it (§2.8).
    ExpireIke = 2,
    /// Rekey the IKE SA before its lifetime is over (§2.8).
    RekeyIke = 3,
    /// Check that the peer is alive (§2.4, RFC 3706). DPD is on demand: its instant follows
    /// from when we last heard the peer and whether its traffic flows (`Timed::dpd_at`),
    /// so it is never armed in the table.
    Dpd = 4,
    /// A trap policy's next packet for a CHILD SA the peer deleted: negotiate it anew
    /// (`CloseAction::Trap`).
    Reacquire = 5,
}

impl Timer {
    pub const VALUES: [Timer; 6] = [
        Timer::Retransmit,
        Timer::HalfOpen,
        Timer::ExpireIke,
        Timer::RekeyIke,
        Timer::Dpd,
        Timer::Reacquire,
    ];

    /// Whether the timer still runs on an SA that was replaced or is being deleted (which
    /// waits only for its last exchange to end).
    fn runs_when_superseded(self) -> bool {
        matches!(self, Timer::Retransmit | Timer::HalfOpen)
    }
}

impl From<Timer> for TimerKind {
    fn from(t: Timer) -> TimerKind {
        match t {
            Timer::Retransmit => TimerKind::Retransmit,
            Timer::HalfOpen => TimerKind::HalfOpen,
            Timer::ExpireIke => TimerKind::ExpireIke,
            Timer::RekeyIke => TimerKind::RekeyIke,
            Timer::Dpd => TimerKind::Dpd,
            Timer::Reacquire => TimerKind::Reacquire,
        }
    }
}

/// A CHILD SA's timers (RFC 7296 §2.8): when both are due, expiry wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChildTimer {
    Expire = 0,
    Rekey = 1,
}

/// When each timer of kind `T` fires, if it is armed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerTable<T, const N: usize> {
    data: [Option<Instant>; N],
    kind: std::marker::PhantomData<T>,
}

impl<T, const N: usize> Default for TimerTable<T, N> {
    fn default() -> Self {
        TimerTable {
            data: [None; N],
            kind: std::marker::PhantomData,
        }
    }
}

impl<T: Into<usize>, const N: usize> TimerTable<T, N> {
    pub fn set(&mut self, timer: T, time: Instant) {
        self.data[timer.into()] = Some(time);
    }

    /// Arms `timer` at `time`, or stops it for `None`.
    pub fn arm(&mut self, timer: T, time: Option<Instant>) {
        self.data[timer.into()] = time;
    }

    pub fn stop(&mut self, timer: T) {
        self.data[timer.into()] = None;
    }

    pub fn get(&self, timer: T) -> Option<Instant> {
        self.data[timer.into()]
    }

    pub fn is_expired(&self, timer: T, now: Instant) -> bool {
        self.get(timer).is_some_and(|t| t <= now)
    }

    pub fn next_timeout(&self) -> Option<Instant> {
        self.data.iter().flatten().min().copied()
    }
}

impl From<Timer> for usize {
    fn from(t: Timer) -> usize {
        t as usize
    }
}

impl From<ChildTimer> for TimerKind {
    fn from(t: ChildTimer) -> TimerKind {
        match t {
            ChildTimer::Expire => TimerKind::ExpireChild,
            ChildTimer::Rekey => TimerKind::RekeyChild,
        }
    }
}

impl From<ChildTimer> for usize {
    fn from(t: ChildTimer) -> usize {
        t as usize
    }
}

/// An IKE SA's timers (the `Dpd` slot stays empty, see `Timer::Dpd`).
pub(crate) type IkeTimers = TimerTable<Timer, 6>;
/// A CHILD SA's timers.
pub(crate) type ChildTimers = TimerTable<ChildTimer, 2>;

/// What the shared timer walk needs of an SA; firing a timer is the version's business.
pub(crate) trait Timed {
    fn timers(&self) -> &IkeTimers;
    /// The SA's SPIs (IKEv1: cookies), for the trace.
    fn sa_id(&self) -> IkeSaId;
    /// When on-demand DPD wants to probe now (see `timing::dpd_at`).
    fn dpd_at(&self, config: &EndpointConfig) -> Option<Instant>;
    fn children(&self) -> &[ChildSa];
    fn is_closed(&self) -> bool;
    /// Replaced by a rekey or being deleted.
    fn is_superseded(&self) -> bool;
    /// Whether this CHILD SA's timers run now (not while it is being replaced).
    fn child_timers_run(&self, child: &ChildSa) -> bool {
        !child.is_deleting()
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer);
    fn on_child_timer(&mut self, ctx: &mut Ctx<'_>, spi_in: Spi, timer: ChildTimer);
}

fn timer_at<S: Timed>(sa: &S, timer: Timer, config: &EndpointConfig) -> Option<Instant> {
    match timer {
        Timer::Dpd => sa.dpd_at(config),
        armed => sa.timers().get(armed),
    }
}

/// The earliest instant the SA wants to be woken up: the minimum of its own timers and its
/// live CHILD SAs'.
pub(crate) fn deadline<S: Timed>(sa: &S, config: &EndpointConfig) -> Option<Instant> {
    let own = sa.timers().next_timeout().into_iter();
    let children = sa
        .children()
        .iter()
        .filter(|c| !c.is_deleting())
        .filter_map(|c| c.timers.next_timeout());
    own.chain(sa.dpd_at(config)).chain(children).min()
}

/// Fires what is due at `ctx.now`, in `Timer::VALUES` order, the CHILD SAs' timers just
/// before DPD. A closed SA stops the walk; a superseded one runs only the timers that
/// finish its last exchange.
pub(crate) fn handle_timeout<S: Timed>(sa: &mut S, ctx: &mut Ctx<'_>) {
    let now = ctx.now;
    for timer in Timer::VALUES {
        if timer == Timer::Dpd {
            let due: Vec<(Spi, ChildTimer)> = sa
                .children()
                .iter()
                .filter(|c| sa.child_timers_run(c))
                .filter_map(|c| {
                    [ChildTimer::Expire, ChildTimer::Rekey]
                        .into_iter()
                        .find(|&t| c.timers.is_expired(t, now))
                        .map(|t| (c.spi_in, t))
                })
                .collect();
            for (spi_in, t) in due {
                ctx.trace_timer(t.into(), sa.sa_id(), Some(spi_in));
                sa.on_child_timer(ctx, spi_in, t);
            }
        }
        if sa.is_closed() || (sa.is_superseded() && !timer.runs_when_superseded()) {
            return;
        }
        if timer_at(sa, timer, ctx.config).is_some_and(|t| t <= now) {
            ctx.trace_timer(timer.into(), sa.sa_id(), None);
            sa.on_timer(ctx, timer);
        }
    }
}
