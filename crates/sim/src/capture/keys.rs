//! `--keys DIR`: the keys as Wireshark's decryption tables, so that a Wireshark or tshark
//! pointed at `DIR` as its profile decrypts the capture — the IKE SAs' SK payloads
//! (`ikev2_decryption_table`, `ikev1_decryption_table`) and the CHILD SAs' ESP packets
//! (`esp_sa`, with the `esp.enable_encryption_decode` and
//! `esp.enable_authentication_check` preferences set in the profile's `preferences`).
//!
//! # Wireshark's `esp_sa` table (Wireshark 4.0, `epan/dissectors/packet-ipsec.c`)
//! One line per SA (one direction), eight quoted fields: protocol (`IPv4`, `IPv6`),
//! source and destination address, SPI (`0x` and 8 hex digits), encryption algorithm,
//! encryption key (`0x` hex; for AES-GCM the key and then the 4-octet salt, RFC 4106 §8.1),
//! authentication algorithm, authentication key (`0x` hex, empty with `NULL`). The
//! algorithms are named as Wireshark's menu names them (`AES-CBC [RFC3602]`,
//! `AES-GCM with 16 octet ICV [RFC4106]`, `HMAC-SHA-256-128 [RFC4868]`, …; the key length
//! follows from the key). Wireshark 4.0 has no column for extended sequence numbers: it
//! checks the ICV and decrypts as if the SA used 32-bit ones, so an ESN SA's ICVs check out
//! bad (the high half is in the ICV, RFC 4303 §3.3.2.1), its AES-CBC packets still decrypt
//! and its AES-GCM ones do not (the high half is in the AAD, RFC 4106 §5). Its lines are
//! written all the same. AWS negotiates no ESN.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;

use ike_core::{EspSaPair, IkeSaSecrets};
use ike_wire::{EncrId, IntegId};

/// Wireshark's name for the preferences file of a profile.
const PREFERENCES: &str = "preferences";

/// The preferences Wireshark needs to decrypt ESP with the `esp_sa` table and check the
/// ICVs (both are off by default).
const ESP_PREFERENCES: [&str; 2] = [
    "esp.enable_encryption_decode",
    "esp.enable_authentication_check",
];

/// `--keys DIR`: Wireshark's decryption tables, created (empty) before the run so that
/// an unusable directory is found before the simulation, written when it ends.
pub struct KeyFiles {
    v2: BufWriter<File>,
    v1: BufWriter<File>,
    esp: BufWriter<File>,
    /// The ESP SAs written (SPI, source, destination): both ends of a tunnel install the
    /// same SA, one as inbound and one as outbound.
    esp_written: HashSet<(u32, IpAddr, IpAddr)>,
}

impl KeyFiles {
    /// Creates `dir` if need be and the tables in it: Wireshark's own file names, so
    /// `--keys` can point at a Wireshark profile directory. The profile's `preferences`
    /// gets the two ESP preferences set to TRUE; the rest of an existing one is kept.
    pub fn create(dir: &Path) -> std::io::Result<KeyFiles> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| File::create(dir.join(name)).map(BufWriter::new);
        let keys = KeyFiles {
            v2: open("ikev2_decryption_table")?,
            v1: open("ikev1_decryption_table")?,
            esp: open("esp_sa")?,
            esp_written: HashSet::new(),
        };
        enable_esp_decryption(&dir.join(PREFERENCES))?;
        Ok(keys)
    }

    /// One IKE SA's keys ([`wireshark_key_line`]) into its version's table.
    pub fn write(&mut self, s: &IkeSaSecrets, line: &str) -> std::io::Result<()> {
        let table = if s.ike_version == ike_core::IkeVersion::V1 {
            &mut self.v1
        } else {
            &mut self.v2
        };
        writeln!(table, "{line}")
    }

    /// One CHILD SA's two ESP SAs into `esp_sa` ([`wireshark_esp_sa_lines`]): inbound from
    /// `remote` to `local`, outbound from `local` to `remote` — the outer IP addresses its
    /// packets carry on the wire. An SA already written (the peer's end of the same CHILD
    /// SA) is not written again; a pair whose algorithms Wireshark cannot decrypt, or whose
    /// addresses are of two families, is not written at all.
    pub fn write_esp_sa(
        &mut self,
        pair: &EspSaPair,
        local: IpAddr,
        remote: IpAddr,
    ) -> std::io::Result<()> {
        let Some(lines) = wireshark_esp_sa_lines(pair, local, remote) else {
            return Ok(());
        };
        let keys = [(pair.spi_in, remote, local), (pair.spi_out, local, remote)];
        for (key, line) in keys.into_iter().zip(lines) {
            if self.esp_written.insert(key) {
                writeln!(self.esp, "{line}")?;
            }
        }
        Ok(())
    }

    /// Writes what is buffered to every table.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.v2.flush()?;
        self.v1.flush()?;
        self.esp.flush()
    }
}

