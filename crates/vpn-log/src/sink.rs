//! Where records go: every command that writes tunnel log records (`run`, `serve`, and the
//! coming `fleet`) writes them through one [`Sink`], so the destinations, the file naming
//! and the flushing rules exist once.
//!
//! Destinations:
//! - **stdout**: every stream's records interleaved, in the order written, one per line;
//! - **a directory** (`--out DIR`): one file per log stream, as CloudWatch Logs keeps one
//!   stream per tunnel. The file is `DIR/<stream>.<ext>`, the extension from the format:
//!   `.jsonl` for JSON lines, `.log` for text ([`stream_file`]).
//!
//! Each stream is rendered in its own format (a tunnel's `LogOutputFormat`), given when
//! it is opened ([`Sink::open_as`]); [`Sink::open`] uses the sink's default.
//!
//! [`RecordSink`] is what a command that produces records writes to: a [`Sink`], or the
//! `ikesim` binary's set of destinations (files or stdout, CloudWatch Logs, subscription
//! envelopes, metrics) that contains one.
//!
//! Records are buffered; [`Sink::flush`] ends a batch (`serve` flushes after every event's
//! records, `run` once at the end). A record is handed to the buffer as one line with its
//! newline, so a flush never cuts one in two.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::{Format, Schema, TunnelRecord};

/// A write that failed: what was written to, and why. A full disk and a closed stdout say
/// so in words (`disk full writing records to …`, `stopped: stdout closed`) rather than
/// as the OS's bare error.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(.what, .source))]
pub struct SinkError {
    /// `stdout`, or the file or directory.
    pub what: String,
    /// The I/O error the write or create returned.
    #[source]
    pub source: std::io::Error,
}

fn describe(what: &str, source: &std::io::Error) -> String {
    match source.kind() {
        std::io::ErrorKind::StorageFull => format!("disk full writing records to {what}"),
        std::io::ErrorKind::BrokenPipe if what == "stdout" => "stopped: stdout closed".to_owned(),
        _ => format!("cannot write records to {what}: {source}"),
    }
}

impl SinkError {
    /// Whether the reader went away (`ikesim run | head`): the end of the output, not a
    /// failure, for a command that has nothing else to do.
    pub fn is_broken_pipe(&self) -> bool {
        self.source.kind() == std::io::ErrorKind::BrokenPipe
    }
}

/// The file a log stream is written to in `dir`: `<stream>.jsonl` for JSON lines,
/// `<stream>.log` for text.
pub fn stream_file(dir: &Path, stream: &str, format: Format) -> PathBuf {
    let ext = match format {
        Format::Json => "jsonl",
        Format::Text => "log",
    };
    dir.join(format!("{stream}.{ext}"))
}

/// Bytes an AWS tunnel endpoint carried in one minute ([`RecordSink::data`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DataBytes {
    /// Received from the CGW, counted after decryption (`TunnelDataIn`).
    pub received: u64,
    /// Sent to the CGW, counted before encryption (`TunnelDataOut`).
    pub sent: u64,
}

