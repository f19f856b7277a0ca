//! The page (owned by the rendering work).

use crate::Timeline;

/// The whole page for `timeline`, self-contained.
pub fn render_html(timeline: &Timeline) -> String {
    let _ = timeline;
    String::new()
}
