//! Request preparation: turns a write request into the transaction the log will hold.
//!
//! Stands in for Apache ZooKeeper's `PrepRequestProcessor` (3.8.0): the same checks in the
//! same order, the same error codes, and the same bookkeeping of changes that are
//! prepared but not yet applied (`outstandingChanges`, see `pending`). A rejected request
//! is not an error here: it becomes an `ErrorTxn`, because a failed write still consumes
//! a zxid. Pure: the zxid, the time and the caller's ids arrive in `RequestCtx`.

mod create;
mod modify;
mod multi;
mod quota;
mod session;

#[cfg(test)]
mod fake;

use crate::pipeline::acl::{check_acl, AuthSchemes};
use crate::pipeline::path::tree_key;
use crate::pipeline::pending::{Change, Pending};
use crate::pipeline::view::{NodeRecord, TreeView};
use crate::proto::{ErrorCode, Id, Request, Txn, CONTAINER_OWNER, TTL_OWNER_MASK};
use crate::tree::NodeDigest;

/// Server settings preparation depends on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrepConfig {
    /// `zookeeper.extendedTypesEnabled`: TTL nodes.
    pub extended_types: bool,
    /// `zookeeper.enforceQuota`: hard quota limits reject writes.
    pub enforce_quota: bool,
    /// `zookeeper.skipACL`.
    pub skip_acl: bool,
    /// `reconfigEnabled`.
    pub reconfig_enabled: bool,
    /// No quorum: reconfig cannot work.
    pub standalone: bool,
    /// `znode.container.maxNeverUsedIntervalMs`; read by the container reaper, not here.
    pub max_never_used_container_ms: i64,
}

/// Who asks, and the header values the txn will carry.
#[derive(Clone, Copy, Debug)]
pub struct RequestCtx<'a> {
    pub session: i64,
    pub cxid: i32,
    /// The zxid this request consumes.
    pub zxid: i64,
    /// Wall clock in ms; becomes ctime/mtime.
    pub time: i64,
    /// The connection's authenticated ids.
    pub auth: &'a [Id],
}

/// Request preparation and its pending-changes overlay.
#[derive(Clone, Debug)]
pub struct Prep {
    cfg: PrepConfig,
    schemes: AuthSchemes,
    pending: Pending,
    /// Paths of the writes a hard quota rejected since the last `take_quota_exceeded`.
    quota_exceeded: Vec<String>,
}

/// The data a change leaves its node with, for the node's digest.
#[derive(Clone, Copy, Debug)]
pub(crate) enum NewData<'d> {
    /// As before the change.
    Same,
    Set(Option<&'d [u8]>),
}

/// Why one step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    /// A `KeeperException`: the op becomes `ErrorTxn(code)`.
    Code(ErrorCode),
    /// Any other exception in Java (an unparsable quota node, an unknown extended owner):
    /// the whole request becomes `ErrorTxn(MarshallingError)`, even inside a multi.
    Internal,
}

impl From<ErrorCode> for Fail {
    fn from(code: ErrorCode) -> Fail {
        Fail::Code(code)
    }
}

impl Fail {
    fn code(self) -> ErrorCode {
        match self {
            Fail::Code(c) => c,
            Fail::Internal => ErrorCode::MarshallingError,
        }
    }
}

pub(crate) type Step<T> = Result<T, Fail>;

impl Prep {
    pub fn new(cfg: PrepConfig) -> Prep {
        Prep {
            cfg,
            schemes: AuthSchemes::default(),
            pending: Pending::new(),
            quota_exceeded: Vec::new(),
        }
    }

    /// Declares which optional auth providers are registered (default: `ip`, `digest`).
    pub fn set_schemes(&mut self, schemes: AuthSchemes) {
        self.schemes = schemes;
    }

    /// The overlay of changes not yet applied (read-only; for diagnostics and tests).
    pub fn pending(&self) -> &Pending {
        &self.pending
    }

    /// Turns a write request into its transaction, against the committed tree seen
    /// through `view` plus the pending changes. Never fails: a rejected request becomes
    /// `Txn::Error(code)`, a multi becomes `Txn::Multi` with the Java failure shape.
    pub fn prepare(&mut self, view: &dyn TreeView, ctx: &RequestCtx, req: &Request) -> Txn {
        self.prepare_taking(view, ctx, &mut req.clone())
    }

    /// [`prepare`](Self::prepare) for a request the caller drops afterwards: the txn
    /// takes its path, data and ACL list instead of copies of them (what is left in
    /// `req` is unspecified).
    pub fn prepare_taking(
        &mut self,
        view: &dyn TreeView,
        ctx: &RequestCtx,
        req: &mut Request,
    ) -> Txn {
        let mut cur = self.cursor(view, ctx);
        match req {
            Request::Multi(ops) => cur.multi(ops),
            Request::Reconfig(_) => Txn::Error(cur.reconfig()),
            _ => cur.single(req).unwrap_or_else(|f| Txn::Error(f.code())),
        }
    }