/// Where a command's records go, tunnel by tunnel (see the module documentation).
pub trait RecordSink {
    /// Opens tunnel `tunnel`'s stream `stream` before its first record, and says where its
    /// records go (`stdout`, a file, …) for the command's startup line.
    fn open(&mut self, tunnel: usize, stream: &str) -> Result<String, SinkError>;
    /// One record of tunnel `tunnel`'s stream `stream`.
    fn write(
        &mut self,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> Result<(), SinkError>;
    /// The end of a batch of writes: everything so far is handed on.
    fn flush(&mut self) -> Result<(), SinkError>;
    /// The bytes tunnel `tunnel`'s AWS endpoint carried through its ESP SAs in the minute
    /// that ends at `minute_end` (docs/data-plane.md): received, counted after decryption,
    /// and sent, counted before encryption — what `TunnelDataIn` / `TunnelDataOut` sum.
    /// Called once for each minute that carried any, in time order, once that minute is
    /// over (before any record stamped after its end). By default it is not kept.
    fn data(
        &mut self,
        tunnel: usize,
        stream: &str,
        minute_end: chrono::DateTime<chrono::Utc>,
        bytes: DataBytes,
    ) -> Result<(), SinkError> {
        let _ = (tunnel, stream, minute_end, bytes);
        Ok(())
    }
    /// Time passes on a command that runs on the wall clock (`serve`): a sink that
    /// publishes per period (metrics) does so here. Says when it wants to be called next;
    /// by default it never does.
    fn tick(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let _ = now;
        None
    }
}

enum Target {
    Stdout(BufWriter<std::io::Stdout>),
    Directory {
        dir: PathBuf,
        /// Stream name → its path and file.
        files: HashMap<String, (PathBuf, BufWriter<File>)>,
    },
}

/// Records rendered in one schema, each stream in its format, to stdout or to one file per
/// stream.
pub struct Sink {
    format: Format,
    schema: Schema,
    /// Streams opened with a format of their own.
    formats: HashMap<String, Format>,
    target: Target,
}

impl Sink {
    /// Every record to stdout.
    pub fn stdout(format: Format, schema: Schema) -> Sink {
        Sink {
            format,
            schema,
            formats: HashMap::new(),
            target: Target::Stdout(BufWriter::new(std::io::stdout())),
        }
    }

    /// One file per stream in `dir`, which is created if need be.
    pub fn directory(dir: &Path, format: Format, schema: Schema) -> Result<Sink, SinkError> {
        std::fs::create_dir_all(dir).map_err(|source| SinkError {
            what: dir.display().to_string(),
            source,
        })?;
        Ok(Sink {
            format,
            schema,
            formats: HashMap::new(),
            target: Target::Directory {
                dir: dir.to_owned(),
                files: HashMap::new(),
            },
        })
    }

    /// Opens `stream` in the sink's format (its file is created, empty, now: a stream
    /// without records still exists) and says where its records go: `stdout` or the
    /// file's path.
    pub fn open(&mut self, stream: &str) -> Result<String, SinkError> {
        let format = self.format_of(stream);
        self.open_as(stream, format)
    }

    /// Opens `stream` with its own format (which names its file), as [`Sink::open`] does.
    pub fn open_as(&mut self, stream: &str, format: Format) -> Result<String, SinkError> {
        if format != self.format {
            self.formats.insert(stream.to_owned(), format);
        }
        match &mut self.target {
            Target::Stdout(_) => Ok("stdout".to_owned()),
            Target::Directory { dir, files } => {
                if let Some((path, _)) = files.get(stream) {
                    return Ok(path.display().to_string());
                }
                let path = stream_file(dir, stream, format);
                let file = File::create(&path).map_err(|source| SinkError {
                    what: path.display().to_string(),
                    source,
                })?;
                let shown = path.display().to_string();
                files.insert(stream.to_owned(), (path, BufWriter::new(file)));
                Ok(shown)
            }
        }
    }

    fn format_of(&self, stream: &str) -> Format {
        self.formats.get(stream).copied().unwrap_or(self.format)
    }

    /// Writes one record of `stream` (opened on first use).
    pub fn write(&mut self, stream: &str, record: &TunnelRecord) -> Result<(), SinkError> {
        let mut line = record.render(self.format_of(stream), self.schema);
        line.push('\n');
        if let Target::Directory { files, .. } = &self.target {
            if !files.contains_key(stream) {
                self.open(stream)?;
            }
        }
        let (what, out): (String, &mut dyn Write) = match &mut self.target {
            Target::Stdout(out) => ("stdout".to_owned(), out),
            Target::Directory { files, .. } => match files.get_mut(stream) {
                Some((path, file)) => (path.display().to_string(), file),
                None => return Ok(()),
            },
        };
        out.write_all(line.as_bytes())
            .map_err(|source| SinkError { what, source })
    }

