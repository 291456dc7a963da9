//! `rzk-check FILE...`: judges histories recorded from real clients (the format of
//! `rzk::check::history`) with the linearizability checker, and prints
//! `histories checked N, anomalies M, inconclusive K`. Exit status 1 if any history has
//! an anomaly or could not be decided, 2 if a file cannot be read or parsed.

use rzk::check::history::{self, Named};
use rzk::check::linearizable::{self, Anomaly};
use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: rzk-check HISTORY-FILE...");
        return ExitCode::from(2);
    }
    let mut all = vec![];
    for f in &files {
        match std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| history::parse(&t).map_err(|e| e.to_string()))
        {
            Ok(h) => all.extend(h),
            Err(e) => {
                eprintln!("rzk-check: {f}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let (mut anomalies, mut inconclusive) = (0, 0);
    for named in &all {
        match judge(named) {
            None => {}
            Some(a) if a.is_violation() => anomalies += 1,
            Some(_) => inconclusive += 1,
        }
    }
    println!(
        "histories checked {}, anomalies {anomalies}, inconclusive {inconclusive}",
        all.len()
    );
    if anomalies + inconclusive > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn judge(named: &Named) -> Option<Anomaly> {
    let h = &named.history;
    let started = std::time::Instant::now();
    let result = linearizable::check(h);
    let ms = started.elapsed().as_millis();
    match result {
        Ok(()) => {
            println!(
                "history {}: {} operations, linearizable ({ms} ms)",
                named.name,
                h.len()
            );
            None
        }
        Err(a) => {
            let kind = if a.is_violation() {
                "ANOMALY"
            } else {
                "INCONCLUSIVE"
            };
            println!(
                "history {}: {} operations, {kind}: {}",
                named.name,
                h.len(),
                history::describe(&a, h)
            );
            Some(a)
        }
    }
}
