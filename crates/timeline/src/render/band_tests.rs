//! The bands' layout and their place on the page, without a browser.

use super::plan;
use crate::render::render_html;
use crate::render::tests::fixture;
use crate::{Direction, EspBand, PacketFate, Timeline};

/// The PSK-mismatch fixture with two bands: pings both ways for 2 minutes, the CGW's
/// replay window dropping some in the second minute, the path losing one.
fn with_bands() -> Timeline {
    let mut t = fixture::psk_mismatch();
    let mut up = EspBand::new(0, Direction::OnpremToVpc);
    let mut down = EspBand::new(0, Direction::VpcToOnprem);
    for s in 0..120u64 {
        up.count(s * 1_000_000, PacketFate::Delivered);
        down.count(s * 1_000_000 + 500, PacketFate::Delivered);
        if (60..63).contains(&s) {
            down.count(s * 1_000_000 + 700, PacketFate::Dropped("replayed"));
        }
    }
    up.count(90_000_000, PacketFate::Lost("loss"));
    t.esp = vec![up, down];
    t
}

#[test]
fn bands_line_up_and_count_every_packet() {
    let t = with_bands();
    let p = plan(&t).expect("bands");
    // 2 minutes (the fixture's events are earlier): 1 s buckets, every band the same.
    assert_eq!(p.bucket_us, 1_000_000);
    assert_eq!(p.bucket, "1 s");
    assert!(p.columns >= 120 && p.columns <= crate::MAX_BUCKETS);
    // Tunnel then direction: VPC → on-premises first.
    assert_eq!(p.bands[0].direction, Direction::VpcToOnprem);
    assert_eq!(
        p.bands[0].label,
        "tunnel 1 · VPC → on-premises · 120 delivered · 0 lost · 3 dropped (replayed 3)"
    );
    assert_eq!(
        p.bands[1].label,
        "tunnel 1 · on-premises → VPC · 120 delivered · 1 lost (loss 1) · 0 dropped"
    );
    let drop_cells: Vec<_> = p.bands[0].cells.iter().filter(|c| c.dropped).collect();
    assert_eq!(
        drop_cells.iter().map(|c| c.i).collect::<Vec<_>>(),
        [60, 61, 62]
    );
    assert_eq!(
        drop_cells[0].tip,
        "+00:01:00 – +00:01:01 (2026-01-01 00:01:00 UTC, 1 s)\n1 delivered\n0 lost\n1 dropped (replayed 1)"
    );
    // The lost one is shaded but not as a drop.
    let lost = p.bands[1]
        .cells
        .iter()
        .find(|c| c.i == 90)
        .expect("bucket 90");
    assert!(lost.bad > 0.0 && !lost.dropped);
    assert!(p.bands[1].cells.iter().all(|c| c.ok > 0.0));
}

#[test]
fn bands_of_different_widths_are_widened_to_one() {
    let mut t = with_bands();
    // A band that saw a packet at 2 h: 1 min buckets for every band.
    let mut late = EspBand::new(1, Direction::OnpremToVpc);
    late.count(7_200_000_000, PacketFate::Dropped("no_tunnel"));
    t.esp.push(late);
    let p = plan(&t).expect("bands");
    assert_eq!(p.bucket_us, 60_000_000);
    assert!(p.columns <= crate::MAX_BUCKETS);
    assert_eq!(p.bands.len(), 3);
    assert_eq!(p.bands[0].cells.len(), 2);
    assert_eq!(p.bands[0].totals.delivered, 120);
    assert_eq!(p.bands[2].tunnel, 1);
}

#[test]
fn the_page_has_a_band_section_only_with_bands() {
    let page = render_html(&with_bands());
    assert!(page.contains("<section id=\"esp\""));
    assert!(page.contains("ESP: 240 packets delivered, 1 lost, 3 dropped"));
    assert!(page.contains("\"esp\":{\"bucket_us\":1000000"));
    let plain = render_html(&fixture::psk_mismatch());
    assert!(!plain.contains("id=\"esp\""));
    assert!(!plain.contains("\"esp\":"));
    assert!(!plain.contains("ESP:"));
}
