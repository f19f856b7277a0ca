//! The CGW's side of the driver's loop ([`crate::driver::run_facing_peers`]): it follows
//! the events ([`Progress`]), answers only the responder, and decides when the run ends —
//! as soon as the tunnel is up (or failed; with flows, once they are over), at `--duration`,
//! `terminate_at` or `crash_at`, or on a signal — and then deletes its IKE SA and waits a
//! little for the answer. With flows it drives their data plane (`traffic.rs`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ike_core::{Endpoint, Event, SaState};

use super::outcome::{Ending, Progress};
use super::traffic::Traffic;
use super::DEFAULT_WAIT;
use crate::driver::{Arrived, Check, Host, NotIke, Observer};

/// How long the CGW waits for the answer to its DELETE when it shuts down.
const DELETE_WAIT: Duration = Duration::from_secs(2);

/// The simulated CGW's run.
pub(super) struct Cgw {
    pub(super) progress: Progress,
    peer: SocketAddr,
    /// `--duration`, for the message when it runs out.
    duration: Option<Duration>,
    limit: Option<Instant>,
    /// `limit` is the default wait (no `--duration`): flows under way outlast it.
    default_limit: bool,
    terminate_at: Option<Instant>,
    crash_at: Option<Instant>,
    /// Whether the run keeps the tunnel up until it is told to end.
    stay: bool,
    pub(super) foreign: u64,
    pub(super) esp: u64,
    /// The flows' data plane, with a `[[flow]]`.
    pub(super) traffic: Option<Traffic>,
    /// Set once the run is ending: the deadline for the DELETE exchange.
    closing: Option<Instant>,
    reason_end: Option<String>,
    crashed: bool,
    timed_out: bool,
    /// Whether anything at all came from the responder.
    heard: bool,
    /// The phase states when the run decided to end (before our own DELETE).
    states_at_end: Option<(SaState, SaState)>,
}

/// The deadlines of a run started at `t0`.
pub(super) struct Deadlines {
    pub(super) t0: Instant,
    pub(super) duration: Option<Duration>,
    pub(super) terminate_at: Option<Duration>,
    pub(super) crash_at: Option<Duration>,
    pub(super) stay: bool,
}

impl Cgw {
    pub(super) fn new(peer: SocketAddr, d: Deadlines, traffic: Option<Traffic>) -> Cgw {
        let terminate_at = d.terminate_at.map(|t| d.t0 + t);
        let crash_at = d.crash_at.map(|t| d.t0 + t);
        // A CGW that is told to do something later stays until then.
        let stay = d.stay || terminate_at.is_some() || crash_at.is_some();
        let limit = d
            .duration
            .or((!stay).then_some(DEFAULT_WAIT))
            .map(|t| d.t0 + t);
        Cgw {
            progress: Progress::default(),
            peer,
            duration: d.duration,
            limit,
            default_limit: d.duration.is_none(),
            terminate_at,
            crash_at,
            stay,
            foreign: 0,
            esp: 0,
            traffic,
            closing: None,
            reason_end: None,
            crashed: false,
            timed_out: false,
            heard: false,
            states_at_end: None,
        }
    }

    /// Why the run ends now, if it does (`Some(None)`: it is over, nothing to add).
    fn end_reason(&mut self, now: Instant, endpoint: &Endpoint) -> Option<Option<String>> {
        let flowing = self.traffic.as_ref().is_some_and(Traffic::running);
        if self.progress.failure.is_some() || (self.progress.up() && !self.stay && !flowing) {
            Some(None)
        } else if endpoint.poll_timeout().is_none() {
            // Nothing is left to happen: abandoned, or down for good.
            Some(None)
        } else if self.crash_at.is_some_and(|t| now >= t) {
            self.crashed = true;
            Some(Some("crash_at reached: the CGW goes silent".to_owned()))
        } else if self.terminate_at.is_some_and(|t| now >= t) {
            Some(Some("terminate_at reached".to_owned()))
        } else if self.limit.is_some_and(|t| now >= t)
            && !(self.default_limit && flowing && self.progress.up())
        {
            self.timed_out = true;
            Some(Some(match self.duration {
                Some(d) => format!("--duration {} reached", crate::SimDuration(d)),
                None => format!("no result within {}", crate::SimDuration(DEFAULT_WAIT)),
            }))
        } else {
            None
        }
    }

