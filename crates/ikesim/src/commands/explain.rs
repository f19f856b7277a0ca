//! `ikesim explain`: tunnel logs in, what the tunnels did and why out (crates/explain;
//! docs/explain.md). Exit 0 when all input was read, whatever the tunnels did; 2 when some
//! of it could not be read (each problem on stderr as `FILE:LINE: what`), everything
//! readable still explained on stdout.

use explain::data;
use explain::report::{self, Records};

use super::{emit, Failure};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ExplainFormat {
    /// For people: diagnosis first, then the records with their meanings.
    Text,
    /// For scripts: one JSON document (docs/explain.md has the schema).
    Json,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RecordsArg {
    /// Every record, runs of routine or repeated records folded into one line.
    Folded,
    /// Every record, one by one.
    All,
    /// No records: the diagnosis only.
    None,
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// Files or directories to read (`-` is stdin; none: stdin).
    paths: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: ExplainFormat,
    /// Which records the text report lists (JSON always has them all).
    #[arg(long, value_enum, default_value = "folded")]
    records: RecordsArg,
    /// AWS/VPN metrics of the same tunnels (TunnelDataIn, TunnelDataOut, TunnelState):
    /// `ikesim run --metrics` output, or the JSON of `aws cloudwatch get-metric-data` or
    /// `get-metric-statistics`. Repeat it for several files.
    #[arg(long, value_name = "FILE")]
    metrics: Vec<String>,
    /// The simulator's data-plane counters (`ikesim run --counters FILE.json`): findings
    /// labelled simulator-only, as AWS publishes no such counters.
    #[arg(long, value_name = "FILE.json")]
    counters: Option<String>,
}

/// The findings of `--metrics` and `--counters`, tunnel by tunnel; a file that cannot be
/// used is bad input (exit 2), named with its line and column.
fn data_findings(args: &ExplainArgs) -> Result<Vec<data::TunnelFindings>, Failure> {
    let bad = |e: data::DataError| Failure::BadInput(e.to_string());
    let mut found = Vec::new();
    for file in &args.metrics {
        let series = data::metrics::read(file).map_err(bad)?;
        found.extend(data::traffic_findings(file, &series));
    }
    if let Some(file) = &args.counters {
        found.extend(data::counters::read(file).map_err(bad)?);
    }
    Ok(found)
}

pub fn run(args: ExplainArgs) -> Result<(), Failure> {
    let found = data_findings(&args)?;
    let input = explain::input::read(&args.paths);
    let mut built = report::build(&input);
    data::attach(&mut built, found).map_err(|e| Failure::BadInput(e.to_string()))?;
    let records = match args.records {
        RecordsArg::Folded => Records::Folded,
        RecordsArg::All => Records::All,
        RecordsArg::None => Records::None,
    };
    let out = match args.format {
        ExplainFormat::Text => report::text(&built, records),
        ExplainFormat::Json => report::json(&built),
    };
    emit(out.trim_end())?;
    for p in &input.problems {
        eprintln!("{}: {}", p.source, p.message);
    }
    match input.problems.len() {
        0 => Ok(()),
        n => Err(Failure::BadInput(format!(
            "{} could not be read (listed above); everything else is explained on stdout",
            if n == 1 {
                "1 line or file".to_owned()
            } else {
                format!("{n} lines or files")
            }
        ))),
    }
}
