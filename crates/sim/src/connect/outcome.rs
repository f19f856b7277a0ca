//! How a `connect` run went: the events seen so far ([`Progress`], which also tells each
//! one on stderr through [`crate::narration`]), and the verdict at the end.

use std::net::SocketAddr;

use ike_core::{Event, EventKind, SaState};

use crate::narration::{narrate, Narration};

/// How the run went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Phase 1 and phase 2 came up (and, with `--stay`, were up at the end).
    Up,
    /// The tunnel did not come up, or went down: why.
    Failed(String),
}

/// What the other side is called in `connect`'s lines.
const PEER: &str = "the responder";

/// Shows a line under `connect`'s tracing target (shown by default: `sim::connect=info`).
fn show(n: &Narration) {
    match n.level {
        tracing::Level::WARN => tracing::warn!("{}", n.line),
        tracing::Level::INFO => tracing::info!("{}", n.line),
        _ => tracing::debug!("{}", n.line),
    }
}

/// What the run has seen so far.
#[derive(Default)]
pub(super) struct Progress {
    pub(super) phase1_up: bool,
    pub(super) phase2_up: bool,
    /// The first reason the tunnel did not come up (or went down).
    pub(super) failure: Option<String>,
    /// The last thing that took the tunnel down after it was up.
    pub(super) down: Option<String>,
}

impl Progress {
    /// Tells an event and notes what it means for the run.
    pub(super) fn event(&mut self, e: &Event) {
        let n = narrate(e, PEER);
        show(&n);
        if let Some(why) = n.failure {
            if self.up() {
                self.down = Some(why);
            } else {
                self.failure.get_or_insert(why);
            }
        } else if n.level == tracing::Level::WARN
            || matches!(e.kind, EventKind::ChildSaDeleteReceived { .. })
        {
            self.down = Some(n.line);
        }
        match e.kind {
            EventKind::IkeSaEstablished { .. } => self.phase1_up = true,
            EventKind::ChildSaEstablished { .. } => self.phase2_up = true,
            _ => {}
        }
    }

    pub(super) fn up(&self) -> bool {
        self.phase1_up && self.phase2_up
    }
}

/// How the run ended, besides its events.
pub(super) struct Ending {
    /// Why the run decided to end (a limit, a signal, crash_at, …), if it did.
    pub(super) reason: Option<String>,
    /// `--duration` (or the default wait) ran out.
    pub(super) timed_out: bool,
    /// Anything at all came from the responder.
    pub(super) heard: bool,
    /// The phase states when the run decided to end (before our own DELETE).
    pub(super) states: (SaState, SaState),
    /// The run had to keep the tunnel up to the end (`--stay`, terminate_at, crash_at).
    pub(super) stay: bool,
    /// The CGW was configured to stop after IKE_SA_INIT (main mode 4).
    pub(super) abandoned: bool,
}

/// The verdict: up, or the first reason it was not.
pub(super) fn verdict(progress: &Progress, end: &Ending, peer: SocketAddr) -> Outcome {
    let alive = |s: SaState| matches!(s, SaState::Established | SaState::Rekeying);
    let (p1, p2) = end.states;
    let reason_end = &end.reason;
    let timed_out = end.timed_out;
    match &progress.failure {
        Some(why) => Outcome::Failed(why.clone()),
        None if !progress.phase1_up && end.abandoned => Outcome::Failed(
            "abandoned after IKE_SA_INIT (IKEv1: main mode 4), as configured (abandon_after_ike_sa_init): the responder is left with a \
             half-open IKE SA"
                .into(),
        ),
        None if !progress.phase1_up && !end.heard => Outcome::Failed(format!(
            "{}no answer from {peer}{} — is a responder listening there? (IKE's port is 500; `ikesim serve` \
             listens on 4500)",
            if timed_out { "timeout: " } else { "" },
            reason_end.as_ref().map_or(String::new(), |r| format!(" ({r})"))
        )),
        None if !progress.phase1_up => Outcome::Failed(match reason_end {
            Some(r) if timed_out => format!("timeout: phase 1 did not come up ({r})"),
            Some(r) => format!("phase 1 did not come up ({r})"),
            None => "phase 1 did not come up".into(),
        }),
        None if !progress.phase2_up => Outcome::Failed(match reason_end {
            Some(r) if timed_out => format!("timeout: phase 1 came up, phase 2 did not ({r})"),
            Some(r) => format!("phase 1 came up, phase 2 did not ({r})"),
            None => "phase 1 came up, phase 2 did not".into(),
        }),
        // With --stay (or a configured terminate/crash) the tunnel must still have been up
        // when the run ended; our own DELETE at the end does not count.
        None if end.stay && !(alive(p1) && alive(p2)) => Outcome::Failed(match &progress.down {
            Some(down) => format!("the tunnel came up, then went down: {down}"),
            None => "the tunnel came up, then went down".into(),
        }),
        None => Outcome::Up,
    }
}
