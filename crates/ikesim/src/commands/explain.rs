//! `ikesim explain`: tunnel logs in, what the tunnels did and why out (crates/explain).

use super::Failure;

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// Files or directories to read (`-` is stdin; none: stdin).
    paths: Vec<String>,
}

pub fn run(args: ExplainArgs) -> Result<(), Failure> {
    let input = explain::input::read(&args.paths);
    let _ = input;
    Ok(())
}
