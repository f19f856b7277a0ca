//! `ikesim explain`: tunnel logs in, what the tunnels did and why out (crates/explain;
//! docs/explain.md). Exit 0 when all input was read, whatever the tunnels did; 2 when some
//! of it could not be read (each problem on stderr as `FILE:LINE: what`), everything
//! readable still explained on stdout.

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
}

pub fn run(args: ExplainArgs) -> Result<(), Failure> {
    let input = explain::input::read(&args.paths);
    let built = report::build(&input);
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
