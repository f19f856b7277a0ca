//! Bounds-checked reading and length-patching writing shared by every structure.

use crate::ParseError;

/// A cursor over a byte slice that never reads out of bounds: every read either returns
/// the bytes or a [`ParseError::Truncated`] naming the field and its absolute offset.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the caller's buffer, for error reports.
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Absolute offset of the next unread byte.
    pub(crate) fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ParseError> {
        let truncated = ParseError::Truncated {
            what,
            offset: self.offset(),
            needed: n,
            available: self.remaining(),
        };
        let end = self.pos.checked_add(n).ok_or(truncated.clone())?;
        let slice = self.buf.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(slice)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], ParseError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, what)?);
        Ok(out)
    }

    /// Everything not yet read.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }

    /// The next `n` bytes as a reader of their own that keeps absolute offsets.
    pub(crate) fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, ParseError> {
        let base = self.offset();
        let buf = self.bytes(n, what)?;
        Ok(Reader::new(buf, base))
    }
}

/// A length or count for a `u8` field. Values that do not fit cannot be represented on
/// the wire; they saturate (and the result will not parse back) instead of panicking.
pub(crate) fn sat_u8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// As [`sat_u8`], for a `u16` field.
pub(crate) fn sat_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// As [`sat_u8`], for a `u32` field.
pub(crate) fn sat_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Writes the length of everything from `start` to the end of `out` into the big-endian
/// `u16` at `start + at` (a placeholder the caller wrote earlier).
pub(crate) fn patch_len16(out: &mut [u8], start: usize, at: usize) {
    let len = sat_u16(out.len().saturating_sub(start)).to_be_bytes();
    if let Some(field) = out.get_mut(start + at..start + at + 2) {
        field.copy_from_slice(&len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_report_absolute_offsets() {
        let data = [1, 2, 3, 4, 5];
        let mut r = Reader::new(&data, 100);
        assert_eq!(r.array::<2>("a").unwrap(), [1, 2]);
        let mut sub = r.sub(2, "b").unwrap();
        assert_eq!(sub.offset(), 102);
        assert_eq!(sub.rest(), &[3, 4]);
        assert_eq!(
            r.array::<2>("c"),
            Err(ParseError::Truncated {
                what: "c",
                offset: 104,
                needed: 2,
                available: 1
            })
        );
        assert!(matches!(
            r.bytes(usize::MAX, "d"),
            Err(ParseError::Truncated {
                needed: usize::MAX,
                ..
            })
        ));
    }

    #[test]
    fn patches_lengths_and_saturates() {
        let mut out = vec![9, 0, 0, 7, 7, 7];
        patch_len16(&mut out, 0, 1);
        assert_eq!(out, [9, 0, 6, 7, 7, 7]);
        assert_eq!(sat_u8(300), 255);
        assert_eq!(sat_u16(70_000), u16::MAX);
    }
}
