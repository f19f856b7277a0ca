//! The data plane's keys checked across each other (`Scenario::parse` calls [`check`]).

use std::net::Ipv4Addr;

use super::{Keys, Scenario, Side};

/// An error's place (an offset into the file), key and message.
pub(crate) type Refusal = (Option<usize>, String, String);

/// A top-level key's place in `text`: at a line's start, then `=`.
fn top_key(text: &str, k: &str) -> Option<usize> {
    text.match_indices(k)
        .find(|(o, _)| {
            (*o == 0 || text[..*o].ends_with('\n'))
                && text[o + k.len()..]
                    .trim_start_matches([' ', '\t'])
                    .starts_with('=')
        })
        .map(|(o, _)| o)
}

/// Checks the data plane's keys across each other: sites' hosts inside their networks,
/// networks apart, preferred tunnels among the scenario's, the firewall on premises,
/// senders among their side's hosts, sizes, times, names; and that `traffic` is not given
/// beside flows.
pub(in crate::scenario) fn check(scenario: &Scenario, text: &str) -> Result<(), Refusal> {
    if scenario.traffic_flows.is_some() && !scenario.flow.is_empty() {
        return Err((
            top_key(text, "traffic_flows"),
            "traffic_flows".into(),
            "traffic_flows says what `traffic` means (packets or the model); with [[flow]]s of \
             your own there is no `traffic`: remove it"
                .into(),
        ));
    }
    if scenario.traffic_model() {
        if let Some(n) = scenario
            .tunnel
            .iter()
            .position(|t| t.cgw.startup_action == crate::scenario::CgwStartup::Trap)
        {
            return Err((
                crate::scenario::key_in_section(text, "[tunnel.cgw]", n, "startup_action")
                    .or_else(|| top_key(text, "traffic_flows")),
                format!("tunnel[{}].cgw.startup_action", n + 1),
                "\"trap\" negotiates on the first packet, and the traffic model \
                 (`traffic_flows = false`) sends none: remove `traffic_flows`, or use \"start\""
                    .into(),
            ));
        }
    }
    if !scenario.flow.is_empty() {
        let given: Option<toml::Table> = toml::from_str(text).ok();
        if given.is_some_and(|t| t.contains_key("traffic")) {
            return Err((
                top_key(text, "traffic"),
                "traffic".into(),
                "flows replace traffic: with [[flow]]s the tunnel carries real packets and DPD \
                 follows them; remove `traffic`"
                    .into(),
            ));
        }
    }
    check_keys(&Keys::of(scenario), scenario.tunnel.len(), text)
}

