//! How time passes for the driver: the one thing that differs between the accelerated
//! driver and the real-time one. The delivery code asks its [`Pace`] and never which
//! clock it runs on.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::receive::{receive, spawn_receiver, Arrival, Arrivals, SocketQueue};
use super::wire::Inbox;

/// A datagram the loop took from a receive queue: the socket, the source, the bytes.
pub(crate) type Taken = (Inbox, SocketAddr, Vec<u8>);

/// How many datagrams the loop handles in one turn before it looks at its timers again.
/// A flood fills the receive queues faster than the endpoints answer; taking a batch at a
/// time keeps retransmits, DPD and half-open expiry on time (they run between batches),
/// while the per-turn cost (next deadline, the observer's check) is paid once per batch
/// rather than once per datagram.
pub(crate) const BATCH: usize = 64;

/// What [`Pace::advance`] found.
pub(crate) enum Advance {
    /// Time is now this: apply what is due.
    To(Instant),
    /// Datagrams arrived (real time) at this time, at most [`BATCH`], in the order they were
    /// read; none: the receive tasks are gone. Handle them, then look again before applying
    /// anything else.
    Arrived(Instant, Vec<Taken>),
    /// A signal (Ctrl-C, SIGTERM) arrived, at this time; it is reported once.
    Signal(Instant, &'static str),
    /// The run is over.
    End,
}

/// Whether a datagram sent to one of our sockets has been received.
pub(crate) enum PickUp {
    /// Received now (`None`: lost on loopback, after a grace).
    Now(Option<(usize, SocketAddr)>),
    /// The socket's receive task will report it ([`Advance::Arrived`]).
    Later,
}

/// Accelerated or wall-clock time (DESIGN.md, "Sans-IO core").
pub(crate) trait Pace {
    /// Starts the receive task a socket needs, if this pace has receive tasks.
    fn listen(
        &self,
        socket: &Arc<UdpSocket>,
        inbox: Inbox,
        tx: &Arrivals,
    ) -> Option<JoinHandle<()>>;

    /// A datagram was just sent to `socket`: receive it now, or leave it to its task.
    async fn pick_up(&self, socket: &UdpSocket, buf: &mut [u8]) -> std::io::Result<PickUp>;

    /// Lets time pass from `now` to `next` (the earliest deadline; `None`: none), never past
    /// `end`; `in_flight` datagrams are still to be reported by receive tasks.
    async fn advance(
        &mut self,
        now: Instant,
        next: Option<Instant>,
        end: Option<Instant>,
        in_flight: usize,
        arrivals: &mut UnboundedReceiver<Arrival>,
    ) -> Advance;

    /// Datagrams of a batch the loop did not handle because a deadline came due: they are
    /// the first of the next batch.
    fn put_back(&mut self, _rest: Vec<Taken>) {}

    /// What each receive queue went through, by socket (none without receive tasks).
    fn receive_queues(&self) -> Vec<(Inbox, super::ReceiveQueue)> {
        Vec::new()
    }
}

/// Virtual time that jumps to the next deadline: every datagram sent is received at once
/// (nothing else runs meanwhile), so when the driver asks for time to pass nothing is in
/// flight — days of a tunnel run in well under a second.
pub(crate) struct Accelerated;

impl Pace for Accelerated {
    fn listen(&self, _: &Arc<UdpSocket>, _: Inbox, _: &Arrivals) -> Option<JoinHandle<()>> {
        None
    }

    async fn pick_up(&self, socket: &UdpSocket, buf: &mut [u8]) -> std::io::Result<PickUp> {
        receive(socket, buf).await.map(PickUp::Now)
    }

