//! ESP as Wireshark sees it: ESP packets sealed by the `esp` crate (as the data plane seals
//! them) carrying an inner IPv4 ICMP echo, written with
//! `--pcap`'s writer (`sim::capture::PcapSink`) both as plain ESP (IP protocol 50) and
//! UDP-encapsulated (RFC 3948), with `--keys`' tables (`sim::capture::KeyFiles`: the
//! `esp_sa` table and the ESP preferences), are decrypted by tshark with that profile: it
//! shows the inner ICMP echo and finds every ICV good. A wrong key must make that fail.
//! `runs` does the same with whole `ikesim run`s whose hosts ping through the tunnel.
//!
//! Needs tshark: without it each test says `skipped: needs tshark, install with …` on stderr
//! and passes, or fails with `IKESIM_REQUIRE_PEERS=1` (as in CI); see `common::can_run`.

mod common;
#[path = "esp_capture/runs.rs"]
mod runs;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{can_run, temp_dir, Need};
use esp::{Integrity, Outbound, SaSpec};
use ike_core::{EspKeys, EspSaPair, IkeVersion, SaHandle};
use ike_wire::{EncrId, IntegId};
use sim::capture::{KeyFiles, PcapSink};

/// The AWS endpoint's outside address and the CGW's, IPv4 and IPv6 (AWS's tunnels have
/// either).
const AWS: Ipv4Addr = Ipv4Addr::new(127, 0, 15, 1);
const CGW: Ipv4Addr = Ipv4Addr::new(127, 0, 15, 2);
const AWS_V6: Ipv6Addr = Ipv6Addr::LOCALHOST;
const CGW_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x15);
/// A VPC host and an on-premises host.
const VPC_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
const ONPREM_HOST: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 20);
/// ESP's next header for an inner IPv4 packet (tunnel mode).
const INNER_IPV4: u8 = 4;
/// A NAT-T port that is not 4500: tshark must be told (`-d udp.port==P,udpencap`), as with
/// the simulator's OS-assigned ports.
const NAT_T_PORT: u16 = 45_000;

/// The two suites the brief names: AES-GCM-256 (16-octet ICV) and AES-CBC-128 with
/// HMAC-SHA-256-128.
#[derive(Clone, Copy, Debug)]
enum Suite {
    Gcm256,
    Cbc128Sha256,
}

impl Suite {
    /// The esp crate's outbound SA for one direction of the pair.
    fn outbound(self, spi: u32, keys: &EspKeys) -> Outbound {
        let suite = match self {
            Suite::Gcm256 => esp::Suite::AesGcm16 { key_bits: 256 },
            Suite::Cbc128Sha256 => esp::Suite::AesCbc {
                key_bits: 128,
                integrity: Integrity::HmacSha256_128,
            },
        };
        let spec = SaSpec {
            spi,
            suite,
            encryption_key: keys.encryption.clone(),
            integrity_key: keys.integrity.clone(),
            esn: false,
        };
        Outbound::new(&spec, u64::from(spi)).expect("key the SA")
    }

    fn pair(self, aws: IpAddr, cgw: IpAddr) -> EspSaPair {
        // Distinct, recognisable key bytes per direction.
        let key = |len: usize, seed: u8| -> Vec<u8> {
            (0..len)
                .map(|i| seed.wrapping_mul(31).wrapping_add(u8::try_from(i).unwrap()))
                .collect()
        };
        let (encryption, key_bits, integrity, enc_len, int_len) = match self {
            // The AES key and then the 4-octet salt (RFC 4106 §8.1).
            Suite::Gcm256 => (EncrId::AES_GCM_16, 256, None, 36, 0),
            Suite::Cbc128Sha256 => (
                EncrId::AES_CBC,
                128,
                Some(IntegId::HMAC_SHA2_256_128),
                16,
                32,
            ),
        };
        EspSaPair {
            ike_sa: SaHandle(1),
            ike_version: IkeVersion::V2,
            spi_in: 0xc1a0_0001,
            spi_out: 0xa3b0_0002,
            encryption,
            key_bits: Some(key_bits),
            integrity,
            esn: false,
            inbound: EspKeys {
                encryption: key(enc_len, 1),
                integrity: key(int_len, 2),
            },
            outbound: EspKeys {
                encryption: key(enc_len, 3),
                integrity: key(int_len, 4),
            },
            ts_local: Vec::new(),
            ts_remote: Vec::new(),
            local: SocketAddr::new(aws, NAT_T_PORT),
            remote: SocketAddr::new(cgw, NAT_T_PORT),
            encapsulated: false,
            replaces: None,
            defer_outbound: false,
        }
    }
}

/// An inner IPv4 ICMP echo request (`reply` false) or reply, with etherparse.
fn icmp_echo(src: Ipv4Addr, dst: Ipv4Addr, reply: bool, seq: u16) -> Vec<u8> {
    let builder = etherparse::PacketBuilder::ipv4(src.octets(), dst.octets(), 64);
    let builder = if reply {
        builder.icmpv4_echo_reply(0x1515, seq)
    } else {
        builder.icmpv4_echo_request(0x1515, seq)
    };
    let payload = b"ikesim esp capture";
    let mut packet = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut packet, payload).expect("build ICMP");
    packet
}

