//! The simulated servers' data: znodes reduced to data, version and ephemeral owner, and
//! the live sessions, built by applying the delivered txns; and the leader's request
//! preparation that turns a client request into a txn against the pending state.
//! Stands in for `DataTree` (apply), `SessionTrackerImpl` (which sessions are live) and
//! `PrepRequestProcessor` (request → txn, with its error precedence for these ops).
//!
//! Session ids from `SESSION_BASE` up belong to simulated clients; smaller client ids
//! are the servers' own background writes, which need no session.

use std::collections::{BTreeMap, BTreeSet};

use super::checker::linearizable::{Value, Versioned};
use crate::jute::Limits;
use crate::proto::codec::{decode_request, put_request_record};
use crate::proto::quorum::ForwardedRequest;
use crate::proto::{
    CreateRequest, CreateTxn, DeleteRequest, ErrorCode, OpCode, Request, RequestHeader,
    SetDataRequest, SetDataTxn, Txn, TxnEntry,
};

pub const SESSION_BASE: i64 = 0x1000;

/// `CreateMode.EPHEMERAL`'s flag bit.
const EPHEMERAL: i32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZNode {
    pub data: Vec<u8>,
    pub version: i32,
    /// The owning session of an ephemeral, 0 for a persistent node.
    pub owner: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    pub nodes: BTreeMap<String, ZNode>,
    pub sessions: BTreeSet<i64>,
}

impl Tree {
    pub fn from_log(log: &[TxnEntry]) -> Tree {
        let mut t = Tree::default();
        for e in log {
            let _ = t.apply(e);
        }
        t
    }

    pub fn read(&self, path: &str) -> Value {
        self.nodes.get(path).map(|n| Versioned {
            data: n.data.clone(),
            version: n.version,
        })
    }

    /// Ephemerals of `session`, in path order.
    pub fn ephemerals(&self, session: i64) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.owner == session)
            .map(|(p, _)| p.clone())
            .collect()
    }

    fn live(&self, session: i64) -> bool {
        session < SESSION_BASE || self.sessions.contains(&session)
    }

    /// Applies one txn. It always applies as `DataTree.processTxn` would; `Err` says
    /// the txn stream broke a session rule (a write by a dead session, a close that
    /// does not name exactly the session's ephemerals, a session created twice).
    pub fn apply(&mut self, e: &TxnEntry) -> Result<(), String> {
        let s = e.header.client_id;
        let live = self.live(s);
        match &e.txn {
            Txn::CreateSession { .. } => {
                if !self.sessions.insert(s) {
                    return Err(format!("session {s:#x} created twice"));
                }
            }
            Txn::CloseSession(paths) => return self.close(s, paths.as_deref()),
            Txn::Create(c) | Txn::Create2(c) => {
                let owner = if c.ephemeral { s } else { 0 };
                let node = ZNode {
                    data: c.data.clone().unwrap_or_default(),
                    version: 0,
                    owner,
                };
                self.nodes.insert(c.path.clone(), node);
            }
            Txn::SetData(t) => {
                if let Some(n) = self.nodes.get_mut(&t.path) {
                    n.data = t.data.clone().unwrap_or_default();
                    n.version = t.version;
                }
            }
            Txn::Delete(p) => {
                self.nodes.remove(p);
            }
            _ => return Ok(()),
        }
        if live || matches!(e.txn, Txn::CreateSession { .. }) {
            Ok(())
        } else {
            Err(format!(
                "{:?} applied for closed session {s:#x} at {:#x}",
                e.txn.op_code(),
                e.header.zxid
            ))
        }
    }

    fn close(&mut self, s: i64, paths: Option<&[String]>) -> Result<(), String> {
        let owned = self.ephemerals(s);
        for p in &owned {
            self.nodes.remove(p);
        }
        // A second close (one in doubt, resent) is harmless, as in `DataTree.killSession`.
        self.sessions.remove(&s);
        let mut named: Vec<String> = paths.unwrap_or_default().to_vec();
        named.sort();
        if named != owned {
            return Err(format!(
                "closeSession of {s:#x} names {named:?} but it owns {owned:?}"
            ));
        }
        Ok(())
    }
}