    /// Hands everything written so far to the OS.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        match &mut self.target {
            Target::Stdout(out) => out.flush().map_err(|source| SinkError {
                what: "stdout".to_owned(),
                source,
            }),
            Target::Directory { files, .. } => {
                let mut result = Ok(());
                for (path, file) in files.values_mut() {
                    if let Err(source) = file.flush() {
                        result = result.and(Err(SinkError {
                            what: path.display().to_string(),
                            source,
                        }));
                    }
                }
                result
            }
        }
    }
}

impl RecordSink for Sink {
    fn open(&mut self, _tunnel: usize, stream: &str) -> Result<String, SinkError> {
        Sink::open(self, stream)
    }

    fn write(
        &mut self,
        _tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> Result<(), SinkError> {
        Sink::write(self, stream, record)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Sink::flush(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PhaseState;

    fn record(details: &str) -> TunnelRecord {
        TunnelRecord {
            time: "2026-01-01T00:00:00Z".parse().unwrap(),
            dpd_enabled: true,
            nat_t_detected: false,
            ike_phase1_state: PhaseState::Down,
            ike_phase2_state: PhaseState::Down,
            details: details.into(),
        }
    }

    #[test]
    fn a_full_disk_and_a_closed_stdout_say_so() {
        let error = |what: &str, kind| SinkError {
            what: what.to_owned(),
            source: std::io::Error::from(kind),
        };
        let full = error("stdout", std::io::ErrorKind::StorageFull);
        assert_eq!(full.to_string(), "disk full writing records to stdout");
        let closed = error("stdout", std::io::ErrorKind::BrokenPipe);
        assert_eq!(closed.to_string(), "stopped: stdout closed");
        assert!(closed.is_broken_pipe());
        let other = error("d/x.jsonl", std::io::ErrorKind::PermissionDenied);
        assert!(other
            .to_string()
            .starts_with("cannot write records to d/x.jsonl: "));
    }

    #[test]
    fn the_extension_comes_from_the_format() {
        let dir = Path::new("/tmp/x");
        assert_eq!(
            stream_file(dir, "vpn-1234abcd-127.0.1.1", Format::Json),
            dir.join("vpn-1234abcd-127.0.1.1.jsonl")
        );
        assert_eq!(
            stream_file(dir, "vpn-1234abcd-127.0.1.1", Format::Text),
            dir.join("vpn-1234abcd-127.0.1.1.log")
        );
    }

    #[test]
    fn a_directory_gets_one_file_per_stream_even_an_empty_one() {
        let dir = std::env::temp_dir().join(format!("vpn-log-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut sink = Sink::directory(&dir, Format::Json, Schema::Current).unwrap();
        let shown = sink.open("a").unwrap();
        assert_eq!(shown, dir.join("a.jsonl").display().to_string());
        sink.open("b").unwrap();
        let shown = sink.open_as("t", Format::Text).unwrap();
        assert_eq!(shown, dir.join("t.log").display().to_string());
        sink.write("t", &record("text")).unwrap();
        sink.write("a", &record("one")).unwrap();
        sink.write("a", &record("two")).unwrap();
        sink.write("c", &record("three")).unwrap();
        sink.flush().unwrap();
        let read = |s: &str| std::fs::read_to_string(dir.join(format!("{s}.jsonl"))).unwrap();
        let a = read("a");
        assert_eq!(a.lines().count(), 2);
        assert_eq!(
            TunnelRecord::parse_json(a.lines().next().unwrap()).unwrap(),
            record("one")
        );
        assert_eq!(read("b"), "");
        assert_eq!(read("c").lines().count(), 1);
        let text = std::fs::read_to_string(dir.join("t.log")).unwrap();
        assert_eq!(
            text,
            format!("{}\n", record("text").render(Format::Text, Schema::Current))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
