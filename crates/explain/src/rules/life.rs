//! A tunnel's life as periods, from its records' phase states (reference §1: each record
//! carries both phases' states after the event it logs).

use chrono::{DateTime, Utc};
use vpn_log::{PhaseState, TunnelRecord};

use super::words;

/// What the tunnel was doing in a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LifeState {
    /// Phase 1 and phase 2 up (established or rekeying): traffic can flow.
    Up,
    /// Phase 1 up, phase 2 not: IKE works, no traffic.
    Phase1Only,
    /// Phase 1 being negotiated.
    Negotiating,
    /// No IKE SA.
    Down,
}

impl LifeState {
    /// What a record's states say.
    pub fn of(record: &TunnelRecord) -> LifeState {
        let up = |s| matches!(s, PhaseState::Established | PhaseState::Rekeying);
        match (record.ike_phase1_state, record.ike_phase2_state) {
            (p1, p2) if up(p1) && up(p2) => LifeState::Up,
            (p1, _) if up(p1) => LifeState::Phase1Only,
            (PhaseState::Negotiating, _) => LifeState::Negotiating,
            _ => LifeState::Down,
        }
    }

    /// `up`, `phase1-only`, `negotiating`, `down`: the JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LifeState::Up => "up",
            LifeState::Phase1Only => "phase1-only",
            LifeState::Negotiating => "negotiating",
            LifeState::Down => "down",
        }
    }

    /// For people: `up (phase 1 and 2)`.
    pub fn words(self) -> &'static str {
        match self {
            LifeState::Up => "up (phase 1 and 2)",
            LifeState::Phase1Only => "phase 1 only",
            LifeState::Negotiating => "negotiating phase 1",
            LifeState::Down => "down",
        }
    }
}

/// A stretch of the stream in one [`LifeState`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// The state.
    pub state: LifeState,
    /// The time of its first record.
    pub from: DateTime<Utc>,
    /// The time of the next period's first record, or of the stream's last record for the
    /// last period (see [`Period::open`]).
    pub to: DateTime<Utc>,
    /// Index of its first record.
    pub first: usize,
    /// Index of its last record.
    pub last: usize,
    /// The last period: it lasts at least until the end of the log.
    pub open: bool,
}

impl Period {
    /// `up (phase 1 and 2) from 00:00:00.045 to 02:00:40.000 (2 h 0 min)`; the last
    /// period: `down since 02:00:40.000 (to the end of the log: 5 min so far)`, or `down
    /// since 02:00:40.000 (the log's last record)` when nothing follows it.
    pub fn words(&self, one_day: bool) -> String {
        let length = words::span(words::seconds(self.from, self.to));
        if self.open && self.from == self.to {
            format!(
                "{} since {} (the log's last record)",
                self.state.words(),
                words::short(self.from, one_day)
            )
        } else if self.open {
            format!(
                "{} since {} (to the end of the log: {length} so far)",
                self.state.words(),
                words::short(self.from, one_day)
            )
        } else {
            format!(
                "{} from {} to {} ({length})",
                self.state.words(),
                words::short(self.from, one_day),
                words::short(self.to, one_day)
            )
        }
    }
}

/// The periods of records in time order, and how many times the state changed.
pub fn periods(records: &[&TunnelRecord]) -> (Vec<Period>, usize) {
    let mut out: Vec<Period> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let state = LifeState::of(r);
        match out.last_mut() {
            Some(p) if p.state == state => p.last = i,
            _ => {
                if let Some(p) = out.last_mut() {
                    p.to = r.time;
                }
                out.push(Period {
                    state,
                    from: r.time,
                    to: r.time,
                    first: i,
                    last: i,
                    open: false,
                });
            }
        }
    }
    if let (Some(p), Some(r)) = (out.last_mut(), records.last()) {
        p.to = r.time;
        p.open = true;
    }
    let changes = out.len().saturating_sub(1);
    (out, changes)
}