/// A client request as the simulated clients send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Req {
    CreateSession,
    CloseSession,
    Create {
        path: String,
        data: Vec<u8>,
        ephemeral: bool,
    },
    SetData {
        path: String,
        data: Vec<u8>,
        version: i32,
    },
    Delete {
        path: String,
        version: i32,
    },
    Sync,
    Read {
        path: String,
    },
}

impl Req {
    pub fn is_read(&self) -> bool {
        matches!(self, Req::Read { .. })
    }

    /// The forwarded form: op code and the jute request record, as a learner sends it.
    pub fn forwarded(&self, session: i64, cxid: i32) -> ForwardedRequest {
        let (op, req) = match self {
            Req::CreateSession => (OpCode::CreateSession, None),
            Req::CloseSession => (OpCode::CloseSession, None),
            Req::Create {
                path,
                data,
                ephemeral,
            } => {
                let flags = if *ephemeral { EPHEMERAL } else { 0 };
                let r = CreateRequest {
                    path: path.clone(),
                    data: Some(data.clone()),
                    acl: vec![],
                    flags,
                };
                (OpCode::Create, Some(Request::Create(r)))
            }
            Req::SetData {
                path,
                data,
                version,
            } => {
                let r = SetDataRequest {
                    path: path.clone(),
                    data: Some(data.clone()),
                    version: *version,
                };
                (OpCode::SetData, Some(Request::SetData(r)))
            }
            Req::Delete { path, version } => (
                OpCode::Delete,
                Some(Request::Delete(DeleteRequest {
                    path: path.clone(),
                    version: *version,
                })),
            ),
            Req::Sync | Req::Read { .. } => (OpCode::Sync, None),
        };
        let mut body = vec![];
        if let Some(r) = req {
            put_request_record(&mut body, &r);
        }
        ForwardedRequest {
            session: crate::proto::SessionId(session),
            cxid,
            op: op.code(),
            body,
            auth: vec![],
        }
    }
}

/// `PrepRequestProcessor.pRequest2Txn` for the simulated ops: the txn a forwarded write
/// becomes, checked against `pending` (the applied state plus every txn proposed since).
pub fn prep(pending: &Tree, req: &ForwardedRequest) -> Txn {
    let s = req.session.0;
    match OpCode::try_from(req.op) {
        Ok(OpCode::CreateSession) => return Txn::CreateSession { timeout_ms: 4000 },
        Ok(OpCode::CloseSession) => return Txn::CloseSession(Some(pending.ephemerals(s))),
        _ => {}
    }
    if !pending.live(s) {
        return Txn::Error(ErrorCode::SessionExpired);
    }
    let hdr = RequestHeader {
        xid: req.cxid,
        op: req.op,
    };
    match decode_request(&hdr, &req.body, &Limits::default()) {
        Ok(Request::Create(c)) => prep_create(pending, c),
        Ok(Request::SetData(r)) => match pending.nodes.get(&r.path) {
            None => Txn::Error(ErrorCode::NoNode),
            Some(n) if r.version != -1 && r.version != n.version => {
                Txn::Error(ErrorCode::BadVersion)
            }
            Some(n) => Txn::SetData(SetDataTxn {
                path: r.path,
                data: r.data,
                version: n.version.wrapping_add(1),
            }),
        },
        Ok(Request::Delete(r)) => match pending.nodes.get(&r.path) {
            None => Txn::Error(ErrorCode::NoNode),
            Some(n) if r.version != -1 && r.version != n.version => {
                Txn::Error(ErrorCode::BadVersion)
            }
            Some(_) => Txn::Delete(r.path),
        },
        _ => Txn::Error(ErrorCode::MarshallingError),
    }
}

