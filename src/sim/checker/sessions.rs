//! Client guarantees over a finished run, from the clients' records and the committed
//! txn stream (ZooKeeper Programmer's Guide, "ZooKeeper guarantees"):
//! - FIFO client order: a session's txns appear in the stream in the order it sent them,
//!   each at most once (an indeterminate write is never applied twice);
//! - an acknowledged write is in the stream, with the outcome the client was told;
//! - a plain read returns the data of the committed prefix at the zxid it reported
//!   (sequential consistency; reads may be stale, never invented);
//! - writes, and reads issued behind a `sync`, are linearizable per znode
//!   (`linearizable::check`).
//!
//! Replies in order and never older than what the session saw are checked as they
//! arrive (`client.rs`).

use std::collections::{BTreeMap, BTreeSet};

use super::linearizable::{self, Anomaly, History, Op, Operation, Outcome};
use super::Violation;
use crate::proto::{Txn, TxnEntry};
use crate::sim::client::Record;
use crate::sim::model::{Req, Tree, SESSION_BASE};
use crate::sim::serve::outcome_of;

/// Runs every check; `Ok` carries the keys whose linearizability was inconclusive.
pub fn check(records: &[Record], stream: &[TxnEntry]) -> Result<Vec<String>, Violation> {
    fifo_in_stream(stream)?;
    acked_writes_applied(records, stream)?;
    reads_match_prefix(records, stream)?;
    let h = history(records);
    match linearizable::check(&h) {
        Ok(()) => Ok(vec![]),
        Err(Anomaly::Inconclusive { key, .. }) => Ok(vec![key]),
        Err(a) => Err(Violation {
            checker: "linearizable writes",
            what: a.describe(&h),
        }),
    }
}

fn fail<T>(checker: &'static str, what: String) -> Result<T, Violation> {
    Err(Violation { checker, what })
}

/// Error txns (`SessionMoved` for a request that raced a session's move, …) change
/// nothing, so only the others must follow the session's order; none may repeat.
fn fifo_in_stream(stream: &[TxnEntry]) -> Result<(), Violation> {
    let mut last: BTreeMap<i64, i32> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for e in stream.iter().filter(|e| e.header.client_id >= SESSION_BASE) {
        let (s, cxid, z) = (e.header.client_id, e.header.cxid, e.header.zxid);
        if !seen.insert((s, cxid)) {
            return fail(
                "session FIFO",
                format!("{s:#x}: cxid {cxid} applied twice (again at {z:#x})"),
            );
        }
        if matches!(e.txn, Txn::Error(_)) {
            continue;
        }
        if let Some(prev) = last.insert(s, cxid).filter(|p| *p >= cxid) {
            return fail(
                "session FIFO",
                format!("{s:#x}: cxid {cxid} applied at {z:#x} after cxid {prev}"),
            );
        }
    }
    Ok(())
}

fn is_write(r: &Req) -> bool {
    !matches!(r, Req::Read { .. } | Req::Sync)
}

fn acked_writes_applied(records: &[Record], stream: &[TxnEntry]) -> Result<(), Violation> {
    let by_id: BTreeMap<(i64, i32), &Txn> = stream
        .iter()
        .map(|e| ((e.header.client_id, e.header.cxid), &e.txn))
        .collect();
    for r in records
        .iter()
        .filter(|r| r.complete.is_some() && is_write(&r.req))
    {
        match by_id.get(&(r.session, r.cxid)) {
            None => {
                return fail(
                    "acknowledged writes",
                    format!(
                        "{:#x}/{} {:?} acknowledged, never applied",
                        r.session, r.cxid, r.req
                    ),
                )
            }
            Some(txn) if outcome_of(txn) != r.outcome => {
                let what = format!(
                    "{:#x}/{} told {:?} but applied {txn:?}",
                    r.session, r.cxid, r.outcome
                );
                return fail("acknowledged writes", what);
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn reads_match_prefix(records: &[Record], stream: &[TxnEntry]) -> Result<(), Violation> {
    let mut reads: Vec<(&Record, &str, &linearizable::Value)> = records
        .iter()
        .filter_map(|r| match (&r.req, &r.outcome) {
            (Req::Read { path }, Outcome::Read(v)) => Some((r, path.as_str(), v)),
            _ => None,
        })
        .collect();
    reads.sort_by_key(|(r, _, _)| r.zxid);
    let (mut tree, mut next) = (Tree::default(), stream.iter().peekable());
    for (r, path, seen) in reads {
        while let Some(e) = next.next_if(|e| e.header.zxid <= r.zxid) {
            let _ = tree.apply(e);
        }
        if tree.read(path) != *seen {
            let what = format!(
                "{:#x}/{} read {path} at {:#x} on {}: {seen:?}, but the committed data there is {:?}",
                r.session,
                r.cxid,
                r.zxid,
                r.server,
                tree.read(path)
            );
            return fail("reads see a committed prefix", what);
        }
    }
    Ok(())
}

/// The register operations on the persistent keys: every write, and reads behind a sync.
pub fn history(records: &[Record]) -> History {
    let mut h = History::new();
    for r in records {
        let op = match &r.req {
            Req::Create {
                data,
                ephemeral: false,
                ..
            } => Op::Create { data: data.clone() },
            Req::SetData { data, version, .. } => Op::SetData {
                data: data.clone(),
                expected: expected(*version),
            },
            Req::Delete { version, .. } => Op::Delete {
                expected: expected(*version),
            },
            Req::Read { .. } if r.synced => Op::Read,
            _ => continue,
        };
        let key = match &r.req {
            Req::Create { path, .. }
            | Req::SetData { path, .. }
            | Req::Delete { path, .. }
            | Req::Read { path } => path,
            _ => continue,
        };
        let outcome = if r.complete.is_some() {
            r.outcome.clone()
        } else {
            Outcome::Unknown
        };
        h.push(Operation {
            client: r.session,
            key: key.clone(),
            op,
            invoke: r.invoke,
            complete: r.complete,
            outcome,
        });
    }
    h
}

fn expected(version: i32) -> Option<i32> {
    (version != -1).then_some(version)
}
