//! strongSwan's proposal keywords (`aes128-sha256-modp2048`, `aes256gcm16-prfsha384-ecp384`),
//! the lingua franca of CGW configurations. Recognises algorithms ikesim refuses as well
//! (3DES, MD5, MODP-768, …) so that a CGW can offer them and be refused, as real ones are.

use ike_wire::{DhGroup, EncrId, EsnId, IntegId, PrfId};

use super::{Cipher, ProposalSpec};

/// Which SA a proposal string configures: keywords differ (no PRF for ESP, DH = PFS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProposalKind {
    /// An IKE SA proposal (strongSwan's `ike =`): it names a PRF and needs a DH group.
    Ike,
    /// An ESP (CHILD SA) proposal (strongSwan's `esp =`): a DH group there means PFS.
    Esp,
}

/// A proposal string that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProposalSyntaxError {
    /// A keyword strongSwan would not know either.
    #[error("unknown algorithm keyword `{0}` (strongSwan spelling expected, e.g. aes128, aes256gcm16, sha256, prfsha384, modp2048, ecp384)")]
    UnknownKeyword(String),
    /// A keyword the kind of proposal has no use for (a PRF in ESP, ESN in IKE).
    #[error("`{keyword}` is not valid in an {kind} proposal")]
    WrongKind {
        /// The keyword as written.
        keyword: String,
        /// The kind of proposal it appeared in (`IKE` or `ESP`).
        kind: &'static str,
    },
    /// No encryption algorithm: every proposal needs one (RFC 7296 §3.3.3).
    #[error("proposal `{0}` names no encryption algorithm")]
    NoEncryption(String),
    /// A non-AEAD cipher without an integrity algorithm (RFC 7296 §3.3.3).
    #[error("proposal `{0}` needs an integrity algorithm (or an AEAD cipher such as aes256gcm16)")]
    NoIntegrity(String),
    /// An IKE proposal without a DH group: IKE_SA_INIT needs one (RFC 7296 §1.2).
    #[error("IKE proposal `{0}` names no DH group (e.g. modp2048, ecp256)")]
    NoDhGroup(String),
    /// An IKE proposal with an AEAD cipher and no PRF: nothing to derive the PRF from
    /// (RFC 7296 §3.3.3).
    #[error("IKE proposal `{0}` with an AEAD cipher needs a PRF (e.g. prfsha256)")]
    NoPrf(String),
}

enum Keyword {
    Encr(Cipher),
    Integ(IntegId, PrfId),
    Prf(PrfId),
    Dh(DhGroup),
    Esn(EsnId),
}

fn keyword(word: &str) -> Option<Keyword> {
    use Keyword::*;
    let aes = |id, bits| Encr(Cipher::new(id, Some(bits)));
    Some(match word {
        "aes" | "aes128" => aes(EncrId::AES_CBC, 128),
        "aes192" => aes(EncrId::AES_CBC, 192),
        "aes256" => aes(EncrId::AES_CBC, 256),
        "aes128gcm16" | "aes128gcm128" => aes(EncrId::AES_GCM_16, 128),
        "aes192gcm16" | "aes192gcm128" => aes(EncrId::AES_GCM_16, 192),
        "aes256gcm16" | "aes256gcm128" => aes(EncrId::AES_GCM_16, 256),
        "aes128gcm12" | "aes128gcm96" => aes(EncrId::AES_GCM_12, 128),
        "aes256gcm12" | "aes256gcm96" => aes(EncrId::AES_GCM_12, 256),
        "aes128gcm8" | "aes128gcm64" => aes(EncrId::AES_GCM_8, 128),
        "aes256gcm8" | "aes256gcm64" => aes(EncrId::AES_GCM_8, 256),
        "aes128ctr" => aes(EncrId::AES_CTR, 128),
        "aes256ctr" => aes(EncrId::AES_CTR, 256),
        "3des" => Encr(Cipher::new(EncrId::TRIPLE_DES, None)),
        "des" => Encr(Cipher::new(EncrId::DES, None)),
        "chacha20poly1305" => Encr(Cipher::new(EncrId::CHACHA20_POLY1305, None)),
        "md5" => Integ(IntegId::HMAC_MD5_96, PrfId::HMAC_MD5),
        "sha" | "sha1" => Integ(IntegId::HMAC_SHA1_96, PrfId::HMAC_SHA1),
        "sha256" | "sha2_256" => Integ(IntegId::HMAC_SHA2_256_128, PrfId::HMAC_SHA2_256),
        "sha384" | "sha2_384" => Integ(IntegId::HMAC_SHA2_384_192, PrfId::HMAC_SHA2_384),
        "sha512" | "sha2_512" => Integ(IntegId::HMAC_SHA2_512_256, PrfId::HMAC_SHA2_512),
        "aesxcbc" => Integ(IntegId::AES_XCBC_96, PrfId::AES128_XCBC),
        "prfmd5" => Prf(PrfId::HMAC_MD5),
        "prfsha1" => Prf(PrfId::HMAC_SHA1),
        "prfsha256" => Prf(PrfId::HMAC_SHA2_256),
        "prfsha384" => Prf(PrfId::HMAC_SHA2_384),
        "prfsha512" => Prf(PrfId::HMAC_SHA2_512),
        "prfaesxcbc" => Prf(PrfId::AES128_XCBC),
        "modp768" => Dh(DhGroup::MODP_768),
        "modp1024" => Dh(DhGroup::MODP_1024),
        "modp1536" => Dh(DhGroup::MODP_1536),
        "modp2048" => Dh(DhGroup::MODP_2048),
        "modp3072" => Dh(DhGroup::MODP_3072),
        "modp4096" => Dh(DhGroup::MODP_4096),
        "modp6144" => Dh(DhGroup::MODP_6144),
        "modp8192" => Dh(DhGroup::MODP_8192),
        "modp1024s160" => Dh(DhGroup::MODP_1024_160),
        "modp2048s224" => Dh(DhGroup::MODP_2048_224),
        "modp2048s256" => Dh(DhGroup::MODP_2048_256),
        "ecp256" => Dh(DhGroup::ECP_256),
        "ecp384" => Dh(DhGroup::ECP_384),
        "ecp521" => Dh(DhGroup::ECP_521),
        "curve25519" | "x25519" => Dh(DhGroup::CURVE25519),
        "esn" => Esn(EsnId::YES),
        "noesn" => Esn(EsnId::NO),
        _ => return None,
    })
}

