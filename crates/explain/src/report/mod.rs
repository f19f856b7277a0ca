//! The report: every stream's records with their meanings and its diagnosis, the VPN
//! connections whose two tunnels are both present, and what could not be read; printed
//! for people ([`text`]) or scripts ([`json`], documented in docs/explain.md).

mod json;
mod text;

pub use json::json;
pub use text::text;

use vpn_log::IkeVersion;

use crate::meaning::{self, Meaning};
use crate::rules::{self, Connection, Diagnosis};
use crate::{Input, Stream};

/// How many records the text report lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Records {
    /// Every record, but runs of routine records (no change of the tunnel's state, no
    /// evidence of a problem) and of one repeated message are folded into one line each.
    #[default]
    Folded,
    /// Every record, one by one.
    All,
    /// None: the diagnosis only.
    None,
}

/// One stream, explained.
#[derive(Debug)]
pub struct StreamReport<'a> {
    /// The stream.
    pub stream: &'a Stream,
    /// Each record's meaning, in stream order.
    pub meanings: Vec<Meaning>,
    /// Its diagnosis.
    pub diagnosis: Diagnosis,
    /// Its IKE version, as far as its messages tell.
    pub ike: Option<IkeVersion>,
}

/// Everything explained.
#[derive(Debug)]
pub struct Report<'a> {
    /// What was read.
    pub input: &'a Input,
    /// One per stream, in input order.
    pub streams: Vec<StreamReport<'a>>,
    /// VPN connections with two tunnels' streams in the input.
    pub connections: Vec<Connection>,
}

/// Explains everything read.
pub fn build(input: &Input) -> Report<'_> {
    let streams: Vec<StreamReport<'_>> = input
        .streams
        .iter()
        .map(|stream| {
            let mut previous = None;
            let meanings: Vec<Meaning> = stream
                .entries
                .iter()
                .map(|e| {
                    let m = meaning::of(previous, &e.record);
                    previous = Some(&e.record);
                    m
                })
                .collect();
            let ike = meaning::ike_version(&meanings);
            StreamReport {
                stream,
                meanings,
                diagnosis: rules::diagnose(stream),
                ike,
            }
        })
        .collect();
    let diagnoses: Vec<Diagnosis> = streams.iter().map(|s| s.diagnosis.clone()).collect();
    let connections = rules::connections(&input.streams, &diagnoses);
    Report {
        input,
        streams,
        connections,
    }
}

/// `docs/failures/<page>.md`.
pub fn guide_path(page: &str) -> String {
    format!("docs/failures/{page}.md")
}
