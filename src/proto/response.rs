//! A response body, encoded after a `ReplyHeader` whose err is 0 (error replies carry no
//! body, except multi, whose header err stays 0 and whose results carry the codes).

use super::data::{Acl, ClientInfo, Stat};
use super::error_code::ErrorCode;
use super::records::{Create2Response, GetDataResponse};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// No body: delete, sync-less acks, setWatches, checkWatches, removeWatches,
    /// closeSession, ping, auth.
    Empty,
    /// `CreateResponse` (op 1).
    Create(String),
    /// `Create2Response` (ops 15, 19, 21).
    Create2(Create2Response),
    /// `ExistsResponse`, `SetDataResponse`, `SetACLResponse`: a bare `Stat`.
    Stat(Stat),
    /// `GetDataResponse`; also the reconfig / getConfig answer.
    GetData(GetDataResponse),
    GetAcl {
        acl: Vec<Acl>,
        stat: Stat,
    },
    GetChildren(Vec<String>),
    GetChildren2 {
        children: Vec<String>,
        stat: Stat,
    },
    /// `SyncResponse`: the path echoed.
    Sync(String),
    Multi(Vec<MultiResult>),
    /// `SetSASLResponse`.
    Sasl(Vec<u8>),
    GetEphemerals(Vec<String>),
    AllChildrenNumber(i32),
    /// addWatch success: an `ErrorResponse{err: 0}` body of 4 bytes.
    AddWatch,
    WhoAmI(Vec<ClientInfo>),
}

/// One entry of a multi / multiRead response; the `MultiHeader.type` written for each
/// is given by `header_type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultiResult {
    Create(String),
    Create2(Create2Response),
    Delete,
    SetData(Stat),
    Check,
    GetChildren(Vec<String>),
    GetData(GetDataResponse),
    Error(ErrorCode),
}

impl MultiResult {
    pub fn header_type(&self) -> i32 {
        match self {
            MultiResult::Create(_) => 1,
            MultiResult::Create2(_) => 15,
            MultiResult::Delete => 2,
            MultiResult::SetData(_) => 5,
            MultiResult::Check => 13,
            MultiResult::GetChildren(_) => 8,
            MultiResult::GetData(_) => 4,
            MultiResult::Error(_) => -1,
        }
    }
}
