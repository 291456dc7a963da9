//! Transactions: the plain-data payload of the transaction log, of snapshots' replay and
//! of ZAB proposals (`TxnHeader` and the `*Txn` records of `zookeeper.jute`).
//!
//! The header's `type` field is not stored in `TxnHeader`: it is `Txn::op_code`, so a
//! header can never disagree with its record.

use super::data::Acl;
use super::error_code::ErrorCode;
use super::op_code::OpCode;

/// `TxnHeader` without `type` (see module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TxnHeader {
    /// Session id of the requester; 0 for server-generated txns.
    pub client_id: i64,
    pub cxid: i32,
    pub zxid: i64,
    /// Leader wall clock in ms when the request was prepared.
    pub time: i64,
}

/// `CreateTxn` (types 1 and 15).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CreateTxn {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub ephemeral: bool,
    /// Parent's stored child-create counter after this create; -1 when read from a
    /// legacy `CreateTxnV0` record (meaning "current + 1").
    pub parent_cversion: i32,
}

/// `CreateContainerTxn` (type 19).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CreateContainerTxn {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub parent_cversion: i32,
}

/// `CreateTTLTxn` (type 21).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CreateTtlTxn {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub parent_cversion: i32,
    pub ttl: i64,
}

/// `SetDataTxn` (type 5, and 16 reconfig); `version` is the new version.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SetDataTxn {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub version: i32,
}

/// `SetACLTxn`; `version` is the new aversion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SetAclTxn {
    pub path: String,
    pub acl: Vec<Acl>,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Txn {
    Create(CreateTxn),
    Create2(CreateTxn),
    CreateContainer(CreateContainerTxn),
    CreateTtl(CreateTtlTxn),
    /// `DeleteTxn`.
    Delete(String),
    /// `DeleteTxn` with type 20 (container / TTL reaping).
    DeleteContainer(String),
    SetData(SetDataTxn),
    /// Type 16: a `SetDataTxn` on `/zookeeper/config`.
    Reconfig(SetDataTxn),
    SetAcl(SetAclTxn),
    /// `CheckVersionTxn` (inside multi only).
    Check {
        path: String,
        version: i32,
    },
    /// `CreateSessionTxn`: the negotiated timeout in ms.
    CreateSession {
        timeout_ms: i32,
    },
    /// `CloseSessionTxn`; `None` when the record is absent (3.4/3.5 logs).
    CloseSession(Option<Vec<String>>),
    /// `ErrorTxn`.
    Error(ErrorCode),
    /// `MultiTxn`: sub-txns share the header.
    Multi(Vec<Txn>),
}

impl Txn {
    pub fn op_code(&self) -> OpCode {
        match self {
            Txn::Create(_) => OpCode::Create,
            Txn::Create2(_) => OpCode::Create2,
            Txn::CreateContainer(_) => OpCode::CreateContainer,
            Txn::CreateTtl(_) => OpCode::CreateTtl,
            Txn::Delete(_) => OpCode::Delete,
            Txn::DeleteContainer(_) => OpCode::DeleteContainer,
            Txn::SetData(_) => OpCode::SetData,
            Txn::Reconfig(_) => OpCode::Reconfig,
            Txn::SetAcl(_) => OpCode::SetAcl,
            Txn::Check { .. } => OpCode::Check,
            Txn::CreateSession { .. } => OpCode::CreateSession,
            Txn::CloseSession(_) => OpCode::CloseSession,
            Txn::Error(_) => OpCode::Error,
            Txn::Multi(_) => OpCode::Multi,
        }
    }
}

/// `TxnDigest`: the tree digest after applying the txn (3.6+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxnDigest {
    pub version: i32,
    pub tree_digest: i64,
}

/// One logged transaction: header, record, optional digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TxnEntry {
    pub header: TxnHeader,
    pub txn: Txn,
    pub digest: Option<TxnDigest>,
}