    /// Ends the run: a CGW shutting down deletes its IKE SA (the responder logs the
    /// DELETE) and waits for the answer; a crashed one just stops. Whether to stop now.
    fn shut_down(&mut self, now: Instant, endpoint: &mut Endpoint) -> bool {
        self.states_at_end = Some(endpoint.phase_states());
        if self.crashed || endpoint.ike_sas().is_empty() {
            return true;
        }
        endpoint.delete_ike_sas(now);
        self.closing = Some(now + DELETE_WAIT);
        false
    }

    /// How the run ended, for the verdict; `endpoint`'s states if it never decided to end.
    pub(super) fn ending(self, endpoint: &Endpoint, abandoned: bool) -> (Progress, Ending) {
        let end = Ending {
            reason: self.reason_end,
            timed_out: self.timed_out,
            heard: self.heard,
            states: self
                .states_at_end
                .unwrap_or_else(|| endpoint.phase_states()),
            stay: self.stay,
            abandoned,
        };
        (self.progress, end)
    }
}

impl Observer for Cgw {
    fn event(&mut self, _host: usize, _now: Instant, event: Event) {
        self.progress.event(&event);
    }

    fn admit(&mut self, _host: usize, from: SocketAddr) -> bool {
        if from.ip() != self.peer.ip() {
            self.foreign += 1;
            tracing::debug!(%from, "datagram from an address other than the responder's dropped");
            return false;
        }
        self.heard = true;
        true
    }

    fn not_ike(&mut self, _host: usize, _endpoint: &mut Endpoint, at: Arrived, what: NotIke) {
        let (_, _, from) = at;
        match what {
            NotIke::Keepalive => tracing::trace!(%from, "NAT-keepalive"),
            NotIke::UnmarkedIke => tracing::warn!(
                %from,
                "IKE message without the non-ESP marker dropped: when neither port is 500 every IKE \
                 datagram must start with four zero bytes (RFC 3948 §2.2)"
            ),
            NotIke::Esp { len } => {
                self.esp += 1;
                tracing::debug!(%from, len, "ESP datagram (no [[flow]], no data plane: counted)");
            }
        }
    }

    /// ESP from the responder: into the flows' data plane when there is one.
    fn esp(&mut self, host: usize, endpoint: &mut Endpoint, at: Arrived, datagram: &[u8]) {
        let Some(traffic) = &mut self.traffic else {
            let what = NotIke::Esp {
                len: datagram.len(),
            };
            return self.not_ike(host, endpoint, at, what);
        };
        self.esp += 1;
        let (now, _, from) = at;
        traffic.esp(now, from, datagram, endpoint);
    }

    fn check(&mut self, _now: Instant, hosts: &mut [Host]) -> Check {
        let Some(host) = hosts.first_mut() else {
            return Check::Stop;
        };
        let now = Instant::now();
        if let Some(t) = &mut self.traffic {
            if !self.crashed {
                t.ipsec(now, &mut host.endpoint);
                t.handle_timeout(now);
                t.acquire(now, &mut host.endpoint);
            }
        }
        if let Some(at) = self.closing {
            // Shutting down: done once the DELETE exchange is over (IKEv2: answered; IKEv1
            // has no answer), or we waited long enough.
            if host.endpoint.poll_timeout().is_none() || now >= at {
                return Check::Stop;
            }
        } else if let Some(why) = self.end_reason(now, &host.endpoint) {
            if let Some(why) = &why {
                tracing::info!("{why}: ending");
            }
            self.reason_end = why;
            if self.shut_down(now, &mut host.endpoint) {
                return Check::Stop;
            }
            return Check::Again;
        }
        let flows = self.traffic.as_ref().and_then(Traffic::poll_timeout);
        let next = [
            self.limit,
            self.terminate_at,
            self.crash_at,
            self.closing,
            flows,
        ]
        .into_iter()
        .flatten()
        .min();
        Check::Continue(next)
    }

    fn signal(&mut self, _now: Instant, signal: &'static str, hosts: &mut [Host]) -> bool {
        let Some(host) = hosts.first_mut() else {
            return true;
        };
        if self.closing.is_some() {
            // Already shutting down: the DELETE wait is short.
            return false;
        }
        tracing::info!("{signal}: stopping");
        self.reason_end = Some(signal.to_owned());
        self.shut_down(Instant::now(), &mut host.endpoint)
    }
}
