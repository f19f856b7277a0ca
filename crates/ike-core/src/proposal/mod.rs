//! Proposals: what an endpoint offers and accepts, and how a responder picks one
//! (RFC 7296 §2.7, §3.3).
//!
//! A [`ProposalSpec`] lists, per transform type, the algorithms an endpoint accepts in its
//! own order of preference. Selection is done the way the configured [`Selection`] says:
//! AWS ranks by its own lists ("starting from the lowest configured value", whatever order
//! the peer proposes in); a classic responder takes the peer's first acceptable proposal.

use std::fmt;

mod keywords;
pub use keywords::{parse_proposal, ProposalKind, ProposalSyntaxError};

use ike_wire::{
    DhGroup, EncrId, EsnId, IntegId, PrfId, Proposal, ProtocolId, Transform, TransformType,
};

/// An encryption algorithm with its key length (mandatory for AES, RFC 7296 §3.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cipher {
    /// The ENCR transform id (RFC 7296 §3.3.2).
    pub id: EncrId,
    /// The Key Length attribute; `None` for ciphers with a fixed key.
    pub key_bits: Option<u16>,
}

impl Cipher {
    /// A cipher, usable in `const` tables of supported algorithms.
    pub const fn new(id: EncrId, key_bits: Option<u16>) -> Self {
        Cipher { id, key_bits }
    }

    /// AEAD ciphers carry their own integrity: no INTEG transform goes with them.
    pub(crate) fn is_aead(&self) -> bool {
        matches!(
            self.id,
            EncrId::AES_GCM_8
                | EncrId::AES_GCM_12
                | EncrId::AES_GCM_16
                | EncrId::AES_CCM_8
                | EncrId::AES_CCM_12
                | EncrId::AES_CCM_16
                | EncrId::CHACHA20_POLY1305
        )
    }

    fn transform(&self) -> Transform {
        match self.key_bits {
            Some(bits) => Transform::with_key_length(TransformType::ENCR, self.id.0, bits),
            None => Transform::new(TransformType::ENCR, self.id.0),
        }
    }
}

/// One proposal: per transform type, the acceptable algorithms in preference order.
/// An empty `dh` list on an ESP proposal means "no PFS"; an empty `esn` list means "no ESN".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProposalSpec {
    /// ENCR transforms; an AEAD cipher needs no `integrity`.
    pub encryption: Vec<Cipher>,
    /// INTEG transforms.
    pub integrity: Vec<IntegId>,
    /// PRF transforms (IKE SA only).
    pub prf: Vec<PrfId>,
    /// DH groups: the IKE SA's key exchange, or a CHILD SA's PFS (RFC 7296 §1.3.1).
    pub dh: Vec<DhGroup>,
    /// Extended sequence numbers (CHILD SA only, RFC 7296 §3.3.2).
    pub esn: Vec<EsnId>,
}

/// How a responder ranks acceptable proposals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    /// Rank by the local lists (lowest configured value first), whatever the peer's order:
    /// AWS's documented behaviour.
    #[default]
    LocalPreference,
    /// The peer's first acceptable proposal, and its first acceptable transforms.
    PeerPreference,
}

/// What an endpoint offers (as initiator) and accepts (as responder) for one protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// The proposals, in the order we offer them as initiator.
    pub proposals: Vec<ProposalSpec>,
    /// How we pick among the peer's acceptable proposals as responder.
    pub selection: Selection,
    /// Every algorithm this implementation would ever accept. A peer whose proposals all
    /// need something outside it is *unsupported* rather than merely *mismatched* — AWS
    /// logs the two differently. `None`: the union of `proposals`.
    pub universe: Option<ProposalSpec>,
}

/// The one proposal a responder chose: a single algorithm per transform type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selected {
    /// The proposal number from the offer, echoed in the reply (RFC 7296 §3.3.1).
    pub number: u8,
    /// The cipher.
    pub encryption: Cipher,
    /// The integrity algorithm; `None` with an AEAD cipher.
    pub integrity: Option<IntegId>,
    /// The PRF; `None` for a CHILD SA.
    pub prf: Option<PrfId>,
    /// The DH group; for a CHILD SA, `None` means no PFS.
    pub dh: Option<DhGroup>,
    /// The ESN choice; `None` for an IKE SA.
    pub esn: Option<EsnId>,
    /// The chosen proposal carried INTEG=NONE (beside an AEAD cipher), so the answer
    /// carries it too (see [`Selected::to_wire`]).
    pub integrity_none: bool,
    /// The chosen proposal carried D-H=NONE (a CHILD SA without PFS), so the answer
    /// carries it too.
    pub dh_none: bool,
}

