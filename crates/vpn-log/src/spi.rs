//! How SPIs appear in `details`. AWS fills its `xxxx` placeholders "with SPIs as AWS shows
//! them" without publishing the layout (reference §2); ikesim's choice, in this one place:
//! fixed-width lowercase hex, no `0x`, as strongSwan prints them.

use std::fmt;

/// A 32-bit ESP/AH SPI (RFC 4303 §2.1): 8 lowercase hex digits, e.g. `c2d3e4f5`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EspSpi(pub u32);

/// A 64-bit IKE SA SPI (RFC 7296 §3.1; an IKEv1 cookie): 16 lowercase hex digits,
/// e.g. `0123456789abcdef`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IkeSpi(pub u64);

impl fmt::Display for EspSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Display for IkeSpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl From<u32> for EspSpi {
    fn from(spi: u32) -> Self {
        EspSpi(spi)
    }
}

impl From<u64> for IkeSpi {
    fn from(spi: u64) -> Self {
        IkeSpi(spi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_lowercase_hex() {
        assert_eq!(EspSpi(0xc2d3_e4f5).to_string(), "c2d3e4f5");
        assert_eq!(EspSpi(0x1f).to_string(), "0000001f");
        assert_eq!(
            IkeSpi(0x0123_4567_89ab_cdef).to_string(),
            "0123456789abcdef"
        );
        assert_eq!(IkeSpi(u64::MAX).to_string(), "ffffffffffffffff");
        assert_eq!(IkeSpi::from(1).to_string().len(), 16);
    }
}
