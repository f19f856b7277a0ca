//! Every destination of the records of `run` and `serve` (and the coming `fleet`), in one
//! place: stdout (AWS JSON or text; a view for a person at a terminal) or one file per
//! stream (`--out`), subscription envelopes (`--envelopes`), metrics (`--metrics`) and
//! CloudWatch itself (`--cloudwatch`). docs/cloudwatch.md describes them.
//!
//! [`Outputs`] is a [`RecordSink`]: the command hands it each tunnel's records as they are
//! made, and [`Outputs::finish`] delivers what is pending and reports.
//!
//! Each tunnel has its log options ([`TunnelLogging`]: AWS's `CloudWatchLogOptions`):
//! a tunnel whose logging is disabled writes nothing anywhere (its metrics still count,
//! as AWS publishes metrics whatever the logs); each writes in its own format and to its
//! own group. `--format` and `--log-group` override them for every tunnel.

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use delivery::batch::{Batcher, LogEvent};
use delivery::envelope::Envelopes;
use delivery::filter::FilterPattern;
use delivery::metrics::{self, MetricsRecorder};
use vpn_log::{DataBytes, Format, RecordSink, Schema, Sink, SinkError, TunnelRecord};

use super::Failure;

mod args;
mod counters_file;
mod metrics_file;
mod push;
mod spool;

pub use args::{CloudWatchArgs, OutputArgs};
pub use counters_file::write_counters;

use metrics_file::write_metrics;

/// The envelope `owner` when no tunnel's log group ARN names an account: the account id
/// AWS's own documentation examples use.
const DEFAULT_ACCOUNT: &str = "123456789012";
/// The subscription filter the envelopes name.
const SUBSCRIPTION_FILTER: &str = "ikesim";

/// `--out DIR` is refused before the run when no file can be made in it (read-only, not a
/// directory), not after a whole run.
fn writable(dir: &std::path::Path) -> Result<(), Failure> {
    let probe = dir.join(format!(".ikesim-probe-{}", std::process::id()));
    let made = std::fs::create_dir_all(dir).and_then(|()| std::fs::File::create(&probe));
    match made {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(Failure::BadInput(format!(
            "--out {}: cannot write records there: {e} (is it a writable directory?)",
            dir.display()
        ))),
    }
}

/// One tunnel's log options, as its scenario or serve file gives them (AWS's
/// `CloudWatchLogOptions`), and its names.
#[derive(Clone, Debug)]
pub struct TunnelLogging {
    /// The VPN connection id.
    vpn_connection_id: String,
    /// The tunnel's outside IP address.
    outside_ip: IpAddr,
    /// `log_enabled`.
    enabled: bool,
    /// The log group the tunnel's `log_group_arn` names, if any.
    group: Option<String>,
    /// The account its `log_group_arn` names, if any.
    account: Option<String>,
    /// `log_output_format`.
    format: Format,
}

impl TunnelLogging {
    /// The tunnel with outside IP `outside_ip` of `vpn_connection_id`, with its options.
    pub fn new(
        vpn_connection_id: &str,
        outside_ip: IpAddr,
        options: &sim::aws::options::CloudWatchLogOptions,
    ) -> TunnelLogging {
        let arn = options.log_group_arn.as_ref();
        TunnelLogging {
            vpn_connection_id: vpn_connection_id.to_owned(),
            outside_ip,
            enabled: options.log_enabled,
            group: arn.map(|a| a.name.clone()),
            account: arn.map(|a| a.account.clone()),
            format: options.log_output_format,
        }
    }
}

/// One tunnel as the outputs see it.
struct Tunnel {
    logging: TunnelLogging,
    stream: Option<String>,
    /// The group its records are pushed and enveloped as.
    group: String,
    format: Format,
    /// Pending events for the envelopes.
    batcher: Batcher,
}

/// Stdout for a person: the view, written line by line.
struct ViewOut {
    view: vpn_log::View,
    out: std::io::BufWriter<std::io::Stdout>,
}

/// Where stream records are written: files or stdout as AWS renders them, or the view.
enum Display {
    Sink(Sink),
    /// `--out DIR` for many streams: no descriptor held per stream.
    Spool(spool::Spool),
    View(ViewOut),
}

/// Every destination of one command's records (module documentation).
pub struct Outputs {
    schema: Schema,
    display: Display,
    /// The reader of stdout went away (`ikesim run … | head`): the other destinations
    /// still get everything.
    display_closed: bool,
    tunnels: Vec<Tunnel>,
    envelopes: Option<Envelopes>,
    metrics: MetricsRecorder,
    /// Where the metrics' periods start: the run's start.
    start: DateTime<Utc>,
    /// The end of the last period whose metrics were pushed (`serve` pushes them as the
    /// periods end).
    pushed_until: DateTime<Utc>,
    metrics_period: chrono::Duration,
    metrics_file: Option<PathBuf>,
    metrics_namespace: Option<String>,
    pusher: Option<push::Pusher>,
}

