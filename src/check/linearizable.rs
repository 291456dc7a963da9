//! A linearizability checker for ZooKeeper's per-znode register operations (create,
//! setData with or without a version, delete, read), in the style of Knossos and
//! Porcupine: the Wing–Gong–Lowe search over one key at a time, with memoization of
//! (linearized set, state) pairs and a cap on explored states.
//!
//! It is pure and knows nothing of the simulator: a history recorded from real clients
//! (invoke and completion times on one clock, outcomes as the clients saw them) is
//! checked the same way. There is no Apache ZooKeeper counterpart; ZooKeeper's own
//! guarantee for writes ("linearizable writes") is what it checks.
//!
//! Rules:
//! - operations on different keys never constrain each other (P-compositionality), so
//!   each key is searched alone;
//! - an operation acknowledged before another was invoked is ordered before it;
//! - `Outcome::Unknown` (a timeout, a lost connection) may take effect at any time after
//!   its invocation, or never; `Failed(ConnectionLoss | OperationTimeout)` is the same;
//! - `Failed(NoNode | NodeExists | BadVersion)` is a state-dependent answer that changes
//!   nothing; any other failure (`SessionExpired`, …) means the request was never applied
//!   and constrains nothing;
//! - a read with an unknown outcome constrains nothing.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use crate::proto::ErrorCode;

/// A present znode's data and version (`Stat.version`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Versioned {
    pub data: Vec<u8>,
    pub version: i32,
}

/// The state of one key: absent, or present.
pub type Value = Option<Versioned>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Create {
        data: Vec<u8>,
    },
    /// `expected: None` is version -1 (unconditional); `Some(v)` is compare-and-set.
    SetData {
        data: Vec<u8>,
        expected: Option<i32>,
    },
    Delete {
        expected: Option<i32>,
    },
    Read,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A create or delete succeeded.
    Done,
    /// A setData succeeded; the node's new version.
    Written {
        version: i32,
    },
    /// What a read returned (`None`: NoNode).
    Read(Value),
    Failed(ErrorCode),
    /// No answer: the operation may or may not have taken effect.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Who issued it (a session id), for reports only.
    pub client: i64,
    pub key: String,
    pub op: Op,
    pub invoke: u64,
    /// When the answer arrived; `None` if it never did.
    pub complete: Option<u64>,
    pub outcome: Outcome,
}

/// Operations on any number of keys, each key starting absent unless set otherwise.
#[derive(Clone, Debug, Default)]
pub struct History {
    ops: Vec<Operation>,
    initial: BTreeMap<String, Value>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// Adds an operation; returns its index (as used in an `Anomaly`).
    pub fn push(&mut self, op: Operation) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }

    /// The key's state before the first operation (absent by default).
    pub fn set_initial(&mut self, key: &str, value: Value) {
        self.initial.insert(key.to_string(), value);
    }

    pub fn ops(&self) -> &[Operation] {
        &self.ops
    }

    /// The keys given a starting state with `set_initial`.
    pub fn initial(&self) -> &BTreeMap<String, Value> {
        &self.initial
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Bounds on the search.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Distinct (linearized set, state) pairs explored per key before giving up.
    pub max_states: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_states: 200_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anomaly {
    /// No linearization exists. `prefix` is the longest legal order found (history
    /// indexes), `state` the key's state after it, `stuck` the operations that could have
    /// come next in real time but whose outcome contradicts that state.
    NotLinearizable {
        key: String,
        prefix: Vec<usize>,
        state: Value,
        stuck: Vec<usize>,
    },
    /// The search hit `Limits::max_states` without an answer.
    Inconclusive { key: String, explored: usize },
    /// An operation that cannot be judged (completed before invoked, or an outcome that
    /// does not fit its kind).
    Malformed { index: usize, why: &'static str },
}

impl Anomaly {
    /// True unless the checker merely gave up.
    pub fn is_violation(&self) -> bool {
        !matches!(self, Anomaly::Inconclusive { .. })
    }

    /// A readable account, listing the operations involved.
    pub fn describe(&self, h: &History) -> String {
        let show = |i: &usize| {
            h.ops
                .get(*i)
                .map_or(format!("#{i}?"), |o| format!("#{i} {}", fmt_op(o)))
        };
        match self {
            Anomaly::NotLinearizable {
                key,
                prefix,
                state,
                stuck,
            } => {
                let p: Vec<String> = prefix.iter().map(show).collect();
                let s: Vec<String> = stuck.iter().map(show).collect();
                format!(
                    "{key} is not linearizable\n  longest legal order:\n    {}\n  state then: {state:?}\n  no next step fits:\n    {}",
                    p.join("\n    "),
                    s.join("\n    ")
                )
            }
            other => other.to_string(),
        }
    }
}

fn fmt_op(o: &Operation) -> String {
    let done = o.complete.map_or("…".to_string(), |c| c.to_string());
    format!(
        "[{}..{}] client {:#x} {:?} -> {:?}",
        o.invoke, done, o.client, o.op, o.outcome
    )
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::NotLinearizable {
                key, prefix, stuck, ..
            } => {
                write!(
                    f,
                    "{key} not linearizable after {} ops, stuck at {stuck:?}",
                    prefix.len()
                )
            }
            Anomaly::Inconclusive { key, explored } => {
                write!(f, "{key}: inconclusive after {explored} states")
            }
            Anomaly::Malformed { index, why } => write!(f, "operation #{index} malformed: {why}"),
        }
    }
}

