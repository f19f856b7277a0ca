//! Layout: where every lane, arrow, mark and record goes, and which idle stretches are
//! collapsed. Everything here is plain data ([`Plan`]) that the page embeds as JSON and the
//! page's script paints; the unit tests read it without a browser.
//!
//! Time flows down but not to scale (a 30-day run would be kilometres tall): every event
//! gets its own row, the gap before a row grows with the logarithm of the time since the
//! previous one, and an arrow ends at the height of the first row at or after its arrival
//! time, interpolated in between — so a delayed datagram slants by its delay and points at
//! what its arrival caused (the AWS record, the answer).

use std::collections::HashMap;

use super::labels::{collapsed_label, exchange_kind, exchange_label, payload_line};
use super::plan::{Arrow, Counts, Item, LanePlan, Plan, Segment, Shape};
use super::rules::{is_routine, BurstFacts};
use crate::{Event, Fate, PayloadView, Timeline, What};

/// Left margin: the time axis.
pub(crate) const AXIS_WIDTH: u32 = 270;
/// Distance between two lanes: room for `SK{IDi, AUTH, SA, TSi, TSr, N(INITIAL_CONTACT)}`.
pub(crate) const LANE_SPACING: u32 = 340;
/// Room right of the last lane, for the AWS records' text.
pub(crate) const RIGHT_MARGIN: u32 = 560;
/// A datagram's row: two label lines above the arrow.
const DATAGRAM_ROW: u32 = 36;
/// Where in its row an arrow starts.
const DATAGRAM_ANCHOR: u32 = 30;
/// A timer's or a record's row.
const MARK_ROW: u32 = 20;
/// Where in its row a mark sits.
const MARK_ANCHOR: u32 = 12;
/// The "47 min later" row drawn before an event that follows a long silence.
const GAP_ROW: u32 = 22;
/// Silences at least this long get a gap row (µs).
const GAP_MARK_US: u64 = 60_000_000;
/// The least an arrow slants, so a zero-delay arrow still reads as sent-then-received.
const MIN_SLANT: u32 = 4;

/// Events closer together than this belong to one burst (one exchange and its
/// consequences); collapsing works on whole bursts (µs).
pub(crate) const BURST_GAP_US: u64 = 1_000_000;
/// A run of routine bursts is collapsed when it spans at least this long (µs)…
pub(crate) const MIN_COLLAPSE_SPAN_US: u64 = 10 * 60 * 1_000_000;
/// … and holds at least this many bursts.
pub(crate) const MIN_COLLAPSE_BURSTS: usize = 3;
/// A collapsed stretch ends after this long, so a 30-day run reads as a bar per day and
/// expanding one paints a day's worth of arrows, not a month's (µs).
pub(crate) const MAX_COLLAPSE_SPAN_US: u64 = 24 * 3600 * 1_000_000;
/// A collapsed stretch draws at most this many of its first and of its last bursts when
/// expanded; the ones between are counted, not drawn ("… 8 540 more like these …", as
/// syslog says "last message repeated N times"). They are routine by the collapsing rule,
/// and without the cap a day of DPD every 10 s would put 26 000 arrows, and a month
/// 100 MB, into the page.
pub(crate) const KEEP_BURSTS: usize = 50;

/// Lays out `timeline`.
pub(crate) fn plan(timeline: &Timeline) -> Plan<'_> {
    let lanes: Vec<LanePlan<'_>> = timeline
        .lanes
        .iter()
        .zip(0u32..)
        .map(|(lane, i)| LanePlan {
            name: &lane.name,
            kind: lane.kind,
            address: &lane.address,
            x: AXIS_WIDTH.saturating_add(i.saturating_mul(LANE_SPACING)),
        })
        .collect();
    let last_x = lanes.last().map_or(AXIS_WIDTH, |lane| lane.x);
    let width = last_x.saturating_add(RIGHT_MARGIN);
    let mut interner = Interner::default();
    let mut counts = Counts::default();
    let mut segments = Vec::new();
    for run in runs(timeline) {
        segments.push(lay_out(timeline, run, &mut interner, &mut counts));
    }
    counts.collapsed = segments.iter().filter(|s| s.collapsed).count();
    Plan {
        title: &timeline.title,
        origin: timeline.origin.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        width,
        lanes,
        payloads: interner.views,
        shapes: interner.shapes,
        streams: interner.streams,
        segments,
        counts,
        esp: super::band::plan(timeline),
    }
}

