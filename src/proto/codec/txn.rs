//! Transaction-log entries: `TxnHeader`, the `*Txn` record of its type and the optional
//! `TxnDigest` (`SerializeUtils.deserializeTxn` and the records it names). The entry's
//! framing in a log file (checksum, length, end byte) belongs to the log writer.

use bytes::{BufMut, BytesMut};
use nom::sequence::pair;

use super::records::{acls, put_acls, Fixed};
use crate::jute::primitives::{
    boolean, buffer, fail, finish, int, long, put_bool, put_buffer, put_bytes, put_strings,
    put_ustring, put_vector, strings, ustring, vector, JResult,
};
use crate::jute::{DecodeError, Limits};
use crate::proto::{
    CreateContainerTxn, CreateTtlTxn, CreateTxn, ErrorCode, SetAclTxn, SetDataTxn, Txn, TxnDigest,
    TxnEntry, TxnHeader,
};

/// Writes header (type = `txn.op_code()`), record and digest if any; no framing.
pub fn encode_txn(entry: &TxnEntry, out: &mut BytesMut) {
    put_txn_header(out, &entry.header, entry.txn.op_code().code());
    put_txn_record(out, &entry.txn);
    if let Some(d) = entry.digest {
        out.put_i32(d.version);
        out.put_i64(d.tree_digest);
    }
}

/// Decodes one entry. A missing digest (nothing, or too little, after the record) is
/// `None`, as `SerializeUtils` treats EOF there.
pub fn decode_txn(bytes: &[u8], lim: &Limits) -> Result<TxnEntry, DecodeError> {
    let (rest, (header, ty)) = finish(txn_header(bytes))?;
    let (rest, txn) = finish(txn_record(ty, rest, lim))?;
    let digest = pair(int, long)(rest)
        .ok()
        .map(|(_, (version, tree_digest))| TxnDigest {
            version,
            tree_digest,
        });
    Ok(TxnEntry {
        header,
        txn,
        digest,
    })
}

/// `TxnHeader` and its `type`.
pub fn txn_header(i: &[u8]) -> JResult<'_, (TxnHeader, i32)> {
    let (i, client_id) = long(i)?;
    let (i, cxid) = int(i)?;
    let (i, zxid) = long(i)?;
    let (i, time) = long(i)?;
    let (i, ty) = int(i)?;
    Ok((
        i,
        (
            TxnHeader {
                client_id,
                cxid,
                zxid,
                time,
            },
            ty,
        ),
    ))
}

pub fn put_txn_header(out: &mut impl BufMut, h: &TxnHeader, ty: i32) {
    let mut f = Fixed::<32>::new();
    f.put(h.client_id.to_be_bytes())
        .put(h.cxid.to_be_bytes())
        .put(h.zxid.to_be_bytes());
    f.put(h.time.to_be_bytes()).put(ty.to_be_bytes());
    out.put_slice(f.bytes());
}

/// The record of a transaction of type `ty`.
pub fn txn_record<'a>(ty: i32, i: &'a [u8], lim: &Limits) -> JResult<'a, Txn> {
    match ty {
        1 => map(create_or_v0(i, lim), Txn::Create),
        15 => map(create(i, lim), Txn::Create2),
        19 => map(create_container(i, lim), Txn::CreateContainer),
        21 => map(create_ttl(i, lim), Txn::CreateTtl),
        2 => map(ustring(i, lim), Txn::Delete),
        20 => map(ustring(i, lim), Txn::DeleteContainer),
        5 => map(set_data(i, lim), Txn::SetData),
        16 => map(set_data(i, lim), Txn::Reconfig),
        7 => set_acl(i, lim),
        13 => check(i, lim),
        -10 => map(int(i), |timeout_ms| Txn::CreateSession { timeout_ms }),
        -11 if i.is_empty() => Ok((i, Txn::CloseSession(None))),
        -11 => map(strings(i, lim), |p| Txn::CloseSession(Some(p))),
        -1 => map(error_code(i), Txn::Error),
        14 => map(vector(i, 8, |i| sub_txn(i, lim)), Txn::Multi),
        other => fail(DecodeError::UnknownOpCode(other)),
    }
}

fn map<'a, T, U>(r: JResult<'a, T>, f: impl FnOnce(T) -> U) -> JResult<'a, U> {
    r.map(|(i, v)| (i, f(v)))
}

