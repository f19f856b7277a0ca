//! CHILD SAs (ESP, RFC 7296 §1.3, §2.17): SPIs, algorithms, selectors, KEYMAT and
//! lifetime. What carries packets with them is the data plane's, told of each CHILD SA
//! whose keys went into use by `endpoint::ledger` (see `crate::ipsec`).

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
    /// KEYMAT: one direction's keys, then the other's; `order` says which is which.
    pub keymat: Vec<u8>,
    /// Which half of `keymat` is our outbound SA's.
    pub order: KeymatOrder,
    /// Its keys went into use (it was installed): from the end of that input until it
    /// leaves its IKE SA's `children`, the data plane holds it (`endpoint::ledger`).
    pub keys_in_use: bool,
    /// For a rekey, the inbound SPI of the CHILD SA it replaces (RFC 7296 §2.8; IKEv1: the
    /// SA with the same selectors, RFC 2409 §5.5).
    pub replaces: Option<Spi>,
    /// We answered the peer's rekey (IKEv2, no collision): our new outbound SA waits for
    /// the replaced SA's removal — the peer's DELETE — before it sends, as strongSwan's
    /// responder does (the initiator may not have installed its inbound side yet when
    /// our response leaves). See `ipsec`'s "Order and lifetime".
    pub defer_outbound: bool,
    /// Rekey and expiry (RFC 7296 §2.8; `shell::timer`).
    pub timers: ChildTimers,
    /// We answered the peer's rekey of this SA while ours was in flight (§2.8.1): the
    /// nonces of the peer's exchange.
    pub collision: Option<(Vec<u8>, Vec<u8>)>,
}

/// Which half of a CHILD SA's KEYMAT is which direction's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeymatOrder {
    /// Our outbound keys first: IKEv2, when we initiated the exchange that created the SA
    /// (its initiator-to-responder keys come first, RFC 7296 §2.17).
    OutboundFirst,
    /// Our inbound keys first: IKEv2, when the peer initiated that exchange — whoever
    /// started the exchange is "i", even for a rekey by the original responder; IKEv1
    /// always (quick mode derives each direction with its receiver's SPI, RFC 2409 §5.5,
    /// and keeps ours first).
    InboundFirst,
}

/// What a CHILD SA is set up with.
pub(crate) struct ChildParams<'a> {
    pub prf: &'a Prf,
    pub sk_d: &'a [u8],
    pub g_ir: Option<&'a [u8]>,
    pub ni: &'a [u8],
    pub nr: &'a [u8],
    /// We initiated the exchange that creates it (its KEYMAT's "i", §2.17).
    pub initiator: bool,
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
            order: KeymatOrder::InboundFirst,
            keys_in_use: false,
            replaces: None,
            defer_outbound: false,
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
        self.order = if keys.initiator {
            KeymatOrder::OutboundFirst
        } else {
            KeymatOrder::InboundFirst
        };
        self.state = ChildState::Installed;
        self.keys_in_use = true;
        Ok(())
    }

    /// Puts a negotiated CHILD SA's keys into use (IKEv1 quick mode, whose KEYMAT its
    /// caller derived), unless it is being deleted already.
    pub fn install(&mut self) {
        if !self.is_deleting() {
            self.state = ChildState::Installed;
            self.keys_in_use = true;
        }
    }
}
