//! create, create2, createContainer and createTTL (`PrepRequestProcessor.pRequest2TxnCreate`).

use super::{Cursor, NewData, OwnerKind, Step};
use crate::pipeline::acl::fixup_acl_shared;
use crate::pipeline::path::{parent_for_create, validate_path};
use crate::pipeline::view::NodeRecord;
use crate::proto::records::{CreateRequest, CreateTtlRequest};
use crate::proto::{
    perms, Acl, CreateContainerTxn, CreateMode, CreateTtlTxn, CreateTxn, ErrorCode, NodeKind,
    OpCode, StatPersisted, Txn, CONTAINER_OWNER, TTL_MAX_MS,
};
use crate::tree::NodeDigest;

/// The fields every create request carries; `ttl` is -1 for the non-TTL opcodes.
struct CreateArgs<'r> {
    op: OpCode,
    path: &'r str,
    data: &'r Option<Vec<u8>>,
    acl: &'r [Acl],
    flags: i32,
    ttl: i64,
}

/// What the checks settled, ready to become a txn and change records.
struct Accepted<'r> {
    path: String,
    /// Part of the request's path.
    parent: &'r str,
    parent_rec: NodeRecord,
    parent_digest: Option<NodeDigest>,
    acl: std::sync::Arc<[Acl]>,
    mode: CreateMode,
}

impl Cursor<'_> {
    /// The txn takes the request's data, and its ACL list when that is the one fixupACL
    /// settled on.
    pub(super) fn create(&mut self, op: OpCode, r: &mut CreateRequest, ttl: i64) -> Step<Txn> {
        let args = CreateArgs {
            op,
            path: &r.path,
            data: &r.data,
            acl: &r.acl,
            flags: r.flags,
            ttl,
        };
        let made = self.create_any(&args)?;
        Ok(made.into_txn(op, ttl, r.data.take(), std::mem::take(&mut r.acl)))
    }

    pub(super) fn create_ttl(&mut self, r: &mut CreateTtlRequest) -> Step<Txn> {
        let args = CreateArgs {
            op: OpCode::CreateTtl,
            path: &r.path,
            data: &r.data,
            acl: &r.acl,
            flags: r.flags,
            ttl: r.ttl,
        };
        let made = self.create_any(&args)?;
        Ok(made.into_txn(
            OpCode::CreateTtl,
            r.ttl,
            r.data.take(),
            std::mem::take(&mut r.acl),
        ))
    }

    fn create_any(&mut self, args: &CreateArgs) -> Step<Made> {
        let accepted = self.accept_create(args)?;
        let data_len = args.data.as_ref().map_or(0, |d| d.len() as i64);
        self.check_quota(&accepted.path, data_len, 1)?;
        self.record_create(args, &accepted, data_len);
        Ok(Made {
            parent_cversion: accepted.parent_rec.stat.cversion.wrapping_add(1),
            path: accepted.path,
            acl: accepted.acl,
            ephemeral: accepted.mode.is_ephemeral(),
        })
    }

    /// Every check up to the quota, in Java's order.
    fn accept_create<'r>(&self, args: &CreateArgs<'r>) -> Step<Accepted<'r>> {
        let mode = CreateMode::from_flag(args.flags).ok_or(ErrorCode::BadArguments)?;
        if mode.is_ttl() && !self.cfg.extended_types {
            return Err(ErrorCode::Unimplemented.into());
        }
        validate_ttl(mode, args.ttl)?;
        let parent = parent_for_create(args.path)?;
        let acl = fixup_acl_shared(args.acl, self.ctx.auth, self.schemes)?;
        let (parent_rec, parent_digest) = self.record_digested(parent)?;
        self.require(&parent_rec, perms::CREATE)?;
        let path = if mode.is_sequential() {
            // The parent's stored counter before this create; Java's %010d keeps the
            // sign of a counter that overflowed.
            format!("{}{:010}", args.path, parent_rec.stat.cversion)
        } else {
            args.path.to_string()
        };
        validate_path(&path)?;
        if self.record(&path).is_ok() {
            return Err(ErrorCode::NodeExists.into());
        }
        if self.owner_kind(parent_rec.stat.ephemeral_owner)? == OwnerKind::Normal {
            return Err(ErrorCode::NoChildrenForEphemerals.into());
        }
        if args.op == OpCode::CreateTtl && !mode.is_ttl() {
            // Java 3.8.0 accepts this (ttl < 0): every check above fails as usual, but a
            // create that passes them all kills the server applying the txn, on the live
            // server and again on every restart. Only that last case is refused here.
            return Err(ErrorCode::BadArguments.into());
        }
        Ok(Accepted {
            path,
            parent,
            parent_rec,
            parent_digest,
            acl,
            mode,
        })
    }

    /// The parent gains a child and a create; the node appears as the tree will have it.
    fn record_create(&mut self, args: &CreateArgs, accepted: &Accepted, data_len: i64) {
        let (zxid, time) = (self.ctx.zxid, self.ctx.time);
        let mut parent = accepted.parent_rec.clone();
        parent.num_children = parent.num_children.wrapping_add(1);
        parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
        parent.stat.pzxid = zxid;
        self.record_change_from(
            accepted.parent,
            accepted.parent_digest,
            Some(parent),
            NewData::Same,
        );
        let owner = pending_owner(accepted.mode, args.ttl, self.ctx.session);
        let stat = StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            ephemeral_owner: owner,
            pzxid: zxid,
            ..Default::default()
        };
        let node = NodeRecord {
            stat,
            acl: accepted.acl.clone(),
            num_children: 0,
            data_len,
        };
        // The checks found no node at the path: nothing to subtract.
        self.record_change_from(
            &accepted.path,
            None,
            Some(node),
            NewData::Set(args.data.as_deref()),
        );
    }
}

