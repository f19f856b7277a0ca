//! The sockets' receive side in real time: a task per socket reads datagrams into a
//! bounded queue of its own ([`SocketQueue`], dropping beyond [`SOCKET_QUEUE`] as a full
//! kernel buffer does) and hands them to the loop ([`Arrival`]); [`receive`] reads one at
//! once where the pace picks up without a task. Moved out of `wire`, behaviour unchanged.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::wire::Inbox;
use super::{LOOPBACK_GRACE, MAX_DATAGRAM};

/// Where receive tasks put what they read (real time).
pub(crate) type Arrivals = mpsc::UnboundedSender<Arrival>;

/// How many datagrams read from one socket may wait for the loop. Beyond it the socket's
/// receive task drops what it reads, as a full kernel socket buffer does (`SO_RCVBUF`,
/// udp(7)): under a flood memory stays bounded, and a datagram of the real peer waits
/// behind at most this many — about half a second of IKE_SA_INITs at the cost of a
/// MODP-2048 exchange each (DESIGN.md, "Costs measured"). One bound per socket, so a flood
/// at one tunnel does not drop another tunnel's datagrams.
pub(crate) const SOCKET_QUEUE: usize = 256;

/// A datagram a receive task read: the socket, the source, the bytes, and the queue it
/// waits in (given back when the loop takes it: [`Arrival::take`]).
pub(crate) struct Arrival {
    inbox: Inbox,
    from: SocketAddr,
    data: Vec<u8>,
    queue: Arc<SocketQueue>,
}

impl Arrival {
    /// The loop takes the datagram: its place in the socket's queue is free again.
    pub(crate) fn take(self) -> (Inbox, SocketAddr, Vec<u8>) {
        self.queue.waiting.fetch_sub(1, Ordering::Relaxed);
        (self.inbox, self.from, self.data)
    }
}

/// One socket's receive queue: how many of its datagrams wait, and what it has dropped.
#[derive(Debug, Default)]
pub(crate) struct SocketQueue {
    waiting: AtomicUsize,
    peak: AtomicUsize,
    dropped: AtomicU64,
}

impl SocketQueue {
    /// What the queue went through so far.
    pub(crate) fn stats(&self) -> ReceiveQueue {
        ReceiveQueue {
            dropped: self.dropped.load(Ordering::Relaxed),
            peak: self.peak.load(Ordering::Relaxed),
        }
    }
}

/// What the receive queues of a host's sockets went through (real time): the datagrams
/// dropped because a queue was full, and the most that waited in one at once (at most
/// [`SOCKET_QUEUE`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiveQueue {
    /// Datagrams read and dropped because the socket's queue was full.
    pub dropped: u64,
    /// The most datagrams that waited in one socket's queue at once.
    pub peak: usize,
}

impl ReceiveQueue {
    /// Both sockets of a host: drops add up, the peak is the higher.
    pub(crate) fn merge(self, other: ReceiveQueue) -> ReceiveQueue {
        ReceiveQueue {
            dropped: self.dropped + other.dropped,
            peak: self.peak.max(other.peak),
        }
    }
}

/// The real-time driver's receive loop for one socket, feeding `queue` (at most
/// [`SOCKET_QUEUE`] waiting; beyond, datagrams are read and dropped, counted, the first
/// drop of the socket said at warn). A receive error (e.g. an ICMP error reported on the
/// socket) does not end it.
pub(super) fn spawn_receiver(
    socket: Arc<UdpSocket>,
    inbox: Inbox,
    tx: Arrivals,
    queue: Arc<SocketQueue>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            match socket.recv_from(&mut buf).await {
                Ok((n, from)) => {
                    let waiting = queue.waiting.fetch_add(1, Ordering::Relaxed) + 1;
                    if waiting > SOCKET_QUEUE {
                        queue.waiting.fetch_sub(1, Ordering::Relaxed);
                        if queue.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                            let local = socket.local_addr().ok();
                            tracing::warn!(
                                ?local,
                                %from,
                                "receive queue full ({SOCKET_QUEUE} datagrams waiting): dropping \
                                 what arrives until the loop catches up, as a full socket buffer \
                                 does (counted; further drops: debug)"
                            );
                        } else {
                            tracing::debug!(?inbox, %from, "receive queue full: datagram dropped");
                        }
                        continue;
                    }
                    queue.peak.fetch_max(waiting, Ordering::Relaxed);
                    let arrival = Arrival {
                        inbox,
                        from,
                        data: buf[..n].to_vec(),
                        queue: queue.clone(),
                    };
                    if tx.send(arrival).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(?inbox, "receive error: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    })
}

/// Receives the datagram just sent to `socket` over loopback, or `None` after the grace.
pub(super) async fn receive(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> std::io::Result<Option<(usize, SocketAddr)>> {
    match tokio::time::timeout(LOOPBACK_GRACE, socket.recv_from(buf)).await {
        Ok(Ok(got)) => Ok(Some(got)),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Waits (yielding to the receive task) until `rx` holds `n` arrivals or 2 s passed.
    async fn settle(rx: &mut mpsc::UnboundedReceiver<Arrival>, queue: &SocketQueue, n: usize) {
        for _ in 0..200 {
            if queue.waiting.load(Ordering::Relaxed) >= n && !rx.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_sockets_receive_queue_holds_its_bound_and_counts_what_it_drops() {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let to = socket.local_addr().unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let queue = Arc::new(SocketQueue::default());
        let task = spawn_receiver(socket, Inbox::Host(0, 0), tx, queue.clone());
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // Nobody takes anything: 1,000 datagrams, in chunks the kernel's socket buffer
        // holds, so the task reads every one.
        let mut sent = 0;
        while sent < 1_000 {
            for _ in 0..50 {
                sender.send_to(&[0xee; 8], to).unwrap();
                sent += 1;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        settle(&mut rx, &queue, SOCKET_QUEUE).await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let stats = queue.stats();
        assert_eq!(stats.peak, SOCKET_QUEUE);
        assert_eq!(rx.len(), SOCKET_QUEUE, "{stats:?}");
        // The chunks fit the socket buffer: the kernel dropped none, the queue the rest.
        assert_eq!(stats.dropped + SOCKET_QUEUE as u64, 1_000, "{stats:?}");
        // Taking one frees a place: the next datagram waits instead of being dropped.
        let (_, from, data) = rx.recv().await.unwrap().take();
        assert_eq!(
            (from, data.as_slice()),
            (sender.local_addr().unwrap(), &[0xee; 8][..])
        );
        sender.send_to(&[0xef; 8], to).unwrap();
        settle(&mut rx, &queue, SOCKET_QUEUE).await;
        assert_eq!(rx.len(), SOCKET_QUEUE);
        assert_eq!(queue.stats().dropped, stats.dropped);
        task.abort();
    }
}