/// Parses one strongSwan-style proposal (`-`-separated keywords) into a [`ProposalSpec`].
/// In an IKE proposal without `prf…` keywords, the integrity algorithms imply the PRFs,
/// as strongSwan does.
pub fn parse_proposal(text: &str, kind: ProposalKind) -> Result<ProposalSpec, ProposalSyntaxError> {
    let mut spec = ProposalSpec::default();
    let mut implied_prf = Vec::new();
    let kind_name = match kind {
        ProposalKind::Ike => "IKE",
        ProposalKind::Esp => "ESP",
    };
    for word in text.trim().split('-') {
        let word = word.trim().to_ascii_lowercase();
        let kw = keyword(&word).ok_or_else(|| ProposalSyntaxError::UnknownKeyword(word.clone()))?;
        match (kw, kind) {
            (Keyword::Encr(c), _) => push(&mut spec.encryption, c),
            (Keyword::Integ(i, p), _) => {
                push(&mut spec.integrity, i);
                push(&mut implied_prf, p);
            }
            (Keyword::Prf(p), ProposalKind::Ike) => push(&mut spec.prf, p),
            (Keyword::Dh(d), _) => push(&mut spec.dh, d),
            (Keyword::Esn(e), ProposalKind::Esp) => push(&mut spec.esn, e),
            (Keyword::Prf(_) | Keyword::Esn(_), _) => {
                return Err(ProposalSyntaxError::WrongKind {
                    keyword: word,
                    kind: kind_name,
                })
            }
        }
    }
    if spec.encryption.is_empty() {
        return Err(ProposalSyntaxError::NoEncryption(text.into()));
    }
    if spec.integrity.is_empty() && spec.encryption.iter().any(|c| !c.is_aead()) {
        return Err(ProposalSyntaxError::NoIntegrity(text.into()));
    }
    if kind == ProposalKind::Ike {
        if spec.prf.is_empty() {
            spec.prf = implied_prf;
        }
        if spec.prf.is_empty() {
            return Err(ProposalSyntaxError::NoPrf(text.into()));
        }
        if spec.dh.is_empty() {
            return Err(ProposalSyntaxError::NoDhGroup(text.into()));
        }
    }
    Ok(spec)
}

fn push<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ike_proposal_with_implied_prf() {
        let p = parse_proposal("aes128-sha256-modp2048", ProposalKind::Ike).unwrap();
        assert_eq!(p.encryption, vec![Cipher::new(EncrId::AES_CBC, Some(128))]);
        assert_eq!(p.integrity, vec![IntegId::HMAC_SHA2_256_128]);
        assert_eq!(p.prf, vec![PrfId::HMAC_SHA2_256]);
        assert_eq!(p.dh, vec![DhGroup::MODP_2048]);
    }

    #[test]
    fn aead_ike_proposal_needs_explicit_prf() {
        let p = parse_proposal("aes256gcm16-prfsha384-ecp384", ProposalKind::Ike).unwrap();
        assert!(p.integrity.is_empty());
        assert_eq!(p.prf, vec![PrfId::HMAC_SHA2_384]);
        assert_eq!(
            parse_proposal("aes256gcm16-ecp384", ProposalKind::Ike),
            Err(ProposalSyntaxError::NoPrf("aes256gcm16-ecp384".into()))
        );
    }

    #[test]
    fn esp_proposals_and_errors() {
        let p = parse_proposal("aes256gcm16-modp2048-esn", ProposalKind::Esp).unwrap();
        assert_eq!(p.dh, vec![DhGroup::MODP_2048]);
        assert_eq!(p.esn, vec![EsnId::YES]);
        assert!(matches!(
            parse_proposal("aes128-prfsha256", ProposalKind::Esp),
            Err(ProposalSyntaxError::WrongKind { .. })
        ));
        assert!(
            matches!(parse_proposal("aes128-sha9", ProposalKind::Esp), Err(ProposalSyntaxError::UnknownKeyword(w)) if w == "sha9")
        );
        assert!(matches!(
            parse_proposal("aes128", ProposalKind::Esp),
            Err(ProposalSyntaxError::NoIntegrity(_))
        ));
    }
}
