//! Byte-exact checks of the jute codec against bytes captured from Apache ZooKeeper 3.8.0:
//! every client/server frame of `client-frames.txt` (and of the workload that produced
//! the fixture dataDir) decodes and re-encodes to the same bytes, and so does every entry
//! of the fixture transaction logs.

use std::collections::BTreeMap;

use bytes::BytesMut;
use rzk::jute::{split_frame, DecodeError, Limits};
use rzk::proto::codec::*;
use rzk::proto::OpCode;

const CLIENT_FRAMES: &str = include_str!("fixtures/client-frames.txt");
const WORKLOAD_FRAMES: &str = include_str!("fixtures/workload-frames.txt");

#[derive(Debug)]
struct Frame {
    to_server: bool,
    conn: String,
    bytes: Vec<u8>,
    line: usize,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Frames in file order, each tagged with the connection named by its decode comment.
fn parse_frames(text: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let dir = line.get(..4);
        if dir == Some("C>S ") || dir == Some("S>C ") {
            let bytes = unhex(line[4..].trim());
            frames.push(Frame {
                to_server: dir == Some("C>S "),
                conn: String::new(),
                bytes,
                line: n + 1,
            });
        } else if let Some(tag) = line.strip_prefix("# [") {
            let last = frames.last_mut().filter(|f| f.conn.is_empty());
            if let (Some(f), Some(end)) = (last, tag.find(']')) {
                f.conn = tag[..end].to_string();
            }
        }
    }
    assert!(
        frames.iter().all(|f| !f.conn.is_empty()),
        "every frame names its connection"
    );
    frames
}

#[derive(Default)]
struct Conn {
    connect_sent: bool,
    connect_answered: bool,
    /// Outstanding xid → opcode (`None` for an opcode the server does not know).
    pending: BTreeMap<i32, Option<OpCode>>,
}

fn body_of(f: &Frame) -> &[u8] {
    let (len, body) = split_frame(&f.bytes, Limits::default().max_frame)
        .unwrap()
        .expect("whole frame");
    assert_eq!(
        len + 4,
        f.bytes.len(),
        "line {}: one frame per line",
        f.line
    );
    body
}

fn client_frame(c: &mut Conn, f: &Frame) -> BytesMut {
    let lim = Limits::default();
    let body = body_of(f);
    let mut out = BytesMut::new();
    if !c.connect_sent {
        c.connect_sent = true;
        encode_connect_request(&decode_connect_request(body, &lim).unwrap(), &mut out);
        return out;
    }
    let (hdr, rest) = decode_request_header(body).unwrap();
    match decode_request(&hdr, rest, &lim) {
        Ok(req) => {
            c.pending.insert(hdr.xid, Some(req.op_code()));
            encode_request(hdr.xid, &req, &mut out);
        }
        Err(DecodeError::UnknownOpCode(999)) => {
            c.pending.insert(hdr.xid, None);
            out.extend_from_slice(&f.bytes);
        }
        Err(e) => panic!("line {}: {e}", f.line),
    }
    out
}

fn server_frame(c: &mut Conn, f: &Frame) -> BytesMut {
    let body = body_of(f);
    let mut out = BytesMut::new();
    if !c.connect_answered {
        c.connect_answered = true;
        encode_connect_response(&decode_connect_response(body).unwrap(), &mut out);
        return out;
    }
    if body.starts_with(&[0xff; 4]) {
        let (hdr, ev) = decode_notification(body).unwrap();
        assert_eq!((hdr.xid, hdr.err), (-1, 0));
        encode_notification(hdr.zxid, &ev, &mut out);
        return out;
    }
    let xid = i32::from_be_bytes(body[..4].try_into().unwrap());
    let op = c
        .pending
        .remove(&xid)
        .unwrap_or_else(|| panic!("line {}: reply to unknown xid {xid}", f.line));
    let (hdr, resp) = decode_reply(body, op.unwrap_or(OpCode::Ping), &Limits::default())
        .unwrap_or_else(|e| panic!("line {}: {e}", f.line));
    if op.is_none() {
        assert_eq!(hdr.err, -6, "unknown opcodes are answered Unimplemented");
    }
    encode_reply(&hdr, &resp, &mut out);
    out
}

fn walk(text: &str) -> usize {
    let mut conns: BTreeMap<String, Conn> = BTreeMap::new();
    let frames = parse_frames(text);
    for f in &frames {
        let c = conns.entry(f.conn.clone()).or_default();
        let out = if f.to_server {
            client_frame(c, f)
        } else {
            server_frame(c, f)
        };
        assert_eq!(
            &out[..],
            &f.bytes[..],
            "line {} [{}] re-encodes identically",
            f.line,
            f.conn
        );
    }
    frames.len()
}

#[test]
fn every_client_frame_round_trips_byte_for_byte() {
    assert_eq!(walk(CLIENT_FRAMES), 269);
}

#[test]
fn every_workload_frame_round_trips_byte_for_byte() {
    assert!(walk(WORKLOAD_FRAMES) > 0);
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Entries of a log file: (checksum, entry bytes), stopping at a zero length, at EOF or
/// at a record cut short (the fixture logs are truncated copies).
fn log_entries(file: &[u8]) -> Vec<(i64, &[u8])> {
    assert_eq!(&file[..4], b"ZKLG");
    assert_eq!(&file[4..16], &[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut pos = 16;
    let mut out = Vec::new();
    while let Some(head) = file.get(pos..pos + 12) {
        let sum = i64::from_be_bytes(head[..8].try_into().unwrap());
        let len = i32::from_be_bytes(head[8..].try_into().unwrap()) as usize;
        let Some(entry) = file.get(pos + 12..pos + 12 + len + 1) else {
            break;
        };
        if len == 0 {
            break;
        }
        assert_eq!(entry[len], 0x42, "end-of-record byte");
        out.push((sum, &entry[..len]));
        pos += 12 + len + 1;
    }
    out
}

fn check_log(file: &[u8]) -> BTreeMap<i32, usize> {
    let mut types = BTreeMap::new();
    for (sum, entry) in log_entries(file) {
        assert_eq!(sum, i64::from(adler32(entry)), "Adler-32 zero-extended");
        let txn = decode_txn(entry, &Limits::default()).unwrap();
        *types.entry(txn.txn.op_code().code()).or_insert(0) += 1;
        let mut out = BytesMut::new();
        encode_txn(&txn, &mut out);
        assert_eq!(&out[..], entry, "{txn:?}");
    }
    types
}

#[test]
fn every_logged_txn_round_trips_byte_for_byte() {
    let logs: [&[u8]; 3] = [
        include_bytes!("fixtures/datadir-3.8/log.1"),
        include_bytes!("fixtures/datadir-3.8/log.b"),
        include_bytes!("fixtures/datadir-3.8/log.14"),
    ];
    let mut all = BTreeMap::new();
    for log in logs {
        for (ty, n) in check_log(log) {
            *all.entry(ty).or_insert(0) += n;
        }
    }
    let types: Vec<i32> = all.keys().copied().collect();
    assert_eq!(
        types,
        [-11, -10, -1, 1, 2, 5, 7, 14, 15, 19, 21],
        "txn types the fixture logs hold"
    );
}