/// A range of event indices that becomes one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    start: usize,
    end: usize,
    collapsed: bool,
    /// A collapsed run's events that are not drawn (see [`KEEP_BURSTS`]): from the start
    /// of its burst `KEEP_BURSTS` to the start of its last `KEEP_BURSTS` bursts (event
    /// indices), and how many bursts that is.
    elided: Option<(usize, usize, usize)>,
}

/// Splits the events into bursts, then into shown and collapsed runs (the collapsing rule:
/// docs/timeline.md).
fn runs(timeline: &Timeline) -> Vec<Run> {
    let events = &timeline.events;
    let mut bursts: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=events.len() {
        let split = i == events.len()
            || events[i].at_us.saturating_sub(events[i - 1].at_us) >= BURST_GAP_US;
        if split && start < i {
            bursts.push((start, i));
            start = i;
        }
    }
    let routine: Vec<bool> = bursts
        .iter()
        .map(|&(s, e)| is_routine(&BurstFacts::of(&events[s..e])))
        .collect();
    let mut out: Vec<Run> = Vec::new();
    let mut b = 0;
    while b < bursts.len() {
        if !routine[b] {
            push_shown(&mut out, bursts[b]);
            b += 1;
            continue;
        }
        // A run of routine bursts, cut at MAX_COLLAPSE_SPAN_US.
        let first = b;
        while b < bursts.len()
            && routine[b]
            && events[bursts[b].1 - 1]
                .at_us
                .saturating_sub(events[bursts[first].0].at_us)
                < MAX_COLLAPSE_SPAN_US
        {
            b += 1;
        }
        let span = events[bursts[b - 1].1 - 1]
            .at_us
            .saturating_sub(events[bursts[first].0].at_us);
        let (s, e) = (bursts[first].0, bursts[b - 1].1);
        if b - first >= MIN_COLLAPSE_BURSTS && span >= MIN_COLLAPSE_SPAN_US {
            let n = b - first;
            out.push(Run {
                start: s,
                end: e,
                collapsed: true,
                elided: (n > 2 * KEEP_BURSTS + 1).then(|| {
                    (
                        bursts[first + KEEP_BURSTS].0,
                        bursts[b - KEEP_BURSTS].0,
                        n - 2 * KEEP_BURSTS,
                    )
                }),
            });
        } else {
            push_shown(&mut out, (s, e));
        }
    }
    out
}

/// Appends a shown range, merging it with a shown run just before it.
fn push_shown(out: &mut Vec<Run>, (start, end): (usize, usize)) {
    match out.last_mut() {
        Some(last) if !last.collapsed && last.end == start => last.end = end,
        _ => out.push(Run {
            start,
            end,
            collapsed: false,
            elided: None,
        }),
    }
}

#[derive(Default)]
struct Interner<'a> {
    views: Vec<&'a PayloadView>,
    index: HashMap<(&'a str, &'a str, &'a str, bool), usize>,
    shapes: Vec<Shape<'a>>,
    shape_index: HashMap<Shape<'a>, usize>,
    streams: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn intern(&mut self, p: &'a PayloadView) -> usize {
        let key = (
            p.name.as_str(),
            p.summary.as_str(),
            p.detail.as_str(),
            p.encrypted,
        );
        *self.index.entry(key).or_insert_with(|| {
            self.views.push(p);
            self.views.len() - 1
        })
    }

    /// A stream name's index (a page has one or two: a linear search is the fastest).
    fn stream(&mut self, name: &'a str) -> usize {
        if let Some(i) = self.streams.iter().position(|s| *s == name) {
            return i;
        }
        self.streams.push(name);
        self.streams.len() - 1
    }

    fn shape(&mut self, shape: Shape<'a>) -> usize {
        if let Some(&i) = self.shape_index.get(&shape) {
            return i;
        }
        self.shapes.push(shape.clone());
        self.shape_index.insert(shape, self.shapes.len() - 1);
        self.shapes.len() - 1
    }
}