fn path_data_acl<'a>(
    i: &'a [u8],
    lim: &Limits,
) -> JResult<'a, (String, Option<Vec<u8>>, Vec<crate::proto::Acl>)> {
    let (i, path) = ustring(i, lim)?;
    let (i, data) = buffer(i, lim)?;
    let (i, acl) = acls(i, lim)?;
    Ok((i, (path, data, acl)))
}

fn create<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, CreateTxn> {
    let (i, (path, data, acl)) = path_data_acl(i, lim)?;
    let (i, ephemeral) = boolean(i)?;
    let (i, parent_cversion) = int(i)?;
    Ok((
        i,
        CreateTxn {
            path,
            data,
            acl,
            ephemeral,
            parent_cversion,
        },
    ))
}

/// A type-1 record that ends early is a legacy `CreateTxnV0` (no parentCVersion); -1
/// then tells replay to use the parent's current counter + 1.
fn create_or_v0<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, CreateTxn> {
    match create(i, lim) {
        Err(nom::Err::Error(DecodeError::Truncated)) => {
            let (i, (path, data, acl)) = path_data_acl(i, lim)?;
            let (i, ephemeral) = boolean(i)?;
            Ok((
                i,
                CreateTxn {
                    path,
                    data,
                    acl,
                    ephemeral,
                    parent_cversion: -1,
                },
            ))
        }
        other => other,
    }
}

fn create_container<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, CreateContainerTxn> {
    let (i, (path, data, acl)) = path_data_acl(i, lim)?;
    let (i, parent_cversion) = int(i)?;
    Ok((
        i,
        CreateContainerTxn {
            path,
            data,
            acl,
            parent_cversion,
        },
    ))
}

fn create_ttl<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, CreateTtlTxn> {
    let (i, (path, data, acl)) = path_data_acl(i, lim)?;
    let (i, parent_cversion) = int(i)?;
    let (i, ttl) = long(i)?;
    Ok((
        i,
        CreateTtlTxn {
            path,
            data,
            acl,
            parent_cversion,
            ttl,
        },
    ))
}

fn set_data<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, SetDataTxn> {
    let (i, path) = ustring(i, lim)?;
    let (i, data) = buffer(i, lim)?;
    let (i, version) = int(i)?;
    Ok((
        i,
        SetDataTxn {
            path,
            data,
            version,
        },
    ))
}

fn set_acl<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Txn> {
    let (i, path) = ustring(i, lim)?;
    let (i, acl) = acls(i, lim)?;
    let (i, version) = int(i)?;
    Ok((i, Txn::SetAcl(SetAclTxn { path, acl, version })))
}

fn check<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Txn> {
    let (i, path) = ustring(i, lim)?;
    let (i, version) = int(i)?;
    Ok((i, Txn::Check { path, version }))
}

/// `ErrorTxn`: a code outside `KeeperException.Code` is `Invalid`.
fn error_code(i: &[u8]) -> JResult<'_, ErrorCode> {
    let (i, err) = int(i)?;
    match ErrorCode::try_from(err) {
        Ok(code) => Ok((i, code)),
        Err(v) => fail(DecodeError::invalid("error txn code", v)),
    }
}

/// One `Txn{int type, buffer data}` of a `MultiTxn`. Only the types `DataTree.processTxn`
/// accepts inside a multi are allowed; the sub-record is decoded from `data` alone.
fn sub_txn<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Txn> {
    let (i, ty) = int(i)?;
    let (i, data) = buffer(i, lim)?;
    if !matches!(ty, 1 | 15 | 19 | 21 | 2 | 20 | 5 | -1 | 13) {
        return fail(DecodeError::invalid("multi txn type", ty));
    }
    let data = data.unwrap_or_default();
    let (_, txn) = finish(txn_record(ty, &data, lim)).map_err(nom::Err::Failure)?;
    Ok((i, txn))
}

