//! The fuzz targets' seed corpora of captured datagrams (fuzz/corpus/ikev2_message and
//! ikev1_message, written by fuzz/seed-corpora from `ikesim run --pcap` captures of the
//! built-in scenarios) replayed on every test run, without libFuzzer: each parses, and
//! re-encodes to exactly the bytes that were on the wire — what the crate promises of a
//! well-formed message, and what IKEv1's HASH payloads and IKEv2's AUTH rely on.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).expect("seed readable");
            (f, bytes)
        })
        .collect()
}

#[test]
fn captured_ikev2_datagrams_parse_and_reencode_byte_for_byte() {
    let seeds = corpus("ikev2_message");
    assert!(seeds.len() >= 20, "only {} IKEv2 seeds", seeds.len());
    for (file, datagram) in seeds {
        let message = ike_wire::Message::parse(&datagram)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(message.encode(), datagram, "{}", file.display());
    }
}

#[test]
fn captured_ikev1_datagrams_parse_and_reencode_byte_for_byte() {
    let seeds = corpus("ikev1_message");
    assert!(seeds.len() >= 10, "only {} IKEv1 seeds", seeds.len());
    for (file, datagram) in seeds {
        assert_eq!(
            ike_wire::ike_major_version(&datagram),
            Some(1),
            "{}",
            file.display()
        );
        let message = ike_wire::v1::Message::parse(&datagram)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(message.encode(), datagram, "{}", file.display());
    }
}
