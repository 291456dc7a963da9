//! Server replies: `ReplyHeader` plus the response record of the request's opcode
//! (`FinalRequestProcessor` / `ServerCnxn.sendResponse`), multi results
//! (`MultiResponse`), and watch notifications (`WatcherEvent` behind xid -1).

use bytes::{BufMut, BytesMut};

use super::framed;
use super::records::{
    acls, client_info, multi_header, put_acls, put_client_info, put_multi_header, put_reply_header,
    put_stat, put_watcher_event, reply_header, stat, watcher_event, MIN_CLIENT_INFO, MULTI_END,
};
use crate::jute::primitives::{
    buffer, bytes_or_empty, fail, finish, int, put_buffer, put_bytes, put_strings, put_ustring,
    put_vector, strings, ustring, vector, JResult,
};
use crate::jute::{DecodeError, Limits};
use crate::proto::{
    Create2Response, ErrorCode, GetDataResponse, MultiHeader, MultiResult, OpCode, ReplyHeader,
    Response, WatcherEvent,
};

/// Writes a whole reply frame. The body is written only when `hdr.err == 0`: error
/// replies are header-only.
pub fn encode_reply(hdr: &ReplyHeader, body: &Response, out: &mut BytesMut) {
    framed(out, |o| {
        put_reply_header(o, hdr);
        if hdr.err == 0 {
            put_response(o, body);
        }
    });
}

/// Writes a response record, without header or framing.
pub fn put_response(o: &mut impl BufMut, r: &Response) {
    match r {
        Response::Empty => {}
        Response::Create(path) | Response::Sync(path) => put_ustring(o, path),
        Response::Create2(c) => put_create2(o, c),
        Response::Stat(s) => put_stat(o, s),
        Response::GetData(g) => put_get_data(o, g),
        Response::GetAcl { acl, stat } => {
            put_acls(o, acl);
            put_stat(o, stat);
        }
        Response::GetChildren(v) | Response::GetEphemerals(v) => put_strings(o, v),
        Response::GetChildren2 { children, stat } => {
            put_strings(o, children);
            put_stat(o, stat);
        }
        Response::Multi(results) => put_multi_results(o, results),
        Response::Sasl(token) => put_bytes(o, token),
        Response::AllChildrenNumber(n) => o.put_i32(*n),
        Response::AddWatch => o.put_i32(0),
        Response::WhoAmI(v) => put_vector(o, v, |o, c| put_client_info(o, c)),
    }
}

fn put_create2(o: &mut impl BufMut, c: &Create2Response) {
    put_ustring(o, &c.path);
    put_stat(o, &c.stat);
}

fn put_get_data(o: &mut impl BufMut, g: &GetDataResponse) {
    put_buffer(o, g.data.as_deref());
    put_stat(o, &g.stat);
}

/// Each result behind `MultiHeader{type, false, err}` (err 0 except for error results,
/// which repeat their code in an `ErrorResponse` body), then the end marker.
fn put_multi_results(o: &mut impl BufMut, results: &[MultiResult]) {
    for r in results {
        let err = match r {
            MultiResult::Error(code) => code.code(),
            _ => 0,
        };
        put_multi_header(
            o,
            &MultiHeader {
                op: r.header_type(),
                done: false,
                err,
            },
        );
        match r {
            MultiResult::Create(path) => put_ustring(o, path),
            MultiResult::Create2(c) => put_create2(o, c),
            MultiResult::Delete | MultiResult::Check => {}
            MultiResult::SetData(s) => put_stat(o, s),
            MultiResult::GetChildren(v) => put_strings(o, v),
            MultiResult::GetData(g) => put_get_data(o, g),
            MultiResult::Error(code) => o.put_i32(code.code()),
        }
    }
    put_multi_header(o, &MULTI_END);
}

