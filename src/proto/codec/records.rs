//! Records shared by requests, replies, transactions, snapshots and quorum packets:
//! `Id`, `ACL`, `Stat`, `StatPersisted`, `ClientInfo`, `WatcherEvent`, the request,
//! reply and multi headers, each as a nom parser and a `BufMut` writer.

use bytes::BufMut;

use crate::jute::primitives::{
    boolean, fail, int, long, put_bool, put_ustring, put_vector, ustring, vector, JResult,
};
use crate::jute::{DecodeError, Limits};
use crate::proto::{
    Acl, ClientInfo, EventType, Id, MultiHeader, ReplyHeader, RequestHeader, Stat, StatPersisted,
    WatcherEvent,
};

/// Smallest encodings, used to bound vector counts by the input left.
pub(crate) const MIN_ACL: usize = 12;
pub(crate) const MIN_CLIENT_INFO: usize = 8;

pub fn id<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Id> {
    let (i, scheme) = ustring(i, lim)?;
    let (i, id) = ustring(i, lim)?;
    Ok((i, Id { scheme, id }))
}

pub fn put_id(out: &mut impl BufMut, v: &Id) {
    put_ustring(out, &v.scheme);
    put_ustring(out, &v.id);
}

pub fn acl<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Acl> {
    let (i, perms) = int(i)?;
    let (i, id) = id(i, lim)?;
    Ok((i, Acl { perms, id }))
}

pub fn put_acl(out: &mut impl BufMut, v: &Acl) {
    out.put_i32(v.perms);
    put_id(out, &v.id);
}

/// `vector<ACL>`; null reads as empty.
pub fn acls<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Vec<Acl>> {
    vector(i, MIN_ACL, |i| acl(i, lim))
}

pub fn put_acls(out: &mut impl BufMut, v: &[Acl]) {
    put_vector(out, v, |o, a| put_acl(o, a));
}

/// `Stat` (68 bytes).
pub fn stat(i: &[u8]) -> JResult<'_, Stat> {
    let (i, (czxid, mzxid, ctime, mtime)) = four_longs(i)?;
    let (i, (version, cversion, aversion)) = three_ints(i)?;
    let (i, ephemeral_owner) = long(i)?;
    let (i, data_length) = int(i)?;
    let (i, num_children) = int(i)?;
    let (i, pzxid) = long(i)?;
    let s = Stat {
        czxid,
        mzxid,
        ctime,
        mtime,
        version,
        cversion,
        aversion,
        ephemeral_owner,
        data_length,
        num_children,
        pzxid,
    };
    Ok((i, s))
}

pub fn put_stat(out: &mut impl BufMut, s: &Stat) {
    let mut f = Fixed::<68>::new();
    f.put(s.czxid.to_be_bytes())
        .put(s.mzxid.to_be_bytes())
        .put(s.ctime.to_be_bytes())
        .put(s.mtime.to_be_bytes());
    f.put(s.version.to_be_bytes())
        .put(s.cversion.to_be_bytes())
        .put(s.aversion.to_be_bytes());
    f.put(s.ephemeral_owner.to_be_bytes())
        .put(s.data_length.to_be_bytes())
        .put(s.num_children.to_be_bytes());
    f.put(s.pzxid.to_be_bytes());
    out.put_slice(f.bytes());
}

/// A fixed-size record assembled on the stack and written with one `put_slice`: on a
/// `BytesMut` every `put_i64` is an out-of-line copy call, and a reply's stat and header
/// made a dozen of them per reply.
pub(super) struct Fixed<const N: usize> {
    buf: [u8; N],
    at: usize,
}

impl<const N: usize> Fixed<N> {
    pub(super) fn new() -> Self {
        Fixed { buf: [0; N], at: 0 }
    }

    pub(super) fn put<const K: usize>(&mut self, bytes: [u8; K]) -> &mut Self {
        if let Some(slot) = self.buf.get_mut(self.at..self.at + K) {
            slot.copy_from_slice(&bytes);
        }
        self.at += K;
        self
    }

    pub(super) fn bytes(&self) -> &[u8] {
        self.buf.get(..self.at).unwrap_or(&self.buf)
    }
}

/// `StatPersisted` (60 bytes), as snapshots store it.
pub fn stat_persisted(i: &[u8]) -> JResult<'_, StatPersisted> {
    let (i, (czxid, mzxid, ctime, mtime)) = four_longs(i)?;
    let (i, (version, cversion, aversion)) = three_ints(i)?;
    let (i, ephemeral_owner) = long(i)?;
    let (i, pzxid) = long(i)?;
    let s = StatPersisted {
        czxid,
        mzxid,
        ctime,
        mtime,
        version,
        cversion,
        aversion,
        ephemeral_owner,
        pzxid,
    };
    Ok((i, s))
}

pub fn put_stat_persisted(out: &mut impl BufMut, s: &StatPersisted) {
    out.put_i64(s.czxid);
    out.put_i64(s.mzxid);
    out.put_i64(s.ctime);
    out.put_i64(s.mtime);
    out.put_i32(s.version);
    out.put_i32(s.cversion);
    out.put_i32(s.aversion);
    out.put_i64(s.ephemeral_owner);
    out.put_i64(s.pzxid);
}

fn four_longs(i: &[u8]) -> JResult<'_, (i64, i64, i64, i64)> {
    let (i, a) = long(i)?;
    let (i, b) = long(i)?;
    let (i, c) = long(i)?;
    let (i, d) = long(i)?;
    Ok((i, (a, b, c, d)))
}

