//! Building reply frames (`FinalRequestProcessor`'s response records and
//! `ServerCnxn.sendResponse`).

use crate::proto::codec::{encode_notification, encode_reply};
use crate::proto::{
    Create2Response, ErrorCode, MultiResult, ReplyHeader, Response, Txn, WatcherEvent,
};
use crate::tree::TxnResult;
use bytes::{Bytes, BytesMut};

/// A reply frame: header, then `body` only when `err` is 0.
pub(super) fn reply_frame(xid: i32, zxid: i64, err: ErrorCode, body: &Response) -> Bytes {
    let body_room = if err == ErrorCode::Ok {
        reply_capacity(body)
    } else {
        0
    };
    let mut buf = BytesMut::with_capacity(HEADER_LEN + body_room);
    encode_reply(
        &ReplyHeader {
            xid,
            zxid,
            err: err.code(),
        },
        body,
        &mut buf,
    );
    buf.freeze()
}

/// Length prefix and `ReplyHeader`.
const HEADER_LEN: usize = 4 + 16;
/// A serialized `Stat`.
const STAT_LEN: usize = 68;

/// Room for the body of the common replies, exactly, so that encoding never reallocates
/// (growing from a small buffer copied a 1 KiB getData reply five times) and the frozen
/// buffer needs no shared header of its own (`Bytes` allocates one for a buffer with
/// spare room); others get a small start and grow.
fn reply_capacity(body: &Response) -> usize {
    let strings = |v: &[String]| 4 + v.iter().map(|s| 4 + s.len()).sum::<usize>();
    match body {
        Response::GetData(r) => 4 + r.data.as_ref().map_or(0, Vec::len) + STAT_LEN,
        Response::Stat(_) => STAT_LEN,
        Response::Create(p) | Response::Sync(p) => 4 + p.len(),
        Response::Create2(r) => 4 + r.path.len() + STAT_LEN,
        Response::GetChildren(c) => strings(c),
        Response::GetChildren2 { children, .. } => strings(children) + STAT_LEN,
        Response::Empty => 0,
        _ => 44,
    }
}

/// A notification frame: xid -1 and, as 3.8 servers send it, zxid -1.
pub(super) fn notification_frame(ev: &WatcherEvent) -> Bytes {
    let mut buf = BytesMut::with_capacity(32 + ev.path.len());
    encode_notification(-1, ev, &mut buf);
    buf.freeze()
}

/// The reply to an applied write: its error code and body.
pub(super) fn write_reply(txn: &Txn, result: &TxnResult) -> (ErrorCode, Response) {
    match (txn, result) {
        (Txn::Multi(subs), TxnResult::Multi(results)) => (
            ErrorCode::Ok,
            Response::Multi(
                subs.iter()
                    .zip(results)
                    .map(|(t, r)| multi_result(t, r))
                    .collect(),
            ),
        ),
        (_, TxnResult::Error(code)) => (*code, Response::Empty),
        (Txn::Create(_), TxnResult::Created { path, .. }) => {
            (ErrorCode::Ok, Response::Create(path.clone()))
        }
        (_, TxnResult::Created { path, stat }) => (
            ErrorCode::Ok,
            Response::Create2(Create2Response {
                path: path.clone(),
                stat: *stat,
            }),
        ),
        (_, TxnResult::SetData { stat }) | (_, TxnResult::SetAcl { stat }) => {
            (ErrorCode::Ok, Response::Stat(*stat))
        }
        _ => (ErrorCode::Ok, Response::Empty),
    }
}

/// One entry of a multi's reply: the result type follows the sub-transaction's type
/// (create → 1, create2/container/TTL → 15, …), errors become `ErrorResult`.
fn multi_result(txn: &Txn, result: &TxnResult) -> MultiResult {
    match (txn, result) {
        (_, TxnResult::Error(code)) => MultiResult::Error(*code),
        (Txn::Create(_), TxnResult::Created { path, .. }) => MultiResult::Create(path.clone()),
        (_, TxnResult::Created { path, stat }) => MultiResult::Create2(Create2Response {
            path: path.clone(),
            stat: *stat,
        }),
        (_, TxnResult::Deleted) => MultiResult::Delete,
        (_, TxnResult::SetData { stat }) => MultiResult::SetData(*stat),
        (_, TxnResult::Checked) => MultiResult::Check,
        _ => MultiResult::Error(ErrorCode::RuntimeInconsistency),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{GetDataResponse, Stat};

    #[test]
    fn common_replies_fill_their_initial_capacity_exactly() {
        let bodies = [
            Response::GetData(GetDataResponse {
                data: Some(vec![1; 1024]),
                stat: Stat::default(),
            }),
            Response::GetData(GetDataResponse {
                data: None,
                stat: Stat::default(),
            }),
            Response::Stat(Stat::default()),
            Response::Create("/a/b".into()),
            Response::GetChildren2 {
                children: vec!["x".into(), "yy".into()],
                stat: Stat::default(),
            },
            Response::Empty,
        ];
        for body in bodies {
            let frame = reply_frame(1, 2, ErrorCode::Ok, &body);
            assert_eq!(frame.len(), HEADER_LEN + reply_capacity(&body), "{body:?}");
        }
        let refused = reply_frame(1, 2, ErrorCode::NoNode, &Response::Stat(Stat::default()));
        assert_eq!(refused.len(), HEADER_LEN);
    }
}