/// Writes the record of `txn` (nothing for a `CloseSession(None)`).
pub fn put_txn_record(o: &mut impl BufMut, txn: &Txn) {
    match txn {
        Txn::Create(t) | Txn::Create2(t) => {
            put_path_data_acl(o, &t.path, t.data.as_deref(), &t.acl);
            put_bool(o, t.ephemeral);
            o.put_i32(t.parent_cversion);
        }
        Txn::CreateContainer(t) => {
            put_path_data_acl(o, &t.path, t.data.as_deref(), &t.acl);
            o.put_i32(t.parent_cversion);
        }
        Txn::CreateTtl(t) => {
            put_path_data_acl(o, &t.path, t.data.as_deref(), &t.acl);
            o.put_i32(t.parent_cversion);
            o.put_i64(t.ttl);
        }
        Txn::Delete(path) | Txn::DeleteContainer(path) => put_ustring(o, path),
        Txn::SetData(t) | Txn::Reconfig(t) => {
            put_ustring(o, &t.path);
            put_buffer(o, t.data.as_deref());
            o.put_i32(t.version);
        }
        Txn::SetAcl(t) => {
            put_ustring(o, &t.path);
            put_acls(o, &t.acl);
            o.put_i32(t.version);
        }
        Txn::Check { path, version } => {
            put_ustring(o, path);
            o.put_i32(*version);
        }
        Txn::CreateSession { timeout_ms } => o.put_i32(*timeout_ms),
        Txn::CloseSession(None) => {}
        Txn::CloseSession(Some(paths)) => put_strings(o, paths),
        Txn::Error(code) => o.put_i32(code.code()),
        Txn::Multi(subs) => put_vector(o, subs, |o, t| put_sub_txn(o, t)),
    }
}

fn put_path_data_acl(
    o: &mut impl BufMut,
    path: &str,
    data: Option<&[u8]>,
    acl: &[crate::proto::Acl],
) {
    put_ustring(o, path);
    put_buffer(o, data);
    put_acls(o, acl);
}

fn put_sub_txn(o: &mut impl BufMut, t: &Txn) {
    let mut data = Vec::new();
    put_txn_record(&mut data, t);
    o.put_i32(t.op_code().code());
    put_bytes(o, &data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(txn: Txn, digest: Option<TxnDigest>) -> TxnEntry {
        TxnEntry {
            header: TxnHeader {
                client_id: 7,
                cxid: 3,
                zxid: 0x100000001,
                time: 1_700_000_000_000,
            },
            txn,
            digest,
        }
    }

    fn round_trip(e: &TxnEntry) -> TxnEntry {
        let mut out = BytesMut::new();
        encode_txn(e, &mut out);
        decode_txn(&out, &Limits::default()).unwrap()
    }

    #[test]
    fn absent_close_session_record_reads_none() {
        let e = entry(Txn::CloseSession(None), None);
        assert_eq!(round_trip(&e), e);
        let e = entry(
            Txn::CloseSession(Some(vec!["/e".into()])),
            Some(TxnDigest {
                version: 2,
                tree_digest: -5,
            }),
        );
        assert_eq!(round_trip(&e), e);
    }

    #[test]
    fn short_create_record_is_legacy_v0() {
        let t = CreateTxn {
            path: "/a".into(),
            data: None,
            acl: vec![],
            ephemeral: true,
            parent_cversion: 9,
        };
        let mut out = BytesMut::new();
        encode_txn(&entry(Txn::Create(t.clone()), None), &mut out);
        out.truncate(out.len() - 4);
        let back = decode_txn(&out, &Limits::default()).unwrap();
        assert_eq!(
            back.txn,
            Txn::Create(CreateTxn {
                parent_cversion: -1,
                ..t
            })
        );
    }

    #[test]
    fn unknown_error_txn_code_is_invalid() {
        let mut out = BytesMut::new();
        put_txn_header(&mut out, &TxnHeader::default(), -1);
        out.put_i32(-126);
        assert_eq!(
            decode_txn(&out, &Limits::default()),
            Err(DecodeError::invalid("error txn code", -126))
        );
    }

    #[test]
    fn multi_sub_txns_carry_their_own_types() {
        let e = entry(
            Txn::Multi(vec![
                Txn::Check {
                    path: "/p".into(),
                    version: 1,
                },
                Txn::Error(ErrorCode::RuntimeInconsistency),
            ]),
            Some(TxnDigest {
                version: 2,
                tree_digest: 1,
            }),
        );
        assert_eq!(round_trip(&e), e);
    }

    #[test]
    fn session_txn_inside_multi_is_invalid() {
        let mut out = BytesMut::new();
        put_txn_header(&mut out, &TxnHeader::default(), 14);
        out.put_i32(1);
        out.put_i32(-10);
        out.put_i32(4);
        out.put_i32(30000);
        assert_eq!(
            decode_txn(&out, &Limits::default()),
            Err(DecodeError::invalid("multi txn type", -10))
        );
    }
}
