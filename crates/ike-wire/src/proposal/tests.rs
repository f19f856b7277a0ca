use super::*;

fn parse(bytes: &[u8]) -> Result<Vec<Proposal>, ParseError> {
    parse_sa(Reader::new(bytes, 0))
}

fn encode(proposals: &[Proposal]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_sa(proposals, &mut out);
    out
}

fn esp_proposal() -> Proposal {
    Proposal {
        number: 1,
        protocol: ProtocolId::ESP,
        spi: vec![0xca, 0xfe, 0xba, 0xbe],
        transforms: vec![
            Transform::encr(EncrId::AES_CBC, Some(128)),
            Transform::integ(IntegId::HMAC_SHA1_96),
            Transform::esn(EsnId::NO),
        ],
    }
}

#[rustfmt::skip]
const ESP_PROPOSAL: &[u8] = &[
    0, 0, 0, 40, 1, 3, 4, 3,          // last, length 40, #1, ESP, SPI size 4, 3 transforms
    0xca, 0xfe, 0xba, 0xbe,           // SPI
    3, 0, 0, 12, 1, 0, 0, 12,         // ENCR_AES_CBC
    0x80, 14, 0, 128,                 //   Key Length 128 (TV)
    3, 0, 0, 8, 3, 0, 0, 2,           // AUTH_HMAC_SHA1_96
    0, 0, 0, 8, 5, 0, 0, 0,           // NO_ESN, last
];

#[test]
fn encodes_rfc_layout_and_parses_back() {
    assert_eq!(encode(&[esp_proposal()]), ESP_PROPOSAL);
    assert_eq!(parse(ESP_PROPOSAL), Ok(vec![esp_proposal()]));
}

#[test]
fn several_proposals_chain_with_last_substruc_2() {
    let mut second = esp_proposal();
    second.number = 2;
    second.transforms = vec![Transform::encr(EncrId::AES_GCM_16, Some(256))];
    let both = vec![esp_proposal(), second];
    let bytes = encode(&both);
    assert_eq!(bytes[0], 2);
    assert_eq!(bytes[40], 0);
    assert_eq!(parse(&bytes), Ok(both));
}

#[test]
fn long_attributes_round_trip() {
    let mut p = esp_proposal();
    p.transforms[1].attributes.push(Attribute {
        ty: 0x1234,
        value: AttributeValue::Long(vec![1, 2, 3]),
    });
    let bytes = encode(std::slice::from_ref(&p));
    assert_eq!(parse(&bytes), Ok(vec![p]));
}

#[test]
fn key_length_and_typed_views() {
    let p = esp_proposal();
    assert_eq!(p.transforms[0].key_length(), Some(128));
    assert_eq!(p.transforms[1].key_length(), None);
    assert_eq!(p.transforms_of(TransformType::ESN).count(), 1);
    assert_eq!(
        Transform::dh(DhGroup::MODP_2048),
        Transform::new(TransformType::DH, 14)
    );
    assert_eq!(Transform::prf(PrfId::HMAC_SHA2_256).id, 5);
}

#[test]
fn transform_count_must_match() {
    let mut bytes = ESP_PROPOSAL.to_vec();
    bytes[7] = 4;
    assert_eq!(
        parse(&bytes),
        Err(ParseError::CountMismatch {
            what: "transforms in proposal",
            offset: 0,
            declared: 4,
            found: 3
        })
    );
}

#[test]
fn last_substruc_must_match_position() {
    let mut bytes = ESP_PROPOSAL.to_vec();
    bytes[0] = 2; // claims another proposal follows
    assert_eq!(
        parse(&bytes),
        Err(ParseError::Invalid {
            what: "proposal Last Substruc",
            offset: 0
        })
    );
    let mut bytes = ESP_PROPOSAL.to_vec();
    bytes[32] = 3; // last transform claims another follows
    assert_eq!(
        parse(&bytes),
        Err(ParseError::Invalid {
            what: "transform Last Substruc",
            offset: 32
        })
    );
}

#[test]
fn lengths_are_checked() {
    let mut bytes = ESP_PROPOSAL.to_vec();
    bytes[3] = 11; // shorter than header + SPI
    assert_eq!(
        parse(&bytes),
        Err(ParseError::BadLength {
            what: "proposal",
            offset: 0,
            length: 11
        })
    );
    let mut bytes = ESP_PROPOSAL.to_vec();
    bytes[3] = 41; // longer than the body
    assert!(matches!(
        parse(&bytes),
        Err(ParseError::Truncated {
            what: "proposal transforms",
            ..
        })
    ));
    let mut bytes = ESP_PROPOSAL.to_vec();
    bytes[27] = 7; // transform length below 8
    assert_eq!(
        parse(&bytes),
        Err(ParseError::BadLength {
            what: "transform",
            offset: 24,
            length: 7
        })
    );
    assert!(matches!(
        parse(&ESP_PROPOSAL[..5]),
        Err(ParseError::Truncated {
            what: "proposal header",
            ..
        })
    ));
}

#[test]
fn tlv_attribute_overrunning_its_transform_is_truncated() {
    let mut bytes = ESP_PROPOSAL.to_vec();
    bytes[20] = 0x00; // Key Length attribute becomes TLV with length 128
    assert_eq!(
        parse(&bytes),
        Err(ParseError::Truncated {
            what: "attribute value",
            offset: 24,
            needed: 128,
            available: 0
        })
    );
}
