//! `rzk txnlog-dump` and `rzk snapshot-dump` (`TxnLogToolkit`, `SnapshotFormatter`):
//! human-readable listings of files written by either server.

use std::fmt::Write as _;
use std::path::Path;

use super::snapshot::format::{NodeRecord, SnapshotContents};
use super::snapshot::reader::read_file;
use super::txnlog::format::{scan, LogEnd};
use super::txnlog::reader::{limits, map};
use crate::proto::{Acl, Txn, TxnEntry};

/// The listing of a txn log file; an error for a file that is not a log.
pub fn txnlog_dump(path: &Path) -> Result<String, String> {
    let bytes = map(path)?;
    let s = scan(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ZooKeeper Transactional Log File with dbid {} txnlog format version {}",
        s.header.dbid, s.header.version
    );
    for raw in &s.entries {
        match raw.decode(&limits()) {
            Ok(e) => out.push_str(&entry_line(&e)),
            Err(e) => {
                let _ = writeln!(out, "entry at offset {} does not decode: {e}", raw.offset);
            }
        }
    }
    match s.end {
        LogEnd::Clean { .. } => {
            let _ = writeln!(out, "EOF reached after {} txns.", s.entries.len());
        }
        LogEnd::Bad {
            offset,
            reason,
            zeros_after,
            ..
        } => {
            let what = if zeros_after {
                "partial last transaction"
            } else {
                "corrupt record"
            };
            let _ = writeln!(
                out,
                "{what} at offset {offset}: {reason} (after {} txns)",
                s.entries.len()
            );
        }
    }
    Ok(out)
}

fn entry_line(e: &TxnEntry) -> String {
    let h = &e.header;
    let mut line = format!(
        "time {} session 0x{:x} cxid 0x{:x} zxid 0x{:x} {} {}",
        h.time,
        h.client_id,
        h.cxid,
        h.zxid,
        op_name(&e.txn),
        txn_detail(&e.txn)
    );
    if let Some(d) = e.digest {
        let _ = write!(line, " digest v{} {}", d.version, d.tree_digest);
    }
    line.push('\n');
    line
}

/// `Request.op2String`.
fn op_name(t: &Txn) -> &'static str {
    match t {
        Txn::Create(_) => "create",
        Txn::Create2(_) => "create2",
        Txn::CreateContainer(_) => "createContainer",
        Txn::CreateTtl(_) => "createTtl",
        Txn::Delete(_) => "delete",
        Txn::DeleteContainer(_) => "deleteContainer",
        Txn::SetData(_) => "setData",
        Txn::Reconfig(_) => "reconfig",
        Txn::SetAcl(_) => "setACL",
        Txn::Check { .. } => "check",
        Txn::CreateSession { .. } => "createSession",
        Txn::CloseSession(_) => "closeSession",
        Txn::Error(_) => "error",
        Txn::Multi(_) => "multi",
    }
}

fn acl_text(acls: &[Acl]) -> String {
    let parts: Vec<String> = acls
        .iter()
        .map(|a| format!("{}:{}:{}", a.id.scheme, a.id.id, a.perms))
        .collect();
    format!("[{}]", parts.join(","))
}