    /// closeSession (asked by the client or on expiry): deletes the session's
    /// ephemerals, pending creates and deletes included.
    pub fn close_session(&mut self, view: &dyn TreeView, ctx: &RequestCtx) -> Txn {
        self.cursor(view, ctx)
            .close_session()
            .unwrap_or_else(|f| Txn::Error(f.code()))
    }

    /// The txn with this zxid has been applied to the tree.
    pub fn applied(&mut self, zxid: i64) {
        self.pending.applied(zxid);
    }

    /// The tree digest once every prepared txn is applied: what the txn prepared last
    /// is proposed and logged with (`TxnDigest`).
    pub fn tree_digest(&self, view: &dyn TreeView) -> i64 {
        self.pending
            .tree_digest()
            .unwrap_or_else(|| view.tree_digest())
    }

    /// Changes queued and removed since the last call (`Pending::take_counts`).
    pub fn take_change_counts(&mut self) -> (u64, u64) {
        self.pending.take_counts()
    }

    /// Paths of the writes a hard quota limit rejected since the last call, for
    /// `quota_exceeded_error_per_namespace`.
    pub fn take_quota_exceeded(&mut self) -> Vec<String> {
        std::mem::take(&mut self.quota_exceeded)
    }

    /// Forgets everything pending (e.g. after a leader change).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    fn cursor<'a>(&'a mut self, view: &'a dyn TreeView, ctx: &'a RequestCtx<'a>) -> Cursor<'a> {
        Cursor {
            cfg: &self.cfg,
            schemes: &self.schemes,
            view,
            ctx,
            pending: &mut self.pending,
            quota_exceeded: &mut self.quota_exceeded,
        }
    }
}

/// One request being prepared: the settings, the tree, the caller and the overlay.
pub(crate) struct Cursor<'a> {
    cfg: &'a PrepConfig,
    schemes: &'a AuthSchemes,
    view: &'a dyn TreeView,
    ctx: &'a RequestCtx<'a>,
    pending: &'a mut Pending,
    quota_exceeded: &'a mut Vec<String>,
}

impl Cursor<'_> {
    /// One op, on its own or inside a multi (`pRequest2Txn`).
    fn single(&mut self, req: &mut Request) -> Step<Txn> {
        let op = req.op_code();
        match req {
            Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => {
                self.create(op, r, -1)
            }
            Request::CreateTtl(r) => self.create_ttl(r),
            Request::Delete(r) => self.delete(&mut r.path, r.version),
            Request::DeleteContainer(r) => self.delete_container(&mut r.path),
            Request::SetData(r) => self.set_data(r),
            Request::SetAcl(r) => self.set_acl(r),
            Request::Check(r) => self.check(&r.path, r.version),
            _ => Err(ErrorCode::Unimplemented.into()),
        }
    }

    /// Reconfig as a standalone 3.8.0 server answers it: disabled first, then
    /// Unimplemented (the quorum case needs the quorum verifier and is not prepared
    /// here). Either way a zxid is consumed.
    fn reconfig(&self) -> ErrorCode {
        if !self.cfg.reconfig_enabled {
            ErrorCode::ReconfigDisabled
        } else {
            ErrorCode::Unimplemented
        }
    }

    /// The node as the next txn will find it (`getRecordForPath`).
    fn record(&self, path: &str) -> Step<NodeRecord> {
        let found = match self.pending.get(path) {
            Some(change) => change.node.clone(),
            None => self.view.node(tree_key(path)),
        };
        found.ok_or(Fail::Code(ErrorCode::NoNode))
    }

    /// [`record`](Self::record) with the node's digest parts, for a node about to change.
    fn record_digested(&self, path: &str) -> Step<(NodeRecord, Option<NodeDigest>)> {
        let found = match self.pending.get(path) {
            Some(change) => change.node.clone().map(|n| (n, change.digest)),
            None => self
                .view
                .node_with_digest(tree_key(path))
                .map(|(n, d)| (n, Some(d))),
        };
        found.ok_or(Fail::Code(ErrorCode::NoNode))
    }

    /// `ZooKeeperServer.checkACL`.
    fn require(&self, node: &NodeRecord, perm: i32) -> Step<()> {
        if check_acl(&node.acl, perm, self.ctx.auth, self.cfg.skip_acl) {
            Ok(())
        } else {
            Err(ErrorCode::NoAuth.into())
        }
    }

    /// `addChangeRecord` with this request's zxid, and `precalculateDigest`: the
    /// node's digest after the change, and the tree's once it is applied.
    fn record_change(&mut self, path: &str, node: Option<NodeRecord>, data: NewData) {
        let old = match self.pending.get(path) {
            Some(change) => change.digest,
            None => self.view.node_digest(tree_key(path)),
        };
        self.record_change_from(path, old, node, data);
    }

    /// [`record_change`](Self::record_change) of a node whose digest before the change
    /// is known (`None`: absent).
    fn record_change_from(
        &mut self,
        path: &str,
        old: Option<NodeDigest>,
        node: Option<NodeRecord>,
        data: NewData,
    ) {
        let digest = node.as_ref().map(|n| {
            let prefix = match (data, old) {
                (NewData::Set(d), _) => NodeDigest::prefix_of(path, d),
                (NewData::Same, Some(old)) => old.prefix,
                (NewData::Same, None) => NodeDigest::prefix_of(path, None),
            };
            NodeDigest::with_stat(path, prefix, &n.stat)
        });
        let value = |d: Option<NodeDigest>| i64::from(d.map_or(0, |d| d.value));
        let before = self
            .pending
            .tree_digest()
            .unwrap_or_else(|| self.view.tree_digest());
        let after = before.wrapping_sub(value(old)).wrapping_add(value(digest));
        let change = Change {
            zxid: self.ctx.zxid,
            path: path.into(),
            node,
            digest,
        };
        self.pending.add(change, after);
    }

    fn owner_kind(&self, owner: i64) -> Step<OwnerKind> {
        owner_kind(owner, self.cfg.extended_types)
    }
}

