//! The text format of recorded histories, read by `rzk-check` and written by the
//! fault-injection suite (`compat-tests/faults/`): one operation per line, so any
//! harness in any language can record what its clients saw and have it judged by
//! [`linearizable::check`](super::linearizable::check). No Apache ZooKeeper counterpart.
//!
//! ```text
//! # a comment; blank lines are ignored
//! history NAME                       a new history (lines before any header go to "-")
//! initial KEY absent                 the key's state before the first operation
//! initial KEY DATA VERSION           (keys start absent unless given)
//! INVOKE COMPLETE CLIENT KEY OP -> OUTCOME
//! ```
//!
//! - `INVOKE`, `COMPLETE`: times on one clock (any unit); `COMPLETE` is `-` when no
//!   answer came;
//! - `CLIENT`: a session id, decimal or `0x` hex (for reports only);
//! - `OP`: `create DATA` | `set DATA VERSION` | `delete VERSION` | `read`, where a
//!   `VERSION` of `-1` is unconditional and anything else a compare-and-set;
//! - `OUTCOME`: `ok` (a create or delete succeeded) | `written VERSION` (setData's new
//!   version) | `read absent` | `read DATA VERSION` | `error CODE` (an `ErrorCode`
//!   name such as `NoNode`, or its number) | `unknown` (no answer: may or may not have
//!   taken effect);
//! - `DATA`: the bytes, with `%`, bytes outside `!`..`~` and a lone `-` written `%XX`;
//!   `-` alone is the empty value.
//!
//! Example: `1200 1450 0x1000 /k0 set v7 3 -> written 4`.

use std::fmt::Write as _;

use super::linearizable::{Anomaly, History, Op, Operation, Outcome, Value, Versioned};
use crate::proto::ErrorCode;

/// One history of a file, with the name its header gave.
#[derive(Clone, Debug)]
pub struct Named {
    pub name: String,
    pub history: History,
}

/// A line that is not in the format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    pub why: String,
}

/// Reads every history of a file, in the order of their headers.
pub fn parse(text: &str) -> Result<Vec<Named>, ParseError> {
    let mut out: Vec<Named> = vec![];
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |why: String| ParseError { line: n + 1, why };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["history", name] => out.push(Named {
                name: (*name).to_string(),
                history: History::new(),
            }),
            ["history", ..] => return Err(err("`history` takes one name".into())),
            ["initial", key, rest @ ..] => {
                let value = value(rest).map_err(err)?;
                current(&mut out).set_initial(key, value);
            }
            _ => {
                let op = operation(&words).map_err(err)?;
                current(&mut out).push(op);
            }
        }
    }
    Ok(out)
}

fn current(out: &mut Vec<Named>) -> &mut History {
    if out.is_empty() {
        out.push(Named {
            name: "-".into(),
            history: History::new(),
        });
    }
    let last = out.len() - 1;
    &mut out[last].history
}

fn operation(words: &[&str]) -> Result<Operation, String> {
    let arrow = words
        .iter()
        .position(|w| *w == "->")
        .ok_or("no `->` between operation and outcome")?;
    let (head, outcome_words) = words.split_at(arrow);
    let [invoke, complete, client, key, op_words @ ..] = head else {
        return Err("expected INVOKE COMPLETE CLIENT KEY OP -> OUTCOME".into());
    };
    let complete = match *complete {
        "-" => None,
        t => Some(number::<u64>(t, "completion time")?),
    };
    Ok(Operation {
        client: client_id(client)?,
        key: (*key).to_string(),
        op: op(op_words)?,
        invoke: number(invoke, "invocation time")?,
        complete,
        outcome: outcome(outcome_words.get(1..).unwrap_or_default())?,
    })
}

fn op(words: &[&str]) -> Result<Op, String> {
    Ok(match words {
        ["create", data] => Op::Create {
            data: decode(data)?,
        },
        ["set", data, v] => Op::SetData {
            data: decode(data)?,
            expected: expected(v)?,
        },
        ["delete", v] => Op::Delete {
            expected: expected(v)?,
        },
        ["read"] => Op::Read,
        _ => return Err(format!("unknown operation `{}`", words.join(" "))),
    })
}

fn outcome(words: &[&str]) -> Result<Outcome, String> {
    Ok(match words {
        ["ok"] => Outcome::Done,
        ["written", v] => Outcome::Written {
            version: number(v, "version")?,
        },
        ["read", rest @ ..] => Outcome::Read(value(rest)?),
        ["error", code] => Outcome::Failed(error_code(code)?),
        ["unknown"] => Outcome::Unknown,
        _ => return Err(format!("unknown outcome `{}`", words.join(" "))),
    })
}