/// Client side: decodes a reply frame body to a request of opcode `op`. A non-zero
/// header err means no body (`Response::Empty`) whatever the opcode.
pub fn decode_reply(
    body: &[u8],
    op: OpCode,
    lim: &Limits,
) -> Result<(ReplyHeader, Response), DecodeError> {
    let (rest, hdr) = finish(reply_header(body))?;
    if hdr.err != 0 {
        return Ok((hdr, Response::Empty));
    }
    let (_, resp) = finish(response(op, rest, lim))?;
    Ok((hdr, resp))
}

fn response<'a>(op: OpCode, i: &'a [u8], lim: &Limits) -> JResult<'a, Response> {
    use OpCode as O;
    match op {
        O::Create => map(ustring(i, lim), Response::Create),
        O::Create2 | O::CreateContainer | O::CreateTtl => map(create2(i, lim), Response::Create2),
        O::Exists | O::SetData | O::SetAcl | O::Check => map(stat(i), Response::Stat),
        O::GetData | O::Reconfig => map(get_data(i, lim), Response::GetData),
        O::GetAcl => get_acl(i, lim),
        O::GetChildren => map(strings(i, lim), Response::GetChildren),
        O::GetChildren2 => get_children2(i, lim),
        O::Sync => map(ustring(i, lim), Response::Sync),
        O::Multi | O::MultiRead => map(multi_results(i, lim), Response::Multi),
        O::Sasl => map(bytes_or_empty(i, lim), Response::Sasl),
        O::GetEphemerals => map(strings(i, lim), Response::GetEphemerals),
        O::GetAllChildrenNumber => map(int(i), Response::AllChildrenNumber),
        O::AddWatch => add_watch(i),
        O::WhoAmI => map(
            vector(i, MIN_CLIENT_INFO, |i| client_info(i, lim)),
            Response::WhoAmI,
        ),
        O::Delete | O::DeleteContainer | O::CheckWatches | O::RemoveWatches => {
            Ok((i, Response::Empty))
        }
        O::SetWatches | O::SetWatches2 | O::CloseSession | O::Ping | O::Auth => {
            Ok((i, Response::Empty))
        }
        O::Notification | O::CreateSession | O::Error => {
            fail(DecodeError::UnknownOpCode(op.code()))
        }
    }
}

fn map<'a, T, U>(r: JResult<'a, T>, f: impl FnOnce(T) -> U) -> JResult<'a, U> {
    r.map(|(i, v)| (i, f(v)))
}

fn create2<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Create2Response> {
    let (i, path) = ustring(i, lim)?;
    let (i, stat) = stat(i)?;
    Ok((i, Create2Response { path, stat }))
}

fn get_data<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, GetDataResponse> {
    let (i, data) = buffer(i, lim)?;
    let (i, stat) = stat(i)?;
    Ok((i, GetDataResponse { data, stat }))
}

fn get_acl<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Response> {
    let (i, acl) = acls(i, lim)?;
    let (i, stat) = stat(i)?;
    Ok((i, Response::GetAcl { acl, stat }))
}

fn get_children2<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Response> {
    let (i, children) = strings(i, lim)?;
    let (i, stat) = stat(i)?;
    Ok((i, Response::GetChildren2 { children, stat }))
}

/// addWatch success is `ErrorResponse{err: 0}`; another value has no `Response` form.
fn add_watch(i: &[u8]) -> JResult<'_, Response> {
    let (i, err) = int(i)?;
    if err != 0 {
        return fail(DecodeError::invalid("addWatch response", err));
    }
    Ok((i, Response::AddWatch))
}

fn multi_results<'a>(mut i: &'a [u8], lim: &Limits) -> JResult<'a, Vec<MultiResult>> {
    let mut results = Vec::new();
    loop {
        let (rest, h) = multi_header(i)?;
        if h.done {
            return Ok((rest, results));
        }
        let (rest, r) = multi_result(h.op, rest, lim)?;
        results.push(r);
        i = rest;
    }
}

