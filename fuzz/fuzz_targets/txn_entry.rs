#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rzk_fuzz::targets::txn_entry(data));
