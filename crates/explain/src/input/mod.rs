//! Every form tunnel log records come in, read into [`Stream`]s (see the crate
//! documentation for the forms). So far: files of record lines (JSON or text, either
//! schema), `-` for stdin, directories of such files.

use std::io::Read;
use std::path::Path;

use crate::model::{Entry, Input, Problem, Source, Stream};

/// Reads every path (`-` is stdin; a directory is read recursively, its files in name
/// order) into streams. Never fails as a whole: what cannot be read is a
/// [`crate::Problem`] in [`Input::problems`].
pub fn read(paths: &[String]) -> Input {
    let mut input = Input::default();
    let stdin = ["-".to_owned()];
    let paths = if paths.is_empty() { &stdin[..] } else { paths };
    for path in paths {
        read_path(path, &mut input);
    }
    for stream in &mut input.streams {
        stream.entries.sort_by_key(|e| e.record.time);
        for (i, e) in stream.entries.iter_mut().enumerate() {
            e.index = i;
        }
    }
    input
}

fn read_path(path: &str, input: &mut Input) {
    let problem = |message: String| Problem {
        source: Source {
            file: path.to_owned(),
            line: 0,
        },
        message,
    };
    if path == "-" {
        let mut text = String::new();
        match std::io::stdin().read_to_string(&mut text) {
            Ok(_) => read_lines(path, "-", &text, input),
            Err(e) => input
                .problems
                .push(problem(format!("cannot read stdin: {e}"))),
        }
        return;
    }
    let p = Path::new(path);
    if p.is_dir() {
        let mut children: Vec<_> = match std::fs::read_dir(p) {
            Ok(dir) => dir.filter_map(Result::ok).map(|d| d.path()).collect(),
            Err(e) => {
                input
                    .problems
                    .push(problem(format!("cannot read the directory: {e}")));
                return;
            }
        };
        children.sort();
        for child in children {
            read_path(&child.to_string_lossy(), input);
        }
        return;
    }
    match std::fs::read_to_string(p) {
        Ok(text) => {
            let name = p
                .file_stem()
                .map_or_else(|| path.to_owned(), |s| s.to_string_lossy().into_owned());
            read_lines(path, &name, &text, input);
        }
        Err(e) => input
            .problems
            .push(problem(format!("cannot read the file: {e}"))),
    }
}

/// One record per line; blank lines are skipped, others that are no record are problems.
fn read_lines(file: &str, stream: &str, text: &str, input: &mut Input) {
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let source = Source {
            file: file.to_owned(),
            line: n + 1,
        };
        match vpn_log::TunnelRecord::parse(line) {
            Ok(parsed) => push(input, stream, source, parsed.record),
            Err(e) => input.problems.push(Problem {
                source,
                message: format!("not a tunnel log record: {e}"),
            }),
        }
    }
}

fn push(input: &mut Input, stream: &str, source: Source, record: vpn_log::TunnelRecord) {
    let entry = Entry {
        index: 0,
        source,
        record,
    };
    match input.streams.iter_mut().find(|s| s.name == stream) {
        Some(s) => s.entries.push(entry),
        None => input.streams.push(Stream {
            name: stream.to_owned(),
            entries: vec![entry],
        }),
    }
}
