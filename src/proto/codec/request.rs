//! Client requests: `RequestHeader` plus the per-opcode request record, including the
//! op lists of multi and multiRead (`MultiOperationRecord`).
//!
//! Like the Java server, a request record is read field by field and whatever follows it
//! in the frame is ignored.

use bytes::{BufMut, BytesMut};

use super::framed;
use super::records::{
    acls, multi_header, put_acls, put_multi_header, put_request_header, request_header, MULTI_END,
};
use crate::jute::primitives::{
    boolean, buffer, bytes_or_empty, fail, finish, int, long, put_bool, put_buffer, put_bytes,
    put_strings, put_ustring, put_ustring_or_null, strings, ustring, JResult,
};
use crate::jute::{DecodeError, Limits};
use crate::proto::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CreateRequest, CreateTtlRequest,
    DeleteRequest, MultiHeader, OpCode, PathRequest, PathWatchRequest, ReconfigRequest, Request,
    RequestHeader, SetAclRequest, SetDataRequest, SetWatches, WatchesRequest,
};

/// Splits a request frame body into its header and the bytes of its record.
pub fn decode_request_header(body: &[u8]) -> Result<(RequestHeader, &[u8]), DecodeError> {
    let (rest, h) = finish(request_header(body))?;
    Ok((h, rest))
}

/// Decodes the record that follows `hdr`. Opcodes a client may not send (unknown ones,
/// notification 0, the internal createSession -10, error -1) are `UnknownOpCode`.
pub fn decode_request(
    hdr: &RequestHeader,
    rest: &[u8],
    lim: &Limits,
) -> Result<Request, DecodeError> {
    let op = match OpCode::try_from(hdr.op) {
        Ok(OpCode::Notification | OpCode::CreateSession | OpCode::Error) | Err(_) => {
            return Err(DecodeError::UnknownOpCode(hdr.op))
        }
        Ok(op) => op,
    };
    let (_, req) = finish(record(op, rest, lim))?;
    Ok(req)
}

fn record<'a>(op: OpCode, i: &'a [u8], lim: &Limits) -> JResult<'a, Request> {
    use OpCode as O;
    match op {
        O::Create | O::Create2 | O::CreateContainer | O::CreateTtl | O::Delete | O::SetData => {
            sub_op(op, i, lim)
        }
        O::Check | O::GetData | O::GetChildren => sub_op(op, i, lim),
        O::Exists => map(path_watch(i, lim), Request::Exists),
        O::GetChildren2 => map(path_watch(i, lim), Request::GetChildren2),
        O::DeleteContainer => map(container_path(i, lim), Request::DeleteContainer),
        O::GetAcl => map(path(i, lim), Request::GetAcl),
        O::Sync => map(path(i, lim), Request::Sync),
        O::GetEphemerals => map(path(i, lim), Request::GetEphemerals),
        O::GetAllChildrenNumber => map(path(i, lim), Request::GetAllChildrenNumber),
        O::SetAcl => map(set_acl(i, lim), Request::SetAcl),
        O::Ping => Ok((i, Request::Ping)),
        O::WhoAmI => Ok((i, Request::WhoAmI)),
        O::CloseSession => Ok((i, Request::CloseSession)),
        O::Multi => map(multi_ops(i, lim, false), Request::Multi),
        O::MultiRead => map(multi_ops(i, lim, true), Request::MultiRead),
        O::Reconfig => map(reconfig(i, lim), Request::Reconfig),
        O::CheckWatches => map(watches(i, lim), Request::CheckWatches),
        O::RemoveWatches => map(watches(i, lim), Request::RemoveWatches),
        O::Auth => map(auth(i, lim), Request::Auth),
        O::SetWatches => map(set_watches(i, lim, false), Request::SetWatches),
        O::SetWatches2 => map(set_watches(i, lim, true), Request::SetWatches2),
        O::Sasl => map(bytes_or_empty(i, lim), Request::Sasl),
        O::AddWatch => map(add_watch(i, lim), Request::AddWatch),
        O::Notification | O::CreateSession | O::Error => {
            fail(DecodeError::UnknownOpCode(op.code()))
        }
    }
}

fn map<'a, T, U>(r: JResult<'a, T>, f: impl FnOnce(T) -> U) -> JResult<'a, U> {
    r.map(|(i, v)| (i, f(v)))
}

