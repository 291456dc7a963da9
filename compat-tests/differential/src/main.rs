//! Differential testing of rzk against Apache ZooKeeper 3.8: the same seeded workload over
//! several concurrent sessions, issued one action at a time to both servers, and every
//! reply, event and handshake compared after normalization.
//!
//! `rzk-differential --seeds 0..200 --ops 500` runs 200 seeds against one long-lived pair of
//! servers (state is reset between seeds; the pair is restarted after a mismatch so that one
//! difference does not spill into the next seed).

mod conn;
mod normalize;
mod requests;
mod servers;
mod side;
mod workload;

use anyhow::{bail, Context, Result};
use rzk::proto::{CreateMode, Request};
use servers::{Kind, Server};
use side::Side;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;
use workload::{Action, Generator};

struct Args {
    seeds: std::ops::Range<u64>,
    ops: usize,
    target: Kind,
    target_name: String,
    work: PathBuf,
    trace: bool,
    max_failures: usize,
    /// Print both servers' `wchc` after every step from this one on (debugging watches).
    wchc_from: Option<usize>,
    /// Stop (as a failure) before a seed that would start after this many seconds, so the
    /// servers are stopped cleanly rather than killed with the driver.
    time_limit: Option<u64>,
}

const USAGE: &str =
    "usage: rzk-differential [--seed N | --seeds A..B] [--ops N] [--target rzk|zk] \
[--rzk-bin PATH] [--work DIR] [--trace] [--max-failures N] [--wchc-from STEP] [--time-limit SECS]";

fn parse_args() -> Result<Args> {
    let mut a = Args {
        seeds: 0..200,
        ops: 500,
        target: Kind::Zk,
        target_name: "rzk".into(),
        work: std::env::temp_dir().join("rzk-differential"),
        trace: false,
        max_failures: 10,
        wchc_from: None,
        time_limit: None,
    };
    let mut bin =
        PathBuf::from(std::env::var("RZK_BIN").unwrap_or_else(|_| "target/release/rzk".into()));
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || {
            it.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--seed" => {
                let s: u64 = val()?.parse()?;
                a.seeds = s..s + 1;
            }
            "--seeds" => {
                let v = val()?;
                let (lo, hi) = v.split_once("..").context("--seeds A..B")?;
                a.seeds = lo.parse()?..hi.parse()?;
            }
            "--ops" => a.ops = val()?.parse()?,
            "--target" => a.target_name = val()?,
            "--rzk-bin" => bin = val()?.into(),
            "--work" => a.work = val()?.into(),
            "--trace" => a.trace = true,
            "--max-failures" => a.max_failures = val()?.parse()?,
            "--wchc-from" => a.wchc_from = Some(val()?.parse()?),
            "--time-limit" => a.time_limit = Some(val()?.parse()?),
            _ => bail!("unknown argument {flag}\n{USAGE}"),
        }
    }
    a.target = match a.target_name.as_str() {
        "zk" => Kind::Zk,
        "rzk" => Kind::Rzk(
            std::fs::canonicalize(&bin).with_context(|| format!("rzk binary {}", bin.display()))?,
        ),
        other => bail!("unknown target {other}"),
    };
    Ok(a)
}

struct Pair {
    _servers: (Server, Server),
    oracle: Side,
    test: Side,
}

fn start_pair(a: &Args) -> Result<Pair> {
    let zk = Server::start(&Kind::Zk, "zk", &a.work)?;
    let under_test = Server::start(&a.target, &format!("{}-under-test", a.target_name), &a.work)?;
    let oracle = Side::new("zookeeper", zk.addr);
    let test = Side::new(&a.target_name, under_test.addr);
    Ok(Pair {
        _servers: (zk, under_test),
        oracle,
        test,
    })
}

/// A difference, with what is needed to read and replay it.
struct Mismatch {
    step: usize,
    report: String,
}

fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(2);
        }
    };
    std::process::exit(if run(&a) { 0 } else { 1 });
}

