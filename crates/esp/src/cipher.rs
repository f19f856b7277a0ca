//! The keyed transforms of one SA direction (filled in the next commit).

/// One direction's keys.
pub(crate) struct Cipher {
    spi: u32,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("spi", &format_args!("{:08x}", self.spi))
            .finish_non_exhaustive()
    }
}

impl Cipher {
    pub(crate) fn spi(&self) -> u32 {
        self.spi
    }
}
