//! `run --counters FILE.json`: the data plane's counters (`RunOutput::data_plane`, what
//! `-v` prints) as one JSON document, for `ikesim explain --counters` and for scripts.
//! They are the simulator's own: AWS publishes no per-SA counters (docs/data-plane.md,
//! "Counters", documents the shape).

use std::path::Path;

use serde_json::{json, Map, Value};
use sim::dataplane::{DataPlaneReport, HostReport};
use sim::scenario::flows::Side;

use crate::commands::Failure;

/// What `about` says in the file.
const ABOUT: &str = "ikesim's simulated data-plane counters; AWS publishes no such counters";

/// Writes the counters of a run whose tunnels' log streams are `streams` (in tunnel
/// order). A run without a data plane (no `[[flow]]`) writes `"data_plane": false`.
pub fn write_counters(
    file: &Path,
    streams: &[&str],
    report: Option<&DataPlaneReport>,
) -> Result<(), Failure> {
    let doc = match report {
        None => json!({"about": ABOUT, "data_plane": false, "tunnels": streams_only(streams)}),
        Some(r) => document(streams, r),
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Failure::Runtime(format!("--counters: {e}")))?;
    text.push('\n');
    std::fs::write(file, text)
        .map_err(|e| Failure::Runtime(format!("--counters {}: {e}", file.display())))
}

fn streams_only(streams: &[&str]) -> Vec<Value> {
    streams
        .iter()
        .map(|s| json!({"stream": s, "hosts": []}))
        .collect()
}

/// The tunnel a host belongs to: `aws-tunnel-N` / `cgw-tunnel-N` is tunnel N (from 1).
fn tunnel_of(host: &str) -> Option<usize> {
    let (_, n) = host.rsplit_once("-tunnel-")?;
    n.parse::<usize>().ok()?.checked_sub(1)
}

fn document(streams: &[&str], r: &DataPlaneReport) -> Value {
    let mut tunnels: Vec<Value> = Vec::new();
    for (i, stream) in streams.iter().enumerate() {
        let hosts: Vec<Value> = r
            .hosts
            .iter()
            .filter(|h| tunnel_of(&h.host) == Some(i))
            .map(host)
            .collect();
        tunnels.push(json!({"stream": stream, "hosts": hosts}));
    }
    let flows: Vec<Value> = r
        .flows
        .iter()
        .map(|f| {
            let s = &f.stats;
            json!({
                "name": f.name,
                "from": match f.from { Side::Vpc => "vpc", Side::Onprem => "onprem" },
                "sent": s.sent,
                "answered": s.answered,
                "unanswered": s.unanswered,
                "late_or_duplicate": s.late_or_duplicate,
                "bytes_sent": s.bytes_sent,
                "bytes_answered": s.bytes_answered,
                "rtt_max_ms": u64::try_from(s.rtt_max.as_millis()).unwrap_or(u64::MAX),
            })
        })
        .collect();
    json!({
        "about": ABOUT,
        "data_plane": true,
        "tunnels": tunnels,
        "flows": flows,
        "vpc_no_tunnel": r.vpc_no_tunnel,
        "onprem_no_tunnel": r.onprem_no_tunnel,
    })
}

fn counters(c: &esp::SaCounters) -> Value {
    json!({
        "packets_in": c.packets_in,
        "bytes_in": c.bytes_in,
        "packets_out": c.packets_out,
        "bytes_out": c.bytes_out,
        "replay_drops": c.replay_drops,
        "integrity_failures": c.integrity_failures,
        "selector_mismatches": c.selector_mismatches,
        "malformed": c.malformed,
    })
}

fn host(h: &HostReport) -> Value {
    let sas: Vec<Value> = h
        .sas
        .iter()
        .map(|s| {
            let mut v = counters(&s.counters);
            if let Value::Object(m) = &mut v {
                m.insert("spi_in".into(), format!("{:08x}", s.spi_in).into());
                m.insert("spi_out".into(), format!("{:08x}", s.spi_out).into());
                m.insert("installed".into(), s.installed.into());
            }
            v
        })
        .collect();
    let drops: Map<String, Value> = h
        .drops
        .iter()
        .map(|(d, n)| (d.name().to_owned(), n.into()))
        .collect();
    json!({
        "host": h.host,
        "total": counters(&h.total()),
        "mtu_drops": h.mtu_drops,
        "fragmented": h.fragmented,
        "firewall_drops": h.firewall_drops,
        "refused": h.refused,
        "drops": drops,
        "sas": sas,
    })
}
