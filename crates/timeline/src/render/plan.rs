//! The laid-out page as data: what [`super::layout`] computes and the page's script paints
//! (serialized as the JSON the page embeds; field names are the script's).

use serde::Serialize;

use crate::PayloadView;

/// The laid-out page.
#[derive(Debug, Serialize)]
pub(crate) struct Plan<'a> {
    pub title: &'a str,
    /// The origin as RFC 3339 UTC with milliseconds.
    pub origin: String,
    pub width: u32,
    pub lanes: Vec<LanePlan<'a>>,
    /// Interned payload views: a DPD exchange's `SK{}` is written once, not 8 000 times.
    pub payloads: Vec<&'a PayloadView>,
    /// Interned message shapes: what a DPD request's arrows share, written once.
    pub shapes: Vec<Shape<'a>>,
    /// Interned log stream names, for the records.
    pub streams: Vec<&'a str>,
    pub segments: Vec<Segment<'a>>,
    pub counts: Counts,
    /// The ESP density bands (none without a data plane).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub esp: Option<super::band::EspPlan>,
}

/// Totals for the page's summary line.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Counts {
    pub datagrams: usize,
    pub lost: usize,
    pub retransmissions: usize,
    pub records: usize,
    pub timers: usize,
    pub collapsed: usize,
}

/// One lane, with its x.
#[derive(Debug, Serialize)]
pub(crate) struct LanePlan<'a> {
    pub name: &'a str,
    pub kind: crate::LaneKind,
    pub address: &'a str,
    pub x: u32,
}

/// A stretch of rows painted as one SVG: shown at once, or collapsed behind a bar.
#[derive(Debug, Serialize)]
pub(crate) struct Segment<'a> {
    pub collapsed: bool,
    pub from_us: u64,
    pub to_us: u64,
    /// `… 47 min: 283 DPD exchanges …` (collapsed segments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Exchanges (and records) in it by kind.
    pub counts: Vec<(String, usize)>,
    pub height: u32,
    pub items: Vec<Item<'a>>,
}

/// One painted thing.
#[derive(Debug, Serialize)]
#[serde(tag = "k")]
pub(crate) enum Item<'a> {
    /// An arrow.
    #[serde(rename = "d")]
    Datagram(Arrow),
    /// A timer mark.
    #[serde(rename = "t")]
    Timer {
        y: u32,
        lane: usize,
        at: u64,
        timer: &'a str,
        sa: &'a str,
    },
    /// An AWS record.
    #[serde(rename = "r")]
    /// Only the record's JSON line (the script reads `details` and the states from it)
    /// and its stream as an index into [`Plan::streams`]: a month's 4 000 records would
    /// otherwise carry every field twice.
    Record {
        y: u32,
        lane: usize,
        at: u64,
        stream: usize,
        json: &'a str,
    },
    /// A long silence.
    #[serde(rename = "g")]
    Gap { y: u32, text: String },
}

/// An arrow: where it goes and what it says; its message's other facts are in its
/// [`Shape`].
#[derive(Debug, Serialize)]
pub(crate) struct Arrow {
    /// The event's index (for the layout, not the page).
    #[serde(skip)]
    pub e: usize,
    pub y0: u32,
    pub y1: u32,
    pub from: usize,
    pub to: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<usize>,
    pub at: u64,
    /// Arrival time (for the layout; the page gets `delay`).
    #[serde(skip)]
    pub arrived: Option<u64>,
    /// Arrival minus send, µs (delivered datagrams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
    /// Transmission number (1 = first).
    pub tx: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dup: bool,
    /// A response (drawn in the answer's colour).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reply: bool,
    /// Delayed by the path by at least [`super::rules::DELAYED_US`] (drawn slanted, marked).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delayed: bool,
    /// First label line (`IKE_AUTH #1 request (I)`).
    pub label: String,
    /// Index into [`Plan::shapes`].
    pub shape: usize,
}

/// What many arrows share: addresses, SPIs, the payload line and the payloads.
#[derive(Debug, Serialize, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Shape<'a> {
    /// Second label line (`SK{IDi, AUTH, …}`).
    pub line: String,
    pub src: &'a str,
    pub dst: &'a str,
    pub len: usize,
    pub spis: &'a str,
    pub protection: &'static str,
    /// Indices into [`Plan::payloads`].
    pub payloads: Vec<usize>,
}
