//! The fuzz targets of `fuzz/` run on the stable toolchain: every seed of the committed
//! corpus, then mutants of them and random inputs, each under `catch_unwind`. Bounded
//! by `RZK_FUZZ_ITERS` inputs per target (default 2000) or `RZK_FUZZ_SECS` seconds per
//! target, whichever ends first; `RZK_FUZZ_SEED` changes the mutation stream. A failing
//! input is written to `target/fuzz-failures/<target>-<n>` and printed in hex.

#[path = "../fuzz/src/mutate.rs"]
#[allow(dead_code)]
mod mutate;
#[path = "../fuzz/src/targets.rs"]
mod targets;

use mutate::{mutate, random_input, Rng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect()
}

/// Runs `f` on `input`; on a panic, saves the input and fails the test with it.
fn check(target: &str, f: fn(&[u8]), input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| f(input))).is_ok() {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!(
        "{target}-{:016x}",
        Rng::new(input.len() as u64 + 1).next_u64()
    ));
    let _ = std::fs::write(&path, input);
    let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
    panic!(
        "{target} failed on {} bytes (saved to {}): {hex}",
        input.len(),
        path.display()
    );
}

fn run(target: &str) {
    let f = targets::TARGETS
        .iter()
        .find(|(n, _)| *n == target)
        .map(|(_, f)| *f)
        .expect("known target");
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "{target} has a seed corpus");
    for s in &seeds {
        check(target, f, s);
    }
    let iters = env_num("RZK_FUZZ_ITERS", 2000);
    let deadline = Instant::now() + Duration::from_secs(env_num("RZK_FUZZ_SECS", 600));
    let mut rng = Rng::new(env_num("RZK_FUZZ_SEED", 0x5eed) ^ target.len() as u64);
    let mut done = 0;
    while done < iters && Instant::now() < deadline {
        let input = if rng.below(10) == 0 {
            random_input(&mut rng)
        } else {
            let (a, b) = (
                &seeds[rng.below(seeds.len())],
                &seeds[rng.below(seeds.len())],
            );
            mutate(a, b, &mut rng)
        };
        check(target, f, &input);
        done += 1;
    }
    println!(
        "fuzz {target}: {} seeds, {done} mutants, no failure",
        seeds.len()
    );
}

#[test]
fn every_target_has_a_test_here() {
    let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), 10, "{names:?}");
}

#[test]
fn fuzz_client_connect() {
    run("client_connect");
}

#[test]
fn fuzz_client_request() {
    run("client_request");
}

#[test]
fn fuzz_client_stream() {
    run("client_stream");
}

#[test]
fn fuzz_txn_entry() {
    run("txn_entry");
}

#[test]
fn fuzz_txn_log_file() {
    run("txn_log_file");
}

#[test]
fn fuzz_snapshot() {
    run("snapshot");
}

#[test]
fn fuzz_quorum_packets() {
    run("quorum_packets");
}

#[test]
fn fuzz_election_header() {
    run("election_header");
}

#[test]
fn fuzz_election_notification() {
    run("election_notification");
}

#[test]
fn fuzz_zoo_cfg() {
    run("zoo_cfg");
}
