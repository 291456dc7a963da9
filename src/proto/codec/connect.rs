//! The session handshake: `ConnectRequest` and `ConnectResponse`, whose trailing
//! `readOnly` byte is optional (`ZooKeeperServer.processConnectRequest` reads it inside a
//! try and treats its absence as an "old client" whose response omits it too).

use bytes::{BufMut, BytesMut};

use super::framed;
use crate::jute::primitives::{
    boolean, bytes_or_empty, finish, int, long, put_bool, put_bytes, JResult,
};
use crate::jute::{DecodeError, Limits};
use crate::proto::{ConnectRequest, ConnectResponse};

/// Decodes a `ConnectRequest` frame body; `read_only` is `None` when the byte is absent.
pub fn decode_connect_request(body: &[u8], lim: &Limits) -> Result<ConnectRequest, DecodeError> {
    let (_, r) = finish(connect_request(body, lim))?;
    Ok(r)
}

fn connect_request<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, ConnectRequest> {
    let (i, protocol_version) = int(i)?;
    let (i, last_zxid_seen) = long(i)?;
    let (i, timeout_ms) = int(i)?;
    let (i, session_id) = long(i)?;
    let (i, passwd) = bytes_or_empty(i, lim)?;
    let (i, read_only) = optional_bool(i)?;
    Ok((
        i,
        ConnectRequest {
            protocol_version,
            last_zxid_seen,
            timeout_ms,
            session_id,
            passwd,
            read_only,
        },
    ))
}

fn optional_bool(i: &[u8]) -> JResult<'_, Option<bool>> {
    if i.is_empty() {
        return Ok((i, None));
    }
    let (i, b) = boolean(i)?;
    Ok((i, Some(b)))
}

/// Writes a whole `ConnectRequest` frame.
pub fn encode_connect_request(r: &ConnectRequest, out: &mut BytesMut) {
    framed(out, |o| {
        o.put_i32(r.protocol_version);
        o.put_i64(r.last_zxid_seen);
        o.put_i32(r.timeout_ms);
        o.put_i64(r.session_id);
        put_bytes(o, &r.passwd);
        if let Some(ro) = r.read_only {
            put_bool(o, ro);
        }
    });
}

/// Decodes a `ConnectResponse` frame body; `read_only` is `None` when the byte is absent.
pub fn decode_connect_response(body: &[u8]) -> Result<ConnectResponse, DecodeError> {
    let (_, r) = finish(connect_response(body, &Limits::default()))?;
    Ok(r)
}

fn connect_response<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, ConnectResponse> {
    let (i, protocol_version) = int(i)?;
    let (i, timeout_ms) = int(i)?;
    let (i, session_id) = long(i)?;
    let (i, passwd) = bytes_or_empty(i, lim)?;
    let (i, read_only) = optional_bool(i)?;
    Ok((
        i,
        ConnectResponse {
            protocol_version,
            timeout_ms,
            session_id,
            passwd,
            read_only,
        },
    ))
}

/// Writes a whole `ConnectResponse` frame; the `readOnly` byte only when `Some`.
pub fn encode_connect_response(r: &ConnectResponse, out: &mut BytesMut) {
    framed(out, |o| {
        o.put_i32(r.protocol_version);
        o.put_i32(r.timeout_ms);
        o.put_i64(r.session_id);
        put_bytes(o, &r.passwd);
        if let Some(ro) = r.read_only {
            put_bool(o, ro);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(read_only: Option<bool>) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: 30000,
            session_id: 0,
            passwd: vec![0; 16],
            read_only,
        }
    }

    #[test]
    fn connect_request_with_read_only_byte_is_45_bytes() {
        let mut out = BytesMut::new();
        encode_connect_request(&request(Some(false)), &mut out);
        assert_eq!(out.len(), 4 + 45);
        assert_eq!(
            decode_connect_request(&out[4..], &Limits::default()),
            Ok(request(Some(false)))
        );
    }

    #[test]
    fn connect_request_without_read_only_byte_reads_none() {
        let mut out = BytesMut::new();
        encode_connect_request(&request(None), &mut out);
        assert_eq!(out.len(), 4 + 44);
        assert_eq!(
            decode_connect_request(&out[4..], &Limits::default()),
            Ok(request(None))
        );
    }

    #[test]
    fn connect_response_omits_read_only_byte_when_none() {
        let r = ConnectResponse {
            protocol_version: 0,
            timeout_ms: 0,
            session_id: 0,
            passwd: vec![0; 16],
            read_only: None,
        };
        let mut out = BytesMut::new();
        encode_connect_response(&r, &mut out);
        assert_eq!(out.len(), 4 + 36);
        assert_eq!(decode_connect_response(&out[4..]), Ok(r));
    }
}
