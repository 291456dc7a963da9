//! The fuzz targets: one function per decoder that untrusted bytes reach. Each must
//! return (never panic) for any input, and where the decoder has an encoder, what it
//! decodes must survive encode → decode unchanged and re-encode to the same bytes.
//!
//! Shared by the libFuzzer binaries (`fuzz/fuzz_targets/`) and by the stable-toolchain
//! runner (`tests/fuzz_stable.rs`), which includes this file by path.

use bytes::BytesMut;
use rzk::config::{zoo_cfg, Config};
use rzk::jute::frame::{split_frame, Limits};
use rzk::proto::codec::{
    decode_connect_request, decode_request, decode_request_header, decode_txn,
    encode_connect_request, encode_request, encode_txn,
};
use rzk::proto::quorum::{
    decode_connection_header, decode_notification, encode_connection_header, encode_notification,
    encode_quorum_packet, split_quorum_packet, Packet,
};
use rzk::proto::{ConnectRequest, Request, TxnEntry};
use rzk::storage::snapshot::format::SnapshotContents;
use rzk::storage::txnlog::format::scan;
use std::collections::BTreeMap;
use std::fmt::Debug;

/// A target: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus directory and libFuzzer binary carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("client_connect", client_connect),
    ("client_request", client_request),
    ("client_stream", client_stream),
    ("txn_entry", txn_entry),
    ("txn_log_file", txn_log_file),
    ("snapshot", snapshot),
    ("quorum_packets", quorum_packets),
    ("election_header", election_header),
    ("election_notification", election_notification),
    ("zoo_cfg", zoo_cfg_text),
];

/// Small limits, so that length checks are reached by short inputs too.
fn limits() -> Limits {
    Limits {
        max_frame: 4096,
        max_field: 8192,
    }
}

/// Limits for decoding a re-encoding: invalid UTF-8 decodes to U+FFFD (as in Java), whose
/// three bytes can make the re-encoding larger than the input was.
fn roomy() -> Limits {
    Limits {
        max_frame: 1 << 24,
        max_field: 1 << 24,
    }
}

/// Checks `encode`/`decode` on a value `v1` decoded from `input`: encoding it decodes
/// back to the same value and re-encodes to the same bytes. One exception, Java's own:
/// jute writes characters beyond U+FFFF as CESU-8 surrogate pairs and reads them back as
/// U+FFFD (`BinaryOutputArchive.writeString` / `new String(bytes, UTF_8)`), so an input
/// holding 4-byte UTF-8 sequences reaches its fixed point after one more round.
fn round_trip<T: PartialEq + Debug>(
    what: &str,
    input: &[u8],
    v1: T,
    encode: impl Fn(&T) -> Vec<u8>,
    decode: impl Fn(&[u8]) -> Option<T>,
) {
    let b1 = encode(&v1);
    let v2 = decode(&b1).unwrap_or_else(|| panic!("a re-encoded {what} decodes"));
    if !input.iter().any(|&b| b >= 0xF0) {
        assert_eq!(v2, v1, "{what} round trip");
    }
    let b2 = encode(&v2);
    let v3 = decode(&b2).unwrap_or_else(|| panic!("a twice re-encoded {what} decodes"));
    assert_eq!(v3, v2, "{what} round trip after normalization");
    assert_eq!(encode(&v3), b2, "{what} re-encoding is stable");
}

fn unframed(out: BytesMut) -> Vec<u8> {
    out.get(4..).unwrap_or_default().to_vec()
}

/// The body of a ConnectRequest frame (`NIOServerCnxn.readConnectRequest`).
pub fn client_connect(data: &[u8]) {
    let Ok(req) = decode_connect_request(data, &limits()) else {
        return;
    };
    let encode = |r: &ConnectRequest| {
        let mut out = BytesMut::new();
        encode_connect_request(r, &mut out);
        unframed(out)
    };
    round_trip("ConnectRequest", data, req, encode, |b| {
        decode_connect_request(b, &roomy()).ok()
    });
}

/// The body of a request frame after the handshake: header, then the op's record.
pub fn client_request(data: &[u8]) {
    let Ok((hdr, rest)) = decode_request_header(data) else {
        return;
    };
    let Ok(req) = decode_request(&hdr, rest, &limits()) else {
        return;
    };
    let encode = |(xid, r): &(i32, Request)| {
        let mut out = BytesMut::new();
        encode_request(*xid, r, &mut out);
        unframed(out)
    };
    let decode = |b: &[u8]| {
        let (h, rest) = decode_request_header(b).ok()?;
        Some((h.xid, decode_request(&h, rest, &roomy()).ok()?))
    };
    round_trip("request", data, (hdr.xid, req), encode, decode);
}

