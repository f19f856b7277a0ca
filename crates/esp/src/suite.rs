//! What an ESP SA is keyed with: the suite (RFC 4106 AES-GCM-16, or RFC 3602 AES-CBC with an
//! RFC 2404 / RFC 4868 HMAC), its keys, its SPI and whether it uses extended sequence
//! numbers.

/// The integrity algorithm of an AES-CBC SA: HMAC, truncated to half the hash (RFC 2404,
/// RFC 4868 §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Integrity {
    /// HMAC-SHA1-96 (RFC 2404): 20-byte key, 12-byte ICV.
    HmacSha1_96,
    /// HMAC-SHA-256-128 (RFC 4868): 32-byte key, 16-byte ICV.
    HmacSha256_128,
    /// HMAC-SHA-384-192 (RFC 4868): 48-byte key, 24-byte ICV.
    HmacSha384_192,
    /// HMAC-SHA-512-256 (RFC 4868): 64-byte key, 32-byte ICV.
    HmacSha512_256,
}

impl Integrity {
    /// The key length: the hash's output length (RFC 2404 §3, RFC 4868 §2.1.1).
    pub fn key_len(self) -> usize {
        match self {
            Integrity::HmacSha1_96 => 20,
            Integrity::HmacSha256_128 => 32,
            Integrity::HmacSha384_192 => 48,
            Integrity::HmacSha512_256 => 64,
        }
    }

    /// The ICV length: the truncated HMAC at the end of each packet.
    pub fn icv_len(self) -> usize {
        match self {
            Integrity::HmacSha1_96 => 12,
            Integrity::HmacSha256_128 => 16,
            Integrity::HmacSha384_192 => 24,
            Integrity::HmacSha512_256 => 32,
        }
    }

    pub(crate) fn algorithm(self) -> ring::hmac::Algorithm {
        match self {
            Integrity::HmacSha1_96 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Integrity::HmacSha256_128 => ring::hmac::HMAC_SHA256,
            Integrity::HmacSha384_192 => ring::hmac::HMAC_SHA384,
            Integrity::HmacSha512_256 => ring::hmac::HMAC_SHA512,
        }
    }
}

/// The cipher suite of an ESP SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// AES-GCM with a 16-byte ICV (RFC 4106), 128 or 256-bit keys (ring has no AES-192-GCM;
    /// AWS offers only these two).
    AesGcm16 {
        /// The AES key length in bits.
        key_bits: u16,
    },
    /// AES-CBC (RFC 3602), 128, 192 or 256-bit keys, with an HMAC for integrity.
    AesCbc {
        /// The AES key length in bits.
        key_bits: u16,
        /// The integrity algorithm.
        integrity: Integrity,
    },
}

/// Explicit IV of AES-GCM in ESP (RFC 4106 §3.1).
pub(crate) const GCM_IV_LEN: usize = 8;
/// The salt after the AES-GCM key in the key material (RFC 4106 §8.1).
pub(crate) const GCM_SALT_LEN: usize = 4;
/// The ICV of AES-GCM-16.
pub(crate) const GCM_ICV_LEN: usize = 16;
/// The AES block, and the IV of AES-CBC (RFC 3602 §3).
pub(crate) use ike_crypto::AES_BLOCK;

impl Suite {
    /// Bytes of encryption key material: for GCM the AES key and then the 4-byte salt.
    pub fn encryption_key_len(self) -> usize {
        match self {
            Suite::AesGcm16 { key_bits } => usize::from(key_bits / 8) + GCM_SALT_LEN,
            Suite::AesCbc { key_bits, .. } => usize::from(key_bits / 8),
        }
    }

    /// Bytes of integrity key: 0 for GCM.
    pub fn integrity_key_len(self) -> usize {
        match self {
            Suite::AesGcm16 { .. } => 0,
            Suite::AesCbc { integrity, .. } => integrity.key_len(),
        }
    }

    /// The IV each packet carries after the sequence number.
    pub fn iv_len(self) -> usize {
        match self {
            Suite::AesGcm16 { .. } => GCM_IV_LEN,
            Suite::AesCbc { .. } => AES_BLOCK,
        }
    }

    /// The ICV at the end of each packet.
    pub fn icv_len(self) -> usize {
        match self {
            Suite::AesGcm16 { .. } => GCM_ICV_LEN,
            Suite::AesCbc { integrity, .. } => integrity.icv_len(),
        }
    }

    /// What the ciphertext (payload, padding, pad length, next header) is aligned to: the
    /// cipher's block, at least 4 bytes (RFC 4303 §2.4).
    pub fn alignment(self) -> usize {
        match self {
            Suite::AesGcm16 { .. } => 4,
            Suite::AesCbc { .. } => AES_BLOCK,
        }
    }

    /// The ESP packet [`Outbound::seal`](crate::Outbound::seal) makes of `payload_len`
    /// bytes: SPI, sequence number, IV, the padded ciphertext and the ICV.
    pub fn sealed_len(self, payload_len: usize) -> usize {
        8 + self.iv_len() + padded_len(payload_len, self.alignment()) + self.icv_len()
    }
}

/// The ciphertext length for `payload_len` bytes: payload, padding, pad length and next
/// header, rounded up to `align`.
pub(crate) fn padded_len(payload_len: usize, align: usize) -> usize {
    (payload_len + 2).div_ceil(align) * align
}

/// One ESP SA (one direction), as IKE negotiated it.
#[derive(Clone, PartialEq, Eq)]
pub struct SaSpec {
    /// The SPI the packets carry: the receiver's choice.
    pub spi: u32,
    /// The cipher suite.
    pub suite: Suite,
    /// Encryption key material, [`Suite::encryption_key_len`] bytes; for GCM the key and
    /// then the salt (RFC 4106 §8.1).
    pub encryption_key: Vec<u8>,
    /// The integrity key, [`Suite::integrity_key_len`] bytes (empty for GCM).
    pub integrity_key: Vec<u8>,
    /// 64-bit extended sequence numbers (RFC 4303 §2.2.1).
    pub esn: bool,
}

impl std::fmt::Debug for SaSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaSpec")
            .field("spi", &format_args!("{:08x}", self.spi))
            .field("suite", &self.suite)
            .field(
                "encryption_key",
                &format_args!("<{} bytes>", self.encryption_key.len()),
            )
            .field(
                "integrity_key",
                &format_args!("<{} bytes>", self.integrity_key.len()),
            )
            .field("esn", &self.esn)
            .finish()
    }
}

/// Why an SA could not be set up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key length this crate does not implement for the suite.
    #[error("unsupported key length {key_bits} bits for {suite}")]
    UnsupportedKeyLength {
        /// The suite's name.
        suite: &'static str,
        /// The key length asked for.
        key_bits: u16,
    },
    /// Key material of the wrong length.
    #[error("{what} is {actual} bytes, the suite needs {expected}")]
    WrongKeyLength {
        /// Which key.
        what: &'static str,
        /// The length the suite needs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// SPIs 0–255 are reserved (RFC 4303 §2.1): no SA has one.
    #[error("SPI {0} is reserved (RFC 4303 §2.1: 0-255 are not assigned to SAs)")]
    ReservedSpi(u32),
    /// The SA database already has an inbound SA with this SPI.
    #[error("an inbound SA with SPI {0:08x} is already installed")]
    DuplicateSpi(u32),
    /// A replay window beyond [`ReplayWindow::MAX`](crate::ReplayWindow::MAX).
    #[error("replay window of {0} packets is larger than the {max} supported", max = crate::ReplayWindow::MAX)]
    ReplayWindowTooLarge(u32),
}