/// Whether `proposal` has a transform of type `ty` with the id NONE (0), when `selected`
/// has no other algorithm of that type (a NONE beside a real choice is not the one chosen).
fn offers_none(proposal: &Proposal, ty: TransformType, chosen: bool) -> bool {
    !chosen && proposal.transforms.iter().any(|t| t.ty == ty && t.id == 0)
}

impl Selected {
    /// `self` with the NONE transforms of the proposal it was chosen from noted.
    fn with_nones_of(self, proposal: &Proposal) -> Selected {
        Selected {
            integrity_none: offers_none(proposal, TransformType::INTEG, self.integrity.is_some()),
            dh_none: offers_none(proposal, TransformType::DH, self.dh.is_some()),
            ..self
        }
    }
}

impl Selected {
    /// The proposal as it goes on the wire in the responder's SA payload: one transform
    /// of each type the chosen proposal had, NONE where it offered NONE. INTEG=NONE beside
    /// an AEAD cipher and D-H=NONE for a CHILD SA without PFS (RFC 7296 §3.3.2, §3.3.3)
    /// stand for "no algorithm", and §2.7 says the accepted proposal "MUST contain exactly
    /// one transform of each type included in the proposal": an initiator that checks its
    /// answer strictly refuses one that drops them.
    pub fn to_wire(&self, protocol: ProtocolId, spi: Vec<u8>) -> Proposal {
        let mut transforms = vec![self.encryption.transform()];
        if let Some(prf) = self.prf {
            transforms.push(Transform::new(TransformType::PRF, prf.0));
        }
        let integ = self
            .integrity
            .or(self.integrity_none.then_some(IntegId::NONE));
        if let Some(integ) = integ {
            transforms.push(Transform::new(TransformType::INTEG, integ.0));
        }
        if let Some(dh) = self.dh.or(self.dh_none.then_some(DhGroup::NONE)) {
            transforms.push(Transform::new(TransformType::DH, dh.0));
        }
        if let Some(esn) = self.esn {
            transforms.push(Transform::new(TransformType::ESN, esn.0));
        }
        Proposal {
            number: self.number,
            protocol,
            spi,
            transforms,
        }
    }
}

/// Why no proposal was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMatch {
    /// Every offered proposal needs an algorithm outside the responder's universe
    /// (e.g. 3DES, MD5, DH group 1), as opposed to supported algorithms that the
    /// configuration happens not to allow.
    pub unsupported: bool,
}

impl ProposalSpec {
    /// Encodes the spec as one wire proposal. `with_dh = false` leaves DH transforms out
    /// (a CHILD_SA negotiated inside IKE_AUTH has no KE, RFC 7296 §1.2).
    pub(crate) fn to_wire(
        &self,
        number: u8,
        protocol: ProtocolId,
        spi: Vec<u8>,
        with_dh: bool,
    ) -> Proposal {
        let mut transforms: Vec<Transform> =
            self.encryption.iter().map(Cipher::transform).collect();
        transforms.extend(
            self.prf
                .iter()
                .map(|p| Transform::new(TransformType::PRF, p.0)),
        );
        transforms.extend(
            self.integrity
                .iter()
                .map(|i| Transform::new(TransformType::INTEG, i.0)),
        );
        if with_dh {
            transforms.extend(
                self.dh
                    .iter()
                    .map(|d| Transform::new(TransformType::DH, d.0)),
            );
        }
        if protocol != ProtocolId::IKE {
            let esn = if self.esn.is_empty() {
                &[EsnId::NO][..]
            } else {
                &self.esn[..]
            };
            transforms.extend(esn.iter().map(|e| Transform::new(TransformType::ESN, e.0)));
        }
        Proposal {
            number,
            protocol,
            spi,
            transforms,
        }
    }