/// The ops that may appear inside multi (writes) or multiRead (reads).
fn sub_op<'a>(op: OpCode, i: &'a [u8], lim: &Limits) -> JResult<'a, Request> {
    match op {
        OpCode::Create => map(create(i, lim), Request::Create),
        OpCode::Create2 => map(create(i, lim), Request::Create2),
        OpCode::CreateContainer => map(create(i, lim), Request::CreateContainer),
        OpCode::CreateTtl => map(create_ttl(i, lim), Request::CreateTtl),
        OpCode::Delete => map(delete(i, lim), Request::Delete),
        OpCode::SetData => map(set_data(i, lim), Request::SetData),
        OpCode::Check => map(check(i, lim), Request::Check),
        OpCode::GetData => map(path_watch(i, lim), Request::GetData),
        OpCode::GetChildren => map(path_watch(i, lim), Request::GetChildren),
        other => fail(DecodeError::invalid("multi op type", other.code())),
    }
}

/// The ops of a multi (`read` false) or multiRead (`read` true) up to the header whose
/// `done` flag is set; an op of the wrong kind is `Invalid` (answered MarshallingError).
fn multi_ops<'a>(mut i: &'a [u8], lim: &Limits, read: bool) -> JResult<'a, Vec<Request>> {
    let mut ops = Vec::new();
    loop {
        let (rest, h) = multi_header(i)?;
        if h.done {
            return Ok((rest, ops));
        }
        let allowed = if read {
            matches!(h.op, 4 | 8)
        } else {
            matches!(h.op, 1 | 2 | 5 | 13 | 15 | 19 | 21)
        };
        let Some(op) = OpCode::try_from(h.op).ok().filter(|_| allowed) else {
            return fail(DecodeError::invalid("multi op type", h.op));
        };
        let (rest, r) = sub_op(op, rest, lim)?;
        ops.push(r);
        i = rest;
    }
}

fn create<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, CreateRequest> {
    let (i, path) = ustring(i, lim)?;
    let (i, data) = buffer(i, lim)?;
    let (i, acl) = acls(i, lim)?;
    let (i, flags) = int(i)?;
    Ok((
        i,
        CreateRequest {
            path,
            data,
            acl,
            flags,
        },
    ))
}

fn create_ttl<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, CreateTtlRequest> {
    let (i, c) = create(i, lim)?;
    let (i, ttl) = long(i)?;
    Ok((
        i,
        CreateTtlRequest {
            path: c.path,
            data: c.data,
            acl: c.acl,
            flags: c.flags,
            ttl,
        },
    ))
}

fn delete<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, DeleteRequest> {
    let (i, (path, version)) = path_int(i, lim)?;
    Ok((i, DeleteRequest { path, version }))
}

fn check<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, CheckVersionRequest> {
    let (i, (path, version)) = path_int(i, lim)?;
    Ok((i, CheckVersionRequest { path, version }))
}

fn watches<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, WatchesRequest> {
    let (i, (path, watcher_type)) = path_int(i, lim)?;
    Ok((i, WatchesRequest { path, watcher_type }))
}

fn add_watch<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, AddWatchRequest> {
    let (i, (path, mode)) = path_int(i, lim)?;
    Ok((i, AddWatchRequest { path, mode }))
}

fn path_int<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, (String, i32)> {
    let (i, path) = ustring(i, lim)?;
    let (i, v) = int(i)?;
    Ok((i, (path, v)))
}

fn path_watch<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, PathWatchRequest> {
    let (i, path) = ustring(i, lim)?;
    let (i, watch) = boolean(i)?;
    Ok((i, PathWatchRequest { path, watch }))
}

fn path<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, PathRequest> {
    let (i, path) = ustring(i, lim)?;
    Ok((i, PathRequest { path }))
}

/// deleteContainer carries its path as one length-prefixed `buffer` of UTF-8 bytes (the
/// same bytes as a `ustring`). Java's `ContainerManager` hands its pipeline the bare path
/// bytes and no Java client sends this opcode, so the prefix only has to agree with our
/// own encoder; it keeps the record self-delimiting like every other one.
fn container_path<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, PathRequest> {
    let (i, b) = bytes_or_empty(i, lim)?;
    Ok((
        i,
        PathRequest {
            path: String::from_utf8_lossy(&b).into_owned(),
        },
    ))
}

fn set_data<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, SetDataRequest> {
    let (i, path) = ustring(i, lim)?;
    let (i, data) = buffer(i, lim)?;
    let (i, version) = int(i)?;
    Ok((
        i,
        SetDataRequest {
            path,
            data,
            version,
        },
    ))
}

fn set_acl<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, SetAclRequest> {
    let (i, path) = ustring(i, lim)?;
    let (i, acl) = acls(i, lim)?;
    let (i, version) = int(i)?;
    Ok((i, SetAclRequest { path, acl, version }))
}

fn reconfig<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, ReconfigRequest> {
    let (i, joining_servers) = ustring(i, lim)?;
    let (i, leaving_servers) = ustring(i, lim)?;
    let (i, new_members) = ustring(i, lim)?;
    let (i, cur_config_id) = long(i)?;
    Ok((
        i,
        ReconfigRequest {
            joining_servers,
            leaving_servers,
            new_members,
            cur_config_id,
        },
    ))
}