/// Checks every key with the default limits.
pub fn check(h: &History) -> Result<(), Anomaly> {
    check_with(h, Limits::default())
}

/// Checks every key; reports the first anomaly (keys in order). A violation on one key
/// is reported even if an earlier key was inconclusive.
pub fn check_with(h: &History, limits: Limits) -> Result<(), Anomaly> {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, o) in h.ops.iter().enumerate() {
        validate(i, o)?;
        if relevant(o) {
            by_key.entry(o.key.as_str()).or_default().push(i);
        }
    }
    let mut inconclusive = None;
    for (key, idx) in by_key {
        let init = h.initial.get(key).cloned().flatten();
        match search::check_key(key, &h.ops, &idx, init, limits) {
            Ok(()) => {}
            Err(a @ Anomaly::Inconclusive { .. }) => inconclusive = inconclusive.or(Some(a)),
            Err(a) => return Err(a),
        }
    }
    inconclusive.map_or(Ok(()), Err)
}

fn validate(index: usize, o: &Operation) -> Result<(), Anomaly> {
    if o.complete.is_some_and(|c| c < o.invoke) {
        return Err(Anomaly::Malformed {
            index,
            why: "completed before it was invoked",
        });
    }
    let fits = matches!(
        (&o.op, &o.outcome),
        (_, Outcome::Unknown | Outcome::Failed(_))
            | (Op::Read, Outcome::Read(_))
            | (Op::Create { .. } | Op::Delete { .. }, Outcome::Done)
            | (Op::SetData { .. }, Outcome::Written { .. })
    );
    if !fits {
        return Err(Anomaly::Malformed {
            index,
            why: "outcome does not fit the operation",
        });
    }
    if o.complete.is_none() && !is_unknown(&o.outcome) {
        return Err(Anomaly::Malformed {
            index,
            why: "an answer without a completion time",
        });
    }
    Ok(())
}

fn is_unknown(o: &Outcome) -> bool {
    matches!(
        o,
        Outcome::Unknown | Outcome::Failed(ErrorCode::ConnectionLoss | ErrorCode::OperationTimeout)
    )
}

/// Operations that constrain the search: not failures that applied nothing, not reads
/// nobody saw.
fn relevant(o: &Operation) -> bool {
    match &o.outcome {
        Outcome::Failed(ErrorCode::NoNode | ErrorCode::NodeExists | ErrorCode::BadVersion) => true,
        out if is_unknown(out) => o.op != Op::Read,
        Outcome::Failed(_) => false,
        _ => true,
    }
}

/// The sequential specification: what `op` answers in `state`, and the state after.
pub fn apply(state: &Value, op: &Op) -> (Outcome, Value) {
    let fail = |c: ErrorCode| (Outcome::Failed(c), state.clone());
    match (op, state) {
        (Op::Read, _) => (Outcome::Read(state.clone()), state.clone()),
        (Op::Create { .. }, Some(_)) => fail(ErrorCode::NodeExists),
        (Op::Create { data }, None) => (
            Outcome::Done,
            Some(Versioned {
                data: data.clone(),
                version: 0,
            }),
        ),
        (Op::SetData { .. } | Op::Delete { .. }, None) => fail(ErrorCode::NoNode),
        (
            Op::SetData {
                expected: Some(e), ..
            }
            | Op::Delete { expected: Some(e) },
            Some(v),
        ) if *e != v.version => fail(ErrorCode::BadVersion),
        (Op::SetData { data, .. }, Some(v)) => {
            let version = v.version.wrapping_add(1);
            (
                Outcome::Written { version },
                Some(Versioned {
                    data: data.clone(),
                    version,
                }),
            )
        }
        (Op::Delete { .. }, Some(_)) => (Outcome::Done, None),
    }
}

/// The state after `o` if its recorded outcome is possible in `state`.
fn step(state: &Value, o: &Operation) -> Option<Value> {
    let (answer, next) = apply(state, &o.op);
    (is_unknown(&o.outcome) || answer == o.outcome).then_some(next)
}