    async fn advance(
        &mut self,
        now: Instant,
        next: Option<Instant>,
        _end: Option<Instant>,
        _in_flight: usize,
        _arrivals: &mut UnboundedReceiver<Arrival>,
    ) -> Advance {
        Advance::To(now.max(next.unwrap_or(now)))
    }
}

/// The wall clock: one receive task per socket feeds a channel (each socket's share of it
/// bounded, `receive::SOCKET_QUEUE`), and the driver sleeps until the next deadline, the next
/// datagrams (taken [`BATCH`] at a time) or (when it listens for them) a signal.
pub(crate) struct Wall {
    signal: Option<Pin<Box<dyn Future<Output = &'static str>>>>,
    /// Every socket's receive queue, for the counters at the end.
    queues: RefCell<Vec<(Inbox, Arc<SocketQueue>)>>,
    /// Taken from the queues but not handled yet ([`Pace::put_back`]).
    waiting: Vec<Taken>,
}

impl Wall {
    /// `signals`: report Ctrl-C and SIGTERM ([`Advance::Signal`]) instead of leaving them
    /// to the default handling (the process ends).
    pub(crate) fn new(signals: bool) -> Wall {
        Wall {
            signal: signals
                .then(|| Box::pin(shutdown_signal()) as Pin<Box<dyn Future<Output = _>>>),
            queues: RefCell::new(Vec::new()),
            waiting: Vec::new(),
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one; says which.
pub(crate) async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return "interrupt",
                _ = term.recv() => return "terminate",
            }
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => "interrupt",
        // No signal handling at all: run until killed.
        Err(_) => std::future::pending().await,
    }
}

impl Pace for Wall {
    fn listen(
        &self,
        socket: &Arc<UdpSocket>,
        inbox: Inbox,
        tx: &Arrivals,
    ) -> Option<JoinHandle<()>> {
        let queue = Arc::new(SocketQueue::default());
        self.queues.borrow_mut().push((inbox, queue.clone()));
        Some(spawn_receiver(socket.clone(), inbox, tx.clone(), queue))
    }

    fn put_back(&mut self, mut rest: Vec<Taken>) {
        rest.append(&mut self.waiting);
        self.waiting = rest;
    }

    fn receive_queues(&self) -> Vec<(Inbox, super::ReceiveQueue)> {
        self.queues
            .borrow()
            .iter()
            .map(|(inbox, q)| (*inbox, q.stats()))
            .collect()
    }

    async fn pick_up(&self, _: &UdpSocket, _: &mut [u8]) -> std::io::Result<PickUp> {
        Ok(PickUp::Later)
    }

    async fn advance(
        &mut self,
        _now: Instant,
        next: Option<Instant>,
        end: Option<Instant>,
        in_flight: usize,
        arrivals: &mut UnboundedReceiver<Arrival>,
    ) -> Advance {
        let wake = match (next, end) {
            (Some(t), Some(end)) => Some(t.min(end)),
            (t, end) => t.or(end),
        };
        let woken = |now: Instant| {
            if end.is_some_and(|end| now >= end) && in_flight > 0 {
                Advance::End
            } else {
                Advance::To(now)
            }
        };
        let now = Instant::now();
        if wake.is_some_and(|at| at <= now) {
            // Something is due already (a datagram to send): no waiting, so a stream of
            // arrivals cannot hold it back.
            return woken(now);
        }
        if !self.waiting.is_empty() {
            let mut taken = std::mem::take(&mut self.waiting);
            if taken.len() > BATCH {
                self.waiting = taken.split_off(BATCH);
            }
            return Advance::Arrived(now, taken);
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let signal = async {
            match self.signal.as_mut() {
                Some(s) => s.await,
                None => std::future::pending().await,
            }
        };
        let advance = tokio::select! {
            biased;
            signal = signal => Advance::Signal(Instant::now(), signal),
            got = arrivals.recv() => Advance::Arrived(Instant::now(), batch(got, arrivals)),
            () = sleep => woken(Instant::now()),
        };
        if matches!(advance, Advance::Signal(..)) {
            // Reported once: a resolved signal future is not polled again.
            self.signal = None;
        }
        advance
    }
}

/// The datagram `first` the loop woke for, and up to [`BATCH`] in all of those waiting
/// behind it (none: the channel is closed).
fn batch(first: Option<Arrival>, arrivals: &mut UnboundedReceiver<Arrival>) -> Vec<Taken> {
    let Some(first) = first else {
        return Vec::new();
    };
    let mut taken = vec![first.take()];
    while taken.len() < BATCH {
        match arrivals.try_recv() {
            Ok(a) => taken.push(a.take()),
            Err(_) => break,
        }
    }
    taken
}