/// `EphemeralType.validateTTL`: TTL modes need 1..=max, other modes a negative ttl.
fn validate_ttl(mode: CreateMode, ttl: i64) -> Step<()> {
    let ok = if mode.is_ttl() {
        ttl > 0 && ttl <= TTL_MAX_MS
    } else {
        ttl < 0
    };
    if ok {
        Ok(())
    } else {
        Err(ErrorCode::BadArguments.into())
    }
}

/// An accepted create, owning what its txn needs besides the request's data.
struct Made {
    path: String,
    acl: std::sync::Arc<[Acl]>,
    parent_cversion: i32,
    ephemeral: bool,
}

impl Made {
    /// The txn type follows the opcode, not the mode: Java builds a `CreateContainerTxn`
    /// for op 19 whatever its flags say. `asked` is the request's ACL list, used as is
    /// when fixupACL kept it unchanged (the shared open list).
    fn into_txn(self, op: OpCode, ttl: i64, data: Option<Vec<u8>>, asked: Vec<Acl>) -> Txn {
        let acl = if std::sync::Arc::ptr_eq(&self.acl, crate::tree::open_acl()) {
            asked
        } else {
            self.acl.to_vec()
        };
        let (path, parent_cversion) = (self.path, self.parent_cversion);
        match op {
            OpCode::CreateContainer => Txn::CreateContainer(CreateContainerTxn {
                path,
                data,
                acl,
                parent_cversion,
            }),
            OpCode::CreateTtl => Txn::CreateTtl(CreateTtlTxn {
                path,
                data,
                acl,
                parent_cversion,
                ttl,
            }),
            op => {
                let txn = CreateTxn {
                    path,
                    data,
                    acl,
                    ephemeral: self.ephemeral,
                    parent_cversion,
                };
                if op == OpCode::Create2 {
                    Txn::Create2(txn)
                } else {
                    Txn::Create(txn)
                }
            }
        }
    }
}

