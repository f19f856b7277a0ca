//! A [`Cell`]: one connection's hosts, network and observer, driven a step at a time by
//! someone else's clock — an estate (`crate::estate`) steps thousands of them on one
//! accelerated clock, always the one whose next deadline is earliest.
//!
//! A step is one pass of the driver's loop (module documentation, steps 5 then 1–3): apply
//! what is due at `now`, collect the endpoints' output, report the next deadline. Time
//! passes only between steps, so a cell's run is the run `driver::run` would give it on
//! the accelerated clock, whatever the other cells do: cells share nothing but the
//! receive buffer and, where their hosts' addresses say so, sockets (a datagram sent in a
//! step is received in that step, before any other cell runs).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ike_core::Transmit;
use tokio::sync::mpsc;

use super::pace::Accelerated;
use super::receive::Arrivals;
use super::wire::Wire;
use super::{sorted, Host, Net, Observer, Settled, Stall, MAX_DATAGRAM};
use crate::network::Path;
use crate::traffic::Action;

/// What the cells of one loop share: the receive buffer and an (unused) arrivals channel.
pub struct Shared {
    buf: Vec<u8>,
    tx: Arrivals,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            buf: vec![0u8; MAX_DATAGRAM],
            tx: mpsc::unbounded_channel().0,
        }
    }
}

/// One connection run a step at a time on the accelerated clock.
pub struct Cell<O> {
    pub hosts: Vec<Host>,
    pub net: Net,
    pub observer: O,
    path: Path<Transmit>,
    schedule: VecDeque<(Instant, Action)>,
    end: Instant,
    done: bool,
    t0: Instant,
    stall: Stall,
}

impl<O: Observer> Cell<O> {
    /// A cell whose clock starts at `t0` and ends `duration` later.
    pub fn new(
        hosts: Vec<Host>,
        net: Net,
        observer: O,
        t0: Instant,
        duration: Duration,
        schedule: Vec<(Instant, Action)>,
    ) -> Cell<O> {
        Cell {
            hosts,
            net,
            observer,
            path: Path::default(),
            schedule: sorted(schedule),
            end: t0 + duration,
            done: false,
            t0,
            stall: Stall::new(),
        }
    }

    /// The first step, at the clock's origin: collects what the endpoints have to say
    /// before any time passes.
    pub async fn start(
        &mut self,
        t0: Instant,
        shared: &mut Shared,
    ) -> std::io::Result<Option<Instant>> {
        self.step_at(t0, shared, false).await
    }

    /// Brings the cell to `now` (its last answer): applies what is due, collects the
    /// output, and says when it next has something to do — `None` when its run is over.
    pub async fn step(
        &mut self,
        now: Instant,
        shared: &mut Shared,
    ) -> std::io::Result<Option<Instant>> {
        self.step_at(now, shared, true).await
    }

    async fn step_at(
        &mut self,
        now: Instant,
        shared: &mut Shared,
        apply: bool,
    ) -> std::io::Result<Option<Instant>> {
        if self.done {
            return Ok(None);
        }
        self.stall.pass(now, self.t0)?;
        let mut wire = Wire {
            hosts: &mut self.hosts,
            net: &mut self.net,
            pace: Accelerated,
            observer: &mut self.observer,
            tx: &shared.tx,
            path: &mut self.path,
            in_flight: 0,
            buf: &mut shared.buf,
        };
        if apply {
            wire.apply_due(now, &mut self.schedule).await?;
        }
        let next = match wire.settle(now) {
            Settled::Continue(at) => wire.next_deadline(&self.schedule, at),
            Settled::Stopped => {
                wire.send_due(now).await?;
                None
            }
        };
        // As `driver::run`: nothing left, or the next thing past the end.
        let next = next.filter(|t| *t <= self.end);
        self.done = next.is_none();
        Ok(next)
    }
}
