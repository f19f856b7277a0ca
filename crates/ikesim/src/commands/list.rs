//! `ikesim list`: the built-in scenarios.

use sim::Scenario;

use super::{emit, Failure};

#[derive(clap::Args)]
pub struct ListArgs {
    /// One JSON object per scenario.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ListArgs) -> Result<(), Failure> {
    let width = sim::builtin::all()
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(0);
    for (name, text) in sim::builtin::all() {
        let scenario = Scenario::parse(text, name, name)
            .map_err(|e| Failure::Runtime(format!("built-in scenario {e}")))?;
        if args.json {
            let messages: Vec<&str> = scenario
                .produces
                .iter()
                .filter_map(|id| vpn_log::by_id(id))
                .map(|e| e.template)
                .collect();
            let value = serde_json::json!({
                "name": name,
                "ike_version": scenario
                    .tunnel
                    .first()
                    .map_or(2, |t| sim::ike_version_number_of(t.cgw.ike_version)),
                "description": scenario.description,
                "messages": messages,
            });
            emit(&value.to_string())?;
        } else {
            emit(&format!("{name:<width$}  {}", scenario.description))?;
        }
    }
    Ok(())
}