fn value(words: &[&str]) -> Result<Value, String> {
    match words {
        ["absent"] => Ok(None),
        [data, v] => Ok(Some(Versioned {
            data: decode(data)?,
            version: number(v, "version")?,
        })),
        _ => Err("a value is `absent` or `DATA VERSION`".into()),
    }
}

fn expected(word: &str) -> Result<Option<i32>, String> {
    let v: i32 = number(word, "version")?;
    Ok((v != -1).then_some(v))
}

fn number<T: std::str::FromStr>(word: &str, what: &str) -> Result<T, String> {
    word.parse().map_err(|_| format!("bad {what} `{word}`"))
}

fn client_id(word: &str) -> Result<i64, String> {
    let parsed = match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).map(|v| v as i64).ok(),
        None => word.parse().ok(),
    };
    parsed.ok_or_else(|| format!("bad client id `{word}`"))
}

fn error_code(word: &str) -> Result<ErrorCode, String> {
    if let Ok(n) = word.parse::<i32>() {
        return ErrorCode::try_from(n).map_err(|_| format!("unknown error code {n}"));
    }
    ErrorCode::ALL
        .into_iter()
        .find(|c| format!("{c:?}") == word)
        .ok_or_else(|| format!("unknown error code `{word}`"))
}

fn decode(word: &str) -> Result<Vec<u8>, String> {
    if word == "-" {
        return Ok(vec![]);
    }
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            let v = hex
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape in `{word}`"))?;
            out.push(v);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

/// The `DATA` form of some bytes.
pub fn encode(data: &[u8]) -> String {
    if data.is_empty() {
        return "-".into();
    }
    let mut s = String::with_capacity(data.len());
    for &b in data {
        if b == b'%' || !(b'!'..=b'~').contains(&b) || data == b"-" {
            let _ = write!(s, "%{b:02X}");
        } else {
            s.push(char::from(b));
        }
    }
    s
}

fn fmt_value(v: &Value) -> String {
    match v {
        None => "absent".into(),
        Some(Versioned { data, version }) => format!("{} {version}", encode(data)),
    }
}

/// One operation as a line of the format (without the newline).
pub fn format_op(o: &Operation) -> String {
    let op = match &o.op {
        Op::Create { data } => format!("create {}", encode(data)),
        Op::SetData { data, expected } => {
            format!("set {} {}", encode(data), expected.unwrap_or(-1))
        }
        Op::Delete { expected } => format!("delete {}", expected.unwrap_or(-1)),
        Op::Read => "read".into(),
    };
    let outcome = match &o.outcome {
        Outcome::Done => "ok".into(),
        Outcome::Written { version } => format!("written {version}"),
        Outcome::Read(v) => format!("read {}", fmt_value(v)),
        Outcome::Failed(c) => format!("error {c:?}"),
        Outcome::Unknown => "unknown".into(),
    };
    let complete = o.complete.map_or("-".to_string(), |c| c.to_string());
    format!(
        "{} {complete} {:#x} {} {op} -> {outcome}",
        o.invoke, o.client, o.key
    )
}

/// Histories in the format, readable back by [`parse`].
pub fn format(histories: &[Named]) -> String {
    let mut s = String::new();
    for h in histories {
        let _ = writeln!(s, "history {}", h.name);
        for (key, v) in h.history.initial() {
            let _ = writeln!(s, "initial {key} {}", fmt_value(v));
        }
        for o in h.history.ops() {
            let _ = writeln!(s, "{}", format_op(o));
        }
    }
    s
}

/// An anomaly with the operations it names shown as lines of the format.
pub fn describe(a: &Anomaly, h: &History) -> String {
    let show = |i: &usize| {
        h.ops()
            .get(*i)
            .map_or(format!("#{i}?"), |o| format!("#{i} {}", format_op(o)))
    };
    match a {
        Anomaly::NotLinearizable {
            key,
            prefix,
            state,
            stuck,
        } => {
            let p: Vec<String> = prefix.iter().map(show).collect();
            let s: Vec<String> = stuck.iter().map(show).collect();
            format!(
                "{key} is not linearizable\n  longest legal order:\n    {}\n  state then: {}\n  no next step fits:\n    {}",
                p.join("\n    "),
                fmt_value(state),
                s.join("\n    ")
            )
        }
        Anomaly::Malformed { index, why } => format!("{}: {why}", show(index)),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
