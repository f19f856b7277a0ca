//! `--metrics FILE`: the AWS/VPN metrics as PutMetricData input files.

use std::path::{Path, PathBuf};

use delivery::metrics;

use crate::commands::Failure;

/// `--metrics FILE`: one PutMetricData request per file, FILE then FILE-2, FILE-3, … (the
/// extension kept) when there are more than 1000 datapoints.
pub fn write_metrics(
    file: &Path,
    namespace: &str,
    datums: &[metrics::MetricDatum],
) -> Result<(), Failure> {
    let requests = metrics::put_metric_data_inputs(namespace, datums);
    let requests = if requests.is_empty() {
        // A run shorter than one period still gets its (empty) file.
        vec![serde_json::json!({"Namespace": namespace, "MetricData": []})]
    } else {
        requests
    };
    for (i, request) in requests.iter().enumerate() {
        let path = if i == 0 {
            file.to_owned()
        } else {
            numbered(file, i + 1)
        };
        let mut text = serde_json::to_string_pretty(request)
            .map_err(|e| Failure::Runtime(format!("--metrics: {e}")))?;
        text.push('\n');
        write_whole(&path, text.as_bytes())
            .map_err(|e| Failure::Runtime(format!("--metrics {}: {e}", path.display())))?;
    }
    if requests.len() > 1 {
        eprintln!(
            "ikesim: {} metric datapoints in {} PutMetricData requests: {} and {}",
            datums.len(),
            requests.len(),
            file.display(),
            numbered(file, requests.len()).display()
        );
    }
    Ok(())
}

/// `metrics.json` → `metrics-N.json`.
fn numbered(file: &Path, n: usize) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match file.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    file.with_file_name(name)
}

/// Writes `path` completely or not at all: a temporary file beside it, renamed.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
