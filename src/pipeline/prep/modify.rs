//! delete, deleteContainer, setData, setACL and check: the requests that change or
//! inspect an existing node (the matching cases of `PrepRequestProcessor.pRequest2Txn`).

use super::{check_and_inc_version, quota, Cursor, OwnerKind, Step};
use crate::pipeline::acl::fixup_acl;
use crate::pipeline::path::{parent_for_delete, validate_path};
use crate::proto::records::{SetAclRequest, SetDataRequest};
use crate::proto::{perms, ErrorCode, SetAclTxn, SetDataTxn, Txn};

impl Cursor<'_> {
    /// DELETE is checked on the parent before the node is looked up, so a caller without
    /// the permission gets NoAuth even for a node that does not exist.
    pub(super) fn delete(&mut self, path: &str, version: i32) -> Step<Txn> {
        let parent = parent_for_delete(path)?;
        let parent_rec = self.record(parent)?;
        self.require(&parent_rec, perms::DELETE)?;
        let node = self.record(path)?;
        check_and_inc_version(node.stat.version, version)?;
        if node.num_children > 0 {
            return Err(ErrorCode::NotEmpty.into());
        }
        self.record_delete(parent, parent_rec, path);
        Ok(Txn::Delete(path.to_string()))
    }

    /// Op 20, issued by the container reaper but accepted from anyone: no session, ACL or
    /// version check; an ephemeral answers BadVersion (a persistent node is deleted).
    pub(super) fn delete_container(&mut self, path: &str) -> Step<Txn> {
        let parent = parent_for_delete(path)?;
        let node = self.record(path)?;
        if node.num_children > 0 {
            return Err(ErrorCode::NotEmpty.into());
        }
        if self.owner_kind(node.stat.ephemeral_owner)? == OwnerKind::Normal {
            return Err(ErrorCode::BadVersion.into());
        }
        let parent_rec = self.record(parent)?;
        self.record_delete(parent, parent_rec, path);
        Ok(Txn::DeleteContainer(path.to_string()))
    }

    fn record_delete(&mut self, parent: &str, mut parent_rec: crate::pipeline::view::NodeRecord, path: &str) {
        parent_rec.num_children = parent_rec.num_children.wrapping_sub(1);
        parent_rec.stat.pzxid = self.ctx.zxid;
        self.record_change(parent, Some(parent_rec));
        self.record_change(path, None);
    }

    pub(super) fn set_data(&mut self, r: &SetDataRequest) -> Step<Txn> {
        validate_path(&r.path)?;
        let mut node = self.record(&r.path)?;
        self.require(&node, perms::WRITE)?;
        let new_len = r.data.as_ref().map_or(0, |d| d.len() as i64);
        let diff = new_len - node.data_len;
        quota::check_if(self.cfg.enforce_quota, self.view, &r.path, diff, 0)?;
        let version = check_and_inc_version(node.stat.version, r.version)?;
        node.stat.version = version;
        node.stat.mtime = self.ctx.time;
        node.stat.mzxid = self.ctx.zxid;
        node.data_len = new_len;
        self.record_change(&r.path, Some(node));
        Ok(Txn::SetData(SetDataTxn { path: r.path.clone(), data: r.data.clone(), version }))
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
        self.record_change(&r.path, Some(node));
        Ok(Txn::SetAcl(SetAclTxn { path: r.path.clone(), acl, version }))
    }

    /// Inside a multi: the txn carries the version plus one, as Java writes it.
    pub(super) fn check(&mut self, path: &str, version: i32) -> Step<Txn> {
        validate_path(path)?;
        let node = self.record(path)?;
        self.require(&node, perms::READ)?;
        let version = check_and_inc_version(node.stat.version, version)?;
        Ok(Txn::Check { path: path.to_string(), version })
    }
}
