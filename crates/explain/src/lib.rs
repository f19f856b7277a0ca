//! `ikesim explain`: AWS Site-to-Site VPN tunnel logs in, what the tunnels did and why out.
//!
//! # Flow
//! ```text
//! files / stdin ──input::read──▶ Input { streams, problems }
//!                                  │  one Stream per log stream, its records in time order
//!                                  ▼
//!                        report::build(&input)
//!                          meaning::of(prev, record)   one line per record, from the catalogue
//!                          rules::diagnose(stream)     Diagnosis { life, changes, findings }
//!                          rules::connections(…)       two tunnels of one VPN connection
//!                                  ▼
//!                        report::text(&report, Records) / report::json(&report)
//! ```
//!
//! - [`input`] knows every form people have records in (JSON lines of both schemas,
//!   ikesim's text format, `aws logs get-log-events` / `filter-log-events` output, Logs
//!   Insights CSV and JSON exports, subscription deliveries `.json.gz` and the Lambda
//!   `{"awslogs": …}` event, directories of per-stream files) and turns them into
//!   [`Stream`]s. What it cannot read becomes a [`Problem`] with its file and line; the rest
//!   is still read.
//! - [`meaning`] says what one record means in IKE terms. A `details` string that is in no
//!   catalogue entry is shown as unknown, never guessed.
//! - [`rules`] is data: record patterns over time windows, each naming the likely cause,
//!   the guide page and the built-in scenario that reproduces it. They look at the records
//!   alone (AWS could write records no scenario here produced), never at scenario names.
//!   [`rules::RULES`] is the table and one engine runs it; a few findings come from the
//!   whole stream (healthy, never up, unknown messages), and [`rules::connections`] looks
//!   at the two tunnels of one VPN connection together.
//! - [`report`] prints it for people (text: the diagnosis first, runs of routine records
//!   folded, both tunnels of a connection side by side) or scripts (JSON, with the evidence
//!   as record indices into each stream). docs/explain.md documents both.
//! - [`data`] reads what the log cannot show — AWS/VPN metrics (`--metrics`) and the
//!   simulator's counters (`--counters`) — and adds its findings to the tunnels' streams.

#![warn(missing_docs)]

pub mod data;
pub mod input;
pub mod meaning;
mod model;
pub mod report;
pub mod rules;

pub use model::{Entry, Input, Problem, Source, Stream};