fn data_text(data: &Option<Vec<u8>>) -> String {
    match data {
        None => "null".into(),
        Some(d) => format!(
            "#{}",
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

fn txn_detail(t: &Txn) -> String {
    match t {
        Txn::Create(c) | Txn::Create2(c) => {
            format!(
                "'{},{},{},{},{}",
                c.path,
                data_text(&c.data),
                acl_text(&c.acl),
                c.ephemeral,
                c.parent_cversion
            )
        }
        Txn::CreateContainer(c) => format!(
            "'{},{},{},{}",
            c.path,
            data_text(&c.data),
            acl_text(&c.acl),
            c.parent_cversion
        ),
        Txn::CreateTtl(c) => {
            format!(
                "'{},{},{},{},{}",
                c.path,
                data_text(&c.data),
                acl_text(&c.acl),
                c.parent_cversion,
                c.ttl
            )
        }
        Txn::Delete(p) | Txn::DeleteContainer(p) => format!("'{p}"),
        Txn::SetData(s) | Txn::Reconfig(s) => {
            format!("'{},{},{}", s.path, data_text(&s.data), s.version)
        }
        Txn::SetAcl(s) => format!("'{},{},{}", s.path, acl_text(&s.acl), s.version),
        Txn::Check { path, version } => format!("'{path},{version}"),
        Txn::CreateSession { timeout_ms } => format!("{timeout_ms}"),
        Txn::CloseSession(paths) => format!("{paths:?}"),
        Txn::Error(code) => format!("{}", code.code()),
        Txn::Multi(subs) => {
            let parts: Vec<String> = subs
                .iter()
                .map(|s| format!("{}:{}", op_name(s), txn_detail(s)))
                .collect();
            format!("[{}]", parts.join("; "))
        }
    }
}

/// The listing of a snapshot file (plain or gzip).
pub fn snapshot_dump(path: &Path) -> Result<String, String> {
    let bytes = read_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let c = SnapshotContents::decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = format!("ZNode Details (count={}):\n", c.nodes.len());
    for n in &c.nodes {
        node_text(n, &mut out);
    }
    let _ = writeln!(out, "----\nACLs (count={}):", c.acls.len());
    for (key, list) in &c.acls {
        let _ = writeln!(out, "  {key}: {}", acl_text(list));
    }
    let _ = writeln!(
        out,
        "Session Details (sid, timeout) (count={}):",
        c.sessions.len()
    );
    for (id, timeout) in &c.sessions {
        let _ = writeln!(out, "0x{id:x}, {timeout}");
    }
    if let Some(d) = c.trailer.digest {
        let _ = writeln!(
            out,
            "Digest: zxid 0x{:x} version {} digest {}",
            d.zxid, d.version, d.digest
        );
    }
    Ok(out)
}

fn node_text(n: &NodeRecord, out: &mut String) {
    let s = &n.stat;
    let path = if n.path.is_empty() { "/" } else { &n.path };
    let _ = writeln!(out, "----\n{path}");
    let _ = writeln!(
        out,
        "  cZxid = 0x{:016x}\n  ctime = {}\n  mZxid = 0x{:016x}\n  mtime = {}",
        s.czxid, s.ctime, s.mzxid, s.mtime
    );
    let _ = writeln!(
        out,
        "  pZxid = 0x{:016x}\n  cversion = {}\n  dataVersion = {}\n  aclVersion = {}",
        s.pzxid, s.cversion, s.version, s.aversion
    );
    let _ = writeln!(
        out,
        "  ephemeralOwner = 0x{:016x}\n  acl = {}",
        s.ephemeral_owner, n.acl
    );
    let _ = writeln!(
        out,
        "  dataLength = {}",
        n.data.as_ref().map_or(0, Vec::len)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/tree/testdata")
            .join(name)
    }

    #[test]
    fn dumps_a_java_log() {
        let out = txnlog_dump(&testdata("log.1")).unwrap();
        assert!(out
            .starts_with("ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\n"));
        assert!(out.contains("zxid 0x1 createSession"), "{out}");
        assert!(out.trim_end().ends_with("txns."));
    }

    #[test]
    fn dumps_a_java_snapshot() {
        let out = snapshot_dump(&testdata("snapshot.0")).unwrap();
        assert!(
            out.starts_with("ZNode Details (count=4):\n----\n/\n"),
            "{out}"
        );
        assert!(out.contains("/zookeeper/config\n"));
    }

    #[test]
    fn refuses_a_non_log() {
        assert!(txnlog_dump(&testdata("snapshot.0"))
            .unwrap_err()
            .contains("bad magic"));
    }
}