mod search {
    use super::*;

    /// One key's operations, sorted by invocation, with their deadlines.
    struct Key<'a> {
        ops: Vec<(usize, &'a Operation)>,
        deadline: Vec<u64>,
        required: usize,
    }

    struct Node {
        parent: usize,
        op: usize,
        done: usize,
        depth: usize,
    }

    /// The linearized set as a bitset over the key's operations.
    type Bits = Vec<u64>;

    fn has(b: &Bits, i: usize) -> bool {
        b.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn with(b: &Bits, i: usize) -> Bits {
        let mut n = b.clone();
        if let Some(w) = n.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
        n
    }

    impl<'a> Key<'a> {
        fn new(all: &'a [Operation], idx: &[usize]) -> Key<'a> {
            let mut ops: Vec<(usize, &Operation)> = idx
                .iter()
                .filter_map(|i| all.get(*i).map(|o| (*i, o)))
                .collect();
            ops.sort_by_key(|(i, o)| (o.invoke, *i));
            let deadline: Vec<u64> = ops
                .iter()
                .map(|(_, o)| {
                    if is_unknown(&o.outcome) {
                        u64::MAX
                    } else {
                        o.complete.unwrap_or(u64::MAX)
                    }
                })
                .collect();
            let required = deadline.iter().filter(|d| **d != u64::MAX).count();
            Key {
                ops,
                deadline,
                required,
            }
        }

        /// Operations that may come next: invoked no later than the earliest deadline
        /// among those not yet linearized.
        fn candidates(&self, b: &Bits) -> Vec<usize> {
            let open = || (0..self.ops.len()).filter(|i| !has(b, *i));
            let first_deadline = open()
                .map(|i| self.deadline.get(i).copied().unwrap_or(u64::MAX))
                .min()
                .unwrap_or(u64::MAX);
            open()
                .take_while(|i| {
                    self.ops
                        .get(*i)
                        .is_some_and(|(_, o)| o.invoke <= first_deadline)
                })
                .collect()
        }
    }

    pub(super) fn check_key(
        key: &str,
        all: &[Operation],
        idx: &[usize],
        init: Value,
        lim: Limits,
    ) -> Result<(), Anomaly> {
        let k = Key::new(all, idx);
        let words = k.ops.len().div_ceil(64);
        let mut arena = vec![Node {
            parent: usize::MAX,
            op: usize::MAX,
            done: 0,
            depth: 0,
        }];
        let mut seen: HashSet<(Bits, Value)> = HashSet::new();
        let mut stack = vec![(vec![0u64; words], init, 0usize)];
        let mut deepest = (
            0usize,
            stack.first().map(|s| s.1.clone()).unwrap_or(None),
            vec![0u64; words],
        );
        while let Some((bits, state, at)) = stack.pop() {
            let (done, d) = arena.get(at).map_or((0, 0), |n| (n.done, n.depth));
            if done == k.required {
                return Ok(());
            }
            if d > arena.get(deepest.0).map_or(0, |n| n.depth) {
                deepest = (at, state.clone(), bits.clone());
            }
            for c in k.candidates(&bits).into_iter().rev() {
                let Some((_, o)) = k.ops.get(c) else { continue };
                let Some(next) = step(&state, o) else {
                    continue;
                };
                let nb = with(&bits, c);
                if !seen.insert((nb.clone(), next.clone())) {
                    continue;
                }
                if seen.len() > lim.max_states {
                    return Err(Anomaly::Inconclusive {
                        key: key.to_string(),
                        explored: seen.len(),
                    });
                }
                let req = usize::from(k.deadline.get(c).is_some_and(|d| *d != u64::MAX));
                arena.push(Node {
                    parent: at,
                    op: c,
                    done: done + req,
                    depth: d + 1,
                });
                stack.push((nb, next, arena.len() - 1));
            }
        }
        Err(report(key, &k, &arena, deepest))
    }

    fn report(key: &str, k: &Key<'_>, arena: &[Node], deepest: (usize, Value, Bits)) -> Anomaly {
        let (mut at, state, bits) = deepest;
        let mut prefix = vec![];
        while let Some(n) = arena.get(at) {
            if n.op == usize::MAX {
                break;
            }
            prefix.extend(k.ops.get(n.op).map(|(i, _)| *i));
            at = n.parent;
        }
        prefix.reverse();
        let stuck = k
            .candidates(&bits)
            .into_iter()
            .filter_map(|c| k.ops.get(c).map(|(i, _)| *i))
            .collect();
        Anomaly::NotLinearizable {
            key: key.to_string(),
            prefix,
            state,
            stuck,
        }
    }
}

#[cfg(test)]
#[path = "linearizable_tests.rs"]
mod tests;
