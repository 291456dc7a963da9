//! Applying committed transactions (`DataTree.processTxn`): dispatch by txn type, the
//! multi algorithm, and the fuzzy-replay fix-ups Java makes after a failed create.
//! The node operations themselves are in `ops`.

use crate::proto::{ErrorCode, NodeKind, Txn, TxnHeader, CONTAINER_OWNER};

use super::ops::{split_path, Events, NewNode};
use super::{ApplyOutcome, DataTree, TxnResult};

/// The `createNode` arguments of a create txn of any type; `None` for other txns.
fn create_args<'a>(hdr: &TxnHeader, txn: &'a Txn) -> Option<NewNode<'a>> {
    let (path, data, acl, owner, parent_cversion) = match txn {
        Txn::Create(t) | Txn::Create2(t) => {
            let owner = if t.ephemeral { hdr.client_id } else { 0 };
            (&t.path, &t.data, &t.acl, owner, t.parent_cversion)
        }
        Txn::CreateContainer(t) => (&t.path, &t.data, &t.acl, CONTAINER_OWNER, t.parent_cversion),
        Txn::CreateTtl(t) => (
            &t.path,
            &t.data,
            &t.acl,
            NodeKind::Ttl(t.ttl).owner(),
            t.parent_cversion,
        ),
        _ => return None,
    };
    Some(NewNode {
        path,
        data,
        acl,
        owner,
        parent_cversion,
    })
}

/// Sub-txn types `processTxn` can decode inside a multi; any other stops the multi
/// where it stands (Java throws "Invalid type of op" after applying what came before).
fn valid_in_multi(txn: &Txn) -> bool {
    matches!(
        txn,
        Txn::Create(_)
            | Txn::CreateTtl(_)
            | Txn::CreateContainer(_)
            | Txn::Delete(_)
            | Txn::DeleteContainer(_)
            | Txn::SetData(_)
            | Txn::Error(_)
            | Txn::Check { .. }
    )
}

fn result_of<T>(r: Result<T, ErrorCode>, ok: impl FnOnce(T) -> TxnResult) -> TxnResult {
    r.map_or_else(TxnResult::Error, ok)
}

impl DataTree {
    /// Applies one committed txn (`DataTree.processTxn`). A txn that cannot apply (as
    /// when replaying the logs over a fuzzy snapshot) yields `TxnResult::Error` and
    /// leaves only what Java leaves: a failed delete still moves its parent's pzxid, a
    /// failed create still counts a use of its ACL.
    pub fn apply(&mut self, hdr: &TxnHeader, txn: &Txn) -> ApplyOutcome {
        self.apply_keeping(hdr, txn, true)
    }

    /// [`apply`](Self::apply); with `keep_events` false the outcome lists no watch
    /// triggers (for a caller that knows no watch is registered).
    pub fn apply_keeping(&mut self, hdr: &TxnHeader, txn: &Txn, keep_events: bool) -> ApplyOutcome {
        let mut events = Events {
            list: Vec::new(),
            keep: keep_events,
        };
        let result = self.process(hdr, txn, &mut events);
        self.last_processed_zxid = self.last_processed_zxid.max(hdr.zxid);
        self.after_top_level_txn(hdr.zxid);
        ApplyOutcome {
            result,
            events: events.list,
        }
    }

    fn process(&mut self, hdr: &TxnHeader, txn: &Txn, events: &mut Events) -> TxnResult {
        if let Some(new) = create_args(hdr, txn) {
            let result = match self.create_node(&new, hdr.zxid, hdr.time, events) {
                Ok(stat) => TxnResult::Created {
                    path: new.path.to_string(),
                    stat,
                },
                Err(code) => TxnResult::Error(code),
            };
            if matches!(txn, Txn::Create(_)) && result == TxnResult::Error(ErrorCode::NodeExists) {
                return self.adjust_parent_after_node_exists(&new, hdr.zxid);
            }
            return result;
        }
        match txn {
            Txn::Delete(path) | Txn::DeleteContainer(path) => {
                result_of(self.delete_node(path, hdr.zxid, events), |()| {
                    TxnResult::Deleted
                })
            }
            Txn::SetData(t) | Txn::Reconfig(t) => {
                let r = self.set_data(&t.path, &t.data, t.version, hdr, events);
                result_of(r, |stat| TxnResult::SetData { stat })
            }
            Txn::SetAcl(t) => result_of(self.set_acl(&t.path, &t.acl, t.version), |stat| {
                TxnResult::SetAcl { stat }
            }),
            Txn::Check { .. } => TxnResult::Checked,
            Txn::CreateSession { .. } => TxnResult::SessionCreated,
            Txn::CloseSession(paths) => {
                self.kill_session(hdr.client_id, hdr.zxid, paths.as_deref(), events);
                TxnResult::SessionClosed
            }
            Txn::Error(code) => TxnResult::Error(*code),
            Txn::Multi(subs) => self.process_multi(hdr, subs, events),
            Txn::Create(_) | Txn::Create2(_) | Txn::CreateContainer(_) | Txn::CreateTtl(_) => {
                TxnResult::Error(ErrorCode::SystemError) // handled above
            }
        }
    }

    /// A multi applies nothing if any sub-txn is an error: sub-results are `Ok` before
    /// the first error txn, the error txns' own codes, and `RuntimeInconsistency` for
    /// other txns after it. Otherwise every sub-txn applies in order with the multi's
    /// header, even past one that fails.
    fn process_multi(&mut self, hdr: &TxnHeader, subs: &[Txn], events: &mut Events) -> TxnResult {
        let failed = subs.iter().any(|t| matches!(t, Txn::Error(_)));
        let mut post_failed = false;
        let mut results = Vec::with_capacity(subs.len());
        for sub in subs {
            if !valid_in_multi(sub) {
                break;
            }
            let is_error = matches!(sub, Txn::Error(_));
            post_failed |= is_error;
            let result = if failed && !is_error {
                let code = if post_failed {
                    ErrorCode::RuntimeInconsistency
                } else {
                    ErrorCode::Ok
                };
                TxnResult::Error(code)
            } else {
                self.process(hdr, sub, events)
            };
            results.push(result);
        }
        TxnResult::Multi(results)
    }

    /// Replaying a create (type 1 only) whose node is already there, because it was in
    /// a fuzzy snapshot: the parent still takes the txn's cversion and pzxid
    /// (`processTxn`, after the switch). The result stays NodeExists.
    fn adjust_parent_after_node_exists(&mut self, new: &NewNode<'_>, zxid: i64) -> TxnResult {
        let parent = split_path(new.path).map_or("", |(p, _)| p);
        match self.set_cversion_pzxid(parent, new.parent_cversion, zxid) {
            Ok(()) => TxnResult::Error(ErrorCode::NodeExists),
            Err(code) => TxnResult::Error(code),
        }
    }

    /// `setCversionPzxid`: only ever moves the counter forward; -1 means "current + 1".
    pub fn set_cversion_pzxid(
        &mut self,
        path: &str,
        cversion: i32,
        zxid: i64,
    ) -> Result<(), ErrorCode> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let id = self.nodes.lookup(path).ok_or(ErrorCode::NoNode)?;
        let current = self.nodes.stat(id).cversion;
        let cversion = if cversion == -1 {
            current.wrapping_add(1)
        } else {
            cversion
        };
        if cversion > current {
            self.nodes.update(id, path, |stat, _| {
                stat.cversion = cversion;
                stat.pzxid = zxid;
            });
        }
        Ok(())
    }
}