/// Lays out one run's rows.
fn lay_out<'a>(
    timeline: &'a Timeline,
    run: Run,
    interner: &mut Interner<'a>,
    counts: &mut Counts,
) -> Segment<'a> {
    let events = &timeline.events[run.start..run.end];
    let lanes = timeline.lanes.len();
    let mut y = 8u32;
    let mut anchors: Vec<(u64, u32)> = Vec::with_capacity(events.len());
    let mut items = Vec::with_capacity(events.len());
    let mut prev_at: Option<u64> = None;
    let elided = run
        .elided
        .map(|(from, to, bursts)| (from - run.start, to - run.start, bursts));
    for (offset, event) in events.iter().enumerate() {
        let e = run.start + offset;
        count(event, lanes, counts);
        if let Some((from, to, bursts)) =
            elided.filter(|(from, to, _)| (*from..*to).contains(&offset))
        {
            if offset == from {
                let hidden = &events[from..to];
                let what = kinds(hidden)
                    .iter()
                    .map(|(kind, n)| format!("{n} {kind}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                y += silence_height(event.at_us.saturating_sub(prev_at.unwrap_or(event.at_us)));
                items.push(Item::Gap {
                    y: y + 14,
                    text: format!(
                        "… {bursts} more like these over {}, not drawn ({what}): a folded \
                         stretch draws its first and last {KEEP_BURSTS} …",
                        super::labels::span(hidden[hidden.len() - 1].at_us - hidden[0].at_us)
                    ),
                });
                y += GAP_ROW;
                prev_at = None;
            }
            anchors.push((event.at_us, y));
            continue;
        }
        if let Some(prev) = prev_at {
            let dt = event.at_us.saturating_sub(prev);
            if dt >= GAP_MARK_US {
                items.push(Item::Gap {
                    y: y + 14,
                    text: format!("{} later", super::labels::span(dt)),
                });
                y += GAP_ROW;
            }
            y += silence_height(dt);
        }
        prev_at = Some(event.at_us);
        let (row, anchor) = match &event.what {
            What::Datagram(_) => (DATAGRAM_ROW, DATAGRAM_ANCHOR),
            What::Timer(_) | What::Record(_) => (MARK_ROW, MARK_ANCHOR),
        };
        let at_y = y + anchor;
        anchors.push((event.at_us, at_y));
        if let Some(item) = item(e, event, at_y, lanes, interner) {
            items.push(item);
        }
        y += row;
    }
    // Arrows end where their arrival falls among the rows after them.
    for item in &mut items {
        if let Item::Datagram(arrow) = item {
            arrow.y1 = arrival_y(arrow, &anchors, run.start);
            y = y.max(arrow.y1 + 8);
        }
    }
    let from_us = events.first().map_or(0, |e| e.at_us);
    let to_us = events.last().map_or(0, |e| e.at_us);
    let kinds = kinds(events);
    Segment {
        collapsed: run.collapsed,
        from_us,
        to_us,
        label: run
            .collapsed
            .then(|| collapsed_label(to_us.saturating_sub(from_us), &kinds)),
        counts: kinds,
        height: y + 8,
        items,
    }
}

/// Extra room for a silence of `dt` µs: none for simultaneous events, growing with the
/// logarithm of the silence up to 24 px.
fn silence_height(dt: u64) -> u32 {
    if dt == 0 {
        0
    } else {
        // ilog2 of a u64 is at most 63.
        let bits = (dt / 1000 + 1).ilog2();
        (2 + bits * 2).min(24)
    }
}

fn item<'a>(
    e: usize,
    event: &'a Event,
    at_y: u32,
    lanes: usize,
    interner: &mut Interner<'a>,
) -> Option<Item<'a>> {
    match &event.what {
        What::Datagram(d) => {
            if d.from >= lanes || d.to >= lanes {
                return None;
            }
            let (arrived, lost) = match &d.fate {
                Fate::Delivered { at_us } => (Some((*at_us).max(event.at_us)), None),
                Fate::Lost { reason } => (None, Some(reason.clone())),
            };
            let payloads = d
                .message
                .payloads
                .iter()
                .map(|p| interner.intern(p))
                .collect();
            let shape = interner.shape(Shape {
                line: payload_line(&d.message),
                src: &d.src,
                dst: &d.dst,
                len: d.len,
                spis: &d.message.spis,
                protection: match d.message.protection {
                    crate::Protection::Plain => "plain",
                    crate::Protection::Decrypted => "decrypted",
                    crate::Protection::Opaque => "opaque",
                },
                payloads,
            });
            Some(Item::Datagram(Arrow {
                e,
                y0: at_y,
                y1: at_y,
                from: d.from,
                to: d.to,
                via: d.via.filter(|&v| v < lanes),
                at: event.at_us,
                arrived,
                delay: arrived.map(|a| a - event.at_us),
                lost,
                tx: d.transmission,
                dup: d.duplicate,
                reply: d.message.response,
                delayed: arrived.is_some_and(|a| a - event.at_us >= super::rules::DELAYED_US),
                label: exchange_label(&d.message),
                shape,
            }))
        }
        What::Timer(t) if t.lane < lanes => Some(Item::Timer {
            y: at_y,
            lane: t.lane,
            at: event.at_us,
            timer: &t.timer,
            sa: &t.sa,
        }),
        What::Record(r) if r.lane < lanes => Some(Item::Record {
            y: at_y,
            lane: r.lane,
            at: event.at_us,
            stream: interner.stream(&r.stream),
            json: &r.json,
        }),
        What::Timer(_) | What::Record(_) => None,
    }
}

