//! Data-plane numbers beside the log. AWS's tunnel log shows IKE only: a tunnel that
//! carries nothing, carries traffic one way, or drops every large packet writes the log of
//! a healthy tunnel. Two more inputs show what the log cannot:
//! - [`metrics`]: AWS/VPN's `TunnelDataIn`, `TunnelDataOut` and `TunnelState` per
//!   `TunnelIpAddress` (aws-vpn-log-reference.md §6), as `ikesim run --metrics` writes them
//!   or as the AWS CLI prints them (`aws cloudwatch get-metric-data` and
//!   `get-metric-statistics`), turned into findings by [`traffic`];
//! - [`counters`]: the simulator's own ESP counters (`ikesim run --counters`), which AWS
//!   publishes nowhere: replay drops, integrity failures, selector mismatches, MTU drops.
//!
//! Both add findings to the streams of the tunnels they name ([`attach`]). A file that
//! cannot be read is a [`DataError`] with its line and column.

pub mod counters;
pub mod metrics;
mod traffic;

pub use traffic::findings as traffic_findings;

use std::net::IpAddr;

use crate::report::Report;
use crate::rules::Finding;

/// A metrics or counters file that cannot be used: where, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    /// The path as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl std::fmt::Display for DataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl DataError {
    /// An error at the start of `file`.
    pub(crate) fn at_start(file: &str, message: String) -> DataError {
        DataError {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message,
        }
    }

    /// serde_json's error, which knows its line and column.
    pub(crate) fn of_json(file: &str, e: &serde_json::Error, what: &str) -> DataError {
        // serde_json's message ends in " at line L column C": keep the rest.
        let text = e.to_string();
        let message = text
            .rfind(" at line ")
            .map_or(text.as_str(), |cut| &text[..cut])
            .to_owned();
        DataError {
            file: file.to_owned(),
            line: e.line().max(1),
            column: e.column().max(1),
            message: format!("{message} ({what})"),
        }
    }
}

/// The whole of a `what` (metrics, counters) file, `-` being stdin.
pub(crate) fn read_text(path: &str, what: &str) -> Result<String, DataError> {
    if path == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| DataError {
        file: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read the {what} file: {e}"),
    })
}

/// Findings about one tunnel, to go beside its log's.
#[derive(Clone, Debug)]
pub struct TunnelFindings {
    /// The file they come from (for the error when no stream is that tunnel's).
    pub file: String,
    /// The tunnel's outside IP address, when the input says it.
    pub tunnel: Option<IpAddr>,
    /// The findings.
    pub findings: Vec<Finding>,
}

/// Adds each tunnel's findings to the stream of that tunnel (the stream named
/// `vpn-<id>-<ip>`); findings that name no tunnel go to the only stream when there is
/// one. Data for a tunnel with no stream in the input is an error.
pub fn attach(report: &mut Report<'_>, found: Vec<TunnelFindings>) -> Result<(), DataError> {
    for t in found {
        let streams = &report.streams;
        let by_ip = t.tunnel.and_then(|ip| {
            streams
                .iter()
                .position(|s| s.stream.tunnel().is_some_and(|(_, i)| i == ip))
        });
        let at = match (by_ip, t.tunnel) {
            (Some(i), _) => i,
            // One stream that names no tunnel (stdin, a file of any name): it is that one.
            (None, _) if streams.len() == 1 && streams[0].stream.tunnel().is_none() => 0,
            (None, None) if streams.len() == 1 => 0,
            (None, None) => {
                return Err(DataError::at_start(
                    &t.file,
                    format!(
                        "the data names no tunnel and the log has {} streams: name the file \
                         after the tunnel's log stream (vpn-<id>-<outside-ip>.json) or give \
                         the tunnel's log alone",
                        streams.len()
                    ),
                ))
            }
            (None, Some(ip)) => {
                return Err(DataError::at_start(
                    &t.file,
                    format!(
                        "data for tunnel {ip}, but no log stream in the input is that \
                         tunnel's (vpn-<id>-{ip}): give its log too"
                    ),
                ))
            }
        };
        let diagnosis = &mut report.streams[at].diagnosis;
        diagnosis.findings.extend(t.findings);
        // Most severe first, as the engine orders them (a stable sort keeps the rest).
        diagnosis
            .findings
            .sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    Ok(())
}