fn auth<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, AuthPacket> {
    let (i, auth_type) = int(i)?;
    let (i, scheme) = ustring(i, lim)?;
    let (i, auth) = bytes_or_empty(i, lim)?;
    Ok((
        i,
        AuthPacket {
            auth_type,
            scheme,
            auth,
        },
    ))
}

/// `SetWatches` (3 lists) or, with `persistent`, `SetWatches2` (5 lists).
fn set_watches<'a>(i: &'a [u8], lim: &Limits, persistent: bool) -> JResult<'a, SetWatches> {
    let (i, relative_zxid) = long(i)?;
    let (i, data_watches) = strings(i, lim)?;
    let (i, exist_watches) = strings(i, lim)?;
    let (mut i, child_watches) = strings(i, lim)?;
    let mut sw = SetWatches {
        relative_zxid,
        data_watches,
        exist_watches,
        child_watches,
        ..Default::default()
    };
    if persistent {
        (i, sw.persistent_watches) = strings(i, lim)?;
        (i, sw.persistent_recursive_watches) = strings(i, lim)?;
    }
    Ok((i, sw))
}

/// Writes a whole request frame: `RequestHeader{xid, op}` and the record. Special xids
/// (ping -2, auth -4, setWatches -8) are the caller's to pass.
pub fn encode_request(xid: i32, req: &Request, out: &mut BytesMut) {
    framed(out, |o| {
        put_request_header(
            o,
            &RequestHeader {
                xid,
                op: req.op_code().code(),
            },
        );
        put_request_record(o, req);
    });
}

/// Writes the record of a request, without header or framing.
pub fn put_request_record(o: &mut impl BufMut, req: &Request) {
    match req {
        Request::Create(r) | Request::Create2(r) | Request::CreateContainer(r) => put_create(o, r),
        Request::CreateTtl(r) => put_create_ttl(o, r),
        Request::Delete(r) => put_path_int(o, &r.path, r.version),
        Request::DeleteContainer(r) => put_bytes(o, r.path.as_bytes()),
        Request::Exists(r)
        | Request::GetData(r)
        | Request::GetChildren(r)
        | Request::GetChildren2(r) => {
            put_ustring(o, &r.path);
            put_bool(o, r.watch);
        }
        Request::SetData(r) => {
            put_ustring(o, &r.path);
            put_buffer(o, r.data.as_deref());
            o.put_i32(r.version);
        }
        Request::GetAcl(r)
        | Request::Sync(r)
        | Request::GetEphemerals(r)
        | Request::GetAllChildrenNumber(r) => put_ustring(o, &r.path),
        Request::SetAcl(r) => {
            put_ustring(o, &r.path);
            put_acls(o, &r.acl);
            o.put_i32(r.version);
        }
        Request::Ping | Request::WhoAmI | Request::CloseSession => {}
        Request::Check(r) => put_path_int(o, &r.path, r.version),
        Request::Multi(ops) | Request::MultiRead(ops) => put_multi_ops(o, ops),
        Request::Reconfig(r) => put_reconfig(o, r),
        Request::CheckWatches(r) | Request::RemoveWatches(r) => {
            put_path_int(o, &r.path, r.watcher_type)
        }
        Request::Auth(r) => {
            o.put_i32(r.auth_type);
            put_ustring(o, &r.scheme);
            put_bytes(o, &r.auth);
        }
        Request::SetWatches(w) => put_set_watches(o, w, false),
        Request::SetWatches2(w) => put_set_watches(o, w, true),
        Request::Sasl(token) => put_bytes(o, token),
        Request::AddWatch(r) => put_path_int(o, &r.path, r.mode),
    }
}

fn put_create(o: &mut impl BufMut, r: &CreateRequest) {
    put_ustring(o, &r.path);
    put_buffer(o, r.data.as_deref());
    put_acls(o, &r.acl);
    o.put_i32(r.flags);
}

fn put_create_ttl(o: &mut impl BufMut, r: &CreateTtlRequest) {
    put_ustring(o, &r.path);
    put_buffer(o, r.data.as_deref());
    put_acls(o, &r.acl);
    o.put_i32(r.flags);
    o.put_i64(r.ttl);
}

fn put_path_int(o: &mut impl BufMut, path: &str, v: i32) {
    put_ustring(o, path);
    o.put_i32(v);
}

/// `ReconfigRequest` strings that are empty are sent as null: the Java client sends null
/// for "not given", and the server treats an empty list as no list.
fn put_reconfig(o: &mut impl BufMut, r: &ReconfigRequest) {
    put_ustring_or_null(o, &r.joining_servers);
    put_ustring_or_null(o, &r.leaving_servers);
    put_ustring_or_null(o, &r.new_members);
    o.put_i64(r.cur_config_id);
}