/// Sets [`ESP_PREFERENCES`] to TRUE in the preferences file at `path` (`name: value`
/// lines, `#` comments), keeping every other line of an existing one.
fn enable_esp_decryption(path: &Path) -> std::io::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut out: Vec<String> = existing
        .lines()
        .filter(|line| {
            let name = line.split(':').next().unwrap_or_default().trim();
            !ESP_PREFERENCES.contains(&name)
        })
        .map(str::to_owned)
        .collect();
    out.extend(ESP_PREFERENCES.iter().map(|name| format!("{name}: TRUE")));
    let mut text = out.join("\n");
    text.push('\n');
    std::fs::write(path, text)
}

/// Wireshark's name for an encryption algorithm in `ikev2_decryption_table`.
fn wireshark_encr(s: &IkeSaSecrets) -> Option<String> {
    let bits = s.key_bits?;
    match s.encryption {
        EncrId::AES_CBC => Some(format!("AES-CBC-{bits} [RFC3602]")),
        EncrId::AES_GCM_16 => Some(format!("AES-GCM-{bits} with 16 octet ICV [RFC5282]")),
        EncrId::AES_GCM_12 => Some(format!("AES-GCM-{bits} with 12 octet ICV [RFC5282]")),
        EncrId::AES_GCM_8 => Some(format!("AES-GCM-{bits} with 8 octet ICV [RFC5282]")),
        _ => None,
    }
}

fn wireshark_integ(id: Option<IntegId>) -> Option<&'static str> {
    Some(match id {
        None => "NONE [RFC4306]",
        Some(IntegId::HMAC_SHA1_96) => "HMAC_SHA1_96 [RFC2404]",
        Some(IntegId::HMAC_SHA2_256_128) => "HMAC_SHA2_256_128 [RFC4868]",
        Some(IntegId::HMAC_SHA2_384_192) => "HMAC_SHA2_384_192 [RFC4868]",
        Some(IntegId::HMAC_SHA2_512_256) => "HMAC_SHA2_512_256 [RFC4868]",
        Some(_) => return None,
    })
}

/// One line of Wireshark's decryption tables: `ikev2_decryption_table` for IKEv2,
/// `ikev1_decryption_table` (initiator cookie, encryption key) for IKEv1.
pub fn wireshark_key_line(s: &IkeSaSecrets) -> Option<String> {
    if s.ike_version == ike_core::IkeVersion::V1 {
        return Some(format!("{:016x},{}", s.spi_i, hex::encode(&s.sk_ei)));
    }
    Some(format!(
        "{:016x},{:016x},{},{},\"{}\",{},{},\"{}\"",
        s.spi_i,
        s.spi_r,
        hex::encode(&s.sk_ei),
        hex::encode(&s.sk_er),
        wireshark_encr(s)?,
        hex::encode(&s.sk_ai),
        hex::encode(&s.sk_ar),
        wireshark_integ(s.integrity)?
    ))
}

/// Wireshark's name for an ESP encryption algorithm in `esp_sa`.
fn wireshark_esp_encr(id: EncrId) -> Option<&'static str> {
    Some(match id {
        EncrId::NULL => "NULL",
        EncrId::TRIPLE_DES => "TripleDES-CBC [RFC2451]",
        EncrId::AES_CBC => "AES-CBC [RFC3602]",
        EncrId::AES_CTR => "AES-CTR [RFC3686]",
        EncrId::AES_GCM_8 => "AES-GCM with 8 octet ICV [RFC4106]",
        EncrId::AES_GCM_12 => "AES-GCM with 12 octet ICV [RFC4106]",
        EncrId::AES_GCM_16 => "AES-GCM with 16 octet ICV [RFC4106]",
        _ => return None,
    })
}

/// Wireshark's name for an ESP authentication algorithm in `esp_sa`.
fn wireshark_esp_integ(id: Option<IntegId>) -> Option<&'static str> {
    Some(match id {
        None | Some(IntegId::NONE) => "NULL",
        Some(IntegId::HMAC_MD5_96) => "HMAC-MD5-96 [RFC2403]",
        Some(IntegId::HMAC_SHA1_96) => "HMAC-SHA-1-96 [RFC2404]",
        Some(IntegId::HMAC_SHA2_256_128) => "HMAC-SHA-256-128 [RFC4868]",
        Some(IntegId::HMAC_SHA2_384_192) => "HMAC-SHA-384-192 [RFC4868]",
        Some(IntegId::HMAC_SHA2_512_256) => "HMAC-SHA-512-256 [RFC4868]",
        Some(_) => return None,
    })
}

