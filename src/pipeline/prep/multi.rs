//! multi (op 14): every op prepared in order against the overlay, all or nothing
//! (the `OpCode.multi` case of `PrepRequestProcessor.pRequestHelper`).

use super::{Cursor, Fail};
use crate::proto::{ErrorCode, Request, Txn};

impl Cursor<'_> {
    /// Later ops see the changes of earlier ones. At the first failing op the changes of
    /// this multi are rolled back; that op becomes `ErrorTxn(code)`, the ones after it
    /// `ErrorTxn(RuntimeInconsistency)`, and the ones before keep their real txns (the
    /// applier turns a multi holding an error into a no-op).
    pub(super) fn multi(&mut self, ops: &mut [Request]) -> Txn {
        if !ops.iter().all(is_multi_write) {
            // Java cannot even decode such a multi.
            return Txn::Error(ErrorCode::MarshallingError);
        }
        let checkpoint = self.pending.checkpoint();
        let mut txns = Vec::with_capacity(ops.len());
        let mut failed = false;
        for op in ops {
            if failed {
                txns.push(Txn::Error(ErrorCode::RuntimeInconsistency));
                continue;
            }
            match self.single(op) {
                Ok(txn) => txns.push(txn),
                Err(Fail::Code(code)) => {
                    failed = true;
                    txns.push(Txn::Error(code));
                    self.pending.rollback(checkpoint.clone());
                }
                // A non-Keeper exception escapes Java's loop: the whole request fails
                // and, as there, the changes of earlier ops stay pending until this
                // zxid is applied.
                Err(Fail::Internal) => return Txn::Error(ErrorCode::MarshallingError),
            }
        }
        Txn::Multi(txns)
    }
}

/// The write ops `MultiOperationRecord` accepts.
fn is_multi_write(op: &Request) -> bool {
    matches!(
        op,
        Request::Create(_)
            | Request::Create2(_)
            | Request::CreateContainer(_)
            | Request::CreateTtl(_)
            | Request::Delete(_)
            | Request::SetData(_)
            | Request::Check(_)
    )
}

#[cfg(test)]
mod tests {
    use super::super::fake::*;
    use super::super::{Prep, PrepConfig};
    use super::*;
    use crate::proto::records::CheckVersionRequest;
    use crate::proto::{Acl, SetDataTxn};

    fn check(path: &str, version: i32) -> Request {
        Request::Check(CheckVersionRequest {
            path: path.into(),
            version,
        })
    }

    fn multi(ops: Vec<Request>) -> Request {
        Request::Multi(ops)
    }

    fn sub_txns(txn: Txn) -> Vec<Txn> {
        match txn {
            Txn::Multi(v) => v,
            other => panic!("not a multi: {other:?}"),
        }
    }

    #[test]
    fn later_ops_see_earlier_ones() {
        let t = FakeTree::fresh();
        let req = multi(vec![
            create("/m", 0),
            create("/m/c", 0),
            set_data("/m", b"v", 0),
            check("/m", 1),
        ]);
        let txns = sub_txns(prep().prepare(&t, &ctx(5, &[]), &req));
        assert_eq!(created_path(&txns[0]), Some("/m"));
        assert_eq!(created_path(&txns[1]), Some("/m/c"));
        assert_eq!(
            txns[2],
            Txn::SetData(SetDataTxn {
                path: "/m".into(),
                data: Some(b"v".to_vec()),
                version: 1
            })
        );
        assert_eq!(
            txns[3],
            Txn::Check {
                path: "/m".into(),
                version: 2
            }
        );
    }

    #[test]
    fn sequential_creates_inside_a_multi_count_each_other() {
        let t = tree_with_a();
        let req = multi(vec![create("/a/s", 2), create("/a/s", 2)]);
        let txns = sub_txns(prep().prepare(&t, &ctx(5, &[]), &req));
        assert_eq!(created_path(&txns[0]), Some("/a/s0000000000"));
        assert_eq!(created_path(&txns[1]), Some("/a/s0000000001"));
    }

