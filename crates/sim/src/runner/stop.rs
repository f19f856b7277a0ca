//! Ending a run early, cleanly: a [`Stop`] that Ctrl-C or SIGTERM sets. The accelerated
//! loop looks at it between two passes (`runner::Streaming::check`) and the wall clock is
//! woken by the signal itself; either way every record made so far has been handed to the
//! sink whole, the pcap and key files are closed, and the command exits 128 + the signal's
//! number, as shells report a process a signal ended (130 for SIGINT, 143 for SIGTERM).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

/// A signal that ends a run early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`kill`, a service manager stopping the command).
    Terminate,
}

impl Signal {
    /// The exit status a shell gives a process this signal ended: 128 + its number.
    pub fn exit_status(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    /// The signal's conventional name (`SIGINT`, `SIGTERM`).
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The driver's word for the signal (`interrupt`, `terminate`), as a signal.
    pub(crate) fn from_word(word: &str) -> Signal {
        if word == "terminate" {
            Signal::Terminate
        } else {
            Signal::Interrupt
        }
    }

    fn code(self) -> u8 {
        match self {
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }
}

/// A request to end a run early, and which signal made it (none yet: the run goes on).
/// Clones share the request.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    /// Set with the signal: what [`crate::estate::EstateOptions::stop`] looks at.
    flag: Arc<AtomicBool>,
    /// The signal's number (0: none).
    signal: Arc<AtomicU8>,
}

impl Stop {
    /// A stop nobody has asked for yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// A stop that Ctrl-C or SIGTERM sets, from a thread of its own (a run's runtime is
    /// busy running it): the first signal is caught, the command ends as it likes.
    pub fn on_signals() -> Stop {
        let stop = Stop::new();
        let set = stop.clone();
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let word = runtime.block_on(crate::driver::shutdown_signal());
            set.request(Signal::from_word(word));
        });
        stop
    }

    /// Asks the run to stop, as `signal` does (the first request is the one kept).
    pub fn request(&self, signal: Signal) {
        let _ =
            self.signal
                .compare_exchange(0, signal.code(), Ordering::Relaxed, Ordering::Relaxed);
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// The signal that asked for the stop, if one did.
    pub fn signal(&self) -> Option<Signal> {
        match self.signal.load(Ordering::Relaxed) {
            2 => Some(Signal::Interrupt),
            15 => Some(Signal::Terminate),
            _ => None,
        }
    }

    /// The flag alone, for an estate ([`crate::estate::EstateOptions::stop`]).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_is_the_one_kept() {
        let stop = Stop::new();
        assert!(!stop.requested());
        assert_eq!(stop.signal(), None);
        stop.clone().request(Signal::Terminate);
        stop.request(Signal::Interrupt);
        assert!(stop.requested() && stop.flag().load(Ordering::Relaxed));
        assert_eq!(stop.signal(), Some(Signal::Terminate));
        assert_eq!(stop.signal().map(Signal::exit_status), Some(143));
    }
}