impl Outputs {
    /// Opens the destinations `args` asks for, for `tunnels` of a run that starts at
    /// `start`. With `--cloudwatch` the pusher starts now, so that missing credentials or
    /// region are an error before the run.
    pub fn new(
        args: &OutputArgs,
        tunnels: Vec<TunnelLogging>,
        start: DateTime<Utc>,
    ) -> Result<Outputs, Failure> {
        Outputs::open_all(args, tunnels, start, false)
    }

    /// [`Outputs::new`] for many streams (`fleet`): `--out` holds no file open per stream
    /// and buffers a bounded amount (outputs/spool.rs); the files are the same.
    pub fn for_many(
        args: &OutputArgs,
        tunnels: Vec<TunnelLogging>,
        start: DateTime<Utc>,
    ) -> Result<Outputs, Failure> {
        Outputs::open_all(args, tunnels, start, true)
    }

    fn open_all(
        args: &OutputArgs,
        tunnels: Vec<TunnelLogging>,
        start: DateTime<Utc>,
        many: bool,
    ) -> Result<Outputs, Failure> {
        let runtime = |e: SinkError| Failure::Runtime(e.to_string());
        let default_format = args.format.unwrap_or_default();
        let display = match &args.out {
            Some(dir) if many => Display::Spool(
                spool::Spool::new(dir, default_format, args.schema).map_err(runtime)?,
            ),
            Some(dir) => {
                writable(dir)?;
                Display::Sink(Sink::directory(dir, default_format, args.schema).map_err(runtime)?)
            }
            None if args.format.is_none() && std::io::stdout().is_terminal() => {
                Display::View(ViewOut {
                    view: vpn_log::View::new(
                        tunnels.iter().map(|t| t.outside_ip),
                        vpn_log::View::color_default(),
                    ),
                    out: std::io::BufWriter::new(std::io::stdout()),
                })
            }
            None => Display::Sink(Sink::stdout(default_format, args.schema)),
        };
        let pattern = match &args.filter_pattern {
            Some(p) => Some(
                FilterPattern::parse(p)
                    .map_err(|e| Failure::BadInput(format!("--filter-pattern: {e}")))?,
            ),
            None => None,
        };
        let owner = args
            .account_id
            .clone()
            .or_else(|| tunnels.iter().find_map(|t| t.account.clone()))
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_owned());
        let envelopes = match &args.envelopes {
            Some(dir) => Some(
                Envelopes::create(dir, &owner, &[SUBSCRIPTION_FILTER], pattern)
                    .map_err(|e| Failure::Runtime(format!("--envelopes {}: {e}", dir.display())))?,
            ),
            None => None,
        };
        let mut metrics = MetricsRecorder::new(Duration::from_secs(args.metrics_period), start);
        let tunnels: Vec<Tunnel> = tunnels
            .into_iter()
            .map(|logging| {
                metrics.tunnel(&logging.vpn_connection_id, &logging.outside_ip.to_string());
                let group = args
                    .cloudwatch
                    .log_group
                    .clone()
                    .or_else(|| logging.group.clone())
                    .unwrap_or_else(|| vpn_log::DEFAULT_LOG_GROUP.to_owned());
                Tunnel {
                    format: args.format.unwrap_or(logging.format),
                    group,
                    logging,
                    stream: None,
                    batcher: Batcher::new(),
                }
            })
            .collect();
        let pusher = if args.cloudwatch.cloudwatch {
            let pusher = push::start(&args.cloudwatch, args.metrics_namespace.as_deref())?;
            let mut hinted = false;
            for t in tunnels.iter().filter(|t| t.logging.enabled) {
                if !hinted && !t.group.starts_with("/aws/vendedlogs/") {
                    // AWS's logs page: resource policies are limited to 5,120 characters,
                    // and groups under /aws/vendedlogs/ do not need one per source.
                    eprintln!(
                        "hint: log group {} is outside /aws/vendedlogs/, the prefix AWS \
                         recommends for VPN logs (CloudWatch Logs resource policies are \
                         limited to 5,120 characters; see docs/cloudwatch.md)",
                        t.group
                    );
                    hinted = true;
                }
            }
            Some(pusher)
        } else {
            None
        };
        Ok(Outputs {
            schema: args.schema,
            display,
            display_closed: false,
            tunnels,
            envelopes,
            metrics,
            start,
            pushed_until: start,
            metrics_period: chrono::Duration::seconds(
                i64::try_from(args.metrics_period).unwrap_or(i64::MAX),
            ),
            metrics_file: args.metrics.clone(),
            metrics_namespace: args.metrics_namespace.clone(),
            pusher,
        })
    }

    fn deliver_envelope(
        envelopes: &mut Option<Envelopes>,
        tunnel: &mut Tunnel,
        batch: Option<delivery::batch::Batch>,
    ) -> Result<(), SinkError> {
        let (Some(envelopes), Some(batch), Some(stream)) = (envelopes, batch, &tunnel.stream)
        else {
            return Ok(());
        };
        envelopes
            .deliver(&tunnel.group, stream, &batch)
            .map(drop)
            .map_err(|source| SinkError {
                what: "--envelopes".to_owned(),
                source,
            })
    }

    /// Delivers what is pending, writes the metrics of the run (which ended at `end`), and
    /// reports on stderr what was pushed. Undelivered records are a failure (exit status
    /// 1).
    pub fn finish(mut self, end: DateTime<Utc>) -> Result<(), Failure> {
        let runtime = |e: SinkError| Failure::Runtime(e.to_string());
        self.flush_display().map_err(runtime)?;
        for t in &mut self.tunnels {
            let batch = t.batcher.take();
            Self::deliver_envelope(&mut self.envelopes, t, batch).map_err(runtime)?;
        }
        if let Some(file) = &self.metrics_file {
            // Only when asked for: a fleet of 20,000 tunnels over 30 days has 170 million.
            let datums = self.metrics.datums(self.start, end);
            let namespace = self
                .metrics_namespace
                .as_deref()
                .unwrap_or(metrics::AWS_NAMESPACE);
            write_metrics(file, namespace, &datums)?;
        }
        match self.pusher.take() {
            // `pushed_until` is a period's end (or the start): the periods after it.
            Some(pusher) => push::finish(pusher, self.metrics.datums(self.pushed_until, end)),
            None => Ok(()),
        }
    }

    fn flush_display(&mut self) -> Result<(), SinkError> {
        if self.display_closed {
            return Ok(());
        }
        let flushed = match &mut self.display {
            Display::Sink(sink) => sink.flush(),
            Display::Spool(spool) => spool.flush(),
            Display::View(v) => v.out.flush().map_err(|source| SinkError {
                what: "stdout".to_owned(),
                source,
            }),
        };
        self.closed_is_fine(flushed)
    }

    /// A closed stdout ends the display; it ends the command too (`run | head` stops the
    /// run, `serve` says "stopped: stdout closed") when nothing else gets the records.
    fn closed_is_fine(&mut self, result: Result<(), SinkError>) -> Result<(), SinkError> {
        let elsewhere =
            self.envelopes.is_some() || self.pusher.is_some() || self.metrics_file.is_some();
        match result {
            Err(e) if e.is_broken_pipe() && elsewhere => {
                self.display_closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl RecordSink for Outputs {
    fn open(&mut self, tunnel: usize, stream: &str) -> Result<String, SinkError> {
        let Some(t) = self.tunnels.get_mut(tunnel) else {
            return Ok("nowhere".to_owned());
        };
        if !t.logging.enabled {
            return Ok("nowhere: log_enabled = false".to_owned());
        }
        t.stream = Some(stream.to_owned());
        let mut to = match &mut self.display {
            Display::Sink(sink) => sink.open_as(stream, t.format)?,
            Display::Spool(spool) => spool.open_as(stream, t.format)?,
            Display::View(_) => "stdout".to_owned(),
        };
        if let Some(pusher) = &self.pusher {
            pusher.open(&t.group, stream);
            to.push_str(&format!(" and CloudWatch Logs {}", t.group));
        }
        Ok(to)
    }

    fn write(
        &mut self,
        tunnel: usize,
        stream: &str,
        record: &TunnelRecord,
    ) -> Result<(), SinkError> {
        self.metrics.observe(tunnel, record);
        let Some(t) = self.tunnels.get_mut(tunnel) else {
            return Ok(());
        };
        if !t.logging.enabled {
            return Ok(());
        }
        if t.stream.is_none() {
            self.open(tunnel, stream)?;
        }
        if !self.display_closed {
            let shown = match &mut self.display {
                Display::Sink(sink) => sink.write(stream, record),
                Display::Spool(spool) => spool.write(stream, record),
                Display::View(v) => {
                    let line = v.view.render(tunnel, record);
                    writeln!(v.out, "{line}").map_err(|source| SinkError {
                        what: "stdout".to_owned(),
                        source,
                    })
                }
            };
            self.closed_is_fine(shown)?;
        }
        let t = &mut self.tunnels[tunnel];
        if self.envelopes.is_some() || self.pusher.is_some() {
            let event = LogEvent::of(record, t.format, self.schema);
            if let Some(pusher) = &self.pusher {
                pusher.send(&t.group, stream, event.clone());
            }
            let full = t.batcher.push(event);
            Self::deliver_envelope(&mut self.envelopes, t, full)?;
        }
        Ok(())
    }

    /// The minute's bytes go into the tunnel's TunnelDataIn / TunnelDataOut (whether its
    /// logging is enabled or not), in the file and in the push.
    fn data(
        &mut self,
        tunnel: usize,
        _stream: &str,
        minute_end: DateTime<Utc>,
        bytes: DataBytes,
    ) -> Result<(), SinkError> {
        self.metrics.data(tunnel, minute_end, bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if let Some(pusher) = &self.pusher {
            pusher.flush();
        }
        self.flush_display()
    }

    /// Pushes the metrics of the periods that ended by `now`; wants to be called again at
    /// the end of the next one.
    fn tick(&mut self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let pusher = self.pusher.as_ref()?;
        let due = self.metrics.datums(self.pushed_until, now);
        if let Some(last) = due.iter().map(|d| d.timestamp).max() {
            self.pushed_until = last;
            pusher.metrics(due);
        }
        Some(self.pushed_until + self.metrics_period)
    }
}