fn multi_result<'a>(op: i32, i: &'a [u8], lim: &Limits) -> JResult<'a, MultiResult> {
    match op {
        1 => map(ustring(i, lim), MultiResult::Create),
        15 => map(create2(i, lim), MultiResult::Create2),
        2 => Ok((i, MultiResult::Delete)),
        13 => Ok((i, MultiResult::Check)),
        5 => map(stat(i), MultiResult::SetData),
        8 => map(strings(i, lim), MultiResult::GetChildren),
        4 => map(get_data(i, lim), MultiResult::GetData),
        -1 => map(error_code(i), MultiResult::Error),
        other => fail(DecodeError::invalid("multi result type", other)),
    }
}

fn error_code(i: &[u8]) -> JResult<'_, ErrorCode> {
    let (i, err) = int(i)?;
    match ErrorCode::try_from(err) {
        Ok(code) => Ok((i, code)),
        Err(v) => fail(DecodeError::invalid("error code", v)),
    }
}

/// Writes a whole notification frame: `ReplyHeader{-1, zxid, 0}` and the event.
pub fn encode_notification(zxid: i64, ev: &WatcherEvent, out: &mut BytesMut) {
    framed(out, |o| {
        put_reply_header(
            o,
            &ReplyHeader {
                xid: -1,
                zxid,
                err: 0,
            },
        );
        put_watcher_event(o, ev);
    });
}

/// Decodes a notification frame body (the frame whose header xid is -1).
pub fn decode_notification(body: &[u8]) -> Result<(ReplyHeader, WatcherEvent), DecodeError> {
    let lim = Limits::default();
    let (rest, hdr) = finish(reply_header(body))?;
    let (_, ev) = finish(watcher_event(rest, &lim))?;
    Ok((hdr, ev))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{EventType, Stat, KEEPER_STATE_SYNC_CONNECTED};

    #[test]
    fn error_reply_has_no_body() {
        let mut out = BytesMut::new();
        let hdr = ReplyHeader {
            xid: 5,
            zxid: 10,
            err: -101,
        };
        encode_reply(&hdr, &Response::Stat(Stat::default()), &mut out);
        assert_eq!(out.len(), 4 + 16);
        assert_eq!(
            decode_reply(&out[4..], OpCode::Exists, &Limits::default()),
            Ok((hdr, Response::Empty))
        );
    }

    #[test]
    fn add_watch_success_carries_a_zero_int() {
        let mut out = BytesMut::new();
        encode_reply(
            &ReplyHeader {
                xid: 1,
                zxid: 0,
                err: 0,
            },
            &Response::AddWatch,
            &mut out,
        );
        assert_eq!(
            &out[..],
            &[0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn failed_multi_results_repeat_their_code() {
        let results = vec![
            MultiResult::Error(ErrorCode::Ok),
            MultiResult::Error(ErrorCode::NoNode),
        ];
        let mut out = BytesMut::new();
        encode_reply(
            &ReplyHeader {
                xid: 1,
                zxid: 2,
                err: 0,
            },
            &Response::Multi(results.clone()),
            &mut out,
        );
        let body = &out[4 + 16..];
        assert_eq!(&body[9..13], &[0, 0, 0, 0]);
        assert_eq!(&body[13 + 5..13 + 9], &(-101i32).to_be_bytes());
        let (_, r) = decode_reply(&out[4..], OpCode::Multi, &Limits::default()).unwrap();
        assert_eq!(r, Response::Multi(results));
    }

    #[test]
    fn notification_round_trips() {
        let ev = WatcherEvent {
            event_type: EventType::NodeCreated,
            state: KEEPER_STATE_SYNC_CONNECTED,
            path: "/x1".into(),
        };
        let mut out = BytesMut::new();
        encode_notification(-1, &ev, &mut out);
        let (hdr, back) = decode_notification(&out[4..]).unwrap();
        assert_eq!(
            hdr,
            ReplyHeader {
                xid: -1,
                zxid: -1,
                err: 0
            }
        );
        assert_eq!(back, ev);
    }
}
