//! Fuzz targets for every decoder that reads untrusted bytes (client frames, txn log
//! entries and files, snapshots, quorum packets, election messages, zoo.cfg), and a
//! mutator that runs them on a stable toolchain. The libFuzzer binaries in
//! `fuzz_targets/` are thin wrappers around [`targets`].

pub mod mutate;
pub mod targets;