fn three_ints(i: &[u8]) -> JResult<'_, (i32, i32, i32)> {
    let (i, a) = int(i)?;
    let (i, b) = int(i)?;
    let (i, c) = int(i)?;
    Ok((i, (a, b, c)))
}

pub fn client_info<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, ClientInfo> {
    let (i, auth_scheme) = ustring(i, lim)?;
    let (i, user) = ustring(i, lim)?;
    Ok((i, ClientInfo { auth_scheme, user }))
}

pub fn put_client_info(out: &mut impl BufMut, c: &ClientInfo) {
    put_ustring(out, &c.auth_scheme);
    put_ustring(out, &c.user);
}

/// `WatcherEvent`; an event type the server never defines is `Invalid`.
pub fn watcher_event<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, WatcherEvent> {
    let (i, t) = int(i)?;
    let Ok(event_type) = EventType::try_from(t) else {
        return fail(DecodeError::invalid("event type", t));
    };
    let (i, state) = int(i)?;
    let (i, path) = ustring(i, lim)?;
    Ok((
        i,
        WatcherEvent {
            event_type,
            state,
            path,
        },
    ))
}

pub fn put_watcher_event(out: &mut impl BufMut, e: &WatcherEvent) {
    out.put_i32(e.event_type as i32);
    out.put_i32(e.state);
    put_ustring(out, &e.path);
}

pub fn request_header(i: &[u8]) -> JResult<'_, RequestHeader> {
    let (i, xid) = int(i)?;
    let (i, op) = int(i)?;
    Ok((i, RequestHeader { xid, op }))
}

pub fn put_request_header(out: &mut impl BufMut, h: &RequestHeader) {
    out.put_i32(h.xid);
    out.put_i32(h.op);
}

pub fn reply_header(i: &[u8]) -> JResult<'_, ReplyHeader> {
    let (i, xid) = int(i)?;
    let (i, zxid) = long(i)?;
    let (i, err) = int(i)?;
    Ok((i, ReplyHeader { xid, zxid, err }))
}

pub fn put_reply_header(out: &mut impl BufMut, h: &ReplyHeader) {
    let mut f = Fixed::<16>::new();
    f.put(h.xid.to_be_bytes())
        .put(h.zxid.to_be_bytes())
        .put(h.err.to_be_bytes());
    out.put_slice(f.bytes());
}

pub fn multi_header(i: &[u8]) -> JResult<'_, MultiHeader> {
    let (i, op) = int(i)?;
    let (i, done) = boolean(i)?;
    let (i, err) = int(i)?;
    Ok((i, MultiHeader { op, done, err }))
}

pub fn put_multi_header(out: &mut impl BufMut, h: &MultiHeader) {
    out.put_i32(h.op);
    put_bool(out, h.done);
    out.put_i32(h.err);
}

/// The header that ends a multi request or response.
pub const MULTI_END: MultiHeader = MultiHeader {
    op: -1,
    done: true,
    err: -1,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_written_big_endian_in_jute_order() {
        let s = Stat {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: 7,
            ephemeral_owner: 8,
            data_length: 9,
            num_children: 10,
            pzxid: 11,
        };
        let mut fieldwise = Vec::new();
        for v in [1i64, 2, 3, 4] {
            fieldwise.put_i64(v);
        }
        for v in [5i32, 6, 7] {
            fieldwise.put_i32(v);
        }
        fieldwise.put_i64(8);
        fieldwise.put_i32(9);
        fieldwise.put_i32(10);
        fieldwise.put_i64(11);
        let mut out = Vec::new();
        put_stat(&mut out, &s);
        assert_eq!(out, fieldwise);
        let mut hdr = Vec::new();
        put_reply_header(
            &mut hdr,
            &ReplyHeader {
                xid: -1,
                zxid: 0x0102_0304_0506_0708,
                err: -101,
            },
        );
        assert_eq!(
            hdr,
            [
                [255u8; 4].as_slice(),
                &[1, 2, 3, 4, 5, 6, 7, 8],
                &(-101i32).to_be_bytes()
            ]
            .concat()
        );
    }

    #[test]
    fn stat_is_68_bytes_and_round_trips() {
        let s = Stat {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: -1,
            aversion: 7,
            ephemeral_owner: 8,
            data_length: 9,
            num_children: 10,
            pzxid: 11,
        };
        let mut out = Vec::new();
        put_stat(&mut out, &s);
        assert_eq!(out.len(), 68);
        assert_eq!(stat(&out), Ok((&[][..], s)));
    }

    #[test]
    fn stat_persisted_is_60_bytes_and_round_trips() {
        let s = StatPersisted {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: 7,
            ephemeral_owner: i64::MIN,
            pzxid: 11,
        };
        let mut out = Vec::new();
        put_stat_persisted(&mut out, &s);
        assert_eq!(out.len(), 60);
        assert_eq!(stat_persisted(&out), Ok((&[][..], s)));
    }

    #[test]
    fn acl_list_round_trips() {
        let l = Limits::default();
        let v = vec![
            Acl::new(31, "world", "anyone"),
            Acl::new(1, "digest", "u:x"),
        ];
        let mut out = Vec::new();
        put_acls(&mut out, &v);
        assert_eq!(acls(&out, &l).unwrap().1, v);
    }

    #[test]
    fn unknown_event_type_is_invalid() {
        let b = [0, 0, 0, 9, 0, 0, 0, 3, 0, 0, 0, 0];
        let r = crate::jute::primitives::finish(watcher_event(&b, &Limits::default()));
        assert_eq!(r.unwrap_err(), DecodeError::invalid("event type", 9));
    }
}
