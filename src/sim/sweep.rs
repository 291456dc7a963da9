//! The seed sweep: many randomized runs with faults, each checked by every invariant and
//! for convergence after healing. A failure names the seed and how to replay it.

use super::rng::Rng;
use super::world::{Options, World};

/// Runs one seed to the end; `Err` carries the failure report.
pub fn run_seed(seed: u64) -> Result<u64, String> {
    run_seed_traced(seed, false, 40)
}

fn run_seed_traced(seed: u64, trace: bool, tail: usize) -> Result<u64, String> {
    let mut shape = Rng::new(seed ^ 0x5eed);
    let opts = Options::for_seed(&mut shape);
    let end = opts.fault_ms + opts.heal_ms;
    let mut w = World::new(seed, opts.clone());
    w.trace = trace;
    w.start();
    w.run_until(end);
    match w.finish() {
        Ok(()) if !w.inconclusive.is_empty() => {
            eprintln!(
                "seed {seed}: linearizability inconclusive on {:?} (search cap)",
                w.inconclusive
            );
            Ok(w.fingerprint)
        }
        Ok(()) => Ok(w.fingerprint),
        Err(v) => {
            let tail: Vec<String> = w
                .log
                .iter()
                .rev()
                .take(tail)
                .rev()
                .map(|(s, l)| format!("  {s}: {l}"))
                .collect();
            Err(format!(
                "seed {seed} failed: {v}\n  options: {opts:?}\n  last role events:\n{}\n  replay: SIM_SEED={seed} cargo test --release --lib sim::sweep::replay -- --nocapture",
                tail.join("\n")
            ))
        }
    }
}

fn sweep(from: u64, count: u64) {
    let mut failures = vec![];
    for seed in from..from + count {
        if let Err(report) = run_seed(seed) {
            eprintln!("{report}");
            failures.push(seed);
            if failures.len() >= 5 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "failing seeds: {failures:?}");
}

/// Seeds per test run: `SIM_SEEDS` overrides (CI runs 10,000 in release mode).
fn seed_count() -> u64 {
    let default = if cfg!(debug_assertions) { 1000 } else { 10_000 };
    std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn seed_sweep_keeps_every_invariant() {
    let start = std::env::var("SIM_SEED_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    sweep(start, seed_count());
}

#[test]
fn a_seed_replays_identically() {
    for seed in [1, 2, 3] {
        assert_eq!(run_seed(seed), run_seed(seed));
    }
}

/// `SIM_SEED=<n> cargo test --release --lib sim::sweep::replay -- --nocapture`; with
/// `SIM_TRACE=1` the report lists the last 400 role events and delivered packets.
#[test]
fn replay() {
    let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) else {
        return;
    };
    let trace = std::env::var("SIM_TRACE").is_ok();
    match run_seed_traced(seed, trace, if trace { 4000 } else { 40 }) {
        Ok(f) => println!("seed {seed} passed (fingerprint {f:#x})"),
        Err(report) => panic!("{report}"),
    }
}
