//! `explain --counters FILE.json`: the simulator's data-plane counters (`ikesim run
//! --counters`) as findings labelled simulator-only — AWS publishes no such counters, so
//! a real tunnel's explanation never has them. Each tunnel's hosts (its AWS endpoint and
//! its CGW) are summed per kind of drop: replay drops, integrity failures, selector
//! mismatches, AWS's MTU drops, and a stateful CGW firewall's drops.

use serde::Deserialize;

use super::{DataError, TunnelFindings};
use crate::rules::{Finding, Severity};

#[derive(Deserialize)]
struct Document {
    data_plane: bool,
    tunnels: Vec<Tunnel>,
}

#[derive(Deserialize)]
struct Tunnel {
    stream: String,
    hosts: Vec<Host>,
}

#[derive(Deserialize)]
struct Host {
    host: String,
    total: Total,
    mtu_drops: u64,
    /// Written since `[onprem] firewall`; absent from older files.
    #[serde(default)]
    firewall_drops: u64,
}

#[derive(Deserialize)]
struct Total {
    replay_drops: u64,
    integrity_failures: u64,
    selector_mismatches: u64,
}

/// Reads a counters file (`-` is stdin) into findings per tunnel (by its log stream's
/// outside IP address).
pub fn read(path: &str) -> Result<Vec<TunnelFindings>, DataError> {
    let text = super::read_text(path, "counters")?;
    parse(path, &text)
}

/// Reads the text of a counters file named `file`.
pub fn parse(file: &str, text: &str) -> Result<Vec<TunnelFindings>, DataError> {
    let doc: Document = serde_json::from_str(text).map_err(|e| {
        DataError::of_json(
            file,
            &e,
            "expected what `ikesim run SCENARIO --counters FILE.json` writes",
        )
    })?;
    if !doc.data_plane {
        return Ok(Vec::new());
    }
    Ok(doc
        .tunnels
        .iter()
        .map(|t| {
            let name = crate::Stream {
                name: t.stream.clone(),
                entries: Vec::new(),
            };
            TunnelFindings {
                file: file.to_owned(),
                tunnel: name.tunnel().map(|(_, ip)| ip),
                findings: findings(&t.hosts),
            }
        })
        .collect())
}

/// `host=N` pairs of the hosts that counted any.
fn who(hosts: &[Host], count: impl Fn(&Host) -> u64) -> (u64, String) {
    let counted: Vec<String> = hosts
        .iter()
        .filter(|h| count(h) > 0)
        .map(|h| format!("{} {}", h.host, count(h)))
        .collect();
    (hosts.iter().map(&count).sum(), counted.join(", "))
}

fn finding(id: &'static str, what: String, cause: &str, scenario: Option<&'static str>) -> Finding {
    Finding {
        id,
        title: format!("simulator counters (AWS publishes none): {what}"),
        cause: cause.to_owned(),
        evidence: Vec::new(),
        guide: None,
        scenario,
        severity: Severity::Warning,
    }
}

fn findings(hosts: &[Host]) -> Vec<Finding> {
    let mut out = Vec::new();
    let (n, at) = who(hosts, |h| h.total.replay_drops);
    if n > 0 {
        out.push(finding(
            "counters-replay-drops",
            format!("{n} ESP packets dropped by the anti-replay window ({at})"),
            "Packets arrived duplicated, or reordered further than the receiver's replay window \
             (AWS: 64–2,048 packets, default 1,024): ESP drops them (RFC 4303 §3.4.3) and the \
             tunnel log shows nothing. Look for reordering on the path (several links, per-packet \
             load balancing) or raise the replay window on the side that dropped them.",
            Some("ikev2-replay-reorder"),
        ));
    }
    let (n, at) = who(hosts, |h| h.total.integrity_failures);
    if n > 0 {
        out.push(finding(
            "counters-integrity-failures",
            format!("{n} ESP packets failed their integrity check ({at})"),
            "Their ICV did not verify: packets altered on the path (a middlebox rewriting them, \
             corruption) or sent with keys this SA does not have. ESP drops them before \
             decryption and the tunnel log shows nothing.",
            None,
        ));
    }
    let (n, at) = who(hosts, |h| h.total.selector_mismatches);
    if n > 0 {
        out.push(finding(
            "counters-selector-mismatches",
            format!("{n} ESP packets outside their SA's traffic selectors ({at})"),
            "An SA carried inner packets whose addresses its traffic selectors do not cover: the \
             sender routes networks into the tunnel that it did not negotiate (a policy-based CGW \
             with more subnets than AWS's one SA pair). Negotiate selectors that cover them \
             (0.0.0.0/0 both ways, as AWS proposes) or route only the negotiated networks.",
            None,
        ));
    }
    let (n, at) = who(hosts, |h| h.mtu_drops);
    if n > 0 {
        out.push(finding(
            "counters-mtu-drops",
            format!("{n} inner packets over the tunnel's MTU with DF set dropped ({at})"),
            "AWS's tunnel carries inner packets of at most 1446 bytes (1438 with NAT-T, in \
             ikesim's derivation) and does no path MTU discovery: a larger packet with DF set is \
             dropped before encryption with no ICMP back — the MTU black hole (small pings fine, \
             large transfers stall). Clamp TCP's MSS to 1406 bytes (1398 with NAT-T) on the CGW, \
             or have the senders clear DF.",
            Some("ikev2-mtu-blackhole"),
        ));
    }
    let (n, at) = who(hosts, |h| h.firewall_drops);
    if n > 0 {
        out.push(finding(
            "counters-firewall-drops",
            format!("{n} packets dropped by the CGW's stateful firewall ({at})"),
            "The CGW's firewall tracks connections per tunnel and dropped packets that came back \
             on a tunnel other than the one their connection left on: asymmetric routing over \
             the two tunnels (AWS picks the tunnel it sends on; with both up it need not be the \
             CGW's). Make both sides prefer the same tunnel (BGP: AS-path prepending or MED on \
             the CGW, as AWS documents; static: one route), or let the firewall treat both \
             tunnels as one zone.",
            Some("ikev2-asymmetric-routing"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firewall_s_drops_are_a_finding_of_their_tunnel() {
        let host = |name: &str, fw: u64| {
            format!(
                "{{\"host\":\"{name}\",\"total\":{{\"replay_drops\":0,\"integrity_failures\":0,\
                 \"selector_mismatches\":0}},\"mtu_drops\":0,\"firewall_drops\":{fw}}}"
            )
        };
        let text = format!(
            "{{\"data_plane\":true,\"tunnels\":[{{\"stream\":\"vpn-0a1b2c3d4e5f60718-192.0.2.2\",\
             \"hosts\":[{},{}]}}]}}",
            host("aws-tunnel-2", 0),
            host("cgw-tunnel-2", 288)
        );
        let found = parse("c.json", &text).unwrap();
        assert_eq!(found[0].tunnel, Some("192.0.2.2".parse().unwrap()));
        let f = &found[0].findings[0];
        assert_eq!(f.id, "counters-firewall-drops");
        assert!(
            f.title.contains("288") && f.title.contains("cgw-tunnel-2 288"),
            "{}",
            f.title
        );
    }
}
