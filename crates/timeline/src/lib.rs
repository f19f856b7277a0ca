//! A run's ladder diagram: the [`Timeline`] (what happened, as data — filled in by `sim`
//! while a run or `serve` goes on) and [`render_html`] (that data as one self-contained
//! HTML page: inline SVG, CSS and script, nothing fetched from the network).
//!
//! # Flow
//! ```text
//! sim (driver hooks, the core's trace, the AWS records) ──▶ Timeline ──render_html──▶ page
//! ```
//! The model knows nothing of IKE's types: `sim` turns each datagram into a [`Message`]
//! with its payloads already decoded into words, so this crate only lays out and draws.
//!
//! ESP is not drawn packet by packet: each tunnel and direction is an [`EspBand`], time
//! in a bounded number of buckets counting what was delivered, lost and dropped.
//!
//! Times are microseconds since [`Timeline::origin`], the simulated clock's start (a
//! `run`) or when `serve` started.

#![warn(missing_docs)]

mod band;
mod model;
mod render;

pub use band::{width_for, Direction, EspBand, EspBucket, PacketFate, MAX_BUCKETS, WIDTHS_US};
pub use model::{
    Datagram, Event, Fate, Lane, LaneKind, Message, PayloadView, Protection, RecordMark, Timeline,
    TimerMark, What,
};
pub use render::render_html;