fn run(a: &Args) -> bool {
    let started = Instant::now();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut pair: Option<Pair> = None;
    for seed in a.seeds.clone() {
        if failed >= a.max_failures {
            println!("stopping after {failed} failures");
            break;
        }
        if a.time_limit
            .is_some_and(|t| started.elapsed().as_secs() >= t)
        {
            println!("FAIL differential_time_limit: stopped before seed {seed}");
            failed += 1;
            break;
        }
        let p = match pair.take().map_or_else(|| start_pair(a), Ok) {
            Ok(p) => pair.insert(p),
            Err(e) => {
                println!("FAIL servers: {e:#}");
                failed += 1;
                break;
            }
        };
        let mut outcome = run_seed(a, seed, p);
        if outcome.is_err() {
            outcome = rerun(a, seed, &mut pair);
        }
        match outcome {
            Ok(None) => passed += 1,
            Ok(Some(step)) => {
                println!("seed {seed}: Apache ZooKeeper died at step {step} on a createTTL with a plain mode (a known 3.8.0 defect; rzk refuses it); seed cut short");
                passed += 1;
                pair = None;
            }
            Err(e) => {
                failed += 1;
                println!("FAIL seed {seed}: {e:#}");
                pair = None;
            }
        }
        if (passed + failed) % 50 == 0 {
            println!(
                "progress: {} seeds, {failed} failed, {:.0}s",
                passed + failed,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "differential: {} seeds x {} ops against {} in {:.1}s",
        passed + failed,
        a.ops,
        a.target_name,
        started.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    failed == 0
}

/// A difference is replayed once on a fresh pair: one that does not come back was the
/// machine's timing (a short session expired by a stalled driver), not a server's answer.
fn rerun(a: &Args, seed: u64, pair: &mut Option<Pair>) -> Result<Option<usize>> {
    *pair = None;
    let p = pair.insert(start_pair(a)?);
    let again = run_seed(a, seed, p);
    if again.is_ok() {
        println!("seed {seed}: the difference above did not come back on a rerun (timing); counted as passed");
    }
    again
}

/// Runs one seed; `Some(step)` when the oracle died on the known createTTL defect there.
fn run_seed(a: &Args, seed: u64, p: &mut Pair) -> Result<Option<usize>> {
    p.oracle.begin_seed()?;
    p.test.begin_seed()?;
    let mut gen = Generator::new(seed);
    let mut recent: VecDeque<String> = VecDeque::new();
    for step in 0..a.ops {
        let action = gen.next();
        let t0 = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| p.oracle.run(&action));
            p.test.run(&action);
        });
        if a.trace {
            println!(
                "seed {seed} step {step} ({:?}): {action:?}\n{}",
                t0.elapsed(),
                lines(&p.oracle)
            );
        }
        if a.wchc_from.is_some_and(|from| from <= step) {
            println!(
                "wchc {}:\n{}",
                p.oracle.name,
                servers::four_letter(p.oracle.addr, "wchc")
            );
            println!(
                "wchc {}:\n{}",
                p.test.name,
                servers::four_letter(p.test.addr, "wchc")
            );
        }
        if p.oracle.obs != p.test.obs && kills_oracle(&action, &p.oracle) {
            return Ok(Some(step));
        }
        if p.oracle.obs != p.test.obs {
            let m = Mismatch {
                step,
                report: report(a, seed, step, &action, p, &recent),
            };
            println!("{}", m.report);
            bail!("first difference at step {}", m.step);
        }
        recent.push_back(format!("step {step}: {action:?}\n{}", lines(&p.oracle)));
        if recent.len() > 4 {
            recent.pop_front();
        }
        learn(&mut gen, &action, &p.oracle);
    }
    p.oracle.end_seed()?;
    p.test.end_seed()?;
    Ok(None)
}

/// 3.8.0 accepts a createTTL whose mode is not a TTL mode when the ttl is negative, then
/// dies applying it: every connection ends at once.
fn kills_oracle(action: &Action, oracle: &Side) -> bool {
    let Action::Req {
        slot,
        req: Request::CreateTtl(r),
    } = action
    else {
        return false;
    };
    let plain = CreateMode::from_flag(r.flags).is_some_and(|m| !m.is_ttl());
    plain
        && r.ttl < 0
        && oracle
            .obs
            .get(slot)
            .is_some_and(|ls| ls.iter().any(|l| l == "eof"))
}

/// Feeds what the oracle answered back into the generator.
fn learn(gen: &mut Generator, action: &Action, oracle: &Side) {
    if let Action::Open { timeout_ms } = action {
        gen.open_slot(*timeout_ms < 1000);
    }
    for p in &oracle.created {
        gen.learn_path(p);
    }
    for i in 0..gen.slots.len() {
        gen.slots[i].state = oracle.state(i);
    }
}

fn lines(side: &Side) -> String {
    let mut out = String::new();
    for (slot, ls) in &side.obs {
        for l in ls {
            out.push_str(&format!("    s{slot}: {l}\n"));
        }
    }
    out
}

fn report(
    a: &Args,
    seed: u64,
    step: usize,
    action: &Action,
    p: &Pair,
    recent: &VecDeque<String>,
) -> String {
    let mut out = format!(
        "=== MISMATCH seed {seed} step {step} ===\nrecent steps (as {} answered):\n",
        p.oracle.name
    );
    for r in recent {
        out.push_str(r);
    }
    out.push_str(&format!(
        "action: {action:?}\n--- {}:\n{}--- {}:\n{}",
        p.oracle.name,
        lines(&p.oracle),
        p.test.name,
        lines(&p.test)
    ));
    let bin = match &a.target {
        Kind::Rzk(b) => format!(" --rzk-bin {}", b.display()),
        Kind::Zk => String::new(),
    };
    out.push_str(&format!(
        "replay: cargo run --release -p rzk-differential -- --seed {seed} --ops {} --target {}{bin} --trace\n",
        a.ops, a.target_name
    ));
    out
}
