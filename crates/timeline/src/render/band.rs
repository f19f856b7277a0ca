//! The ESP density bands' layout: one strip per tunnel and direction above the ladder,
//! time to scale left to right (unlike the ladder), every band cut into the same buckets
//! so they line up, each bucket shaded by its count with a tooltip giving the numbers.

use serde::Serialize;

use super::labels::span;
use crate::{width_for, EspBand, EspBucket, Timeline, What};

/// The width the bands aim at, in pixels.
const BAND_PX: u32 = 900;
/// A bucket's width in pixels, at least and at most.
const CELL_PX: (u32, u32) = (2, 24);

/// The bands, laid out.
#[derive(Debug, Serialize)]
pub(crate) struct EspPlan {
    /// Every band's bucket width, µs.
    pub bucket_us: u64,
    /// `20 s`.
    pub bucket: String,
    /// Buckets from time zero to the end of the run.
    pub columns: usize,
    /// One bucket's width in pixels.
    pub cell_px: u32,
    /// The time axis under the bands: (column, `+00:20:00`).
    pub ticks: Vec<(usize, String)>,
    pub bands: Vec<BandPlan>,
}

/// One band.
#[derive(Debug, Serialize)]
pub(crate) struct BandPlan {
    /// 0-based.
    pub tunnel: usize,
    pub direction: crate::Direction,
    /// `tunnel 1 · on-premises → VPC · 7 200 delivered · 0 lost · 3 dropped (replayed 3)`.
    pub label: String,
    /// The whole run's counts.
    pub totals: EspBucket,
    /// The buckets that counted anything.
    pub cells: Vec<Cell>,
}

/// One bucket that counted something.
#[derive(Debug, Serialize)]
pub(crate) struct Cell {
    /// Its column.
    pub i: usize,
    /// Shade of the delivered part, 0 (none) to 1 (the busiest bucket of every band).
    pub ok: f32,
    /// Shade of the lost and dropped part, 0 (none) to 1; red when any was dropped,
    /// orange when the path only lost some.
    pub bad: f32,
    /// Any dropped (not only lost).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dropped: bool,
    /// The tooltip: when, and the numbers.
    pub tip: String,
}

/// `7 200`: groups of three digits, as docs/timeline.md writes counts.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `replayed 2, before_window 1`.
fn reasons(counts: &[(String, u64)]) -> String {
    let mut sorted: Vec<&(String, u64)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sorted
        .iter()
        .map(|(r, n)| format!("{r} {}", grouped(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `3 delivered · 1 lost (loss 1) · 2 dropped (replayed 2)`.
fn numbers(b: &EspBucket, sep: &str) -> String {
    let mut out = format!("{} delivered", grouped(b.delivered));
    for (what, list, total) in [
        ("lost", &b.lost, b.lost_total()),
        ("dropped", &b.dropped, b.dropped_total()),
    ] {
        out.push_str(sep);
        out.push_str(&format!("{} {what}", grouped(total)));
        if total > 0 {
            out.push_str(&format!(" ({})", reasons(list)));
        }
    }
    out
}

/// `+00:12:20` (`+3 d 04:00:00`), with milliseconds when `fine`.
fn offset(us: u64, fine: bool) -> String {
    let ms = us / 1000;
    let s = ms / 1000;
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    let mut out = if d > 0 {
        format!("+{d} d {:02}:{:02}:{:02}", h % 24, m % 60, s % 60)
    } else {
        format!("+{h:02}:{:02}:{:02}", m % 60, s % 60)
    };
    if fine {
        out.push_str(&format!(".{:03}", ms % 1000));
    }
    out
}

/// Where the run ends: its last event (or arrival), or the last packet counted.
fn span_of(timeline: &Timeline) -> u64 {
    let events = timeline.events.iter().map(|e| match &e.what {
        What::Datagram(d) => match d.fate {
            crate::Fate::Delivered { at_us } => at_us.max(e.at_us),
            crate::Fate::Lost { .. } => e.at_us,
        },
        _ => e.at_us,
    });
    let bands = timeline.esp.iter().map(EspBand::end_us);
    events.chain(bands).max().unwrap_or(0)
}

/// Lays out the bands of `timeline`; `None` without any.
pub(crate) fn plan(timeline: &Timeline) -> Option<EspPlan> {
    if timeline.esp.is_empty() {
        return None;
    }
    let span_us = span_of(timeline);
    let width = timeline
        .esp
        .iter()
        .map(|b| b.bucket_us)
        .fold(width_for(span_us), u64::max);
    let mut bands: Vec<EspBand> = timeline.esp.clone();
    for b in &mut bands {
        b.widen(width);
    }
    bands.sort_by_key(|b| (b.tunnel, b.direction));
    let columns = usize::try_from(span_us.div_ceil(width))
        .unwrap_or(usize::MAX)
        .max(bands.iter().map(|b| b.buckets.len()).max().unwrap_or(0))
        .max(1);
    let cell_px =
        (BAND_PX / u32::try_from(columns).unwrap_or(u32::MAX).max(1)).clamp(CELL_PX.0, CELL_PX.1);
    let most = |f: &dyn Fn(&EspBucket) -> u64| {
        bands
            .iter()
            .flat_map(|b| b.buckets.iter().map(f))
            .max()
            .unwrap_or(0)
    };
    let most_ok = most(&|b| b.delivered);
    let most_bad = most(&|b| b.lost_total() + b.dropped_total());
    let fine = width < 1_000_000;
    let bucket = span(width);
    let shade = |n: u64, most: u64| -> f32 {
        if n == 0 || most == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)] // counts far below 2^52
        let s = 0.25 + 0.75 * ((1 + n) as f64).ln() / ((1 + most) as f64).ln();
        #[allow(clippy::cast_possible_truncation)]
        let s = ((s * 100.0).round() / 100.0) as f32;
        s
    };
    let bands = bands
        .into_iter()
        .map(|b| {
            let totals = b.totals();
            let label = format!(
                "tunnel {} · {} · {}",
                b.tunnel + 1,
                b.direction.words(),
                numbers(&totals, " · ")
            );
            let cells = b
                .buckets
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_empty())
                .map(|(i, c)| {
                    let from = width.saturating_mul(i as u64);
                    let when = format!(
                        "{} – {} ({} UTC, {bucket})",
                        offset(from, fine),
                        offset(from.saturating_add(width), fine),
                        (timeline.origin
                            + chrono::Duration::microseconds(i64::try_from(from).unwrap_or(0)))
                        .format(if fine {
                            "%Y-%m-%d %H:%M:%S%.3f"
                        } else {
                            "%Y-%m-%d %H:%M:%S"
                        }),
                    );
                    Cell {
                        i,
                        ok: shade(c.delivered, most_ok),
                        bad: shade(c.lost_total() + c.dropped_total(), most_bad),
                        dropped: c.dropped_total() > 0,
                        tip: format!("{when}\n{}", numbers(c, "\n")),
                    }
                })
                .collect();
            BandPlan {
                tunnel: b.tunnel,
                direction: b.direction,
                label,
                totals,
                cells,
            }
        })
        .collect();
    // A tick about every 150 px.
    let every = (150 / cell_px).max(1) as usize;
    let ticks = (0..=columns)
        .step_by(every)
        .map(|i| (i, offset(width.saturating_mul(i as u64), fine)))
        .collect();
    Some(EspPlan {
        bucket_us: width,
        bucket,
        columns,
        cell_px,
        ticks,
        bands,
    })
}

#[cfg(test)]
#[path = "band_tests.rs"]
mod tests;
