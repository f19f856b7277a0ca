//! The diagnosis of one stream: its life (periods from the records' phase states) and
//! its findings. The rules are data ([`RULES`]): which messages and phase states a
//! record must show, what must or must not be near it in time, how many such records it
//! takes over what window, what that means and the likely cause, the guide page and the
//! built-in scenario that reproduces it. One engine ([`diagnose`]) runs them all; it
//! reads the records alone, so it holds for records AWS writes that no scenario here
//! produced (any time, SPI, gap or schema).

mod connection;
mod doc;
mod engine;
mod life;
mod table;
pub(crate) mod words;

pub use connection::{connections, Connection};
pub use doc::rules_markdown;
pub use engine::diagnose;
pub use life::{LifeState, Period};
pub use table::{RULES, SUMMARIES};

use vpn_log::{IkeVersion, PhaseState};

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Normal operation worth knowing (rekeys, NAT, a DH group retry).
    Info,
    /// The tunnel works but something is off (flapping, deletes, collisions).
    Warning,
    /// The tunnel, or one of its phases, does not come up.
    Error,
}

impl Severity {
    /// `info`, `warning`, `error`: the JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What went wrong (or right) in a stream, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule's id (`psk-mismatch`).
    pub id: &'static str,
    /// One line: what happened, with counts and times.
    pub title: String,
    /// The most likely cause and what to check or do.
    pub cause: String,
    /// The records it rests on: [`crate::Entry::index`]es into the stream.
    pub evidence: Vec<usize>,
    /// The failure-mode guide page's name (`ikev2-psk-mismatch` for
    /// `docs/failures/ikev2-psk-mismatch.md`, see [`crate::report::guide_path`]).
    pub guide: Option<&'static str>,
    /// The built-in scenario that reproduces it (`ikesim run <scenario>`).
    pub scenario: Option<&'static str>,
    /// How much it matters.
    pub severity: Severity,
}

/// One stream's diagnosis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// The tunnel's periods, in time order.
    pub life: Vec<Period>,
    /// How many times the tunnel's state (up, phase 1 only, negotiating, down) changed.
    pub changes: usize,
    /// What the rules found, the most severe first.
    pub findings: Vec<Finding>,
}

/// Which records a rule looks at: a catalogue message (by id) and the phase states the
/// record shows. An empty list allows anything.
#[derive(Clone, Copy, Debug)]
pub struct Pattern {
    /// Catalogue ids (`vpn_log::CatalogueEntry::id`).
    pub messages: &'static [&'static str],
    /// The record's `ike_phase1_state`.
    pub phase1: &'static [PhaseState],
    /// The record's `ike_phase2_state`.
    pub phase2: &'static [PhaseState],
    /// `ike_phase1_state` of the stream's previous record (down before the first).
    pub phase1_before: &'static [PhaseState],
}

impl Pattern {
    /// Records of these messages in any state.
    pub const fn messages(messages: &'static [&'static str]) -> Pattern {
        Pattern {
            messages,
            phase1: &[],
            phase2: &[],
            phase1_before: &[],
        }
    }
}

/// Direction of a [`Near`] look-up from a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Records before it in the stream.
    Before,
    /// Records after it.
    After,
}

/// "A record matching `pattern` within `within_s` seconds before/after this one."
#[derive(Clone, Copy, Debug)]
pub struct Near {
    /// The other record.
    pub pattern: Pattern,
    /// Where to look.
    pub dir: Dir,
    /// How far, in seconds (inclusive).
    pub within_s: i64,
}

/// When in the stream's life a record counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Any time.
    Always,
    /// Before phase 2 was first up: at setup.
    AtSetup,
    /// After phase 2 was up at least once: at a rekey or later.
    AfterFirstUp,
}

/// What followed a trigger, as a label for the title (`DPD action restart`).
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// The label (`restart`).
    pub label: &'static str,
    /// What it means, appended to the cause.
    pub explain: &'static str,
    /// Words the title can start with for this outcome (`{prefix}`): `flapping: ` when the
    /// tunnel goes down each time.
    pub prefix: &'static str,
    /// What shows it.
    pub test: Test,
}

/// How an [`Outcome`] is recognised around a trigger.
#[derive(Clone, Copy, Debug)]
pub enum Test {
    /// A record near it.
    Near(Near),
    /// The trigger's own states (and message).
    Itself(Pattern),
    /// Always: the fallback, listed last.
    Otherwise,
}

/// Which built-in scenario reproduces a finding: the first entry whose conditions hold.
#[derive(Clone, Copy, Debug)]
pub struct Repro {
    /// The scenario (`scenarios/<name>.toml`).
    pub scenario: &'static str,
    /// Only for streams of this IKE version (as far as their messages tell).
    pub ike: Option<IkeVersion>,
    /// Only when the finding's outcome has this label.
    pub outcome: Option<&'static str>,
    /// Only with at least this many triggers.
    pub at_least: usize,
}

/// The guide page a finding points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guide {
    /// None.
    None,
    /// This page (`docs/failures/<page>.md`).
    Page(&'static str),
    /// The page of the first trigger's message (every AWS message has one, named after
    /// its catalogue id), else this page.
    OfMessage(&'static str),
}

/// One rule of the table.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Stable id (`psk-mismatch`), the JSON `id`.
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The records that trigger it.
    pub trigger: Pattern,
    /// When they count.
    pub when: When,
    /// Each of these must be near a trigger for it to count.
    pub with: &'static [Near],
    /// None of these may be near a trigger for it to count.
    pub without: &'static [Near],
    /// Records near a trigger that are evidence too (the AUTHENTICATION_FAILED after a
    /// key mismatch).
    pub also: &'static [Near],
    /// How many triggers it takes.
    pub at_least: usize,
    /// …within this many seconds (a sliding window); `None`: over the whole stream.
    pub window_s: Option<i64>,
    /// What followed each trigger; the most frequent label is the finding's.
    pub outcomes: &'static [Outcome],
    /// The title with placeholders: `{count}`, `{count:noun}` (`3 attempts`), `{times}`
    /// (the triggers' times), `{span}` (first to last trigger), `{per_day}`, `{value}` (the
    /// first trigger's placeholder value), `{outcome}`, `{prefix}` (the outcome's).
    pub title: &'static str,
    /// The title from [`Rule::many`] triggers on (`flapping: …`).
    pub title_many: &'static str,
    /// How many triggers make `title_many` apply; 0: never.
    pub many: usize,
    /// The most likely cause and what to check or do (placeholders as in the title).
    pub cause: &'static str,
    /// The guide page.
    pub guide: Guide,
    /// The scenarios that reproduce it.
    pub repro: &'static [Repro],
}

/// A finding the engine makes from the whole stream rather than from record patterns:
/// listed for the documentation's table.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Stable id.
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// When it applies.
    pub when: &'static str,
    /// The scenario that shows it.
    pub scenario: Option<&'static str>,
}
