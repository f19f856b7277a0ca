//! Identification payload body (RFC 7296 §3.5).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::codec::Reader;
use crate::{IdType, ParseError};

/// An IDi or IDr payload body: who the sender claims to be (RFC 7296 §3.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identification {
    /// ID Type: how to read `data`.
    pub ty: IdType,
    /// Identification Data: an address, a name or opaque bytes, by `ty`.
    pub data: Vec<u8>,
}

impl Identification {
    /// The payload body as it goes on the wire: ID Type, three RESERVED bytes, then the
    /// data. This is the "RestOfInitIDPayload"/"RestOfRespIDPayload" that AUTH signs
    /// (RFC 7296 §2.15).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.data.len());
        self.encode_into(&mut out);
        out
    }

    /// An ID_IPV4_ADDR identity; AWS identifies tunnel endpoints by outside IP.
    pub fn ipv4(addr: Ipv4Addr) -> Self {
        Identification {
            ty: IdType::IPV4_ADDR,
            data: addr.octets().to_vec(),
        }
    }

    /// An ID_IPV6_ADDR identity.
    pub fn ipv6(addr: Ipv6Addr) -> Self {
        Identification {
            ty: IdType::IPV6_ADDR,
            data: addr.octets().to_vec(),
        }
    }

    /// An ID_IPV4_ADDR or ID_IPV6_ADDR identity, by the address family.
    pub fn from_ip(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Identification::ipv4(a),
            IpAddr::V6(a) => Identification::ipv6(a),
        }
    }

    /// An ID_FQDN identity.
    pub fn fqdn(name: &str) -> Self {
        Identification {
            ty: IdType::FQDN,
            data: name.as_bytes().to_vec(),
        }
    }

    /// The address of an ID_IPV4_ADDR / ID_IPV6_ADDR identity of the right size.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.ty {
            IdType::IPV4_ADDR => <[u8; 4]>::try_from(self.data.as_slice())
                .ok()
                .map(IpAddr::from),
            IdType::IPV6_ADDR => <[u8; 16]>::try_from(self.data.as_slice())
                .ok()
                .map(IpAddr::from),
            _ => None,
        }
    }

    pub(crate) fn parse(mut r: Reader<'_>, what: &'static str) -> Result<Self, ParseError> {
        let [ty, _, _, _] = r.array(what)?;
        Ok(Identification {
            ty: IdType(ty),
            data: r.rest().to_vec(),
        })
    }

    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.ty.0, 0, 0, 0]);
        out.extend_from_slice(&self.data);
    }
}

impl fmt::Display for Identification {
    /// Addresses in their usual notation, FQDN and RFC 822 names as text, anything else
    /// (DNs, key IDs, malformed addresses) as hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ip) = self.ip() {
            return write!(f, "{ip}");
        }
        match self.ty {
            IdType::FQDN | IdType::RFC822_ADDR => f.write_str(&String::from_utf8_lossy(&self.data)),
            _ => self.data.iter().try_for_each(|b| write!(f, "{b:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_type_reserved_data() {
        let id = Identification::ipv4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(id.body(), [1, 0, 0, 0, 192, 0, 2, 1]);
        assert_eq!(
            Identification::parse(Reader::new(&id.body(), 0), "ID"),
            Ok(id)
        );
    }

    #[test]
    fn display() {
        assert_eq!(
            Identification::ipv4(Ipv4Addr::new(192, 0, 2, 1)).to_string(),
            "192.0.2.1"
        );
        assert_eq!(
            Identification::from_ip(Ipv6Addr::LOCALHOST.into()).to_string(),
            "::1"
        );
        assert_eq!(
            Identification::fqdn("vpn.example.com").to_string(),
            "vpn.example.com"
        );
        let key = Identification {
            ty: IdType::KEY_ID,
            data: vec![0xde, 0xad],
        };
        assert_eq!(key.to_string(), "dead");
        let short = Identification {
            ty: IdType::IPV4_ADDR,
            data: vec![1, 2],
        };
        assert_eq!(short.ip(), None);
        assert_eq!(short.to_string(), "0102");
    }
}
