//! Encoding and decoding of every `proto` record in jute: the client protocol (connect
//! handshake, requests, replies, notifications) and transaction-log entries.
//!
//! Stands in for the `serialize`/`deserialize` methods jute generates for the records of
//! `zookeeper.jute`, plus the hand-written `MultiOperationRecord`, `MultiResponse` and
//! `SerializeUtils.deserializeTxn`. Client-protocol encoders write whole frames (length
//! prefix included); decoders take a frame body (prefix removed). Pure: bytes in, records
//! out.

mod connect;
mod records;
mod reply;
mod request;
mod txn;

use bytes::{BufMut, BytesMut};

pub use connect::{
    decode_connect_request, decode_connect_response, encode_connect_request,
    encode_connect_response,
};
pub use records::{
    acl, acls, client_info, id, multi_header, put_acl, put_acls, put_client_info, put_id,
    put_multi_header, put_reply_header, put_request_header, put_stat, put_stat_persisted,
    put_watcher_event, reply_header, request_header, stat, stat_persisted, watcher_event,
    MULTI_END,
};
pub use reply::{
    decode_notification, decode_reply, encode_notification, encode_reply, put_response,
};
pub use request::{decode_request, decode_request_header, encode_request, put_request_record};
pub use txn::{decode_txn, encode_txn, put_txn_header, put_txn_record, txn_header, txn_record};

/// Writes one frame: a 4-byte length, then what `body` writes.
fn framed(out: &mut BytesMut, body: impl FnOnce(&mut BytesMut)) {
    let start = out.len();
    out.put_i32(0);
    body(out);
    let len = out.len() - start - 4;
    let prefix = i32::try_from(len).unwrap_or(i32::MAX).to_be_bytes();
    if let Some(slot) = out.get_mut(start..start + 4) {
        slot.copy_from_slice(&prefix);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_prefix_counts_only_the_body() {
        let mut out = BytesMut::from(&b"xy"[..]);
        framed(&mut out, |o| o.put_slice(b"abc"));
        assert_eq!(&out[..], b"xy\0\0\0\x03abc");
    }
}