/// A raw client byte stream as the connection reads it: frames split by their length
/// prefix, the first one a ConnectRequest, the rest requests.
pub fn client_stream(data: &[u8]) {
    let mut rest = data;
    let mut first = true;
    while let Ok(Some((len, body))) = split_frame(rest, limits().max_frame) {
        if first {
            client_connect(body);
        } else {
            client_request(body);
        }
        first = false;
        rest = rest.get(4 + len..).unwrap_or_default();
    }
}

/// One txn log entry (`SerializeUtils.deserializeTxn`).
pub fn txn_entry(data: &[u8]) {
    let Ok(entry) = decode_txn(data, &limits()) else {
        return;
    };
    let encode = |e: &TxnEntry| {
        let mut out = BytesMut::new();
        encode_txn(e, &mut out);
        out.to_vec()
    };
    round_trip("txn", data, entry, encode, |b| decode_txn(b, &roomy()).ok());
}

/// A whole txn log file: header, framed entries with checksums, padding or damage.
pub fn txn_log_file(data: &[u8]) {
    let Ok(log) = scan(data) else { return };
    for e in &log.entries {
        assert!(e.end() <= data.len(), "an entry ends inside the file");
        txn_entry(e.bytes);
    }
}

/// A whole uncompressed snapshot: decoded as records, re-encoded, and loaded into a tree.
pub fn snapshot(data: &[u8]) {
    if let Ok(contents) = SnapshotContents::decode(data) {
        round_trip("snapshot", data, contents, SnapshotContents::encode, |b| {
            SnapshotContents::decode(b).ok()
        });
    }
    let _ = rzk::storage::snapshot::reader::load(data, true, 0);
}

/// A quorum connection's byte stream: packets back to back, each typed.
pub fn quorum_packets(data: &[u8]) {
    let mut rest = data;
    while let Ok(Some((p, used))) = split_quorum_packet(rest, &limits()) {
        assert!(used > 0 && used <= rest.len(), "a packet consumes input");
        rest = rest.get(used..).unwrap_or_default();
        let mut out = BytesMut::new();
        encode_quorum_packet(&p, &mut out);
        let (again, n) = split_quorum_packet(&out, &roomy())
            .expect("decodes")
            .expect("whole");
        assert_eq!(
            (again.clone(), n),
            (p.clone(), out.len()),
            "quorum packet round trip"
        );
        if let Ok(typed) = Packet::from_record(&p, &limits()) {
            let encode = |t: &Packet| {
                let mut out = BytesMut::new();
                encode_quorum_packet(&t.to_record(), &mut out);
                out.to_vec()
            };
            let decode = |b: &[u8]| {
                Packet::from_record(&split_quorum_packet(b, &roomy()).ok()??.0, &roomy()).ok()
            };
            round_trip("typed quorum packet", data, typed, encode, decode);
        }
    }
}

/// The first bytes a peer sends on the election port.
pub fn election_header(data: &[u8]) {
    let Ok(Some((h, used))) = decode_connection_header(data) else {
        return;
    };
    assert!(used <= data.len(), "a header consumes only its input");
    let mut out = BytesMut::new();
    encode_connection_header(&h, &mut out);
    let (again, n) = decode_connection_header(&out)
        .expect("decodes")
        .expect("whole");
    assert_eq!(n, out.len());
    let mut out2 = BytesMut::new();
    encode_connection_header(&again, &mut out2);
    assert_eq!(out, out2, "connection header re-encoding is stable");
}

/// One election notification body (`FastLeaderElection.Messenger.WorkerReceiver`).
pub fn election_notification(data: &[u8]) {
    let Ok(n) = decode_notification(data) else {
        return;
    };
    let mut out = BytesMut::new();
    encode_notification(&n, &mut out);
    let again = decode_notification(&out).expect("a re-encoded notification decodes");
    let mut out2 = BytesMut::new();
    encode_notification(&again, &mut out2);
    assert_eq!(out, out2, "notification re-encoding is stable");
    if n.version > 1 {
        assert_eq!(again, n, "notification round trip");
    }
}

/// A zoo.cfg file: parsed into entries, then validated into a configuration.
pub fn zoo_cfg_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let entries = zoo_cfg::parse(&text);
    let _ = Config::from_entries("fuzz.cfg", &entries, &BTreeMap::new());
}
