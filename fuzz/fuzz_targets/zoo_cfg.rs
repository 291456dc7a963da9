#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rzk_fuzz::targets::zoo_cfg_text(data));
