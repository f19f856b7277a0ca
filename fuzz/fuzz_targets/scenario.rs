//! Scenario files (`ikesim run FILE`): `sim::Scenario::parse` on any text, with all its
//! checks (tunnel options, CGW, addresses, network, modify_options); a bad file is an
//! error that names the file, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match sim::Scenario::parse(text, "fuzz.toml", "fuzz") {
        Ok(scenario) => {
            let _ = format!("{scenario:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
