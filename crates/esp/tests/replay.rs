//! The anti-replay window against a naive model (a set of every number seen), and the ESN
//! inference of RFC 4303 Appendix A2.2.

use std::collections::BTreeSet;

use esp::{Drop, ReplayWindow};
use proptest::prelude::*;

/// What RFC 4303 §3.4.3 says a window of `size` packets does, with no bitmap.
struct Model {
    size: u64,
    top: u64,
    seen: BTreeSet<u64>,
}

impl Model {
    fn check(&self, seq: u64) -> Result<(), Drop> {
        // Left of the window nothing is known, seen or not.
        if seq != 0 && seq <= self.top && self.top - seq >= self.size {
            Err(Drop::BeforeWindow)
        } else if seq == 0 || self.seen.contains(&seq) {
            Err(Drop::Replayed)
        } else {
            Ok(())
        }
    }

    fn accept(&mut self, seq: u64) {
        self.seen.insert(seq);
        self.top = self.top.max(seq);
    }
}

/// How the next number is chosen from the highest so far.
#[derive(Clone, Debug)]
enum Step {
    /// In order or a little ahead (a loss).
    Ahead(u64),
    /// Reordered: behind the highest.
    Behind(u64),
    /// A big jump: every block of the bitmap is cleared.
    Jump(u64),
    /// A duplicate of the n-th number offered so far.
    Again(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (1u64..=4).prop_map(Step::Ahead),
        4 => (0u64..=2600).prop_map(Step::Behind),
        1 => (60u64..=200_000).prop_map(Step::Jump),
        2 => any::<usize>().prop_map(Step::Again),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_window_agrees_with_a_set_of_seen_numbers(
        size in 64u32..=2048,
        steps in proptest::collection::vec((step(), any::<bool>()), 1..600),
    ) {
        let mut window = ReplayWindow::new(size).unwrap();
        prop_assert_eq!(window.size() % 64, 0);
        prop_assert!(window.size() >= size && window.size() < size + 64);
        let mut model = Model { size: u64::from(window.size()), top: 0, seen: BTreeSet::new() };
        let mut offered = Vec::new();
        for (step, authentic) in steps {
            let seq = match step {
                Step::Ahead(d) | Step::Jump(d) => model.top + d,
                Step::Behind(d) => model.top.saturating_sub(d),
                Step::Again(i) if !offered.is_empty() => offered[i % offered.len()],
                Step::Again(_) => 1,
            };
            offered.push(seq);
            let verdict = window.check(seq);
            prop_assert_eq!(verdict, model.check(seq), "seq {} top {}", seq, model.top);
            // Only packets whose ICV verified move the window.
            if verdict.is_ok() && authentic {
                window.accept(seq);
                model.accept(seq);
            }
            prop_assert_eq!(window.top(), model.top);
        }
    }
}

#[test]
fn sizes_round_up_to_64_and_0_is_off() {
    assert_eq!(ReplayWindow::new(1).unwrap().size(), 64);
    assert_eq!(ReplayWindow::new(1024).unwrap().size(), 1024);
    assert_eq!(ReplayWindow::new(1025).unwrap().size(), 1088);
    let mut off = ReplayWindow::new(0).unwrap();
    off.accept(10);
    assert_eq!(off.check(10), Ok(()));
    assert_eq!(off.check(1), Ok(()));
    assert_eq!(off.top(), 10);
    assert!(ReplayWindow::new(ReplayWindow::MAX).is_ok());
    assert!(ReplayWindow::new(ReplayWindow::MAX + 1).is_err());
}

#[test]
fn the_edge_of_the_window() {
    let mut w = ReplayWindow::new(64).unwrap();
    w.accept(100);
    assert_eq!(w.check(37), Ok(()), "100 - 63: the window's last number");
    assert_eq!(w.check(36), Err(Drop::BeforeWindow));
    assert_eq!(w.check(100), Err(Drop::Replayed));
    assert_eq!(w.check(101), Ok(()));
    assert_eq!(w.check(0), Err(Drop::Replayed));
}

fn window_at(size: u32, top: u64) -> ReplayWindow {
    let mut w = ReplayWindow::new(size).unwrap();
    w.accept(top);
    w
}

/// RFC 4303 Appendix A2.2's two cases, at their edges.
#[test]
fn esn_high_half_inference() {
    // Without ESN the number is what the packet says.
    assert_eq!(window_at(64, 5 << 32).infer(7, false), Some(7));
    // Case A: the window (64) lies within one subspace.
    let w = window_at(64, (3 << 32) | 1000);
    assert_eq!(w.infer(1000 - 63, true), Some((3 << 32) | 937));
    assert_eq!(w.infer(2000, true), Some((3 << 32) | 2000));
    assert_eq!(
        w.infer(1000 - 64, true),
        Some((4 << 32) | 936),
        "left of it: next subspace"
    );
    // Case B: the window spans the boundary below.
    let w = window_at(64, (3 << 32) | 10);
    assert_eq!(
        w.infer(u32::MAX, true),
        Some((2 << 32) | u64::from(u32::MAX))
    );
    assert_eq!(
        w.infer(u32::MAX - 52, true),
        Some((2 << 32) | u64::from(u32::MAX - 52))
    );
    assert_eq!(
        w.infer(u32::MAX - 53, true),
        Some((3 << 32) | u64::from(u32::MAX - 53))
    );
    assert_eq!(w.infer(5, true), Some((3 << 32) | 5));
    // No subspace below 0, none above 2^64.
    assert_eq!(window_at(64, 10).infer(u32::MAX, true), None);
    assert_eq!(window_at(64, u64::MAX).infer(5, true), None);
    // Without anti-replay: the nearest number (a window of 2^31).
    let w = window_at(0, (3 << 32) | 10);
    assert_eq!(
        w.infer(u32::MAX, true),
        Some((2 << 32) | u64::from(u32::MAX))
    );
    assert_eq!(w.infer(1 << 30, true), Some((3 << 32) | (1 << 30)));
}
