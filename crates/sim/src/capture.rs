//! Captures: every datagram the driver puts on the wire, as a pcap file (raw IPv4/IPv6 +
//! UDP, so Wireshark and tshark read it as they would a capture on `lo`), and the IKE SA
//! keys as Wireshark's `ikev2_decryption_table`, so the SK payloads decrypt.
//!
//! Both are created before the run starts (an unusable path is bad input, not a failure
//! after the simulation) and closed however the run ends, a signal included: a pcap is
//! whole up to its last packet.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use ike_core::IkeSaSecrets;
use ike_wire::{EncrId, IntegId};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness};

/// `--pcap`: every datagram, as raw IP + UDP packets.
pub struct PcapSink {
    writer: PcapWriter<BufWriter<File>>,
}

impl PcapSink {
    /// Creates the file and writes its header. The header is little-endian, the byte order
    /// of the machines that write nearly every pcap (libpcap writes the host's order): every
    /// reader takes either, but some (`pcap-parser` 0.17) read no packets from a
    /// big-endian file, which is pcap-file's default.
    pub fn create(path: &Path) -> std::io::Result<PcapSink> {
        let file = BufWriter::new(File::create(path)?);
        let header = PcapHeader {
            datalink: DataLink::RAW,
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(file, header).map_err(std::io::Error::other)?;
        Ok(PcapSink { writer })
    }

    /// Writes one UDP datagram, `since_epoch` being its capture time.
    pub fn write(
        &mut self,
        since_epoch: Duration,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let builder = match (src, dst) {
            (SocketAddr::V4(s), SocketAddr::V4(d)) => {
                etherparse::PacketBuilder::ipv4(s.ip().octets(), d.ip().octets(), 64)
                    .udp(s.port(), d.port())
            }
            (SocketAddr::V6(s), SocketAddr::V6(d)) => {
                etherparse::PacketBuilder::ipv6(s.ip().octets(), d.ip().octets(), 64)
                    .udp(s.port(), d.port())
            }
            _ => return Ok(()),
        };
        let mut packet = Vec::with_capacity(builder.size(payload.len()));
        builder
            .write(&mut packet, payload)
            .map_err(std::io::Error::other)?;
        let len = u32::try_from(packet.len()).unwrap_or(u32::MAX);
        self.writer
            .write_packet(&PcapPacket::new(since_epoch, len, &packet))
            .map_err(std::io::Error::other)?;
        Ok(())
    }

    /// Writes what is buffered: the file ends after its last whole packet.
    pub fn finish(self) -> std::io::Result<()> {
        self.writer.into_writer().flush()
    }
}

/// `--keys DIR`: Wireshark's two decryption tables, created (empty) before the run so that
/// an unusable directory is found before the simulation, written when it ends.
pub struct KeyFiles {
    v2: BufWriter<File>,
    v1: BufWriter<File>,
}

impl KeyFiles {
    /// Creates `dir` if need be and both tables in it: Wireshark's own file names, so
    /// `--keys` can point at a Wireshark profile directory.
    pub fn create(dir: &Path) -> std::io::Result<KeyFiles> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| File::create(dir.join(name)).map(BufWriter::new);
        Ok(KeyFiles {
            v2: open("ikev2_decryption_table")?,
            v1: open("ikev1_decryption_table")?,
        })
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

    /// Writes what is buffered to both tables.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.v2.flush()?;
        self.v1.flush()
    }
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