/// `EphemeralType.get` reduced to what prep asks of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OwnerKind {
    /// Persistent (`VOID`).
    Void,
    /// A session's ephemeral (`NORMAL`).
    Normal,
    Container,
    Ttl,
}

/// An extended owner (top byte 0xFF, extended types on) naming a feature other than TTL
/// makes Java throw a plain `IllegalArgumentException`.
pub(crate) fn owner_kind(owner: i64, extended_types: bool) -> Step<OwnerKind> {
    const FEATURE_BITS: i64 = 0x00FF_FF00_0000_0000;
    if extended_types && owner & TTL_OWNER_MASK == TTL_OWNER_MASK {
        return if owner & FEATURE_BITS == 0 {
            Ok(OwnerKind::Ttl)
        } else {
            Err(Fail::Internal)
        };
    }
    Ok(match owner {
        CONTAINER_OWNER => OwnerKind::Container,
        0 => OwnerKind::Void,
        _ => OwnerKind::Normal,
    })
}

/// `checkAndIncVersion`: -1 accepts any version; the new one overflows like a Java int.
pub(crate) fn check_and_inc_version(current: i32, expected: i32) -> Step<i32> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BadVersion.into());
    }
    Ok(current.wrapping_add(1))
}

#[cfg(test)]
mod tests {
    use super::fake::*;
    use super::*;
    use crate::proto::records::ReconfigRequest;

    fn reconfig() -> Request {
        Request::Reconfig(ReconfigRequest {
            joining_servers: "server.5=127.0.0.1:25300:25301;25302".into(),
            leaving_servers: String::new(),
            new_members: String::new(),
            cur_config_id: -1,
        })
    }

    #[test]
    fn reconfig_disabled_is_reported_first() {
        // Golden frames of 3.8.0 (reconfig_standalone): err -123 and a zxid consumed.
        let cfg = PrepConfig {
            standalone: true,
            ..Default::default()
        };
        let txn = Prep::new(cfg).prepare(&FakeTree::fresh(), &ctx(1, &[]), &reconfig());
        assert_eq!(txn, Txn::Error(ErrorCode::ReconfigDisabled));
    }

    #[test]
    fn reconfig_enabled_on_a_standalone_server_is_unimplemented() {
        let cfg = PrepConfig {
            standalone: true,
            reconfig_enabled: true,
            ..Default::default()
        };
        let txn = Prep::new(cfg).prepare(&FakeTree::fresh(), &ctx(1, &[]), &reconfig());
        assert_eq!(txn, Txn::Error(ErrorCode::Unimplemented));
    }

    #[test]
    fn reads_are_not_prepared() {
        let req = Request::Ping;
        let txn = Prep::new(PrepConfig::default()).prepare(&FakeTree::fresh(), &ctx(1, &[]), &req);
        assert_eq!(txn, Txn::Error(ErrorCode::Unimplemented));
    }

    #[test]
    fn version_check_accepts_any_on_minus_one_and_overflows() {
        assert_eq!(check_and_inc_version(7, -1), Ok(8));
        assert_eq!(check_and_inc_version(7, 7), Ok(8));
        assert_eq!(
            check_and_inc_version(7, 6),
            Err(Fail::Code(ErrorCode::BadVersion))
        );
        assert_eq!(check_and_inc_version(i32::MAX, -1), Ok(i32::MIN));
    }

    #[test]
    fn owner_kinds_follow_the_extended_types_switch() {
        let ttl = crate::proto::NodeKind::Ttl(5).owner();
        assert_eq!(owner_kind(ttl, true), Ok(OwnerKind::Ttl));
        assert_eq!(owner_kind(ttl, false), Ok(OwnerKind::Normal));
        assert_eq!(owner_kind(CONTAINER_OWNER, true), Ok(OwnerKind::Container));
        assert_eq!(owner_kind(0, true), Ok(OwnerKind::Void));
        assert_eq!(
            owner_kind(0x0100_0000_0000_0001, true),
            Ok(OwnerKind::Normal)
        );
        assert_eq!(
            owner_kind(TTL_OWNER_MASK | (1 << 40), true),
            Err(Fail::Internal)
        );
    }
}