    #[test]
    fn failure_at_the_first_op() {
        let t = tree_with_a();
        let mut p = prep();
        let txns = sub_txns(p.prepare(
            &t,
            &ctx(5, &[]),
            &multi(vec![delete("/nope", -1), create("/x", 0)]),
        ));
        assert_eq!(
            txns,
            vec![err(ErrorCode::NoNode), err(ErrorCode::RuntimeInconsistency)]
        );
        assert!(p.pending().is_empty());
    }

    #[test]
    fn failure_in_the_middle_rolls_back_earlier_ops() {
        let t = tree_with_a();
        let mut p = prep();
        let req = multi(vec![create("/x", 0), delete("/nope", -1), create("/y", 0)]);
        let txns = sub_txns(p.prepare(&t, &ctx(5, &[]), &req));
        assert_eq!(created_path(&txns[0]), Some("/x"));
        assert_eq!(
            txns[1..],
            [err(ErrorCode::NoNode), err(ErrorCode::RuntimeInconsistency)]
        );
        assert!(p.pending().is_empty());
        assert_eq!(
            created_path(&p.prepare(&t, &ctx(6, &[]), &create("/x", 0))),
            Some("/x")
        );
    }

    #[test]
    fn failure_at_the_last_op() {
        let t = tree_with_a();
        let req = multi(vec![
            create("/x", 0),
            set_data("/a", b"v", -1),
            check("/a", 7),
        ]);
        let txns = sub_txns(prep().prepare(&t, &ctx(5, &[]), &req));
        assert_eq!(txns.len(), 3);
        assert!(matches!(txns[1], Txn::SetData(_)));
        assert_eq!(txns[2], err(ErrorCode::BadVersion));
    }

    #[test]
    fn rollback_keeps_changes_of_earlier_requests() {
        let t = tree_with_a();
        let mut p = prep();
        p.prepare(&t, &ctx(4, &[]), &create("/a/b", 0));
        let req = multi(vec![create("/a/b/c", 0), delete("/a", -1)]);
        let txns = sub_txns(p.prepare(&t, &ctx(5, &[]), &req));
        assert_eq!(txns[1], err(ErrorCode::NotEmpty));
        assert!(p.pending().get("/a/b").is_some());
        assert!(p.pending().get("/a/b/c").is_none());
        let parent = p
            .pending()
            .get("/a")
            .and_then(|c| c.node.clone())
            .map(|n| n.num_children);
        assert_eq!(parent, Some(1));
    }

    #[test]
    fn an_empty_multi_is_an_empty_multi_txn() {
        assert_eq!(
            prep().prepare(&FakeTree::fresh(), &ctx(5, &[]), &multi(vec![])),
            Txn::Multi(vec![])
        );
    }

    #[test]
    fn non_write_ops_make_the_whole_multi_undecodable() {
        let req = multi(vec![create("/x", 0), Request::Ping]);
        assert_eq!(
            prep().prepare(&FakeTree::fresh(), &ctx(5, &[]), &req),
            err(ErrorCode::MarshallingError)
        );
    }

    #[test]
    fn an_internal_failure_fails_the_whole_request() {
        let mut t = tree_with_a();
        t.quota("/a", "count", "count=0");
        let mut p = Prep::new(PrepConfig {
            enforce_quota: true,
            ..Default::default()
        });
        let req = multi(vec![create("/x", 0), create("/a/q", 0)]);
        assert_eq!(
            p.prepare(&t, &ctx(5, &[]), &req),
            err(ErrorCode::MarshallingError)
        );
        // As in Java, the earlier op's changes linger until zxid 5 is applied.
        assert!(p.pending().get("/x").is_some());
        p.applied(5);
        assert!(p.pending().is_empty());
    }

    #[test]
    fn acl_of_a_multi_create_is_fixed_up() {
        let mut c = create_req("/x", 0);
        c.acl = vec![
            Acl::new(31, "world", "anyone"),
            Acl::new(31, "world", "anyone"),
        ];
        let txns = sub_txns(prep().prepare(
            &FakeTree::fresh(),
            &ctx(5, &[]),
            &multi(vec![Request::Create2(c)]),
        ));
        assert!(matches!(&txns[0], Txn::Create2(t) if t.acl == Acl::open_unsafe()));
    }
}