/// A key as `esp_sa` takes it: `0x` and hex; nothing for no key.
fn wireshark_esp_key(key: &[u8]) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("0x{}", hex::encode(key))
    }
}

/// The two lines of Wireshark's `esp_sa` table for one CHILD SA whose packets go between
/// our `local` and the peer's `remote` address: the inbound SA (`remote` → `local`,
/// `spi_in`, the inbound keys) and the outbound SA (`local` → `remote`, `spi_out`, the
/// outbound keys). `None` when Wireshark cannot decrypt its algorithms or the addresses
/// are of two families.
pub fn wireshark_esp_sa_lines(
    pair: &EspSaPair,
    local: IpAddr,
    remote: IpAddr,
) -> Option<[String; 2]> {
    let family = match (local, remote) {
        (IpAddr::V4(_), IpAddr::V4(_)) => "IPv4",
        (IpAddr::V6(_), IpAddr::V6(_)) => "IPv6",
        _ => return None,
    };
    let encr = wireshark_esp_encr(pair.encryption)?;
    let integ = wireshark_esp_integ(pair.integrity)?;
    let line = |src: IpAddr, dst: IpAddr, spi: u32, keys: &ike_core::EspKeys| {
        format!(
            "\"{family}\",\"{src}\",\"{dst}\",\"0x{spi:08x}\",\"{encr}\",\"{}\",\"{integ}\",\"{}\"",
            wireshark_esp_key(&keys.encryption),
            wireshark_esp_key(&keys.integrity),
        )
    };
    Some([
        line(remote, local, pair.spi_in, &pair.inbound),
        line(local, remote, pair.spi_out, &pair.outbound),
    ])
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use ike_core::{EspKeys, IkeVersion, SaHandle};

    use super::*;

    fn pair(encryption: EncrId, integrity: Option<IntegId>) -> EspSaPair {
        let keys = |e: &[u8], i: &[u8]| EspKeys {
            encryption: e.to_vec(),
            integrity: i.to_vec(),
        };
        let any: SocketAddr = "[::1]:500".parse().unwrap();
        EspSaPair {
            ike_sa: SaHandle(7),
            ike_version: IkeVersion::V2,
            spi_in: 0x0000_00ab,
            spi_out: 0xfedc_ba98,
            encryption,
            key_bits: Some(128),
            integrity,
            esn: false,
            inbound: keys(&[0x01, 0x02], &[0x0a]),
            outbound: keys(&[0x03, 0x04], &[0x0b]),
            ts_local: Vec::new(),
            ts_remote: Vec::new(),
            local: any,
            remote: any,
            encapsulated: false,
            replaces: None,
            defer_outbound: false,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn esp_sa_lines_are_wiresharks_eight_fields_inbound_then_outbound() {
        let p = pair(EncrId::AES_CBC, Some(IntegId::HMAC_SHA1_96));
        let lines = wireshark_esp_sa_lines(&p, ip("127.0.0.1"), ip("127.0.0.2")).unwrap();
        assert_eq!(
            lines,
            [
                r#""IPv4","127.0.0.2","127.0.0.1","0x000000ab","AES-CBC [RFC3602]","0x0102","HMAC-SHA-1-96 [RFC2404]","0x0a""#,
                r#""IPv4","127.0.0.1","127.0.0.2","0xfedcba98","AES-CBC [RFC3602]","0x0304","HMAC-SHA-1-96 [RFC2404]","0x0b""#,
            ]
        );
        // AEAD: no authentication algorithm, no key; IPv6 as Rust prints it (Wireshark
        // expands `::`).
        let mut p = pair(EncrId::AES_GCM_16, None);
        p.inbound.integrity.clear();
        let [inbound, _] = wireshark_esp_sa_lines(&p, ip("::1"), ip("fd00::2")).unwrap();
        assert_eq!(
            inbound,
            r#""IPv6","fd00::2","::1","0x000000ab","AES-GCM with 16 octet ICV [RFC4106]","0x0102","NULL","""#
        );
    }

    #[test]
    fn esp_sa_lines_refuse_what_wireshark_cannot_decrypt() {
        let v4_v6 = (ip("127.0.0.1"), ip("::1"));
        let p = pair(EncrId::AES_CBC, Some(IntegId::HMAC_SHA2_256_128));
        assert!(wireshark_esp_sa_lines(&p, v4_v6.0, v4_v6.1).is_none());
        let p = pair(EncrId::CHACHA20_POLY1305, None);
        assert!(wireshark_esp_sa_lines(&p, ip("127.0.0.1"), ip("127.0.0.2")).is_none());
        let p = pair(EncrId::AES_CBC, Some(IntegId::AES_XCBC_96));
        assert!(wireshark_esp_sa_lines(&p, ip("127.0.0.1"), ip("127.0.0.2")).is_none());
    }
}
