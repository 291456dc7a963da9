//! create, create2, createContainer and createTTL (`PrepRequestProcessor.pRequest2TxnCreate`).

use super::{quota, Cursor, OwnerKind, Step};
use crate::pipeline::acl::fixup_acl;
use crate::pipeline::path::{parent_for_create, validate_path};
use crate::pipeline::view::NodeRecord;
use crate::proto::records::{CreateRequest, CreateTtlRequest};
use crate::proto::{
    perms, Acl, CreateContainerTxn, CreateMode, CreateTtlTxn, CreateTxn, ErrorCode, NodeKind,
    OpCode, Request, StatPersisted, Txn, CONTAINER_OWNER, TTL_MAX_MS,
};

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
struct Accepted {
    path: String,
    parent: String,
    parent_rec: NodeRecord,
    acl: Vec<Acl>,
    mode: CreateMode,
}

impl Cursor<'_> {
    pub(super) fn create(&mut self, req: &Request, r: &CreateRequest, ttl: i64) -> Step<Txn> {
        let op = req.op_code();
        let args = CreateArgs { op, path: &r.path, data: &r.data, acl: &r.acl, flags: r.flags, ttl };
        self.create_any(&args)
    }

    pub(super) fn create_ttl(&mut self, r: &CreateTtlRequest) -> Step<Txn> {
        let args = CreateArgs {
            op: OpCode::CreateTtl,
            path: &r.path,
            data: &r.data,
            acl: &r.acl,
            flags: r.flags,
            ttl: r.ttl,
        };
        self.create_any(&args)
    }

    fn create_any(&mut self, args: &CreateArgs) -> Step<Txn> {
        let accepted = self.accept_create(args)?;
        let data_len = args.data.as_ref().map_or(0, |d| d.len() as i64);
        quota::check_if(self.cfg.enforce_quota, self.view, &accepted.path, data_len, 1)?;
        let txn = create_txn(args, &accepted);
        self.record_create(args, accepted, data_len);
        Ok(txn)
    }

    /// Every check up to the quota, in Java's order.
    fn accept_create(&self, args: &CreateArgs) -> Step<Accepted> {
        let mode = CreateMode::from_flag(args.flags).ok_or(ErrorCode::BadArguments)?;
        if mode.is_ttl() && !self.cfg.extended_types {
            return Err(ErrorCode::Unimplemented.into());
        }
        validate_ttl(mode, args.ttl)?;
        let parent = parent_for_create(args.path)?;
        let acl = fixup_acl(args.acl, self.ctx.auth, self.schemes)?;
        let parent_rec = self.record(parent)?;
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
        Ok(Accepted { path, parent: parent.to_string(), parent_rec, acl, mode })
    }

    /// The parent gains a child and a create; the node appears as the tree will have it.
    fn record_create(&mut self, args: &CreateArgs, accepted: Accepted, data_len: i64) {
        let (zxid, time) = (self.ctx.zxid, self.ctx.time);
        let mut parent = accepted.parent_rec;
        parent.num_children = parent.num_children.wrapping_add(1);
        parent.stat.cversion = parent.stat.cversion.wrapping_add(1);
        parent.stat.pzxid = zxid;
        self.record_change(&accepted.parent, Some(parent));
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
        let node = NodeRecord { stat, acl: accepted.acl, num_children: 0, data_len };
        self.record_change(&accepted.path, Some(node));
    }
}

/// `EphemeralType.validateTTL`: TTL modes need 1..=max, other modes a negative ttl
/// (so a createTTL request with a non-TTL mode and ttl -5 is accepted, as in Java).
fn validate_ttl(mode: CreateMode, ttl: i64) -> Step<()> {
    let ok = if mode.is_ttl() { ttl > 0 && ttl <= TTL_MAX_MS } else { ttl < 0 };
    if ok {
        Ok(())
    } else {
        Err(ErrorCode::BadArguments.into())
    }
}

/// The txn type follows the opcode, not the mode: Java builds a `CreateContainerTxn` for
/// op 19 whatever its flags say.
fn create_txn(args: &CreateArgs, a: &Accepted) -> Txn {
    let parent_cversion = a.parent_rec.stat.cversion.wrapping_add(1);
    let (path, data, acl) = (a.path.clone(), args.data.clone(), a.acl.clone());
    match args.op {
        OpCode::CreateContainer => {
            Txn::CreateContainer(CreateContainerTxn { path, data, acl, parent_cversion })
        }
        OpCode::CreateTtl => {
            Txn::CreateTtl(CreateTtlTxn { path, data, acl, parent_cversion, ttl: args.ttl })
        }
        op => {
            let txn = CreateTxn { path, data, acl, ephemeral: a.mode.is_ephemeral(), parent_cversion };
            if op == OpCode::Create2 {
                Txn::Create2(txn)
            } else {
                Txn::Create(txn)
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
