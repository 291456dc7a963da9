#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rzk_fuzz::targets::election_notification(data));
