//! Findings about a VPN connection as a whole, from the diagnoses of its two tunnels'
//! streams (each VPN connection has two tunnels, each with its own outside IP, options and
//! log stream: reference §1).

use super::{Diagnosis, Finding, LifeState, Severity};
use crate::Stream;

/// One VPN connection with more than one of its tunnels' streams in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The VPN connection id (`vpn-0123456789abcdef0`).
    pub vpn: String,
    /// Indices of its streams in the input, in input order.
    pub streams: Vec<usize>,
    /// What the tunnels show together. Their evidence is empty: each stream's own
    /// findings carry the records.
    pub findings: Vec<Finding>,
}

/// How close (seconds) two tunnels' DPD time-outs must be to count as together.
const TOGETHER_S: i64 = 120;

/// The connections with two or more streams, and their findings.
pub fn connections(streams: &[Stream], diagnoses: &[Diagnosis]) -> Vec<Connection> {
    let mut out: Vec<Connection> = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        let Some((vpn, _)) = s.tunnel() else { continue };
        match out.iter_mut().find(|c| c.vpn == vpn) {
            Some(c) => c.streams.push(i),
            None => out.push(Connection {
                vpn: vpn.to_owned(),
                streams: vec![i],
                findings: Vec::new(),
            }),
        }
    }
    out.retain(|c| c.streams.len() > 1);
    for c in &mut out {
        c.findings = findings(&c.streams, streams, diagnoses);
    }
    out
}

fn ever_up(d: &Diagnosis) -> bool {
    d.life.iter().any(|p| p.state == LifeState::Up)
}

fn ip(s: &Stream) -> String {
    s.tunnel()
        .map_or_else(|| s.name.clone(), |(_, ip)| ip.to_string())
}

fn finding(
    id: &'static str,
    title: String,
    cause: &str,
    scenario: Option<&'static str>,
) -> Finding {
    Finding {
        id,
        title,
        cause: cause.to_owned(),
        evidence: Vec::new(),
        guide: None,
        scenario,
        severity: Severity::Warning,
    }
}

fn findings(members: &[usize], streams: &[Stream], diagnoses: &[Diagnosis]) -> Vec<Finding> {
    let mut out = Vec::new();
    let up: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| ever_up(&diagnoses[i]))
        .collect();
    for &i in members {
        if ever_up(&diagnoses[i]) {
            continue;
        }
        let Some(&good) = up.first() else { continue };
        let error = diagnoses[i]
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error);
        // A tunnel that failed has its error; one that never negotiated, a CGW with one
        // tunnel configured — each with the scenario that shows it.
        let (why, scenario) = match error {
            Some(f) => (f.title.clone(), "ikev2-two-tunnels-one-failing"),
            None => (
                "it never negotiated: the CGW may have one tunnel configured".to_owned(),
                "ikev2-one-tunnel-configured",
            ),
        };
        out.push(finding(
            "one-tunnel-down",
            format!(
                "tunnel {} never came up while tunnel {} is up: {why}",
                ip(&streams[i]),
                ip(&streams[good])
            ),
            "Each tunnel has its own outside IP, pre-shared key and options, and the CGW needs \
             both configured (AWS moves traffic to the other tunnel during maintenance). \
             Compare the failing tunnel's peer entry on the CGW with the working one's.",
            Some(scenario),
        ));
    }
    let dpd: Vec<Vec<chrono::DateTime<chrono::Utc>>> = members
        .iter()
        .map(|&i| dpd_times(&streams[i], &diagnoses[i]))
        .collect();
    if let [a, b, ..] = &dpd[..] {
        let window = chrono::Duration::seconds(TOGETHER_S);
        let together = a
            .iter()
            .filter(|t| b.iter().any(|u| (**t - *u).abs() <= window))
            .count();
        if together >= 2 {
            out.push(finding(
                "flap-together",
                format!(
                    "both tunnels lose DPD together ({together} times within {TOGETHER_S} s of \
                     each other)"
                ),
                "Two tunnels with separate AWS endpoints failing at the same moments point to \
                 what they share: the CGW's internet link, a device in front of it, or the CGW \
                 itself, not one tunnel's configuration.",
                Some("ikev2-internet-weather"),
            ));
        }
    }
    out
}

fn dpd_times(s: &Stream, d: &Diagnosis) -> Vec<chrono::DateTime<chrono::Utc>> {
    d.findings
        .iter()
        .filter(|f| f.id == "dpd-timeout")
        .flat_map(|f| f.evidence.iter())
        .filter_map(|&i| s.entries.get(i))
        .map(|e| e.record.time)
        .collect()
}
