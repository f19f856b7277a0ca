//! `ikesim new-scenario`: a commented scenario file to start from.

use std::io::Write;
use std::path::PathBuf;

use super::Failure;

#[derive(clap::Args)]
pub struct NewScenarioArgs {
    /// Name of the scenario; the file is NAME.toml unless NAME ends in .toml.
    name: String,
}

pub fn run(args: NewScenarioArgs) -> Result<(), Failure> {
    let name = args.name;
    let path = if name.ends_with(".toml") {
        PathBuf::from(name)
    } else {
        PathBuf::from(format!("{name}.toml"))
    };
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure::BadInput(format!(
                "{} exists already: pick another name or remove it",
                path.display()
            )))
        }
        Err(e) => {
            return Err(Failure::BadInput(format!(
                "cannot create {}: {e}",
                path.display()
            )))
        }
    };
    file.write_all(sim::scenario::TEMPLATE.as_bytes())
        .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?;
    eprintln!(
        "wrote {}: edit it, then `ikesim run {}`",
        path.display(),
        path.display()
    );
    Ok(())
}
