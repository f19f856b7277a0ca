//! How time passes for the driver: the one thing that differs between the accelerated
//! driver and the real-time one. The delivery code asks its [`Pace`] and never which
//! clock it runs on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::wire::{receive, spawn_receiver, Arrivals, Inbox};

/// A datagram a receive task reported: the socket, the source, the bytes.
pub(crate) type Arrival = (Inbox, SocketAddr, Vec<u8>);

/// What [`Pace::advance`] found.
pub(crate) enum Advance {
    /// Time is now this: apply what is due.
    To(Instant),
    /// A datagram arrived (real time) at this time; or, with `None`, the receive tasks are
    /// gone. Look again before applying anything else.
    Arrived(Instant, Option<Arrival>),
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
        end: Instant,
        in_flight: usize,
        arrivals: &mut UnboundedReceiver<Arrival>,
    ) -> Advance;
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
        _end: Instant,
        _in_flight: usize,
        _arrivals: &mut UnboundedReceiver<Arrival>,
    ) -> Advance {
        Advance::To(now.max(next.unwrap_or(now)))
    }
}

/// The wall clock: one receive task per socket feeds a channel, and the driver sleeps
/// until the next deadline or the next datagram.
pub(crate) struct Wall;

impl Pace for Wall {
    fn listen(
        &self,
        socket: &Arc<UdpSocket>,
        inbox: Inbox,
        tx: &Arrivals,
    ) -> Option<JoinHandle<()>> {
        Some(spawn_receiver(socket.clone(), inbox, tx.clone()))
    }

    async fn pick_up(&self, _: &UdpSocket, _: &mut [u8]) -> std::io::Result<PickUp> {
        Ok(PickUp::Later)
    }

    async fn advance(
        &mut self,
        _now: Instant,
        next: Option<Instant>,
        end: Instant,
        in_flight: usize,
        arrivals: &mut UnboundedReceiver<Arrival>,
    ) -> Advance {
        let wake = next.unwrap_or(end).min(end);
        tokio::select! {
            got = arrivals.recv() => Advance::Arrived(Instant::now(), got),
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if now >= end && in_flight > 0 {
                    Advance::End
                } else {
                    Advance::To(now)
                }
            }
        }
    }
}
