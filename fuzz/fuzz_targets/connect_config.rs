//! `ikesim connect --config FILE`: `sim::connect::ConnectConfig::parse` and its checks,
//! and the address parser of `--remote`; a bad file is an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match sim::connect::ConnectConfig::parse(text, "fuzz.toml") {
        Ok(config) => {
            let _ = format!("{config:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if text.len() < 64 {
        let _ = sim::connect::parse_addr(text);
    }
});
