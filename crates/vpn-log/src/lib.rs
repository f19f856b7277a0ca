//! AWS Site-to-Site VPN tunnel log records, exactly as AWS publishes them to CloudWatch
//! Logs (`aws-vpn-log-reference.md`): the record and its JSON and text formats, the
//! `details` message catalogue as data, typed messages, log stream naming, the sinks, and
//! a view for people at a terminal ([`View`]).
//! `docs/log-messages.md` documents all of it.

#![warn(missing_docs)]

mod catalogue;
mod detail;
mod entries;
mod error;
mod group;
mod parse;
mod record;
mod sink;
mod spi;
mod state;
mod stream;
mod template;
mod view;

#[cfg(test)]
mod docs_check;

pub use catalogue::{
    by_id, lookup, CatalogueEntry, IkeVersion, Origin, CATALOGUE, SECTION_IKESIM,
    SECTION_IKEV1_ERRORS, SECTION_IKEV2_ERRORS, SECTION_IKEV2_NEGOTIATION,
};
pub use detail::Detail;
pub use error::RecordError;
pub use group::{validate_log_group_name, LogGroupArn, LogGroupError};
pub use parse::ParsedRecord;
pub use record::{Format, Schema, TunnelRecord};
pub use sink::{stream_file, DataBytes, RecordSink, Sink, SinkError};
pub use spi::{EspSpi, IkeSpi};
pub use state::PhaseState;
pub use stream::{stream_name, validate_vpn_connection_id, StreamSeparator, DEFAULT_LOG_GROUP};
pub use view::View;