fn prep_create(pending: &Tree, c: CreateRequest) -> Txn {
    if pending.nodes.contains_key(&c.path) {
        return Txn::Error(ErrorCode::NodeExists);
    }
    let ephemeral = c.flags & EPHEMERAL != 0;
    Txn::Create(CreateTxn {
        path: c.path,
        data: c.data,
        acl: c.acl,
        ephemeral,
        parent_cversion: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::TxnHeader;

    fn entry(session: i64, txn: Txn) -> TxnEntry {
        TxnEntry {
            header: TxnHeader {
                client_id: session,
                ..Default::default()
            },
            txn,
            digest: None,
        }
    }

    fn prepped(t: &mut Tree, session: i64, r: Req) -> Result<Txn, String> {
        let txn = prep(t, &r.forwarded(session, 1));
        t.apply(&entry(session, txn.clone())).map(|_| txn)
    }

    #[test]
    fn prep_checks_versions_and_existence_like_the_leader() {
        let (s, mut t) = (SESSION_BASE, Tree::default());
        prepped(&mut t, s, Req::CreateSession).unwrap();
        let create = Req::Create {
            path: "/a".into(),
            data: b"x".to_vec(),
            ephemeral: false,
        };
        assert!(matches!(
            prepped(&mut t, s, create.clone()),
            Ok(Txn::Create(_))
        ));
        assert_eq!(
            prepped(&mut t, s, create),
            Ok(Txn::Error(ErrorCode::NodeExists))
        );
        let cas = |v| Req::SetData {
            path: "/a".into(),
            data: b"y".to_vec(),
            version: v,
        };
        assert_eq!(
            prepped(&mut t, s, cas(3)),
            Ok(Txn::Error(ErrorCode::BadVersion))
        );
        assert!(matches!(
            prepped(&mut t, s, cas(0)),
            Ok(Txn::SetData(SetDataTxn { version: 1, .. }))
        ));
        assert_eq!(
            t.read("/a"),
            Some(Versioned {
                data: b"y".to_vec(),
                version: 1
            })
        );
        assert_eq!(
            prepped(
                &mut t,
                s,
                Req::Delete {
                    path: "/b".into(),
                    version: -1
                }
            ),
            Ok(Txn::Error(ErrorCode::NoNode))
        );
    }

    #[test]
    fn closing_a_session_removes_its_ephemerals_and_later_writes_expire() {
        let (s, mut t) = (SESSION_BASE + 1, Tree::default());
        prepped(&mut t, s, Req::CreateSession).unwrap();
        prepped(
            &mut t,
            s,
            Req::Create {
                path: "/e".into(),
                data: vec![],
                ephemeral: true,
            },
        )
        .unwrap();
        assert_eq!(
            prepped(&mut t, s, Req::CloseSession),
            Ok(Txn::CloseSession(Some(vec!["/e".into()])))
        );
        assert!(t.nodes.is_empty());
        let late = Req::Create {
            path: "/e".into(),
            data: vec![],
            ephemeral: true,
        };
        assert_eq!(
            prepped(&mut t, s, late),
            Ok(Txn::Error(ErrorCode::SessionExpired))
        );
    }

    #[test]
    fn the_txn_stream_is_checked_for_session_rules() {
        let (s, mut t) = (SESSION_BASE + 2, Tree::default());
        let eph = Txn::Create(CreateTxn {
            path: "/e".into(),
            data: None,
            acl: vec![],
            ephemeral: true,
            parent_cversion: 0,
        });
        assert!(
            t.apply(&entry(s, eph.clone())).is_err(),
            "create by a session never opened"
        );
        let mut t = Tree::default();
        t.apply(&entry(s, Txn::CreateSession { timeout_ms: 1 }))
            .unwrap();
        t.apply(&entry(s, eph)).unwrap();
        assert!(
            t.apply(&entry(s, Txn::CloseSession(Some(vec![])))).is_err(),
            "a close that forgets an ephemeral"
        );
        assert!(t.nodes.is_empty(), "the close still removes it");
    }
}
