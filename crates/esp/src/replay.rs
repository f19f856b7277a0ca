//! Anti-replay (RFC 4303 §3.4.3) with the bitmap of RFC 6479, and the inference of the
//! high half of an extended sequence number (RFC 4303 Appendix A2.2).

use crate::Drop;

/// The receive window of one inbound SA.
///
/// A window of `W` packets accepts a sequence number right of the highest received one,
/// or one of the `W` numbers ending with it that was not received yet; it refuses the
/// rest, [`Drop::Replayed`] or [`Drop::BeforeWindow`]. `W` is rounded up to a multiple of
/// 64 and the bitmap has one 64-bit block more than `W` needs, so that sliding the window
/// is clearing whole blocks (RFC 6479 §2). A window of 0 turns the checks off (RFC 4303
/// §3.4.3 lets the receiver do without), while the highest number is still tracked, since
/// with ESN it is what the high half of every number is inferred from.
#[derive(Clone, Debug)]
pub struct ReplayWindow {
    size: u32,
    top: u64,
    blocks: Vec<u64>,
}

impl ReplayWindow {
    /// The largest window this crate keeps (AWS allows up to 2,048 packets).
    pub const MAX: u32 = 1 << 16;

    /// A window of `size` packets rounded up to a multiple of 64; 0 is no anti-replay.
    pub fn new(size: u32) -> Result<ReplayWindow, crate::KeyError> {
        let _ = size;
        unimplemented!("API first: the window comes in the next commit")
    }

    /// The window size in packets after rounding (0: anti-replay off).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The highest sequence number accepted so far (0 before the first).
    pub fn top(&self) -> u64 {
        self.top
    }

    /// The full sequence number of a packet that carries `low`, its low 32 bits: with ESN
    /// the high half is inferred from the window (RFC 4303 Appendix A2.2); `None` if that
    /// would be below 0 or above 2^64-1 (such a packet cannot be authentic).
    pub fn infer(&self, low: u32, esn: bool) -> Option<u64> {
        let _ = (low, esn);
        unimplemented!("API first: the window comes in the next commit")
    }

    /// Whether `seq` may be received: run before the integrity check, which it saves on
    /// replays. Changes nothing.
    pub fn check(&self, seq: u64) -> Result<(), Drop> {
        let _ = seq;
        unimplemented!("API first: the window comes in the next commit")
    }

    /// Records `seq` as received, sliding the window if it is the new highest: run only
    /// after the packet's integrity verified (RFC 4303 §3.4.3), and only after
    /// [`check`](Self::check) passed.
    pub fn accept(&mut self, seq: u64) {
        let _ = seq;
        unimplemented!("API first: the window comes in the next commit")
    }
}
