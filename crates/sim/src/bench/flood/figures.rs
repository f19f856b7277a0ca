//! Issue 14's flood table, each figure beside a baseline measured in the same run. Every
//! part starts a fresh `ikesim serve` (two tunnels, any CGW address answered, AWS's
//! options with a 30 s DPD time-out), so one part's half-open SAs do not load the next.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ike_wire::DhGroup;

use super::generator::{flood, FloodReport, FloodSpec};
use super::process::{counters, Cgw, Serve};
use crate::bench::{float, wide, BenchError, Figure, Size};

/// The record of phase 2 up, IKEv2's DPD time-out, a half-open SA's time-out.
const UP: &str = "Phase 2 CHILD_SA established";
const DPD_DEAD: &str = "AWS tunnel DPD timed out after";
const HALF_OPEN_GONE: &str = "deleting un-established Phase 1 IKE_SA";

/// The `Stats` counters (issue 14's names, where the build has them) shown in the notes.
const COUNTERS: &[&str] = &[
    "datagrams_in",
    "malformed",
    "cookies_sent",
    "half_open_refused",
    "half_open_expired",
];

/// How big each part is.
struct Plan {
    /// Part 1: spoofed requests per second, for how long; whether a CGW is SIGKILLed as
    /// it starts (no DPD figure with `--quick`: DPD takes 40 s at the least).
    flood_rate: f64,
    flood_for: Duration,
    dpd: bool,
    /// Part 2: the flood a CGW starts in, and when in it.
    setup_for: Duration,
    setup_cgw_at: Duration,
    /// Part 3: MODP requests per second, for how long.
    modp_rate: f64,
    modp_for: Duration,
}

