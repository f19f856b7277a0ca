//! `--out DIR` for many streams (`fleet`): one file per stream, as `vpn_log::Sink` writes
//! them (same names, same lines), without holding a file open per stream. Each stream's
//! records wait in its own buffer; a buffer past [`STREAM_BUFFER`] is appended to its file
//! (opened, written, closed), and when all of them together pass [`TOTAL_BUFFER`] every
//! buffer is. Twenty thousand streams then need one descriptor at a time and a bounded
//! amount of memory, where a `BufWriter` per stream would need twenty thousand
//! descriptors (past the usual open-file limit) and 8 KiB each.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use vpn_log::{Format, Schema, SinkError, TunnelRecord};

/// A stream's buffer is appended to its file past this size.
const STREAM_BUFFER: usize = 32 * 1024;
/// Every buffer is appended to its file when all of them hold this much (a day of a
/// thousand connections writes about 80 MB: a few rounds of appends).
const TOTAL_BUFFER: usize = 16 * 1024 * 1024;

struct Stream {
    path: PathBuf,
    format: Format,
    pending: Vec<u8>,
}

/// One file per stream in a directory, no descriptor held (module documentation).
pub(super) struct Spool {
    dir: PathBuf,
    format: Format,
    schema: Schema,
    streams: HashMap<String, Stream>,
    buffered: usize,
}

fn failed(path: &Path) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError {
        what: path.display().to_string(),
        source,
    }
}

impl Spool {
    /// Records into `dir` (created if need be), `format` for streams opened without one.
    pub(super) fn new(dir: &Path, format: Format, schema: Schema) -> Result<Spool, SinkError> {
        std::fs::create_dir_all(dir).map_err(failed(dir))?;
        Ok(Spool {
            dir: dir.to_owned(),
            format,
            schema,
            streams: HashMap::new(),
            buffered: 0,
        })
    }

    /// Creates `stream`'s file, empty (a stream without records still exists, as with
    /// `run --out`), and says where its records go.
    pub(super) fn open_as(&mut self, stream: &str, format: Format) -> Result<String, SinkError> {
        if let Some(s) = self.streams.get(stream) {
            return Ok(s.path.display().to_string());
        }
        let path = vpn_log::stream_file(&self.dir, stream, format);
        File::create(&path).map_err(failed(&path))?;
        let shown = path.display().to_string();
        self.streams.insert(
            stream.to_owned(),
            Stream {
                path,
                format,
                pending: Vec::new(),
            },
        );
        Ok(shown)
    }

    /// One record of `stream` (opened in the default format on first use).
    pub(super) fn write(&mut self, stream: &str, record: &TunnelRecord) -> Result<(), SinkError> {
        if !self.streams.contains_key(stream) {
            self.open_as(stream, self.format)?;
        }
        let Some(s) = self.streams.get_mut(stream) else {
            return Ok(());
        };
        let line = record.render(s.format, self.schema);
        s.pending.extend_from_slice(line.as_bytes());
        s.pending.push(b'\n');
        self.buffered += line.len() + 1;
        if s.pending.len() >= STREAM_BUFFER {
            self.buffered -= s.pending.len();
            append(s)?;
        }
        if self.buffered >= TOTAL_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Appends every buffer to its file.
    pub(super) fn flush(&mut self) -> Result<(), SinkError> {
        for s in self.streams.values_mut() {
            append(s)?;
        }
        self.buffered = 0;
        Ok(())
    }
}

fn append(s: &mut Stream) -> Result<(), SinkError> {
    if s.pending.is_empty() {
        return Ok(());
    }
    let mut file = OpenOptions::new()
        .append(true)
        .open(&s.path)
        .map_err(failed(&s.path))?;
    file.write_all(&s.pending).map_err(failed(&s.path))?;
    // Its memory goes back too: most streams write a few records between appends.
    s.pending = Vec::new();
    Ok(())
}
