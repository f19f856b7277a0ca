//! A UDP relay between charon and `ikesim serve` that can hold back the authentication.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A UDP relay between charon and `ikesim serve`, a NAT in effect: charon sends to `addr`
/// (on serve's IP, so serve's identity is still the one charon expects), and each of
/// charon's source addresses gets its own socket on 127.0.0.1 that talks to serve. While
/// `blocking`, charon's IKE_AUTH requests (IKEv2) and encrypted main mode messages (IKEv1
/// message 5) are dropped and counted: IKE_SA_INIT (main mode 1 to 4) is answered, the
/// authentication never arrives.
pub struct Relay {
    pub addr: SocketAddr,
    pub blocking: Arc<AtomicBool>,
    pub dropped: Arc<AtomicUsize>,
    pub stop: Arc<AtomicBool>,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

/// An IKE message behind the non-ESP marker that the relay holds back: an IKEv2 IKE_AUTH
/// (exchange type 35) or an IKEv1 main mode (2) message with the encryption flag.
pub fn held_back(datagram: &[u8]) -> bool {
    let Some(ike) = datagram.strip_prefix(&[0u8; 4][..]) else {
        return false;
    };
    if ike.len() < 28 {
        return false;
    }
    match (ike[17] >> 4, ike[18]) {
        (2, 35) => true,
        (1, 2) => ike[19] & 1 != 0,
        _ => false,
    }
}

impl Relay {
    pub fn start(ip: IpAddr, serve: SocketAddr) -> Relay {
        let inside = UdpSocket::bind((ip, 0)).expect("bind the relay");
        inside
            .set_nonblocking(true)
            .expect("non-blocking relay socket");
        let addr = inside.local_addr().expect("the relay's address");
        let (blocking, dropped, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (b, d, s) = (blocking.clone(), dropped.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut nat: Vec<(SocketAddr, UdpSocket)> = Vec::new();
            let mut buf = vec![0u8; 65_536];
            while !s.load(Ordering::SeqCst) {
                let mut idle = true;
                while let Ok((n, from)) = inside.recv_from(&mut buf) {
                    idle = false;
                    if b.load(Ordering::SeqCst) && held_back(&buf[..n]) {
                        d.fetch_add(1, Ordering::SeqCst);
                        continue;
                    }
                    let i = match nat.iter().position(|(charon, _)| *charon == from) {
                        Some(i) => i,
                        None => {
                            let outside =
                                UdpSocket::bind("127.0.0.1:0").expect("bind a relay socket");
                            outside
                                .set_nonblocking(true)
                                .expect("non-blocking relay socket");
                            nat.push((from, outside));
                            nat.len() - 1
                        }
                    };
                    let _ = nat[i].1.send_to(&buf[..n], serve);
                }
                for (charon, outside) in &nat {
                    while let Ok((n, _)) = outside.recv_from(&mut buf) {
                        idle = false;
                        let _ = inside.send_to(&buf[..n], charon);
                    }
                }
                if idle {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        });
        Relay {
            addr,
            blocking,
            dropped,
            stop,
            thread: Some(thread),
        }
    }

    pub fn block(&self, on: bool) {
        self.blocking.store(on, Ordering::SeqCst);
    }

    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
