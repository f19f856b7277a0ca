//! `--format json`: the report as one JSON document (schema in docs/explain.md).

use serde_json::{json, Value};

use super::{guide_path, Report, StreamReport};
use crate::rules::{words, Finding};

/// The report as pretty-printed JSON.
pub fn json(report: &Report<'_>) -> String {
    let streams: Vec<Value> = report.streams.iter().map(stream).collect();
    let connections: Vec<Value> = report
        .connections
        .iter()
        .map(|c| {
            json!({
                "vpn": c.vpn,
                "streams": c.streams.iter()
                    .filter_map(|&i| report.input.streams.get(i))
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>(),
                "findings": c.findings.iter().map(finding).collect::<Vec<_>>(),
            })
        })
        .collect();
    let problems: Vec<Value> = report
        .input
        .problems
        .iter()
        .map(|p| json!({"file": p.source.file, "line": p.source.line, "message": p.message}))
        .collect();
    let doc = json!({
        "streams": streams,
        "connections": connections,
        "problems": problems,
    });
    // A Value always serializes.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn stream(s: &StreamReport<'_>) -> Value {
    let records: Vec<Value> = s
        .stream
        .entries
        .iter()
        .zip(&s.meanings)
        .map(|(e, m)| {
            json!({
                "index": e.index,
                "time": e.record.timestamp(),
                "details": e.record.details,
                "phase1": e.record.ike_phase1_state.as_str(),
                "phase2": e.record.ike_phase2_state.as_str(),
                "meaning": m.text,
                "known": m.known(),
                "message": m.id(),
                "source": e.source.to_string(),
            })
        })
        .collect();
    let life: Vec<Value> = s
        .diagnosis
        .life
        .iter()
        .map(|p| {
            json!({
                "state": p.state.as_str(),
                "from": crate::rules::words::full(p.from) + "Z",
                "to": words::full(p.to) + "Z",
                "seconds": words::seconds(p.from, p.to),
                "first": p.first,
                "last": p.last,
                "open": p.open,
            })
        })
        .collect();
    json!({
        "name": s.stream.name,
        "ike_version": s.ike.map(vpn_log::IkeVersion::as_str),
        "records": records,
        "life": life,
        "changes": s.diagnosis.changes,
        "findings": s.diagnosis.findings.iter().map(finding).collect::<Vec<_>>(),
    })
}

fn finding(f: &Finding) -> Value {
    json!({
        "id": f.id,
        "title": f.title,
        "cause": f.cause,
        "evidence": f.evidence,
        "guide": f.guide.map(guide_path),
        "scenario": f.scenario,
        "severity": f.severity.as_str(),
    })
}
