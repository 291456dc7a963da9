//! delete, deleteContainer, setData, setACL and check: the requests that change or
//! inspect an existing node (the matching cases of `PrepRequestProcessor.pRequest2Txn`).

use super::{check_and_inc_version, Cursor, NewData, OwnerKind, Step};
use crate::pipeline::acl::fixup_acl;
use crate::pipeline::path::{parent_for_delete, validate_path};
use crate::pipeline::view::NodeRecord;
use crate::proto::records::{SetAclRequest, SetDataRequest};
use crate::proto::{perms, ErrorCode, SetAclTxn, SetDataTxn, Txn};
use crate::tree::NodeDigest;

impl Cursor<'_> {
    /// DELETE is checked on the parent before the node is looked up, so a caller without
    /// the permission gets NoAuth even for a node that does not exist.
    pub(super) fn delete(&mut self, path: &mut String, version: i32) -> Step<Txn> {
        let parent = parent_for_delete(path)?;
        let parent_rec = self.record_digested(parent)?;
        self.require(&parent_rec.0, perms::DELETE)?;
        let (node, digest) = self.record_digested(path)?;
        check_and_inc_version(node.stat.version, version)?;
        if node.num_children > 0 {
            return Err(ErrorCode::NotEmpty.into());
        }
        self.record_delete(parent, parent_rec, (path, digest));
        Ok(Txn::Delete(std::mem::take(path)))
    }

    /// Op 20, issued by the container reaper (session 0): no ACL or version check; an
    /// ephemeral answers BadVersion (an empty persistent node is deleted).
    ///
    /// From a client it is always BadArguments: Java reads the path from the raw request
    /// buffer, length prefix and all, so it always holds a NUL (checked against 3.8.0).
    pub(super) fn delete_container(&mut self, path: &mut String) -> Step<Txn> {
        if self.ctx.session != 0 {
            return Err(ErrorCode::BadArguments.into());
        }
        let parent = parent_for_delete(path)?;
        let (node, digest) = self.record_digested(path)?;
        if node.num_children > 0 {
            return Err(ErrorCode::NotEmpty.into());
        }
        if self.owner_kind(node.stat.ephemeral_owner)? == OwnerKind::Normal {
            return Err(ErrorCode::BadVersion.into());
        }
        let parent_rec = self.record_digested(parent)?;
        self.record_delete(parent, parent_rec, (path, digest));
        Ok(Txn::DeleteContainer(std::mem::take(path)))
    }

    /// The parent and the node, each with its digest before the delete.
    fn record_delete(
        &mut self,
        parent: &str,
        (mut parent_rec, parent_digest): (NodeRecord, Option<NodeDigest>),
        (path, digest): (&str, Option<NodeDigest>),
    ) {
        parent_rec.num_children = parent_rec.num_children.wrapping_sub(1);
        parent_rec.stat.pzxid = self.ctx.zxid;
        self.record_change_from(parent, parent_digest, Some(parent_rec), NewData::Same);
        self.record_change_from(path, digest, None, NewData::Same);
    }

    pub(super) fn set_data(&mut self, r: &mut SetDataRequest) -> Step<Txn> {
        validate_path(&r.path)?;
        let (mut node, old) = self.record_digested(&r.path)?;
        self.require(&node, perms::WRITE)?;
        let new_len = r.data.as_ref().map_or(0, |d| d.len() as i64);
        let diff = new_len - node.data_len;
        self.check_quota(&r.path, diff, 0)?;
        let version = check_and_inc_version(node.stat.version, r.version)?;
        node.stat.version = version;
        node.stat.mtime = self.ctx.time;
        node.stat.mzxid = self.ctx.zxid;
        node.data_len = new_len;
        self.record_change_from(&r.path, old, Some(node), NewData::Set(r.data.as_deref()));
        Ok(Txn::SetData(SetDataTxn {
            path: std::mem::take(&mut r.path),
            data: r.data.take(),
            version,
        }))
    }

    /// The pending record keeps the old ACL list and only bumps aversion: Java's
    /// `ChangeRecord.duplicate` is not given the new list, so requests prepared before
    /// this one is applied are still checked against the old ACL.
    pub(super) fn set_acl(&mut self, r: &SetAclRequest) -> Step<Txn> {
        validate_path(&r.path)?;
        let acl = fixup_acl(&r.acl, self.ctx.auth, self.schemes)?;
        let mut node = self.record(&r.path)?;
        self.require(&node, perms::ADMIN)?;
        let version = check_and_inc_version(node.stat.aversion, r.version)?;
        node.stat.aversion = version;
        self.record_change(&r.path, Some(node), NewData::Same);
        Ok(Txn::SetAcl(SetAclTxn {
            path: r.path.clone(),
            acl,
            version,
        }))
    }

    /// Inside a multi: the txn carries the version plus one, as Java writes it.
    pub(super) fn check(&mut self, path: &str, version: i32) -> Step<Txn> {
        validate_path(path)?;
        let node = self.record(path)?;
        self.require(&node, perms::READ)?;
        let version = check_and_inc_version(node.stat.version, version)?;
        Ok(Txn::Check {
            path: path.to_string(),
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::*;
    use super::super::{Prep, PrepConfig, RequestCtx};
    use super::*;
    use crate::proto::records::{CheckVersionRequest, PathRequest};
    use crate::proto::{Acl, Request, CONTAINER_OWNER};

    fn reaper(zxid: i64) -> RequestCtx<'static> {
        RequestCtx {
            session: 0,
            cxid: 0,
            zxid,
            time: 5,
            auth: &[],
        }
    }

    fn delete_container(path: &str) -> Request {
        Request::DeleteContainer(PathRequest { path: path.into() })
    }

    fn set_acl(path: &str, acl: Vec<Acl>, version: i32) -> Request {
        Request::SetAcl(SetAclRequest {
            path: path.into(),
            acl,
            version,
        })
    }

    fn check(path: &str, version: i32) -> Request {
        Request::Check(CheckVersionRequest {
            path: path.into(),
            version,
        })
    }

    #[test]
    fn system_nodes_cannot_be_deleted() {
        // 3.8.0: "/", "", "/zookeeper/config" all answer -8.
        for p in [
            "/",
            "/zookeeper",
            "/zookeeper/quota",
            "/zookeeper/config",
            "",
            "x",
        ] {
            assert_eq!(
                prep().prepare(&FakeTree::fresh(), &ctx(1, &[]), &delete(p, -1)),
                err(ErrorCode::BadArguments),
                "{p:?}"
            );
        }
    }

    #[test]
    fn delete_needs_the_parent() {
        let txn = prep().prepare(&FakeTree::fresh(), &ctx(1, &[]), &delete("/x/y", -1));
        assert_eq!(txn, err(ErrorCode::NoNode));
    }

    #[test]
    fn delete_permission_is_checked_before_the_node_exists() {
        // 3.8.0: delete /nodel/missing under a parent without DELETE answers -102.
        let mut t = FakeTree::fresh();
        t.add("/nodel", all_but(perms::DELETE), 0);
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &delete("/nodel/missing", -1)),
            err(ErrorCode::NoAuth)
        );
        let txn = prep().prepare(&tree_with_a(), &ctx(1, &[]), &delete("/a/missing", -1));
        assert_eq!(txn, err(ErrorCode::NoNode));
    }

    #[test]
    fn delete_version_is_checked_before_children() {
        // 3.8.0: delete /p (one child) with version 9 → -103, with -1 → -111.
        let mut t = tree_with_a();
        t.add("/a/kid", Acl::open_unsafe(), 0);
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &delete("/a", 9)),
            err(ErrorCode::BadVersion)
        );
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &delete("/a", -1)),
            err(ErrorCode::NotEmpty)
        );
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &delete("/a/kid", 0)),
            Txn::Delete("/a/kid".into())
        );
    }

    #[test]
    fn a_delete_then_a_create_of_the_same_path() {
        let t = tree_with_a();
        let mut p = prep();
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &delete("/a", -1)),
            Txn::Delete("/a".into())
        );
        assert_eq!(
            p.prepare(&t, &ctx(2, &[]), &delete("/a", -1)),
            err(ErrorCode::NoNode)
        );
        let txn = p.prepare(&t, &ctx(3, &[]), &create("/a", 0));
        assert_eq!(created_path(&txn), Some("/a"));
        // The root saw one more create (stored 2 → 3) but the same number of children.
        let root = p
            .pending()
            .get("")
            .and_then(|c| c.node.clone())
            .map(|n| (n.stat.cversion, n.num_children));
        assert_eq!(root, Some((3, 2)));
    }

    #[test]
    fn a_pending_child_makes_the_parent_not_empty() {
        let t = tree_with_a();
        let mut p = prep();
        p.prepare(&t, &ctx(1, &[]), &create("/a/b", 0));
        assert_eq!(
            p.prepare(&t, &ctx(2, &[]), &delete("/a", -1)),
            err(ErrorCode::NotEmpty)
        );
    }

    #[test]
    fn delete_container_from_a_client_is_bad_arguments() {
        let mut t = FakeTree::fresh();
        t.add("/c", Acl::open_unsafe(), CONTAINER_OWNER);
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &delete_container("/c")),
            err(ErrorCode::BadArguments)
        );
    }

    #[test]
    fn reaper_delete_container_skips_acl_and_version() {
        let mut t = FakeTree::fresh();
        t.add("/locked", vec![Acl::new(perms::READ, "digest", "u:h")], 0);
        t.add("/locked/c", Acl::open_unsafe(), CONTAINER_OWNER);
        t.add("/p", Acl::open_unsafe(), 0);
        let mut p = prep();
        assert_eq!(
            p.prepare(&t, &reaper(1), &delete_container("/locked/c")),
            Txn::DeleteContainer("/locked/c".into())
        );
        assert_eq!(
            p.prepare(&t, &reaper(2), &delete_container("/p")),
            Txn::DeleteContainer("/p".into())
        );
        assert_eq!(
            p.prepare(&t, &reaper(3), &delete_container("/zookeeper")),
            err(ErrorCode::BadArguments)
        );
        assert_eq!(
            p.prepare(&t, &reaper(4), &delete_container("/gone")),
            err(ErrorCode::NoNode)
        );
    }

    #[test]
    fn reaper_delete_container_refuses_parents_and_ephemerals() {
        let mut t = FakeTree::fresh();
        t.add("/c", Acl::open_unsafe(), CONTAINER_OWNER)
            .add("/c/e", Acl::open_unsafe(), SESSION);
        assert_eq!(
            prep().prepare(&t, &reaper(1), &delete_container("/c")),
            err(ErrorCode::NotEmpty)
        );
        assert_eq!(
            prep().prepare(&t, &reaper(1), &delete_container("/c/e")),
            err(ErrorCode::BadVersion)
        );
    }

    #[test]
    fn set_data_validates_the_full_path_first() {
        // 3.8.0: setData "/p/" → -8 even though delete "/p/" gives -101.
        let txn = prep().prepare(&tree_with_a(), &ctx(1, &[]), &set_data("/a/", b"v", -1));
        assert_eq!(txn, err(ErrorCode::BadArguments));
        let txn = prep().prepare(&tree_with_a(), &ctx(1, &[]), &set_data("/b", b"v", -1));
        assert_eq!(txn, err(ErrorCode::NoNode));
    }

    #[test]
    fn set_data_permission_comes_before_the_version() {
        // 3.8.0: setData on a node without WRITE with a wrong version → -102.
        let mut t = FakeTree::fresh();
        t.add("/w", all_but(perms::WRITE), 0);
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &set_data("/w", b"v", 5)),
            err(ErrorCode::NoAuth)
        );
        assert_eq!(
            prep().prepare(&tree_with_a(), &ctx(1, &[]), &set_data("/a", b"v", 5)),
            err(ErrorCode::BadVersion)
        );
    }

    #[test]
    fn set_data_versions_chain_through_pending_changes() {
        let t = tree_with_a();
        let mut p = prep();
        let want = |v| {
            Txn::SetData(SetDataTxn {
                path: "/a".into(),
                data: Some(b"v".to_vec()),
                version: v,
            })
        };
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &set_data("/a", b"v", 0)),
            want(1)
        );
        assert_eq!(
            p.prepare(&t, &ctx(2, &[]), &set_data("/a", b"v", 1)),
            want(2)
        );
        assert_eq!(
            p.prepare(&t, &ctx(3, &[]), &set_data("/a", b"v", 1)),
            err(ErrorCode::BadVersion)
        );
    }

    #[test]
    fn set_data_bytes_quota_counts_the_size_change() {
        let mut t = FakeTree::fresh();
        t.add_data("/q", Acl::open_unsafe(), 0, Some(b"1234"));
        t.quota(
            "/q",
            "count=-1,bytes=-1=;byteHardLimit=10",
            "count=1,bytes=8",
        );
        let mut p = Prep::new(PrepConfig {
            enforce_quota: true,
            ..Default::default()
        });
        assert!(matches!(
            p.prepare(&t, &ctx(1, &[]), &set_data("/q", b"123456", -1)),
            Txn::SetData(_)
        ));
        p.clear();
        let txn = p.prepare(&t, &ctx(2, &[]), &set_data("/q", b"1234567", -1));
        assert_eq!(txn, err(ErrorCode::QuotaExceeded));
    }

    #[test]
    fn set_acl_validates_the_acl_before_the_node() {
        // 3.8.0: setACL with digest "user" on a missing node → -114.
        let txn = prep().prepare(
            &FakeTree::fresh(),
            &ctx(1, &[]),
            &set_acl("/missing", vec![Acl::new(31, "digest", "user")], -1),
        );
        assert_eq!(txn, err(ErrorCode::InvalidAcl));
        let txn = prep().prepare(
            &FakeTree::fresh(),
            &ctx(1, &[]),
            &set_acl("/missing", Acl::open_unsafe(), -1),
        );
        assert_eq!(txn, err(ErrorCode::NoNode));
    }

    #[test]
    fn set_acl_needs_admin_then_the_aversion() {
        let mut t = FakeTree::fresh();
        t.add("/n", all_but(perms::ADMIN), 0)
            .add("/m", Acl::open_unsafe(), 0);
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &set_acl("/n", Acl::read_unsafe(), 3)),
            err(ErrorCode::NoAuth)
        );
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &set_acl("/m", Acl::read_unsafe(), 3)),
            err(ErrorCode::BadVersion)
        );
        let want = Txn::SetAcl(SetAclTxn {
            path: "/m".into(),
            acl: Acl::read_unsafe(),
            version: 1,
        });
        assert_eq!(
            prep().prepare(&t, &ctx(1, &[]), &set_acl("/m", Acl::read_unsafe(), 0)),
            want
        );
    }

    #[test]
    fn pending_set_acl_keeps_checking_the_old_acl() {
        // ChangeRecord.duplicate in 3.8.0 copies the old list; only aversion moves.
        let t = tree_with_a();
        let mut p = prep();
        p.prepare(
            &t,
            &ctx(1, &[]),
            &set_acl("/a", vec![Acl::new(perms::READ, "world", "anyone")], -1),
        );
        assert!(matches!(
            p.prepare(&t, &ctx(2, &[]), &set_data("/a", b"v", -1)),
            Txn::SetData(_)
        ));
        assert!(matches!(
            p.prepare(&t, &ctx(3, &[]), &set_acl("/a", Acl::open_unsafe(), 1)),
            Txn::SetAcl(_)
        ));
    }

    #[test]
    fn check_validates_reads_and_compares_the_version() {
        let mut t = tree_with_a();
        t.add("/hidden", all_but(perms::READ), 0);
        let mut p = prep();
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &check("/a/", -1)),
            err(ErrorCode::BadArguments)
        );
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &check("/b", -1)),
            err(ErrorCode::NoNode)
        );
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &check("/hidden", 0)),
            err(ErrorCode::NoAuth)
        );
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &check("/a", 3)),
            err(ErrorCode::BadVersion)
        );
        assert_eq!(
            p.prepare(&t, &ctx(1, &[]), &check("/a", 0)),
            Txn::Check {
                path: "/a".into(),
                version: 1
            }
        );
        assert!(p.pending().is_empty());
    }
}