fn put_set_watches(o: &mut impl BufMut, w: &SetWatches, persistent: bool) {
    o.put_i64(w.relative_zxid);
    put_strings(o, &w.data_watches);
    put_strings(o, &w.exist_watches);
    put_strings(o, &w.child_watches);
    if persistent {
        put_strings(o, &w.persistent_watches);
        put_strings(o, &w.persistent_recursive_watches);
    }
}

/// Each op behind `MultiHeader{op, false, -1}`, then the end marker.
fn put_multi_ops(o: &mut impl BufMut, ops: &[Request]) {
    for op in ops {
        put_multi_header(
            o,
            &MultiHeader {
                op: op.op_code().code(),
                done: false,
                err: -1,
            },
        );
        put_request_record(o, op);
    }
    put_multi_header(o, &MULTI_END);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits::default()
    }

    fn decode(op: i32, body: &[u8]) -> Result<Request, DecodeError> {
        decode_request(&RequestHeader { xid: 1, op }, body, &lim())
    }

    #[test]
    fn opcodes_clients_may_not_send_are_unknown() {
        for op in [0, -10, -1, 10, 999] {
            assert_eq!(decode(op, &[]), Err(DecodeError::UnknownOpCode(op)));
        }
    }

    #[test]
    fn check_outside_multi_decodes_as_check() {
        let body = [0, 0, 0, 2, b'/', b'a', 0, 0, 0, 3];
        let want = Request::Check(CheckVersionRequest {
            path: "/a".into(),
            version: 3,
        });
        assert_eq!(decode(13, &body), Ok(want));
    }

    #[test]
    fn trailing_bytes_after_a_record_are_ignored() {
        assert_eq!(decode(11, &[1, 2, 3]), Ok(Request::Ping));
        let body = [0, 0, 0, 1, b'/', 1, 0xAA];
        assert_eq!(
            decode(3, &body),
            Ok(Request::Exists(PathWatchRequest {
                path: "/".into(),
                watch: true
            }))
        );
    }

    #[test]
    fn read_op_inside_multi_is_invalid() {
        let mut out = BytesMut::new();
        encode_request(
            1,
            &Request::MultiRead(vec![Request::GetData(PathWatchRequest {
                path: "/".into(),
                watch: false,
            })]),
            &mut out,
        );
        let (h, rest) = decode_request_header(&out[4..]).unwrap();
        assert_eq!(
            decode(14, rest),
            Err(DecodeError::invalid("multi op type", 4))
        );
        assert!(decode_request(&h, rest, &lim()).is_ok());
    }

    #[test]
    fn write_op_inside_multi_read_is_invalid() {
        let mut out = BytesMut::new();
        encode_request(
            1,
            &Request::Multi(vec![Request::Delete(DeleteRequest {
                path: "/".into(),
                version: -1,
            })]),
            &mut out,
        );
        assert_eq!(
            decode(22, &out[12..]),
            Err(DecodeError::invalid("multi op type", 2))
        );
    }

    #[test]
    fn multi_without_end_marker_is_truncated() {
        assert_eq!(decode(14, &[]), Err(DecodeError::Truncated));
    }

    #[test]
    fn empty_reconfig_lists_are_sent_as_null() {
        let r = ReconfigRequest {
            joining_servers: String::new(),
            leaving_servers: "2".into(),
            new_members: String::new(),
            cur_config_id: -1,
        };
        let mut out = BytesMut::new();
        encode_request(1, &Request::Reconfig(r.clone()), &mut out);
        assert_eq!(&out[12..16], &[0xff; 4]);
        assert_eq!(decode(16, &out[12..]), Ok(Request::Reconfig(r)));
    }

    #[test]
    fn oversized_data_length_in_a_create_is_refused() {
        let mut body = vec![0, 0, 0, 1, b'/'];
        body.extend_from_slice(&0x7fff_fff0i32.to_be_bytes());
        let e = decode(1, &body).unwrap_err();
        assert_eq!(
            e,
            DecodeError::TooLarge {
                len: 0x7fff_fff0,
                max: lim().max_field
            }
        );
    }

    #[test]
    fn acl_count_beyond_the_frame_is_refused() {
        let mut body = vec![0, 0, 0, 1, b'/', 0xff, 0xff, 0xff, 0xff];
        body.extend_from_slice(&1_000_000i32.to_be_bytes());
        body.extend_from_slice(&[0; 4]);
        assert!(matches!(
            decode(1, &body),
            Err(DecodeError::TooLarge { len: 1_000_000, .. })
        ));
    }

    #[test]
    fn delete_container_path_is_one_buffer() {
        let body = [0, 0, 0, 2, b'/', b'c'];
        assert_eq!(
            decode(20, &body),
            Ok(Request::DeleteContainer(PathRequest { path: "/c".into() }))
        );
    }
}
