//! CHILD SAs (ESP, RFC 7296 §1.3, §2.17). There is no data plane yet: a CHILD SA is its
//! SPIs, algorithms, selectors and KEYMAT, which is all the log and the peer can observe.

use ike_crypto::{child_keymat, child_sa_key_len, Encryption, Integrity, Prf};
use ike_wire::TrafficSelector;

use crate::event::SaState;
use crate::proposal::Selected;

pub(crate) struct ChildSa {
    pub state: SaState,
    /// The SPI we receive with (chosen by us) and the one we send with (the peer's).
    pub spi_in: u32,
    pub spi_out: u32,
    pub selected: Option<Selected>,
    pub ts_local: Vec<TrafficSelector>,
    pub ts_remote: Vec<TrafficSelector>,
    /// KEYMAT: initiator-to-responder keys first, then responder-to-initiator (§2.17).
    pub keymat: Vec<u8>,
}

impl ChildSa {
    /// A CHILD SA being negotiated: only our inbound SPI is known.
    pub fn negotiating(spi_in: u32) -> ChildSa {
        ChildSa {
            state: SaState::Negotiating,
            spi_in,
            spi_out: 0,
            selected: None,
            ts_local: Vec::new(),
            ts_remote: Vec::new(),
            keymat: Vec::new(),
        }
    }

    /// Completes the CHILD SA: derives KEYMAT = prf+(SK_d, [g^ir] | Ni | Nr).
    #[allow(clippy::too_many_arguments)]
    pub fn establish(
        &mut self,
        prf: &Prf,
        sk_d: &[u8],
        g_ir: Option<&[u8]>,
        ni: &[u8],
        nr: &[u8],
        spi_out: u32,
        selected: Selected,
        ts_local: Vec<TrafficSelector>,
        ts_remote: Vec<TrafficSelector>,
    ) -> Result<(), ike_crypto::CryptoError> {
        let encryption = Encryption::new(selected.encryption.id, selected.encryption.key_bits)?;
        let integrity = selected.integrity.map(Integrity::new).transpose()?;
        let len = 2 * child_sa_key_len(&encryption, integrity.as_ref());
        self.keymat = child_keymat(prf, sk_d, g_ir, ni, nr, len);
        self.spi_out = spi_out;
        self.selected = Some(selected);
        self.ts_local = ts_local;
        self.ts_remote = ts_remote;
        self.state = SaState::Established;
        Ok(())
    }
}