/// [`check`]'s checks of the data plane's own keys, for a file of `tunnels` tunnels
/// (`text` is the file, for the places): also `connect`'s.
pub(crate) fn check_keys(keys: &Keys<'_>, tunnels: usize, text: &str) -> Result<(), Refusal> {
    let flow_key = |i: usize, k: &str| {
        (
            crate::scenario::key_in_section(text, "[[flow]]", i, k),
            format!("flow[{}].{k}", i + 1),
        )
    };
    if keys.flow.is_empty() && keys.preset.is_none() {
        if keys.vpc.is_some() || keys.onprem.is_some() {
            let (offset, key) = match text.find("[vpc]") {
                Some(o) => (Some(o), "vpc"),
                None => (text.find("[onprem]"), "onprem"),
            };
            return Err((
                offset,
                key.into(),
                "a network behind the tunnel needs a [[flow]] to carry (without flows the \
                 `traffic` model stands in for the data plane)"
                    .into(),
            ));
        }
        return Ok(());
    }
    let Some(spec) = keys.resolve() else {
        return Ok(());
    };
    if keys.vpc.as_ref().is_some_and(|v| v.firewall.is_some()) {
        return Err((
            crate::scenario::key_in_section(text, "[vpc]", 0, "firewall"),
            "vpc.firewall".into(),
            "the firewall is the customer gateway's: put it under [onprem] (AWS's side \
             tracks no connections across its tunnels)"
                .into(),
        ));
    }
    for (name, site) in [("vpc", &spec.vpc), ("onprem", &spec.onprem)] {
        let section = format!("[{name}]");
        let at = |k: &str| crate::scenario::key_in_section(text, &section, 0, k);
        if let Some(h) = site.hosts.iter().find(|h| !site.cidr.contains(**h)) {
            return Err((
                at("hosts"),
                format!("{name}.hosts"),
                format!("{h} is outside {name}'s cidr {}", site.cidr),
            ));
        }
        if let Some(n) = site.prefer_tunnel.filter(|n| *n > tunnels) {
            return Err((
                at("prefer_tunnel"),
                format!("{name}.prefer_tunnel"),
                format!(
                    "tunnel {n} is not in this scenario: it has {tunnels} [[tunnel]]{} \
                     (prefer one of them, or add the other)",
                    if tunnels == 1 { "" } else { "s" }
                ),
            ));
        }
        if site.hosts.is_empty() {
            return Err((
                at("hosts"),
                format!("{name}.hosts"),
                "give at least one host".into(),
            ));
        }
        if let Some((i, h)) = (1..)
            .zip(&site.hosts)
            .find(|(i, h)| site.hosts[..*i - 1].contains(h))
        {
            return Err((
                at("hosts"),
                format!("{name}.hosts"),
                format!("{h} is given twice (host {i})"),
            ));
        }
    }
    if spec.vpc.cidr.overlaps(spec.onprem.cidr) {
        let offset = crate::scenario::key_in_section(text, "[onprem]", 0, "cidr")
            .or_else(|| crate::scenario::key_in_section(text, "[vpc]", 0, "cidr"))
            .or_else(|| top_key(text, "traffic_flows"));
        return Err((
            offset,
            "onprem.cidr".into(),
            format!(
                "the networks overlap (vpc {}, onprem {}): the two ends of a tunnel route \
                 apart networks",
                spec.vpc.cidr, spec.onprem.cidr
            ),
        ));
    }
    for (i, (f, written)) in spec.flows.iter().zip(keys.flow).enumerate() {
        let own = match f.from {
            Side::Onprem => &spec.onprem,
            Side::Vpc => &spec.vpc,
        };
        let side = if f.from == Side::Vpc { "vpc" } else { "onprem" };
        if !own.hosts.contains(&f.src) {
            let (offset, key) = flow_key(i, "src");
            return Err((
                offset,
                key,
                format!(
                    "{} is not one of {side}'s hosts ({}): a flow from {side} is sent by one \
                     of them",
                    f.src,
                    list(&own.hosts)
                ),
            ));
        }
        let min = u32::from(lan::FlowSpec::MIN_SIZE);
        for (k, size) in [
            ("size", Some(written.size)),
            ("response_size", written.response_size),
        ] {
            let Some(size) = size.filter(|s| !(min..=65_535).contains(s)) else {
                continue;
            };
            let (offset, key) = flow_key(i, k);
            return Err((
                offset,
                key,
                format!(
                    "{size} is out of range: an IP packet of {min} (IPv4, ICMP or UDP and the \
                     flow's 28-byte marker) to 65535 bytes"
                ),
            ));
        }
        let other = match f.from {
            Side::Onprem => &spec.vpc,
            Side::Vpc => &spec.onprem,
        };
        if own.hosts.contains(&f.dst) || (!other.hosts.contains(&f.dst) && own.cidr.contains(f.dst))
        {
            let (offset, key) = flow_key(i, "dst");
            return Err((
                offset,
                key,
                format!(
                    "{} is on {side}'s own network: a flow crosses the tunnel",
                    f.dst
                ),
            ));
        }
        if f.stop.is_some_and(|stop| stop <= f.start) {
            let (offset, key) = flow_key(i, "stop");
            return Err((offset, key, "must come after `start`".into()));
        }
        if let Some(j) = spec.flows[..i].iter().position(|o| o.name == f.name) {
            let (offset, key) = flow_key(i, "name");
            return Err((
                offset,
                key,
                format!(
                    "`{}` is flow {}'s name too: names tell flows apart",
                    f.name,
                    j + 1
                ),
            ));
        }
    }
    for (name, site) in ["vpc", "onprem"]
        .into_iter()
        .zip(crate::dataplane::lan_sites(&spec))
    {
        if let Err(e) = site.validate() {
            return Err((text.find("[[flow]]"), "flow".into(), format!("{name}: {e}")));
        }
    }
    Ok(())
}

fn list(hosts: &[Ipv4Addr]) -> String {
    hosts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
