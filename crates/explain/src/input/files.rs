//! Paths: files, directories (what `ikesim run --out DIR` and `--envelopes DIR` write, or
//! a folder of exports), and stdin.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{content, name, Sink};
use crate::model::Source;

/// Reads `path`: `-` is stdin (read whole, then its form is told like a file's).
pub(super) fn read_path(path: &str, sink: &mut Sink) {
    if path == "-" {
        let mut bytes = Vec::new();
        match std::io::stdin().read_to_end(&mut bytes) {
            Ok(_) => read_file_bytes(path, &bytes, sink),
            Err(e) => problem(path, format!("cannot read stdin: {e}"), sink),
        }
        return;
    }
    let p = Path::new(path);
    match std::fs::metadata(p) {
        Ok(meta) if meta.is_dir() => {
            let mut visited = HashSet::new();
            read_dir(p, &mut visited, sink);
        }
        Ok(_) => read_file(path, sink),
        Err(e) => problem(path, format!("cannot read it: {e}"), sink),
    }
}

/// Every file under `dir`, recursively, in name order; hidden files and directories (a
/// name starting with `.`, such as a delivery's temporary file) are skipped, and a
/// directory reached twice through links is read once.
fn read_dir(dir: &Path, visited: &mut HashSet<PathBuf>, sink: &mut Sink) {
    let shown = dir.to_string_lossy();
    if let Ok(real) = std::fs::canonicalize(dir) {
        if !visited.insert(real) {
            return;
        }
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return problem(&shown, format!("cannot read the directory: {e}"), sink),
    };
    let mut children = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => children.push(entry.path()),
            Err(e) => problem(&shown, format!("cannot read the directory: {e}"), sink),
        }
    }
    children.sort();
    for child in children {
        let hidden = child
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        let child_shown = child.to_string_lossy().into_owned();
        match std::fs::metadata(&child) {
            Ok(meta) if meta.is_dir() => read_dir(&child, visited, sink),
            Ok(_) => read_file(&child_shown, sink),
            Err(e) => problem(&child_shown, format!("cannot read it: {e}"), sink),
        }
    }
}

fn read_file(path: &str, sink: &mut Sink) {
    match std::fs::read(path) {
        Ok(bytes) => read_file_bytes(path, &bytes, sink),
        Err(e) => problem(path, format!("cannot read the file: {e}"), sink),
    }
}

fn read_file_bytes(path: &str, bytes: &[u8], sink: &mut Sink) {
    sink.next_file();
    let stream = name::stream_name(path);
    // An empty file named like a tunnel's stream is that tunnel, with no records: what
    // `ikesim run --out DIR` writes for a tunnel the CGW never called, and what explain
    // then reports as a tunnel that never negotiated.
    if path != "-" && stream != path && bytes.iter().all(u8::is_ascii_whitespace) {
        sink.stream(&stream);
        return;
    }
    content::read(path, &stream, bytes, sink);
}

fn problem(path: &str, message: String, sink: &mut Sink) {
    sink.problem(
        Source {
            file: path.to_owned(),
            line: 0,
        },
        message,
    );
}
