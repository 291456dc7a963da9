//! Per-operation records of `zookeeper.jute`, in jute field order.
//!
//! A jute `ustring` is a Rust `String` (a null string reads as empty: no ZooKeeper request
//! distinguishes the two); a jute `buffer` whose null/empty distinction reaches clients or
//! disk (znode data) is an `Option<Vec<u8>>`.

use super::data::{Acl, Stat};

/// `ConnectRequest`. `read_only` is `None` when the client did not send the trailing
/// byte; the response then omits it too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub timeout_ms: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub read_only: Option<bool>,
}

/// `ConnectResponse`; `read_only` is written only when `Some`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub timeout_ms: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub read_only: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHeader {
    pub xid: i32,
    pub op: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyHeader {
    pub xid: i32,
    pub zxid: i64,
    pub err: i32,
}

/// `MultiHeader`: precedes every op of a multi request and every result of its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiHeader {
    pub op: i32,
    pub done: bool,
    pub err: i32,
}

/// `CreateRequest` (ops 1, 15, 19).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRequest {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub flags: i32,
}

/// `CreateTTLRequest` (op 21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateTtlRequest {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub flags: i32,
    pub ttl: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRequest {
    pub path: String,
    pub version: i32,
}

/// `ExistsRequest`, `GetDataRequest`, `GetChildrenRequest`, `GetChildren2Request`:
/// a path and a watch flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathWatchRequest {
    pub path: String,
    pub watch: bool,
}

/// Requests that are just a path: `GetACLRequest`, `SyncRequest`,
/// `GetEphemeralsRequest` (prefixPath), `GetAllChildrenNumberRequest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRequest {
    pub path: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetDataRequest {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAclRequest {
    pub path: String,
    pub acl: Vec<Acl>,
    pub version: i32,
}

/// `CheckVersionRequest` (op 13, inside multi only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckVersionRequest {
    pub path: String,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconfigRequest {
    pub joining_servers: String,
    pub leaving_servers: String,
    pub new_members: String,
    pub cur_config_id: i64,
}

/// `CheckWatchesRequest` / `RemoveWatchesRequest`; `watcher_type` is `WatcherType`
/// (Children 1, Data 2, Any 3, Persistent 4, PersistentRecursive 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchesRequest {
    pub path: String,
    pub watcher_type: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthPacket {
    pub auth_type: i32,
    pub scheme: String,
    pub auth: Vec<u8>,
}

/// `SetWatches` (op 101) and `SetWatches2` (op 105); the two persistent lists are
/// empty for op 101 and are not written for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetWatches {
    pub relative_zxid: i64,
    pub data_watches: Vec<String>,
    pub exist_watches: Vec<String>,
    pub child_watches: Vec<String>,
    pub persistent_watches: Vec<String>,
    pub persistent_recursive_watches: Vec<String>,
}

/// `AddWatchRequest`: mode 0 = persistent, 1 = persistent recursive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddWatchRequest {
    pub path: String,
    pub mode: i32,
}

/// Create2/createContainer/createTTL response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Create2Response {
    pub path: String,
    pub stat: Stat,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetDataResponse {
    pub data: Option<Vec<u8>>,
    pub stat: Stat,
}
