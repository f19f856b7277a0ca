//! The flags `run` and `serve` share for their outputs (`--out`, `--envelopes`,
//! `--metrics`, `--cloudwatch`, …), as clap parses them.

use std::path::PathBuf;

use vpn_log::{Format, Schema, StreamSeparator};

use crate::commands::{parse_format, parse_schema};

/// Where the records go: the flags `run` and `serve` share.
#[derive(clap::Args, Debug)]
pub struct OutputArgs {
    /// Record format for every tunnel: json (AWS's default LogOutputFormat) or text.
    /// Without it each tunnel has its own (log_output_format, json by default), and a
    /// terminal gets a view for people.
    #[arg(long, value_parser = parse_format)]
    pub(super) format: Option<Format>,
    /// Record schema: current (7 keys, epoch ms) or 2022 (6 keys, epoch seconds).
    #[arg(long, default_value = "current", value_parser = parse_schema)]
    pub(super) schema: Schema,
    /// Write one file per log stream into DIR (<stream>.jsonl, or .log for text; streams
    /// are named <vpn-connection-id>-<outside-ip>, as CloudWatch Logs names them) instead
    /// of stdout.
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// What joins the VPN connection id and the outside IP in stream names: `-` (the
    /// default, as AWS's monitoring sample parses them) or `_`.
    #[arg(long, value_name = "SEP", default_value = "-")]
    pub(super) stream_separator: StreamSeparator,
    /// Write what a CloudWatch Logs subscription filter would deliver into DIR: one
    /// gzip'd DATA_MESSAGE (.json.gz) and its Lambda event (.lambda.json) per batch.
    #[arg(long, value_name = "DIR")]
    pub(super) envelopes: Option<PathBuf>,
    /// Deliver to --envelopes only the records this CloudWatch Logs filter pattern
    /// matches, e.g. '{ ($.details = "*DPD timed out*") || ($.ike_phase1_state = "down") }'.
    #[arg(long, value_name = "PATTERN", requires = "envelopes")]
    pub(super) filter_pattern: Option<String>,
    /// The account id in the envelopes' `owner` (default: the tunnel's log group ARN's,
    /// else 123456789012).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub(super) account_id: Option<String>,
    /// Write the AWS/VPN metrics (TunnelState, TunnelDataIn, TunnelDataOut) as
    /// PutMetricData input for `aws cloudwatch put-metric-data --cli-input-json
    /// file://FILE` (more than 1000 datapoints: FILE, then FILE-2, … with the same
    /// extension).
    #[arg(long, value_name = "FILE")]
    pub(super) metrics: Option<PathBuf>,
    /// One metrics datapoint per tunnel every this many seconds (a multiple of 60).
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = parse_period)]
    pub(super) metrics_period: u64,
    /// The metrics' namespace (default: AWS/VPN in --metrics FILE, ikesim/VPN when
    /// pushing: AWS reserves AWS/ for its own services).
    #[arg(long, value_name = "NS")]
    pub(super) metrics_namespace: Option<String>,
    #[command(flatten)]
    pub(super) cloudwatch: CloudWatchArgs,
}

/// `--cloudwatch` and its settings.
#[derive(clap::Args, Debug)]
pub struct CloudWatchArgs {
    /// Push the records to CloudWatch Logs (one stream per tunnel) and the metrics to
    /// CloudWatch. Credentials and region from the usual AWS chain (environment, profile).
    #[arg(long)]
    pub cloudwatch: bool,
    /// The log group for every tunnel (default: the tunnel's log_group_arn, else
    /// /aws/vendedlogs/ikesim). Created if missing.
    #[arg(long, value_name = "NAME", value_parser = parse_group)]
    pub log_group: Option<String>,
    /// The AWS region (default: the AWS chain's, e.g. AWS_REGION).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Another CloudWatch Logs / CloudWatch endpoint, e.g. a local moto server (default:
    /// AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, AWS_ENDPOINT_URL, else AWS's).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl OutputArgs {
    /// What joins the VPN connection id and the outside IP in stream names.
    pub fn stream_separator(&self) -> StreamSeparator {
        self.stream_separator
    }

    /// Whether the records are pushed to CloudWatch.
    pub fn cloudwatch(&self) -> bool {
        self.cloudwatch.cloudwatch
    }
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(format!("`{s}` is not an AWS account id: 12 digits"))
    }
}

fn parse_period(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n >= 60 && n % 60 == 0 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a metrics period: a whole number of seconds, a multiple of 60 \
             (CloudWatch's standard resolution), e.g. 60 or 300"
        )),
    }
}

fn parse_group(s: &str) -> Result<String, String> {
    vpn_log::validate_log_group_name(s).map_err(|e| e.to_string())?;
    Ok(s.to_owned())
}
