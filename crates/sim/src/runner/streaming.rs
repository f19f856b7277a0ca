//! `run`'s records as they are made: the [`Recorder`] wrapped in an observer that hands
//! each event's records to the command's [`RecordSink`] at once and forgets them (as an
//! estate hands its cells' records over after every step), so a long run's memory does not
//! grow with its records and a run stopped early has written everything it made. It also
//! ends the run when the sink fails or a [`Stop`] is asked for.

use std::time::Instant;

use ike_core::{Endpoint, Event, Trace, Transmit};
use vpn_log::{RecordSink, SinkError};

use super::stop::{Signal, Stop};
use super::Recorder;
use crate::driver::{self, Check, Host, NotIke, Observer};
use crate::network::Fate;

/// The recorder of a run whose records stream to `sink`.
pub(super) struct Streaming<'a> {
    pub(super) recorder: &'a mut Recorder,
    pub(super) sink: &'a mut dyn RecordSink,
    pub(super) stop: Option<&'a Stop>,
    /// Flush after every event's records: on the wall clock they are read as they happen.
    pub(super) flush_each: bool,
    /// The first failure to write records: it ends the run.
    pub(super) failed: Option<SinkError>,
    /// The signal that ended the run, if one did.
    pub(super) stopped: Option<Signal>,
}

impl Streaming<'_> {
    /// Hands the records made since the last call to the sink, in the order made.
    fn hand_over(&mut self) {
        let recorder = &mut *self.recorder;
        if recorder.records.is_empty() {
            return;
        }
        for log in &mut recorder.tunnels {
            log.records.clear();
        }
        for (tunnel, record) in recorder.records.drain(..) {
            if self.failed.is_some() {
                continue;
            }
            let stream = &recorder.tunnels[tunnel].stream;
            if let Err(e) = self.sink.write(tunnel, stream, &record) {
                self.failed = Some(e);
            }
        }
        if self.flush_each && self.failed.is_none() {
            if let Err(e) = self.sink.flush() {
                self.failed = Some(e);
            }
        }
    }
}

impl Observer for Streaming<'_> {
    fn event(&mut self, host: usize, now: Instant, event: Event) {
        self.recorder.event(host, now, event);
        self.hand_over();
    }

    fn endpoint_replaced(&mut self, host: usize, now: Instant) {
        self.recorder.endpoint_replaced(host, now);
        self.hand_over();
    }

    fn datagram(&mut self, now: Instant, transmit: &Transmit) {
        self.recorder.datagram(now, transmit);
    }

    fn sending(&mut self, host: usize, transmit: &Transmit) {
        self.recorder.sending(host, transmit);
    }

    fn egress(&mut self, host: usize, now: Instant, transmit: &Transmit, fate: &Fate) {
        self.recorder.egress(host, now, transmit, fate);
    }

    fn packet(&mut self, note: &crate::dataplane::PacketNote) {
        self.recorder.packet(note);
    }

    fn nat_dropped(&mut self, now: Instant, transmit: &Transmit) {
        self.recorder.nat_dropped(now, transmit);
    }

    fn host_down(&mut self, host: usize, at: driver::Arrived, data: &[u8]) {
        self.recorder.host_down(host, at, data);
    }

    fn trace(&mut self, host: usize, now: Instant, trace: Trace) {
        self.recorder.trace(host, now, trace);
    }

    fn admit(&mut self, host: usize, from: std::net::SocketAddr) -> bool {
        self.recorder.admit(host, from)
    }

    fn handle(
        &mut self,
        host: usize,
        endpoint: &mut Endpoint,
        at: driver::Arrived,
        message: &[u8],
    ) {
        self.recorder.handle(host, endpoint, at, message);
    }

    fn not_ike(&mut self, host: usize, endpoint: &mut Endpoint, at: driver::Arrived, what: NotIke) {
        self.recorder.not_ike(host, endpoint, at, what);
    }

    /// A minute of an AWS endpoint's bytes is over: to the sink (`TunnelDataIn`/`Out`).
    fn data(&mut self, host: usize, minute_end: Instant, bytes: vpn_log::DataBytes) {
        let Some(tunnel) = self.recorder.hosts.iter().position(|t| t.aws == host) else {
            return;
        };
        if self.failed.is_some() {
            return;
        }
        let time = self.recorder.time(minute_end);
        let stream = &self.recorder.tunnels[tunnel].stream;
        if let Err(e) = self.sink.data(tunnel, stream, time, bytes) {
            self.failed = Some(e);
        }
    }

    /// Between two passes of the loop: a failed sink or a requested stop ends the run.
    fn check(&mut self, now: Instant, hosts: &mut [Host]) -> Check {
        if self.failed.is_some() {
            return Check::Stop;
        }
        if let Some(stop) = self.stop.filter(|s| s.requested()) {
            self.stopped = Some(stop.signal().unwrap_or(Signal::Interrupt));
            return Check::Stop;
        }
        self.recorder.check(now, hosts)
    }

    /// On the wall clock the signal wakes the loop itself: the run stops at once.
    fn signal(&mut self, _now: Instant, signal: &'static str, _hosts: &mut [Host]) -> bool {
        let signal = Signal::from_word(signal);
        if let Some(stop) = self.stop {
            stop.request(signal);
        }
        self.stopped = Some(self.stop.and_then(Stop::signal).unwrap_or(signal));
        true
    }
}
