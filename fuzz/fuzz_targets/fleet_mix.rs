//! `ikesim fleet --mix FILE`: `fleet::Mix::parse` and its checks; a bad file is an error,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match fleet::Mix::parse(text, "fuzz.toml") {
        Ok(mix) => {
            let _ = format!("{mix:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