    /// Reads an offered wire proposal back into a spec (unknown transform types ignored).
    pub fn from_wire(proposal: &Proposal) -> ProposalSpec {
        let mut spec = ProposalSpec::default();
        for t in &proposal.transforms {
            match t.ty {
                TransformType::ENCR => spec
                    .encryption
                    .push(Cipher::new(EncrId(t.id), t.key_length())),
                TransformType::PRF => spec.prf.push(PrfId(t.id)),
                TransformType::INTEG if t.id != IntegId::NONE.0 => {
                    spec.integrity.push(IntegId(t.id))
                }
                TransformType::DH if t.id != DhGroup::NONE.0 => spec.dh.push(DhGroup(t.id)),
                TransformType::ESN => spec.esn.push(EsnId(t.id)),
                _ => {}
            }
        }
        spec
    }

    /// The union of several specs, keeping first-seen order.
    pub(crate) fn union<'a>(specs: impl IntoIterator<Item = &'a ProposalSpec>) -> ProposalSpec {
        fn add<T: PartialEq + Copy>(into: &mut Vec<T>, from: &[T]) {
            for x in from {
                if !into.contains(x) {
                    into.push(*x);
                }
            }
        }
        let mut u = ProposalSpec::default();
        for s in specs {
            add(&mut u.encryption, &s.encryption);
            add(&mut u.integrity, &s.integrity);
            add(&mut u.prf, &s.prf);
            add(&mut u.dh, &s.dh);
            add(&mut u.esn, &s.esn);
        }
        u
    }

    /// Whether `selected` uses only algorithms of this spec (an initiator checks the
    /// responder's choice against what it offered).
    pub(crate) fn allows(&self, selected: &Selected) -> bool {
        fn opt<T: PartialEq>(v: Option<T>, list: &[T]) -> bool {
            v.is_none_or(|x| list.contains(&x))
        }
        self.encryption.contains(&selected.encryption)
            && opt(selected.integrity, &self.integrity)
            && opt(selected.prf, &self.prf)
            && opt(selected.dh, &self.dh)
            && (selected.esn.is_none()
                || selected.esn == Some(EsnId::NO)
                || opt(selected.esn, &self.esn))
    }
}

impl Selected {
    /// Reads a responder's chosen proposal (exactly one transform per type expected).
    pub fn from_wire(p: &Proposal) -> Option<Selected> {
        let spec = ProposalSpec::from_wire(p);
        let one = |n: usize| n <= 1;
        if spec.encryption.len() != 1
            || !one(spec.integrity.len())
            || !one(spec.prf.len())
            || !one(spec.dh.len())
            || !one(spec.esn.len())
        {
            return None;
        }
        let selected = Selected {
            number: p.number,
            encryption: spec.encryption[0],
            integrity: spec.integrity.first().copied(),
            prf: spec.prf.first().copied(),
            dh: spec.dh.first().copied(),
            esn: spec.esn.first().copied(),
            integrity_none: false,
            dh_none: false,
        };
        Some(selected.with_nones_of(p))
    }
}

/// Which transform types take part in matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negotiation {
    /// IKE_SA_INIT or an IKE SA rekey: ENCR, PRF, INTEG (unless AEAD), DH all required.
    Ike,
    /// A CHILD_SA inside IKE_AUTH: DH transforms are ignored (no KE there).
    ChildWithoutKe,
    /// A CHILD_SA in CREATE_CHILD_SA: DH must agree (both PFS with a common group, or neither).
    ChildWithKe,
}

