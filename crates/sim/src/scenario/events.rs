//! What AWS does to a tunnel's endpoint while it runs (a scenario's `[[tunnel.maintenance]]`
//! and `[[tunnel.modify_options]]`, docs/scenario-format.md "AWS-side events").
//!
//! Both are a *tunnel endpoint replacement* in AWS's words (Site-to-Site VPN User Guide,
//! "Tunnel endpoint replacements": AWS replaces an endpoint for maintenance, and
//! ModifyVpnTunnelOptions makes "the modified tunnel … unavailable during the update"): the
//! endpoint and every SA it held are gone, nothing answers on the tunnel's outside IP for
//! `downtime`, then a new endpoint with the same outside IP — and, after a modification, the
//! new options — starts with no SA. What the CGW makes of that is up to the protocol.

use serde::Deserialize;

use crate::aws::options::TunnelOptions;
use crate::duration::SimDuration;

fn default_downtime() -> SimDuration {
    SimDuration(std::time::Duration::from_secs(120))
}

/// One `[[tunnel.maintenance]]`: AWS replaces the tunnel's endpoint (maintenance, hardware
/// retirement, an unhealthy endpoint: User Guide, "AWS managed endpoint replacements").
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    /// When the old endpoint goes, from the start.
    pub at: SimDuration,
    /// How long nothing answers before the new endpoint is up (default `2m`).
    #[serde(default = "default_downtime")]
    pub downtime: SimDuration,
}

/// One `[[tunnel.modify_options]]`: ModifyVpnTunnelOptions (EC2 API reference) — AWS
/// replaces the endpoint and the new one runs with the options `aws` sets; the options it
/// does not name keep their values.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifyOptions {
    /// When the modification is applied, from the start.
    pub at: SimDuration,
    /// How long the tunnel is unavailable during the update (default `2m`).
    #[serde(default = "default_downtime")]
    pub downtime: SimDuration,
    /// `[tunnel.modify_options.aws]`: the options set, with `[tunnel.aws]`'s names.
    #[serde(default)]
    pub aws: toml::Table,
    /// The tunnel's options after this modification (and every earlier one), filled in
    /// when the scenario is read ([`resolve`]).
    #[serde(skip)]
    pub options: Option<Box<TunnelOptions>>,
}

/// An endpoint replacement of either kind, in time order: when, for how long, and the
/// options the new endpoint runs with (`None`: the ones it had).
pub struct Replacement<'a> {
    /// When the old endpoint goes.
    pub at: std::time::Duration,
    /// How long nothing answers.
    pub downtime: std::time::Duration,
    /// New options (a modification), or none (maintenance).
    pub options: Option<&'a TunnelOptions>,
}

/// Every replacement of one tunnel, in time order (a maintenance before a modification at
/// the same instant).
pub fn replacements<'a>(
    maintenance: &'a [Maintenance],
    modify: &'a [ModifyOptions],
) -> Vec<Replacement<'a>> {
    let mut all: Vec<Replacement<'a>> = maintenance
        .iter()
        .map(|m| Replacement {
            at: m.at.0,
            downtime: m.downtime.0,
            options: None,
        })
        .chain(modify.iter().map(|m| Replacement {
            at: m.at.0,
            downtime: m.downtime.0,
            options: m.options.as_deref(),
        }))
        .collect();
    all.sort_by_key(|r| r.at);
    all
}

/// A table with `overrides` put over `base`, key by key (sub-tables too, so a modification
/// may set one log option).
fn merged(base: &toml::Table, overrides: &toml::Table) -> toml::Table {
    let mut out = base.clone();
    for (k, v) in overrides {
        let next = match (out.get(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                toml::Value::Table(merged(b, o))
            }
            _ => v.clone(),
        };
        out.insert(k.clone(), next);
    }
    out
}

