//! `ikesim serve --config FILE`: `sim::serve::ServeConfig::parse` and its checks, and the
//! `--listen` parser; a bad file is an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match sim::serve::ServeConfig::parse(text, "fuzz.toml") {
        Ok(config) => {
            let _ = format!("{config:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if text.len() < 64 {
        let _ = sim::serve::config::parse_listen(text);
    }
});