/// Adds `event` to the page's totals (drawn or not), if it is on a lane the page has.
fn count(event: &Event, lanes: usize, counts: &mut Counts) {
    match &event.what {
        What::Datagram(d) if d.from < lanes && d.to < lanes => {
            counts.datagrams += 1;
            if d.transmission > 1 {
                counts.retransmissions += 1;
            }
            if matches!(d.fate, Fate::Lost { .. }) {
                counts.lost += 1;
            }
        }
        What::Timer(t) if t.lane < lanes => counts.timers += 1,
        What::Record(r) if r.lane < lanes => counts.records += 1,
        What::Datagram(_) | What::Timer(_) | What::Record(_) => {}
    }
}

/// Where an arrow ends: lost ones a little below their start (they are drawn to the
/// middle); delivered ones at their arrival time mapped through the rows after them.
fn arrival_y(arrow: &Arrow, anchors: &[(u64, u32)], first_event: usize) -> u32 {
    let min = arrow.y0 + MIN_SLANT;
    let Some(arrived) = arrow.arrived else {
        return arrow.y0 + 2 * MIN_SLANT;
    };
    let own = arrow.e - first_event;
    let mut prev = anchors[own];
    for &(t, y) in &anchors[own + 1..] {
        if t >= arrived {
            if t == prev.0 || t == arrived {
                return y.max(min);
            }
            // Linear between the row before the arrival and the one at/after it.
            let frac = (arrived - prev.0) as f64 / (t - prev.0) as f64;
            let span = f64::from(y.saturating_sub(prev.1));
            // The product is within [0, span], span < u32::MAX.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let dy = (span * frac).round() as u32;
            return (prev.1 + dy).max(min);
        }
        prev = (t, y);
    }
    // Nothing after it arrives later: slant by the delay itself, a pixel per 10 ms.
    let delay_ms = arrived.saturating_sub(arrow.at) / 1000;
    let extra = u32::try_from(delay_ms / 10).unwrap_or(u32::MAX).min(60);
    prev.1.max(arrow.y0) + extra.max(MIN_SLANT)
}

/// What a segment holds, by kind: exchanges (by their requests) and records.
fn kinds(events: &[Event]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut add = |kind: &str| match counts.iter_mut().find(|(k, _)| k == kind) {
        Some((_, n)) => *n += 1,
        None => counts.push((kind.to_owned(), 1)),
    };
    for event in events {
        match &event.what {
            What::Datagram(d) => {
                if let Some(kind) = exchange_kind(d) {
                    add(kind);
                }
            }
            What::Record(_) => add("records"),
            What::Timer(_) => {}
        }
    }
    counts
}