/// Fills in each modification's resulting options for tunnel `index` (0-based) of the
/// scenario `text`: its `[tunnel.aws]` with every modification up to it applied, in time
/// order, read and checked as `[tunnel.aws]` is. The error is the key (below the tunnel)
/// and the message.
pub(crate) fn resolve(
    text: &str,
    index: usize,
    modify: &mut [ModifyOptions],
) -> Result<(), (String, String)> {
    if modify.is_empty() {
        return Ok(());
    }
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| ("modify_options".to_owned(), e.to_string()))?;
    let base = doc
        .get("tunnel")
        .and_then(|t| t.as_array())
        .and_then(|t| t.get(index))
        .and_then(|t| t.get("aws"))
        .and_then(|t| t.as_table())
        .cloned()
        .unwrap_or_default();
    let mut order: Vec<usize> = (0..modify.len()).collect();
    order.sort_by_key(|&j| modify[j].at);
    let mut current = base;
    for j in order {
        if modify[j].aws.contains_key("startup_action") {
            // The new endpoint would need the CGW's address to call: not simulated yet.
            return Err((
                format!("modify_options[{}].aws.startup_action", j + 1),
                "a modification cannot change the startup action in ikesim yet: set it in [tunnel.aws]".into(),
            ));
        }
        current = merged(&current, &modify[j].aws);
        let key = format!("modify_options[{}].aws", j + 1);
        let rendered = toml::to_string(&current).map_err(|e| (key.clone(), e.to_string()))?;
        let options: TunnelOptions = toml::from_str(&rendered).map_err(|e| {
            // toml's message quotes the rendered table, not the file: give the gist.
            (key.clone(), e.message().to_owned())
        })?;
        options
            .check()
            .map_err(|(_, k, message)| (format!("{key}.{k}"), message))?;
        modify[j].options = Some(Box::new(options));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::scenario::Scenario;

    const BASE: &str = "description = \"t\"\n[vpn_connection]\nid = \"vpn-0123456789abcdef0\"\n\
        [cgw]\noutside_ip = \"127.0.2.1\"\n[[tunnel]]\noutside_ip = \"127.0.1.1\"\n\
        [tunnel.aws]\nphase1_dh_group_numbers = [14, 19]\nstartup_action = \"start\"\n";

    #[test]
    fn a_modification_sets_what_it_names_and_keeps_the_rest() {
        let text = format!(
            "{BASE}[[tunnel.modify_options]]\nat = \"3h\"\n[tunnel.modify_options.aws]\n\
             phase1_dh_group_numbers = [20]\n[[tunnel.maintenance]]\nat = \"1h\"\n"
        );
        let s = Scenario::parse(&text, "t.toml", "t").expect("scenario");
        let t = &s.tunnel[0];
        let after = t.modify_options[0].options.as_deref().expect("resolved");
        assert_eq!(after.phase1_dh_group_numbers.0, vec![20]);
        assert_eq!(
            after.startup_action,
            crate::aws::options::StartupAction::Start
        );
        assert_eq!(t.modify_options[0].downtime.0.as_secs(), 120);
        let all = super::replacements(&t.maintenance, &t.modify_options);
        assert_eq!(
            all.iter()
                .map(|r| (r.at.as_secs(), r.options.is_some()))
                .collect::<Vec<_>>(),
            vec![(3600, false), (10_800, true)]
        );
    }

    #[test]
    fn a_modification_is_checked_as_the_options_are() {
        let bad = |aws: &str| {
            let text =
                format!("{BASE}[[tunnel.modify_options]]\nat = \"3h\"\n[tunnel.modify_options.aws]\n{aws}\n");
            Scenario::parse(&text, "t.toml", "t")
                .map(|_| ())
                .expect_err("refused")
                .to_string()
        };
        let e = bad("phase1_dh_group_numbers = [5]");
        assert!(e.contains("tunnel[1].modify_options[1].aws"), "{e}");
        let e = bad("ike_versions = [\"ikev1\"]");
        assert!(e.contains("modify_options[1].aws.startup_action"), "{e}");
        let e = bad("dpd_timeout = 30");
        assert!(e.contains("dpd_timeout"), "{e}");
    }
}
