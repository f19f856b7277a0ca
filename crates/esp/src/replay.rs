//! Anti-replay (RFC 4303 §3.4.3) with the bitmap of RFC 6479, and the inference of the
//! high half of an extended sequence number (RFC 4303 Appendix A2.2).

use crate::{Drop, KeyError};

const BLOCK_BITS: u64 = 64;

/// The receive window of one inbound SA.
///
/// A window of `W` packets accepts a sequence number right of the highest received one,
/// or one of the `W` numbers ending with it that was not received yet; it refuses the
/// rest, [`Drop::Replayed`] or [`Drop::BeforeWindow`]. Sequence number 0 is never sent
/// (the first packet is 1, RFC 4303 §3.3.3): it counts as replayed. `W` is rounded up to a
/// multiple of 64 and the bitmap has one 64-bit block more than `W` needs, so that sliding
/// the window is clearing whole blocks (RFC 6479 §2). A window of 0 turns the checks off
/// (RFC 4303 §3.4.3 lets a receiver do without) while the highest number is still tracked:
/// with ESN the high half of every number is inferred from it.
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
    pub fn new(size: u32) -> Result<ReplayWindow, KeyError> {
        if size > Self::MAX {
            return Err(KeyError::ReplayWindowTooLarge(size));
        }
        let size = size.div_ceil(64) * 64;
        let blocks = if size == 0 {
            Vec::new()
        } else {
            vec![0; size as usize / 64 + 1]
        };
        Ok(ReplayWindow {
            size,
            top: 0,
            blocks,
        })
    }

    /// The window size in packets after rounding (0: anti-replay off).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The highest sequence number accepted so far (0 before the first).
    pub fn top(&self) -> u64 {
        self.top
    }

    /// The full sequence number of a packet that carries `low`, its low 32 bits: without
    /// ESN `low` itself; with ESN the high half is inferred from the window as RFC 4303
    /// Appendix A2.2 says (without anti-replay, from a window of 2^31: the nearest
    /// number). `None` if that would be below 0 or above 2^64-1: no authentic packet has
    /// such a number.
    pub fn infer(&self, low: u32, esn: bool) -> Option<u64> {
        if !esn {
            return Some(u64::from(low));
        }
        let width = if self.size == 0 { 1 << 31 } else { self.size };
        // The low and high halves of the highest number (Tl and Th in A2.2).
        let top_low = self.top as u32;
        let top_high = (self.top >> 32) as u32;
        let bottom = top_low.wrapping_sub(width - 1);
        let high = if top_low >= width - 1 {
            // Case A: the window is within one subspace of 2^32.
            if low >= bottom {
                top_high
            } else {
                top_high.checked_add(1)?
            }
        } else if low >= bottom {
            // Case B: the window spans two subspaces; `low` is in the lower one.
            top_high.checked_sub(1)?
        } else {
            top_high
        };
        Some(u64::from(high) << 32 | u64::from(low))
    }

    /// Whether `seq` may be received: run before the integrity check, which it saves on
    /// replays. Changes nothing.
    pub fn check(&self, seq: u64) -> Result<(), Drop> {
        if self.size == 0 {
            return Ok(());
        }
        if seq == 0 {
            return Err(Drop::Replayed);
        }
        if seq > self.top {
            return Ok(());
        }
        if self.top - seq >= u64::from(self.size) {
            return Err(Drop::BeforeWindow);
        }
        let (block, bit) = self.position(seq);
        if self.blocks[block] & bit != 0 {
            Err(Drop::Replayed)
        } else {
            Ok(())
        }
    }

    /// Records `seq` as received, sliding the window if it is the new highest: run only
    /// after the packet's integrity verified (RFC 4303 §3.4.3), and only after
    /// [`check`](Self::check) passed.
    pub fn accept(&mut self, seq: u64) {
        if self.size == 0 {
            self.top = self.top.max(seq);
            return;
        }
        if seq > self.top {
            // Clear the blocks the window slides onto (RFC 6479 §2.2), at most all.
            let n = self.blocks.len() as u64;
            let from = self.top / BLOCK_BITS;
            let to = seq / BLOCK_BITS;
            for block in (from + 1..=to).take(self.blocks.len()) {
                self.blocks[(block % n) as usize] = 0;
            }
            self.top = seq;
        }
        let (block, bit) = self.position(seq);
        self.blocks[block] |= bit;
    }

    fn position(&self, seq: u64) -> (usize, u64) {
        let block = (seq / BLOCK_BITS) % self.blocks.len() as u64;
        (block as usize, 1 << (seq % BLOCK_BITS))
    }
}