/// How the ESP packets travel between the two outside addresses.
#[derive(Clone, Copy, Debug)]
struct Outer {
    aws: IpAddr,
    cgw: IpAddr,
    /// UDP-encapsulated (RFC 3948) rather than IP protocol 50.
    encapsulated: bool,
}

/// IPv4 outside addresses, plain ESP or UDP-encapsulated.
const V4_PLAIN: Outer = Outer {
    aws: IpAddr::V4(AWS),
    cgw: IpAddr::V4(CGW),
    encapsulated: false,
};
const V4_UDP: Outer = Outer {
    encapsulated: true,
    ..V4_PLAIN
};

/// Writes, for the AWS side of the suite's SA pair, a capture of `pings` echo requests from
/// the VPC host (outbound: AWS → CGW) each answered from the on-premises host (inbound:
/// CGW → AWS), and the key tables into `profile`.
fn write_capture(pcap: &Path, profile: &Path, suite: Suite, outer: Outer, pings: u16) {
    let Outer {
        aws,
        cgw,
        encapsulated,
    } = outer;
    let pair = suite.pair(aws, cgw);
    let mut sink = PcapSink::create(pcap).expect("create pcap");
    let mut keys = KeyFiles::create(profile).expect("create key tables");
    keys.write_esp_sa(&pair, aws, cgw).expect("write esp_sa");
    // The CGW's end of the same CHILD SA: the same two SAs, not written twice.
    let mut mirrored = pair.clone();
    std::mem::swap(&mut mirrored.spi_in, &mut mirrored.spi_out);
    std::mem::swap(&mut mirrored.inbound, &mut mirrored.outbound);
    keys.write_esp_sa(&mirrored, cgw, aws)
        .expect("write esp_sa");
    keys.finish().expect("close key tables");
    let mut write = |at: Duration, src: IpAddr, dst: IpAddr, esp: &[u8]| {
        if encapsulated {
            let s = SocketAddr::new(src, NAT_T_PORT);
            let d = SocketAddr::new(dst, NAT_T_PORT);
            sink.write(at, s, d, esp)
                .expect("write UDP-encapsulated ESP");
        } else {
            sink.write_esp(at, src, dst, esp).expect("write ESP");
        }
    };
    // What the AWS side sends with (the peer's SPI, the outbound keys) and what the CGW
    // sends with (our SPI, the inbound keys): the esp crate seals, as the data plane does.
    let mut aws_out = suite.outbound(pair.spi_out, &pair.outbound);
    let mut cgw_out = suite.outbound(pair.spi_in, &pair.inbound);
    let mut esp = Vec::new();
    for seq in 1..=pings {
        let at = Duration::from_secs(1_780_000_000) + Duration::from_millis(u64::from(seq) * 10);
        let request = icmp_echo(VPC_HOST, ONPREM_HOST, false, seq);
        aws_out
            .seal(INNER_IPV4, &request, &mut esp)
            .expect("seal the request");
        write(at, aws, cgw, &esp);
        let reply = icmp_echo(ONPREM_HOST, VPC_HOST, true, seq);
        cgw_out
            .seal(INNER_IPV4, &reply, &mut esp)
            .expect("seal the reply");
        write(at + Duration::from_millis(1), cgw, aws, &esp);
    }
    sink.finish().expect("close pcap");
}

/// One frame as tshark decodes it.
#[derive(Debug)]
struct Frame {
    /// Every source address in the frame (`ipv6.src`, then `ip.src`): the outer and, once
    /// decrypted, the inner.
    sources: Vec<String>,
    /// Every next protocol (`ipv6.nxt`, then `ip.proto`): the outer's (50, or 17 for UDP)
    /// and the inner's.
    protocols: Vec<String>,
    spi: String,
    icmp_type: String,
    icv_good: String,
    malformed: String,
}

/// tshark's view of `pcap` with the profile in `home/.config/wireshark`.
fn tshark(home: &Path, pcap: &Path) -> Vec<Frame> {
    let fields = [
        "ipv6.src",
        "ip.src",
        "ipv6.nxt",
        "ip.proto",
        "esp.spi",
        "icmp.type",
        "esp.icv_good",
        "_ws.malformed",
    ];
    let mut cmd = Command::new("tshark");
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .arg("-r")
        .arg(pcap)
        .args(["-d", &format!("udp.port=={NAT_T_PORT},udpencap")])
        .args(["-T", "fields", "-E", "separator=|", "-E", "aggregator=,"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            let field = |i: usize| f.get(i).copied().unwrap_or_default().to_owned();
            Frame {
                sources: values(&[field(0), field(1)]),
                protocols: values(&[field(2), field(3)]),
                spi: field(4),
                icmp_type: field(5),
                icv_good: field(6),
                malformed: field(7),
            }
        })
        .collect()
}