/// The owner the pending record shows, decided by the mode (not the opcode).
fn pending_owner(mode: CreateMode, ttl: i64, session: i64) -> i64 {
    if mode.is_container() {
        CONTAINER_OWNER
    } else if mode.is_ttl() {
        NodeKind::Ttl(ttl).owner()
    } else if mode.is_ephemeral() {
        session
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::*;
    use super::super::PrepConfig;
    use super::*;
    use crate::proto::{Id, Request};

    fn ttl_req(path: &str, flags: i32, ttl: i64) -> Request {
        let c = create_req(path, flags);
        Request::CreateTtl(CreateTtlRequest {
            path: c.path,
            data: c.data,
            acl: c.acl,
            flags,
            ttl,
        })
    }

    fn extended() -> super::super::Prep {
        super::super::Prep::new(PrepConfig {
            extended_types: true,
            ..Default::default()
        })
    }

    #[test]
    fn create_txn_carries_the_parent_cversion_after_the_create() {
        let t = tree_with_a();
        let txn = prep().prepare(&t, &ctx(10, &[]), &create("/a/b", 0));
        let want = CreateTxn {
            path: "/a/b".into(),
            data: Some(b"x".to_vec()),
            acl: Acl::open_unsafe(),
            ephemeral: false,
            parent_cversion: 1,
        };
        assert_eq!(txn, Txn::Create(want));
    }

    #[test]
    fn taking_the_request_gives_the_same_txn_as_borrowing_it() {
        let t = tree_with_a();
        let mut custom = create_req("/a/c", 0);
        custom.acl = vec![Acl::new(perms::READ, "world", "anyone")];
        let requests = [
            create("/a/b", 0),
            Request::Create(custom),
            Request::Delete(crate::proto::records::DeleteRequest {
                path: "/a".into(),
                version: -1,
            }),
        ];
        for (i, req) in requests.iter().enumerate() {
            let c = ctx(i as i64 + 1, &[]);
            let borrowed = prep().prepare(&t, &c, req);
            let taken = prep().prepare_taking(&t, &c, &mut req.clone());
            assert_eq!(borrowed, taken, "{req:?}");
        }
    }

    #[test]
    fn opcode_picks_the_txn_type() {
        let t = tree_with_a();
        let mut p = prep();
        let c2 = p.prepare(&t, &ctx(10, &[]), &Request::Create2(create_req("/a/b", 1)));
        assert!(matches!(
            c2,
            Txn::Create2(CreateTxn {
                ephemeral: true,
                ..
            })
        ));
        let cc = p.prepare(
            &t,
            &ctx(11, &[]),
            &Request::CreateContainer(create_req("/a/c", 4)),
        );
        assert!(matches!(
            cc,
            Txn::CreateContainer(CreateContainerTxn {
                parent_cversion: 2,
                ..
            })
        ));
        let owner = p
            .pending()
            .get("/a/c")
            .and_then(|c| c.node.as_ref())
            .map(|n| n.stat.ephemeral_owner);
        assert_eq!(owner, Some(CONTAINER_OWNER));
        let eph = p
            .pending()
            .get("/a/b")
            .and_then(|c| c.node.as_ref())
            .map(|n| n.stat.ephemeral_owner);
        assert_eq!(eph, Some(SESSION));
    }

    #[test]
    fn unknown_flag_is_bad_arguments_before_anything_else() {
        let txn = prep().prepare(&FakeTree::fresh(), &ctx(1, &[]), &create("no-slash", 7));
        assert_eq!(txn, err(ErrorCode::BadArguments));
    }

    #[test]
    fn ttl_modes_need_extended_types() {
        let t = tree_with_a();
        let txn = prep().prepare(&t, &ctx(1, &[]), &ttl_req("/a/t", 5, 1000));
        assert_eq!(txn, err(ErrorCode::Unimplemented));
    }

    #[test]
    fn ttl_range_is_checked() {
        let t = tree_with_a();
        for bad in [0, -1, TTL_MAX_MS + 1] {
            let txn = extended().prepare(&t, &ctx(1, &[]), &ttl_req("/a/t", 5, bad));
            assert_eq!(txn, err(ErrorCode::BadArguments), "{bad}");
        }
        let txn = extended().prepare(&t, &ctx(1, &[]), &ttl_req("/a/t", 6, TTL_MAX_MS));
        assert!(matches!(
            txn,
            Txn::CreateTtl(CreateTtlTxn {
                ttl: TTL_MAX_MS,
                ..
            })
        ));
    }

    #[test]
    fn ttl_mode_through_plain_create_has_no_ttl() {
        let txn = extended().prepare(&tree_with_a(), &ctx(1, &[]), &create("/a/t", 5));
        assert_eq!(txn, err(ErrorCode::BadArguments));
    }

    #[test]
    fn create_ttl_with_a_plain_mode_is_bad_arguments() {
        // Checked against 3.8.0: ttl 5 gives BadArguments; ttl -5 is accepted there and
        // the server then crashes applying the txn, so it is refused here too.
        let t = tree_with_a();
        for ttl in [5, -5] {
            let txn = prep().prepare(&t, &ctx(1, &[]), &ttl_req("/a/t", 0, ttl));
            assert_eq!(txn, err(ErrorCode::BadArguments));
        }
    }

    #[test]
    fn create_ttl_with_a_plain_mode_fails_every_earlier_check_first() {
        // 3.8.0 runs the usual checks on createTTL with a plain mode and ttl < 0.
        let txn = prep().prepare(
            &FakeTree::fresh(),
            &ctx(1, &[]),
            &ttl_req("/missing/t", 4, -5),
        );
        assert_eq!(txn, err(ErrorCode::NoNode));
        let txn = prep().prepare(&tree_with_a(), &ctx(1, &[]), &ttl_req("/a", 0, -5));
        assert_eq!(txn, err(ErrorCode::NodeExists));
    }

    #[test]
    fn path_without_slash_or_with_nul_is_bad_arguments_before_acl() {
        let mut bad_acl = create_req("nothing", 0);
        bad_acl.acl = vec![];
        let txn = prep().prepare(&FakeTree::fresh(), &ctx(1, &[]), &Request::Create(bad_acl));
        assert_eq!(txn, err(ErrorCode::BadArguments));
        let txn = prep().prepare(&tree_with_a(), &ctx(1, &[]), &create("/a/b\0", 0));
        assert_eq!(txn, err(ErrorCode::BadArguments));
    }

    #[test]
    fn invalid_acl_comes_before_a_missing_parent() {
        let mut r = create_req("/missing/x", 0);
        r.acl = vec![Acl::new(31, "world", "nobody")];
        let txn = prep().prepare(&FakeTree::fresh(), &ctx(1, &[]), &Request::Create(r));
        assert_eq!(txn, err(ErrorCode::InvalidAcl));
    }

    #[test]
    fn missing_parent_is_no_node() {
        let txn = prep().prepare(&FakeTree::fresh(), &ctx(1, &[]), &create("/missing/x", 0));
        assert_eq!(txn, err(ErrorCode::NoNode));
    }

    #[test]
    fn missing_create_permission_comes_before_node_exists() {
        let mut t = FakeTree::fresh();
        t.add("/locked", all_but(perms::CREATE), 0)
            .add("/locked/x", Acl::open_unsafe(), 0);
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/locked/x", 0));
        assert_eq!(txn, err(ErrorCode::NoAuth));
    }

    #[test]
    fn full_validation_runs_after_the_parent_checks() {
        // "/a/" has parent "/a": with the suffix it becomes a valid "/a/0000000000".
        let t = tree_with_a();
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/a/", 0));
        assert_eq!(txn, err(ErrorCode::BadArguments));
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/a/", 2));
        assert_eq!(created_path(&txn), Some("/a/0000000000"));
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/nope/", 0));
        assert_eq!(txn, err(ErrorCode::NoNode));
    }

    #[test]
    fn existing_node_is_node_exists() {
        let mut t = tree_with_a();
        t.add("/a/b", Acl::open_unsafe(), 0);
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/a/b", 0));
        assert_eq!(txn, err(ErrorCode::NodeExists));
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/", 0));
        assert_eq!(txn, err(ErrorCode::NodeExists));
    }

    #[test]
    fn ephemeral_parent_refuses_children_after_the_exists_check() {
        let mut t = FakeTree::fresh();
        t.add("/e", Acl::open_unsafe(), 99);
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/e/c", 0));
        assert_eq!(txn, err(ErrorCode::NoChildrenForEphemerals));
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/", 0));
        assert_eq!(txn, err(ErrorCode::NodeExists));
    }

    #[test]
    fn container_and_ttl_parents_take_children() {
        let mut t = FakeTree::fresh();
        t.add("/c", Acl::open_unsafe(), CONTAINER_OWNER);
        t.add("/t", Acl::open_unsafe(), NodeKind::Ttl(50).owner());
        let mut p = extended();
        assert!(created_path(&p.prepare(&t, &ctx(1, &[]), &create("/c/x", 0))).is_some());
        assert!(created_path(&p.prepare(&t, &ctx(2, &[]), &create("/t/x", 0))).is_some());
    }

    #[test]
    fn ttl_parent_reads_as_ephemeral_without_extended_types() {
        let mut t = FakeTree::fresh();
        t.add("/t", Acl::open_unsafe(), NodeKind::Ttl(50).owner());
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/t/x", 0));
        assert_eq!(txn, err(ErrorCode::NoChildrenForEphemerals));
    }

    #[test]
    fn sequential_suffix_is_the_stored_parent_cversion() {
        let mut t = tree_with_a();
        t.edit("/a", |n| n.stat.cversion = 3);
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/a/s-", 2));
        assert_eq!(created_path(&txn), Some("/a/s-0000000003"));
    }

    #[test]
    fn sequential_suffix_goes_negative_after_overflow() {
        let mut t = tree_with_a();
        t.edit("/a", |n| n.stat.cversion = i32::MIN);
        let mut p = prep();
        let txn = p.prepare(&t, &ctx(1, &[]), &create("/a/s", 2));
        assert_eq!(created_path(&txn), Some("/a/s-2147483648"));
        t.edit("/a", |n| n.stat.cversion = i32::MAX);
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/a/s", 3));
        assert!(matches!(
            txn,
            Txn::Create(CreateTxn {
                parent_cversion: i32::MIN,
                ..
            })
        ));
    }

    #[test]
    fn sequential_suffix_counts_pending_creates_and_ignores_deletes() {
        let t = tree_with_a();
        let mut p = prep();
        p.prepare(&t, &ctx(1, &[]), &create("/a/x", 0));
        p.prepare(&t, &ctx(2, &[]), &delete("/a/x", -1));
        let txn = p.prepare(&t, &ctx(3, &[]), &create("/a/s", 2));
        assert_eq!(created_path(&txn), Some("/a/s0000000001"));
        let txn = p.prepare(&t, &ctx(4, &[]), &create("/a/s", 2));
        assert_eq!(created_path(&txn), Some("/a/s0000000002"));
    }

    #[test]
    fn children_of_the_root_count_from_the_root() {
        // The root starts with stored cversion 1 (for /zookeeper); pending records for
        // it are kept under "" as Java does.
        let mut p = prep();
        let t = FakeTree::fresh();
        assert_eq!(
            created_path(&p.prepare(&t, &ctx(1, &[]), &create("/s", 2))),
            Some("/s0000000001")
        );
        assert_eq!(
            created_path(&p.prepare(&t, &ctx(2, &[]), &create("/s", 2))),
            Some("/s0000000002")
        );
        assert!(p.pending().get("").is_some());
    }

    #[test]
    fn a_pending_create_is_a_parent_for_the_next_request() {
        let t = FakeTree::fresh();
        let mut p = prep();
        assert!(created_path(&p.prepare(&t, &ctx(1, &[]), &create("/n", 0))).is_some());
        let txn = p.prepare(&t, &ctx(2, &[]), &create("/n/m", 0));
        assert!(matches!(
            txn,
            Txn::Create(CreateTxn {
                parent_cversion: 1,
                ..
            })
        ));
        assert_eq!(
            p.prepare(&t, &ctx(3, &[]), &create("/n", 0)),
            err(ErrorCode::NodeExists)
        );
        p.applied(3);
        assert!(p.pending().is_empty());
    }

    #[test]
    fn auth_acl_becomes_the_callers_digest_id() {
        let auth = [Id::new("ip", "127.0.0.1"), Id::new("digest", "u:h")];
        let mut r = create_req("/a/b", 0);
        r.acl = vec![Acl::new(perms::ALL, "auth", "")];
        let txn = prep().prepare(&tree_with_a(), &ctx(1, &auth), &Request::Create(r));
        let acl = match txn {
            Txn::Create(c) => c.acl,
            other => panic!("{other:?}"),
        };
        assert_eq!(acl, vec![Acl::new(perms::ALL, "digest", "u:h")]);
    }

    #[test]
    fn count_hard_limit_rejects_only_when_enforced() {
        let mut t = tree_with_a();
        t.quota(
            "/a",
            "count=-1,bytes=-1=;countHardLimit=2",
            "count=2,bytes=0",
        );
        let txn = prep().prepare(&t, &ctx(1, &[]), &create("/a/q", 0));
        assert!(created_path(&txn).is_some());
        let mut p = super::super::Prep::new(PrepConfig {
            enforce_quota: true,
            ..Default::default()
        });
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &create("/a/q", 0)),
            err(ErrorCode::QuotaExceeded)
        );
    }

    #[test]
    fn soft_limits_and_uncovered_paths_pass() {
        let mut t = tree_with_a();
        t.add("/b", Acl::open_unsafe(), 0);
        t.quota("/a", "count=1,bytes=1", "count=5,bytes=50");
        t.quota(
            "/b",
            "count=-1,bytes=-1=;byteHardLimit=3",
            "count=1,bytes=3",
        );
        let mut p = super::super::Prep::new(PrepConfig {
            enforce_quota: true,
            ..Default::default()
        });
        assert!(created_path(&p.prepare(&t, &ctx(1, &[]), &create("/a/q", 0))).is_some());
        assert_eq!(
            p.prepare(&t, &ctx(2, &[]), &create("/b/q", 0)),
            err(ErrorCode::QuotaExceeded)
        );
        let mut empty = create_req("/b/e", 0);
        empty.data = None;
        assert!(created_path(&p.prepare(&t, &ctx(3, &[]), &Request::Create(empty))).is_some());
    }

    #[test]
    fn unparsable_quota_text_is_a_marshalling_error() {
        let mut t = tree_with_a();
        t.quota("/a", "count", "count=0");
        let mut p = super::super::Prep::new(PrepConfig {
            enforce_quota: true,
            ..Default::default()
        });
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &create("/a/q", 0)),
            err(ErrorCode::MarshallingError)
        );
    }
}