impl Plan {
    fn of(size: Size) -> Plan {
        match size {
            Size::Full => Plan {
                flood_rate: 1000.0,
                flood_for: Duration::from_secs(150),
                dpd: true,
                setup_for: Duration::from_secs(10),
                setup_cgw_at: Duration::from_secs(2),
                modp_rate: 100.0,
                modp_for: Duration::from_secs(10),
            },
            Size::Quick => Plan {
                flood_rate: 1000.0,
                flood_for: Duration::from_secs(3),
                dpd: false,
                setup_for: Duration::from_secs(3),
                setup_cgw_at: Duration::from_secs(1),
                modp_rate: 10.0,
                modp_for: Duration::from_secs(2),
            },
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mib(kib: u64) -> f64 {
    float(kib) / 1024.0
}

/// A flood in a thread of its own, so the bench can act while it runs.
fn flood_in_background(
    spec: FloodSpec,
) -> std::thread::JoinHandle<Result<FloodReport, BenchError>> {
    std::thread::spawn(move || flood(&spec))
}

fn joined(
    h: std::thread::JoinHandle<Result<FloodReport, BenchError>>,
) -> Result<FloodReport, BenchError> {
    h.join()
        .map_err(|_| BenchError::Unexpected("the flood thread panicked".into()))?
}

/// Seconds from `from` to a record's time (negative clamped to 0).
fn since(record_time: DateTime<Utc>, from: DateTime<Utc>) -> f64 {
    let ms = (record_time - from).num_milliseconds().max(0);
    float(u64::try_from(ms).unwrap_or(0)) / 1000.0
}

/// The flood figures of `size` (`exe`: the ikesim binary, run as `serve` and `connect`;
/// `dir`: a scratch directory, removed by the caller).
pub fn flood_figures(size: Size, exe: &Path, dir: &Path) -> Result<Vec<Figure>, BenchError> {
    let plan = Plan::of(size);
    let mut figures = Vec::new();
    let baseline_dpd = if plan.dpd {
        Some(dpd_without_flood(exe, &dir.join("dpd"))?)
    } else {
        None
    };
    figures.extend(sustained(exe, &dir.join("flood"), &plan, baseline_dpd)?);
    figures.push(setup(exe, &dir.join("setup"), &plan)?);
    figures.extend(modp(exe, &dir.join("modp"), &plan)?);
    Ok(figures)
}

/// Starts tunnel `t`'s CGW, waits for its phase 2 and SIGKILLs it at once: AWS last heard
/// from it then (it sends no DPD of its own), so its DPD record is due DPD's 10 s of
/// silence plus the time-out later. Returns when AWS's record says phase 2 came up.
fn cgw_killed_once_up(
    exe: &Path,
    serve: &Serve,
    t: usize,
    local: &str,
) -> Result<DateTime<Utc>, BenchError> {
    let cgw = Cgw::start(exe, serve, t, local, true)?;
    let up = serve.wait_record(t, UP, Duration::from_secs(30))?;
    cgw.kill()?;
    Ok(up.time)
}

/// Seconds from a CGW's last word (its phase 2) to AWS's DPD record, on a serve nothing
/// floods.
fn dpd_without_flood(exe: &Path, dir: &Path) -> Result<f64, BenchError> {
    let serve = Serve::start(exe, dir, 2, 11)?;
    let last_heard = cgw_killed_once_up(exe, &serve, 0, "127.0.2.11")?;
    let dead = serve.wait_record(0, DPD_DEAD, Duration::from_secs(120))?;
    serve.stop()?;
    Ok(since(dead.time, last_heard))
}

/// Part 1: `flood_rate` spoofed requests per second at tunnel 1 for `flood_for`, started
/// as its CGW is killed.
fn sustained(
    exe: &Path,
    dir: &Path,
    plan: &Plan,
    baseline_dpd: Option<f64>,
) -> Result<Vec<Figure>, BenchError> {
    let serve = Serve::start(exe, dir, 2, 21)?;
    let rss_before = serve.status_kib("VmRSS")?;
    let last_heard = if plan.dpd {
        Some(cgw_killed_once_up(exe, &serve, 0, "127.0.2.21")?)
    } else {
        None
    };
    let started = Utc::now();
    let spec = FloodSpec::requests(vec![serve.tunnels[0]], plan.flood_rate, plan.flood_for);
    let requests = flood_in_background(spec);
    let mut rss = Vec::new();
    while !requests.is_finished() {
        std::thread::sleep(Duration::from_millis(250));
        if let Ok(kib) = serve.status_kib("VmRSS") {
            rss.push(kib);
        }
    }
    let report = joined(requests)?;
    let peak = serve.status_kib("VmHWM")?;
    let rss_end = serve.status_kib("VmRSS")?;
    let dpd = match last_heard {
        Some(at) => {
            let dead = serve.wait_record(0, DPD_DEAD, Duration::from_secs(150))?;
            Some(since(dead.time, at))
        }
        None => None,
    };
    let records = serve.records(0);
    let gone: Vec<f64> = records
        .iter()
        .filter(|r| r.details.contains(HALF_OPEN_GONE))
        .map(|r| since(r.time, started))
        .collect();
    let said = serve.stop()?;
    let stats = counters(&said, COUNTERS);
    let stats_note = if stats.is_empty() {
        "serve's counters: none of the flood counters (a build before the defences)".to_owned()
    } else {
        let shown: Vec<String> = stats.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("serve's counters: {}", shown.join(", "))
    };
    let expired = |second: usize| {
        let until = float(wide(second + 1));
        wide(gone.iter().filter(|&&t| t <= until).count())
    };
    let half_open = report.half_open_peak(expired);
    let n = report.seconds.len();
    let sending = usize::try_from(plan.flood_for.as_secs())
        .unwrap_or(n)
        .min(n);
    let window = (sending / 10).clamp(1, 5);
    let start_rate = report.answer_rate(0..window);
    let end_rate = report.answer_rate(sending.saturating_sub(window)..sending);
    let what = format!(
        "flood {:.0} spoofed IKE_SA_INIT/s x {} s",
        plan.flood_rate,
        plan.flood_for.as_secs()
    );
    let sent = float(report.requests);
    let mut out = vec![
        Figure::new(
            format!("{what}, half-open SAs at peak"),
            float(half_open),
            "SAs",
            "requests sent",
            sent,
        )
        .with_note(format!(
            "full IKE_SA_INIT answers so far less half-open time-out records; {} full \
             answers, {} half-open time-out records, {stats_note}",
            report.answers.full,
            gone.len()
        )),
        Figure::new(
            format!("{what}, serve's peak RSS (VmHWM)"),
            mib(peak),
            "MiB",
            "VmRSS before the flood",
            mib(rss_before),
        )
        .with_note(format!(
            "VmRSS at the flood's end {:.1} MiB, sampled every 250 ms: max {:.1} MiB",
            mib(rss_end),
            mib(rss.iter().copied().max().unwrap_or(rss_end))
        )),
        Figure::new(
            format!("{what}, answers/s, last {window} s"),
            end_rate,
            "answers/s",
            &format!("first {window} s"),
            start_rate,
        )
        .with_note(format!(
            "{} answers to {} requests from {} addresses (full {}, COOKIE {}, INVALID_KE {}, \
             other {}, none {}); {} send errors; {} records in tunnel 1's log",
            report.answers.total(),
            report.requests,
            report.sources,
            report.answers.full,
            report.answers.cookie,
            report.answers.invalid_ke,
            report.answers.other,
            report.unanswered(),
            report.send_errors,
            records.len()
        )),
        Figure::new(
            format!("{what}, COOKIE answers"),
            float(report.answers.cookie),
            "answers",
            "requests sent",
            sent,
        ),
    ];
    if let (Some(dpd), Some(baseline)) = (dpd, baseline_dpd) {
        out.push(
            Figure::new(
                format!("{what}, killed CGW declared dead (DPD record after its last word)"),
                dpd,
                "s",
                "without a flood",
                baseline,
            )
            .with_note(format!(
                "SIGKILLed as its phase 2 came up, the flood started then; DPD record time \
                 minus phase 2 record time (due 10 s of silence + the {} s DPD time-out)",
                super::process::DPD_TIMEOUT_S
            )),
        );
    }
    Ok(out)
}

/// Part 2: a CGW starts `setup_cgw_at` into a flood at its tunnel; its establishment time
/// beside one without the flood, on the same serve just before.
fn setup(exe: &Path, dir: &Path, plan: &Plan) -> Result<Figure, BenchError> {
    let serve = Serve::start(exe, dir, 2, 31)?;
    let quiet = Cgw::start(exe, &serve, 1, "127.0.2.31", false)?.establishment()?;
    let spec = FloodSpec::requests(vec![serve.tunnels[1]], plan.flood_rate, plan.setup_for);
    let requests = flood_in_background(spec);
    std::thread::sleep(plan.setup_cgw_at);
    let flooded = Cgw::start(exe, &serve, 1, "127.0.2.32", false)?.establishment();
    let report = joined(requests)?;
    serve.stop()?;
    let flooded = flooded?;
    Ok(Figure::new(
        format!(
            "CGW establishment during {:.0} spoofed IKE_SA_INIT/s",
            plan.flood_rate
        ),
        secs(flooded) * 1000.0,
        "ms",
        "without a flood",
        secs(quiet) * 1000.0,
    )
    .with_note(format!(
        "ikesim connect's run, start to phase 2 up (process start included), {} s into a {} \
         s flood of its tunnel; {} answers to {} requests",
        plan.setup_cgw_at.as_secs(),
        plan.setup_for.as_secs(),
        report.answers.total(),
        report.requests
    )))
}

/// What one MODP flood cost serve.
struct ModpRun {
    cpu_per_request: Duration,
    requests: u64,
    report: FloodReport,
    /// A CGW's establishment time without the flood, and during it.
    quiet: Duration,
    flooded: Duration,
}

/// Waits until serve's CPU time stops growing (it has worked through its backlog), at
/// most `limit`.
fn settle(serve: &Serve, limit: Duration) -> Result<Duration, BenchError> {
    let deadline = Instant::now() + limit;
    let mut last = serve.cpu()?;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = serve.cpu()?;
        if now.saturating_sub(last) < Duration::from_millis(20) || Instant::now() > deadline {
            return Ok(now);
        }
        last = now;
    }
}

fn modp_run(
    exe: &Path,
    dir: &Path,
    plan: &Plan,
    group: DhGroup,
    n: u8,
) -> Result<ModpRun, BenchError> {
    let serve = Serve::start(exe, dir, 2, 41 + 2 * n)?;
    let quiet =
        Cgw::start(exe, &serve, 1, &format!("127.0.2.{}", 41 + 2 * n), false)?.establishment()?;
    let cpu_before = serve.cpu()?;
    let mut spec = FloodSpec::requests(vec![serve.tunnels[1]], plan.modp_rate, plan.modp_for);
    spec.group = group;
    spec.net = 202 + 2 * n;
    spec.drain = Duration::from_secs(3);
    let requests = flood_in_background(spec);
    std::thread::sleep(plan.modp_for / 5);
    let flooded =
        Cgw::start(exe, &serve, 1, &format!("127.0.2.{}", 42 + 2 * n), false)?.establishment();
    let report = joined(requests)?;
    let cpu_after = settle(&serve, Duration::from_secs(120))?;
    let said = serve.stop()?;
    // The requests serve took in: those sent, or fewer when its counters say it took in
    // fewer datagrams (a full receive buffer drops them), less the two CGWs' IKE_SA_INIT
    // and IKE_AUTH requests.
    let received = counters(&said, &["datagrams_in"])
        .first()
        .map_or(report.requests, |(_, n)| {
            n.saturating_sub(4).min(report.requests)
        })
        .max(1);
    let spent = cpu_after.saturating_sub(cpu_before);
    Ok(ModpRun {
        cpu_per_request: spent.div_f64(float(received)),
        requests: received,
        report,
        quiet,
        flooded: flooded?,
    })
}

/// Part 3: `modp_rate` requests per second proposing MODP-8192 (group 18, which AWS
/// allows by default), beside the same flood proposing MODP-2048.
fn modp(exe: &Path, dir: &Path, plan: &Plan) -> Result<Vec<Figure>, BenchError> {
    let cheap = modp_run(exe, &dir.join("2048"), plan, DhGroup::MODP_2048, 0)?;
    let dear = modp_run(exe, &dir.join("8192"), plan, DhGroup::MODP_8192, 1)?;
    let what = format!("{:.0} IKE_SA_INIT/s proposing MODP-8192", plan.modp_rate);
    let answers = |r: &FloodReport| {
        format!(
            "{} answers (full {}, COOKIE {}, INVALID_KE {})",
            r.answers.total(),
            r.answers.full,
            r.answers.cookie,
            r.answers.invalid_ke
        )
    };
    Ok(vec![
        Figure::new(
            format!("{what}, serve's CPU per request"),
            secs(dear.cpu_per_request) * 1000.0,
            "ms",
            "proposing MODP-2048",
            secs(cheap.cpu_per_request) * 1000.0,
        )
        .with_note(format!(
            "utime+stime from /proc over {} s and its backlog, per request serve took in ({} and \
             {}); {}; MODP-2048: {}",
            plan.modp_for.as_secs(),
            dear.requests,
            cheap.requests,
            answers(&dear.report),
            answers(&cheap.report)
        )),
        Figure::new(
            format!("{what}, CGW establishment"),
            secs(dear.flooded) * 1000.0,
            "ms",
            "without a flood",
            secs(dear.quiet) * 1000.0,
        )
        .with_note(format!(
            "started {:.1} s into the flood; during the MODP-2048 flood {:.1} ms",
            secs(plan.modp_for / 5),
            secs(cheap.flooded) * 1000.0
        )),
    ])
}

/// A scratch directory for one run of the flood figures.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("ikesim-bench-flood-{}", std::process::id()))
}
