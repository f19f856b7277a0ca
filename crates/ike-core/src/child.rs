//! CHILD SAs (ESP, RFC 7296 §1.3, §2.17). There is no data plane yet: a CHILD SA is its
//! SPIs, algorithms, selectors, KEYMAT and lifetime, which is all the log and the peer can
//! observe.

use ike_crypto::{child_keymat, child_sa_key_len, Encryption, Integrity, Prf};
use ike_wire::TrafficSelector;

use crate::event::SaState;
use crate::proposal::Selected;
use crate::shell::timer::ChildTimers;
use crate::shell::Spi;

/// Where a CHILD SA stands in its own protocol (RFC 7296 §1.3, §2.8, §1.4.1; RFC 2409
/// §5.5 for quick mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChildState {
    /// Being negotiated: only our inbound SPI is known.
    Negotiating,
    /// Negotiated: its keys are in use.
    Installed,
    /// Installed, and a rekey of it is in flight.
    Rekeying,
    /// Replaced by a rekey, or being deleted with or without its IKE SA: it waits only for
    /// its DELETE and counts for nothing.
    Deleting,
}

impl ChildState {
    /// How AWS shows a CHILD SA in this state (phase 2); a deleting one shows nothing.
    pub fn shown(self) -> Option<SaState> {
        match self {
            ChildState::Negotiating => Some(SaState::Negotiating),
            ChildState::Installed => Some(SaState::Established),
            ChildState::Rekeying => Some(SaState::Rekeying),
            ChildState::Deleting => None,
        }
    }
}

pub(crate) struct ChildSa {
    pub state: ChildState,
    /// The SPI we receive with (chosen by us) and the one we send with (the peer's).
    pub spi_in: Spi,
    pub spi_out: Spi,
    pub selected: Option<Selected>,
    pub ts_local: Vec<TrafficSelector>,
    pub ts_remote: Vec<TrafficSelector>,
    /// KEYMAT: initiator-to-responder keys first, then responder-to-initiator (§2.17).
    pub keymat: Vec<u8>,
    /// Rekey and expiry (RFC 7296 §2.8; `shell::timer`).
    pub timers: ChildTimers,
    /// We answered the peer's rekey of this SA while ours was in flight (§2.8.1): the
    /// nonces of the peer's exchange.
    pub collision: Option<(Vec<u8>, Vec<u8>)>,
}

/// What a CHILD SA is set up with.
pub(crate) struct ChildParams<'a> {
    pub prf: &'a Prf,
    pub sk_d: &'a [u8],
    pub g_ir: Option<&'a [u8]>,
    pub ni: &'a [u8],
    pub nr: &'a [u8],
}

impl ChildSa {
    /// A CHILD SA being negotiated: only our inbound SPI is known.
    pub fn negotiating(spi_in: Spi) -> ChildSa {
        ChildSa {
            state: ChildState::Negotiating,
            spi_in,
            spi_out: Spi(0),
            selected: None,
            ts_local: Vec::new(),
            ts_remote: Vec::new(),
            keymat: Vec::new(),
            timers: ChildTimers::default(),
            collision: None,
        }
    }

    pub fn is_deleting(&self) -> bool {
        self.state == ChildState::Deleting
    }

    /// Sets the state, unless the CHILD SA is already being deleted (which only its DELETE
    /// ends).
    pub fn set_state(&mut self, state: ChildState) {
        if !self.is_deleting() {
            self.state = state;
        }
    }

    /// Completes the CHILD SA: derives KEYMAT = prf+(SK_d, [g^ir] | Ni | Nr).
    pub fn establish(
        &mut self,
        keys: &ChildParams<'_>,
        spi_out: Spi,
        selected: Selected,
        ts_local: Vec<TrafficSelector>,
        ts_remote: Vec<TrafficSelector>,
    ) -> Result<(), ike_crypto::CryptoError> {
        let encryption = Encryption::new(selected.encryption.id, selected.encryption.key_bits)?;
        let integrity = selected.integrity.map(Integrity::new).transpose()?;
        let len = 2 * child_sa_key_len(&encryption, integrity.as_ref());
        self.keymat = child_keymat(keys.prf, keys.sk_d, keys.g_ir, keys.ni, keys.nr, len);
        self.spi_out = spi_out;
        self.selected = Some(selected);
        self.ts_local = ts_local;
        self.ts_remote = ts_remote;
        self.state = ChildState::Installed;
        Ok(())
    }
}