/// The comma-separated values of `fields`, in order.
fn values(fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .flat_map(|f| f.split(','))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Writes the capture for `suite` and `outer`, and checks tshark's decryption: every frame
/// is ESP whose inner packet is the ICMP echo sent, with a good ICV.
fn decrypts(name: &str, suite: Suite, outer: Outer) {
    let dir = temp_dir(name);
    let pcap = dir.join("esp.pcap");
    let profile = dir.join(".config/wireshark");
    write_capture(&pcap, &profile, suite, outer, 3);
    let table = std::fs::read_to_string(profile.join("esp_sa")).expect("esp_sa");
    assert_eq!(table.lines().count(), 2, "one line per direction: {table}");
    let frames = tshark(&dir, &pcap);
    assert_eq!(frames.len(), 6, "{frames:?}");
    let pair = suite.pair(outer.aws, outer.cgw);
    let encapsulated = outer.encapsulated;
    for (i, f) in frames.iter().enumerate() {
        let request = i % 2 == 0;
        let (src, inner, spi, icmp) = if request {
            (outer.aws, VPC_HOST, pair.spi_out, "8")
        } else {
            (outer.cgw, ONPREM_HOST, pair.spi_in, "0")
        };
        assert_eq!(
            f.sources,
            [src.to_string(), inner.to_string()],
            "frame {i}: the outer source and the decrypted inner one: {f:?}"
        );
        let outer_protocol = if encapsulated { "17" } else { "50" };
        assert_eq!(
            f.protocols,
            [outer_protocol, "1"],
            "frame {i}: ESP {}, ICMP inside: {f:?}",
            if encapsulated {
                "in UDP"
            } else {
                "as IP protocol 50"
            }
        );
        assert_eq!(f.spi, format!("0x{spi:08x}"), "frame {i}: {f:?}");
        assert_eq!(f.icmp_type, icmp, "frame {i}: the inner ICMP echo: {f:?}");
        assert_eq!(f.icv_good, "1", "frame {i}: the ICV checks out: {f:?}");
        assert!(f.malformed.is_empty(), "frame {i}: {f:?}");
    }
    // Wrong keys: tshark finds the ICV bad and shows no inner packet.
    let tampered: String = table.lines().map(|l| tamper_keys(l) + "\n").collect();
    std::fs::write(profile.join("esp_sa"), tampered).unwrap();
    for (i, f) in tshark(&dir, &pcap).iter().enumerate() {
        assert!(
            f.icmp_type.is_empty(),
            "frame {i} decrypted with a wrong key: {f:?}"
        );
        assert_ne!(f.icv_good, "1", "frame {i}: {f:?}");
    }
}

/// An `esp_sa` line with its keys' first hex digit changed (fields 6 and 8, counting from
/// 1; an empty key stays empty).
fn tamper_keys(line: &str) -> String {
    let mut fields: Vec<String> = line.split("\",\"").map(str::to_owned).collect();
    for i in [5, 7] {
        if let Some(key) = fields.get_mut(i).filter(|k| k.starts_with("0x")) {
            let flipped = if key.as_bytes()[2] == b'0' { "1" } else { "0" };
            key.replace_range(2..3, flipped);
        }
    }
    fields.join("\",\"")
}

#[test]
fn tshark_decrypts_plain_esp_aes_gcm_256() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    decrypts("esp-gcm-plain", Suite::Gcm256, V4_PLAIN);
}

#[test]
fn tshark_decrypts_udp_encapsulated_esp_aes_gcm_256() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    decrypts("esp-gcm-udp", Suite::Gcm256, V4_UDP);
}

#[test]
fn tshark_decrypts_plain_esp_aes_cbc_128_hmac_sha_256() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    decrypts("esp-cbc-plain", Suite::Cbc128Sha256, V4_PLAIN);
}

#[test]
fn tshark_decrypts_udp_encapsulated_esp_aes_cbc_128_hmac_sha_256() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    decrypts("esp-cbc-udp", Suite::Cbc128Sha256, V4_UDP);
}

#[test]
fn tshark_decrypts_esp_between_ipv6_outside_addresses() {
    if !can_run(&[Need::Tshark]) {
        return;
    }
    let v6 = |encapsulated| Outer {
        aws: AWS_V6.into(),
        cgw: CGW_V6.into(),
        encapsulated,
    };
    decrypts("esp-v6-plain", Suite::Gcm256, v6(false));
    decrypts("esp-v6-udp", Suite::Cbc128Sha256, v6(true));
}

#[test]
fn an_existing_wireshark_profile_keeps_its_preferences() {
    let dir = temp_dir("esp-prefs");
    std::fs::write(
        dir.join("preferences"),
        "# mine\ngui.column.format: \"No.\", \"%m\"\nesp.enable_encryption_decode: FALSE\n",
    )
    .unwrap();
    KeyFiles::create(&dir)
        .expect("create key tables")
        .finish()
        .unwrap();
    let prefs = std::fs::read_to_string(dir.join("preferences")).unwrap();
    assert_eq!(
        prefs,
        "# mine\ngui.column.format: \"No.\", \"%m\"\nesp.enable_encryption_decode: TRUE\n\
         esp.enable_authentication_check: TRUE\n"
    );
}