/// Picks the proposal to accept from `offered`, or says why none fits.
pub(crate) fn select(
    offered: &[Proposal],
    policy: &Policy,
    negotiation: Negotiation,
) -> Result<Selected, NoMatch> {
    let protocol = if negotiation == Negotiation::Ike {
        ProtocolId::IKE
    } else {
        ProtocolId::ESP
    };
    let offers: Vec<(&Proposal, ProposalSpec)> = offered
        .iter()
        .filter(|p| p.protocol == protocol)
        .map(|p| (p, ProposalSpec::from_wire(p)))
        .collect();

    let mut best: Option<(Vec<usize>, Selected)> = None;
    for (order, (wire, offer)) in offers.iter().enumerate() {
        for local in &policy.proposals {
            let candidate = match policy.selection {
                Selection::LocalPreference => {
                    match_one(offer, local, negotiation).map(|(mut rank, sel)| {
                        rank.push(order);
                        (rank, sel)
                    })
                }
                // The peer's order decides: its proposal order, then its transform order.
                Selection::PeerPreference => match_one(local, offer, negotiation)
                    .map(|(rank, sel)| (std::iter::once(order).chain(rank).collect(), sel)),
            };
            let Some((rank, sel)) = candidate else {
                continue;
            };
            let sel = Selected {
                number: wire.number,
                ..sel
            }
            .with_nones_of(wire);
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, sel));
            }
        }
    }
    if let Some((_, sel)) = best {
        return Ok(sel);
    }
    let universe = policy
        .universe
        .clone()
        .unwrap_or_else(|| ProposalSpec::union(&policy.proposals));
    let supportable = offers
        .iter()
        .any(|(_, offer)| match_one(offer, &universe, negotiation).is_some());
    Err(NoMatch {
        unsupported: !supportable,
    })
}

/// Matches one offered spec against one local spec, choosing per type the algorithm that
/// ranks first in `local`. Returns the ranks (for comparing candidates) and the choice.
fn match_one(
    offer: &ProposalSpec,
    local: &ProposalSpec,
    negotiation: Negotiation,
) -> Option<(Vec<usize>, Selected)> {
    fn first<T: PartialEq + Copy>(local: &[T], offer: &[T]) -> Option<(usize, T)> {
        local
            .iter()
            .enumerate()
            .find(|(_, x)| offer.contains(x))
            .map(|(i, x)| (i, *x))
    }
    let mut best: Option<(Vec<usize>, Selected)> = None;
    // Try ciphers in local order: an AEAD cipher needs no INTEG, any other needs one.
    for (enc_rank, cipher) in local.encryption.iter().enumerate() {
        if !offer.encryption.contains(cipher) {
            continue;
        }
        let (integ_rank, integrity) = if cipher.is_aead() {
            (0, None)
        } else {
            let (r, i) = first(&local.integrity, &offer.integrity)?;
            (r, Some(i))
        };
        let (prf_rank, prf) = match negotiation {
            Negotiation::Ike => {
                let (r, p) = first(&local.prf, &offer.prf)?;
                (r, Some(p))
            }
            _ => (0, None),
        };
        let (dh_rank, dh) = match negotiation {
            Negotiation::Ike => {
                let (r, d) = first(&local.dh, &offer.dh)?;
                (r, Some(d))
            }
            Negotiation::ChildWithoutKe => (0, None),
            Negotiation::ChildWithKe => match (local.dh.is_empty(), offer.dh.is_empty()) {
                (true, true) => (0, None),
                (false, false) => {
                    let (r, d) = first(&local.dh, &offer.dh)?;
                    (r, Some(d))
                }
                _ => continue,
            },
        };
        let esn = if negotiation == Negotiation::Ike {
            None
        } else {
            let offered_esn = if offer.esn.is_empty() {
                vec![EsnId::NO]
            } else {
                offer.esn.clone()
            };
            let local_esn = if local.esn.is_empty() {
                vec![EsnId::NO]
            } else {
                local.esn.clone()
            };
            Some(first(&local_esn, &offered_esn)?.1)
        };
        let rank = vec![enc_rank, prf_rank, integ_rank, dh_rank];
        let sel = Selected {
            number: 0,
            encryption: *cipher,
            integrity,
            prf,
            dh,
            esn,
            integrity_none: false,
            dh_none: false,
        };
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, sel));
        }
    }
    best
}

impl fmt::Display for Selected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.encryption.id)?;
        if let Some(bits) = self.encryption.key_bits {
            write!(f, "_{bits}")?;
        }
        if let Some(i) = self.integrity {
            write!(f, "/{i}")?;
        }
        if let Some(p) = self.prf {
            write!(f, "/{p}")?;
        }
        if let Some(d) = self.dh {
            write!(f, "/{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
