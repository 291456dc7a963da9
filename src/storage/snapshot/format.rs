//! The bytes of a snapshot (`FileSnap.serialize`/`deserialize`, `SerializeUtils.
//! serializeSnapshot`, `DataTree.serialize`, `SnapStream.sealStream`): header, sessions,
//! ACL map, nodes in pre-order ending with the path `"/"`, then sealed sections each
//! closed by a cumulative Adler-32 and `"/"`: the tree, the digest trailer (3.6+), the
//! last processed zxid (3.9+). Pure: the encoder fills a buffer the caller drains.

use bytes::BufMut;

use super::super::checksum::Adler32;
use super::super::txnlog::format::{FileHeader, FILE_HEADER_LEN, SNAP_MAGIC, VERSION};
use crate::jute::primitives::{finish, int, long, put_buffer, put_ustring, ustring};
use crate::jute::{DecodeError, Limits};
use crate::proto::codec::{acls, put_acls, put_stat_persisted, stat_persisted};
use crate::proto::{Acl, StatPersisted};

/// The path that ends the node list and every sealed section.
pub const SEAL: &str = "/";
/// The last 5 bytes of every valid plain snapshot (`Util.isValidSnapshot`).
pub const SEAL_BYTES: [u8; 5] = [0, 0, 0, 1, b'/'];

/// `ZxidDigest`: the tree digest and the zxid it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZxidDigest {
    pub zxid: i64,
    pub version: i32,
    pub digest: i64,
}

/// One node record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: i64,
    pub stat: StatPersisted,
}

/// Streams a snapshot into a buffer; `take` hands out what is ready.
pub struct Encoder {
    pending: Vec<u8>,
    /// How much of `pending` the checksum has seen.
    covered: usize,
    crc: Adler32,
}

impl Encoder {
    /// Starts with the file header.
    pub fn new() -> Encoder {
        let mut e = Encoder {
            pending: Vec::with_capacity(1 << 16),
            covered: 0,
            crc: Adler32::new(),
        };
        e.pending
            .extend_from_slice(&FileHeader::snapshot().encode());
        e
    }

    pub fn sessions(&mut self, sessions: &[(i64, i32)]) {
        self.pending.put_i32(sessions.len() as i32);
        for &(id, timeout) in sessions {
            self.pending.put_i64(id);
            self.pending.put_i32(timeout);
        }
    }

    pub fn acl_count(&mut self, n: usize) {
        self.pending.put_i32(n as i32);
    }

    pub fn acl(&mut self, key: i64, list: &[Acl]) {
        self.pending.put_i64(key);
        put_acls(&mut self.pending, list);
    }

    pub fn node(&mut self, path: &str, data: Option<&[u8]>, acl: i64, stat: &StatPersisted) {
        encode_node(&mut self.pending, path, data, acl, stat);
    }

    /// Node records encoded earlier with [`encode_node`] (a fuzzy snapshot's slices).
    pub fn raw(&mut self, records: &[u8]) {
        self.pending.extend_from_slice(records);
    }

    /// Ends the node list and seals the tree section.
    pub fn end_tree(&mut self) {
        put_ustring(&mut self.pending, SEAL);
        self.seal();
    }

    /// The digest section (written when digests are enabled, as they are by default).
    pub fn digest(&mut self, d: ZxidDigest) {
        self.pending.put_i64(d.zxid);
        self.pending.put_i32(d.version);
        self.pending.put_i64(d.digest);
        self.seal();
    }

    /// `SnapStream.sealStream`: the checksum of everything so far, then `"/"`.
    fn seal(&mut self) {
        self.feed();
        let value = self.crc.value();
        self.pending.put_i64(value);
        put_ustring(&mut self.pending, SEAL);
    }

    fn feed(&mut self) {
        if let Some(new) = self.pending.get(self.covered..) {
            self.crc.update(new);
        }
        self.covered = self.pending.len();
    }

    /// Bytes ready to be written.
    pub fn take(&mut self) -> Vec<u8> {
        self.feed();
        self.covered = 0;
        std::mem::take(&mut self.pending)
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

/// One node record (`path`, data, ACL reference, `StatPersisted`) as a snapshot holds it.
pub fn encode_node(
    out: &mut Vec<u8>,
    path: &str,
    data: Option<&[u8]>,
    acl: i64,
    stat: &StatPersisted,
) {
    put_ustring(out, path);
    put_buffer(out, data);
    out.put_i64(acl);
    put_stat_persisted(out, stat);
}

/// Receives a snapshot's records as they are decoded.
pub trait SnapshotSink {
    fn session(&mut self, id: i64, timeout_ms: i32);
    fn acl(&mut self, key: i64, list: Vec<Acl>);
    /// An error stops the decoding (`Invalid Datatree`).
    fn node(&mut self, node: NodeRecord) -> Result<(), String>;
    /// The same record borrowed from the file's bytes, for sinks that copy what they
    /// keep anyway (the tree loader): no allocation per record.
    fn node_ref(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<(), String> {
        self.node(NodeRecord {
            path: path.to_string(),
            data: data.map(<[u8]>::to_vec),
            acl,
            stat: *stat,
        })
    }
}

/// What follows the tree section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trailer {
    pub digest: Option<ZxidDigest>,
    /// 3.9's `lastProcessedZxid` section.
    pub last_processed_zxid: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a snapshot: bad header")]
    Header,
    #[error("truncated or malformed at offset {offset}: {cause}")]
    Decode { offset: usize, cause: DecodeError },
    #[error("checksum mismatch in the section ending at offset {offset}")]
    Checksum { offset: usize },
    #[error("missing seal at offset {offset}")]
    Seal { offset: usize },
    #[error("invalid data tree at offset {offset}: {reason}")]
    Tree { offset: usize, reason: String },
}

/// `Util.isValidSnapshot` for a plain (uncompressed) file: long enough and ending in
/// the `"/"` seal.
pub fn looks_complete(buf: &[u8]) -> bool {
    buf.len() >= 10 && buf.ends_with(&SEAL_BYTES)
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    lim: Limits,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn read<T>(
        &mut self,
        parse: impl FnOnce(&'a [u8], &Limits) -> crate::jute::primitives::JResult<'a, T>,
    ) -> Result<T, SnapshotError> {
        let rest = self.rest();
        let (left, v) = finish(parse(rest, &self.lim)).map_err(|cause| SnapshotError::Decode {
            offset: self.pos,
            cause,
        })?;
        self.pos += rest.len() - left.len();
        Ok(v)
    }

    fn int(&mut self) -> Result<i32, SnapshotError> {
        self.read(|i, _| int(i))
    }

    fn long(&mut self) -> Result<i64, SnapshotError> {
        self.read(|i, _| long(i))
    }

    /// A jute buffer borrowed from the input (`None` for length -1), with the checks
    /// of `buffer`.
    fn bytes_ref(&mut self) -> Result<Option<&'a [u8]>, SnapshotError> {
        let offset = self.pos;
        let len = self.int()?;
        if len == -1 {
            return Ok(None);
        }
        let fail = |cause| SnapshotError::Decode { offset, cause };
        let n = usize::try_from(len)
            .ok()
            .filter(|&n| n <= self.lim.max_field)
            .ok_or_else(|| {
                fail(DecodeError::TooLarge {
                    len: len.into(),
                    max: self.lim.max_field,
                })
            })?;
        let bytes = self
            .rest()
            .get(..n)
            .ok_or_else(|| fail(DecodeError::Truncated))?;
        self.pos += n;
        Ok(Some(bytes))
    }

    /// A jute string borrowed from the input when it is valid UTF-8 (lossy otherwise,
    /// and empty for null, as `ustring` reads it).
    fn str_ref(&mut self) -> Result<std::borrow::Cow<'a, str>, SnapshotError> {
        let bytes = self.bytes_ref()?.unwrap_or_default();
        Ok(String::from_utf8_lossy(bytes))
    }

    fn string(&mut self) -> Result<String, SnapshotError> {
        self.read(ustring)
    }

    /// Reads a section's checksum and seal, checking the checksum over `[0, pos)`.
    fn seal(&mut self) -> Result<(), SnapshotError> {
        let expected =
            super::super::checksum::adler32(self.buf.get(..self.pos).unwrap_or_default());
        let offset = self.pos;
        if self.long()? != expected {
            return Err(SnapshotError::Checksum { offset });
        }
        if self.string()? != SEAL {
            return Err(SnapshotError::Seal { offset: self.pos });
        }
        Ok(())
    }
}

/// Decodes a whole uncompressed snapshot into `sink`.
pub fn decode(buf: &[u8], sink: &mut impl SnapshotSink) -> Result<Trailer, SnapshotError> {
    let header = FileHeader::decode(buf).ok_or(SnapshotError::Header)?;
    if header.magic != SNAP_MAGIC || header.version != VERSION {
        return Err(SnapshotError::Header);
    }
    let mut c = Cursor {
        buf,
        pos: FILE_HEADER_LEN,
        lim: super::reader::limits(),
    };
    decode_sessions(&mut c, sink)?;
    decode_acls(&mut c, sink)?;
    decode_nodes(&mut c, sink)?;
    c.seal()?;
    decode_trailer(&mut c)
}

fn decode_sessions(c: &mut Cursor, sink: &mut impl SnapshotSink) -> Result<(), SnapshotError> {
    let n = c.int()?;
    for _ in 0..n.max(0) {
        let id = c.long()?;
        let timeout = c.int()?;
        sink.session(id, timeout);
    }
    Ok(())
}

fn decode_acls(c: &mut Cursor, sink: &mut impl SnapshotSink) -> Result<(), SnapshotError> {
    let n = c.int()?;
    for _ in 0..n.max(0) {
        let key = c.long()?;
        let list = c.read(acls)?;
        sink.acl(key, list);
    }
    Ok(())
}

fn decode_nodes(c: &mut Cursor, sink: &mut impl SnapshotSink) -> Result<(), SnapshotError> {
    loop {
        let offset = c.pos;
        let path = c.str_ref()?;
        if path == SEAL {
            return Ok(());
        }
        let data = c.bytes_ref()?;
        let acl = c.long()?;
        let stat = c.read(|i, _| stat_persisted(i))?;
        sink.node_ref(&path, data, acl, &stat)
            .map_err(|reason| SnapshotError::Tree { offset, reason })?;
    }
}

/// The optional sections: absent when the file ends where they would start.
fn decode_trailer(c: &mut Cursor) -> Result<Trailer, SnapshotError> {
    let mut t = Trailer::default();
    if c.rest().is_empty() {
        return Ok(t);
    }
    let zxid = c.long()?;
    let version = c.int()?;
    let digest = c.long()?;
    c.seal()?;
    t.digest = Some(ZxidDigest {
        zxid,
        version,
        digest,
    });
    if c.rest().is_empty() {
        return Ok(t);
    }
    t.last_processed_zxid = Some(c.long()?);
    c.seal()?;
    Ok(t)
}

/// A snapshot held whole in memory: for tests and the dump tool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotContents {
    pub sessions: Vec<(i64, i32)>,
    pub acls: Vec<(i64, Vec<Acl>)>,
    pub nodes: Vec<NodeRecord>,
    pub trailer: Trailer,
}

impl SnapshotSink for SnapshotContents {
    fn session(&mut self, id: i64, timeout_ms: i32) {
        self.sessions.push((id, timeout_ms));
    }
    fn acl(&mut self, key: i64, list: Vec<Acl>) {
        self.acls.push((key, list));
    }
    fn node(&mut self, node: NodeRecord) -> Result<(), String> {
        self.nodes.push(node);
        Ok(())
    }
}

impl SnapshotContents {
    pub fn decode(buf: &[u8]) -> Result<SnapshotContents, SnapshotError> {
        let mut c = SnapshotContents::default();
        c.trailer = decode(buf, &mut c)?;
        Ok(c)
    }

    /// The file bytes, records in their stored order.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.sessions(&self.sessions);
        e.acl_count(self.acls.len());
        for (key, list) in &self.acls {
            e.acl(*key, list);
        }
        for n in &self.nodes {
            e.node(&n.path, n.data.as_deref(), n.acl, &n.stat);
        }
        e.end_tree();
        if let Some(d) = self.trailer.digest {
            e.digest(d);
        }
        let mut out = e.take();
        if let Some(z) = self.trailer.last_processed_zxid {
            // 3.9 section: written by hand as the encoder targets 3.8.
            let mut crc = Adler32::new();
            out.put_i64(z);
            crc.update(&out);
            out.put_i64(crc.value());
            put_ustring(&mut out, SEAL);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPS: [&[u8]; 3] = [
        include_bytes!("../../tree/testdata/snapshot.0"),
        include_bytes!("../../tree/testdata/snapshot.9"),
        include_bytes!("../../tree/testdata/snapshot.12"),
    ];

    #[test]
    fn golden_snapshots_reencode_byte_for_byte() {
        for snap in SNAPS {
            let c = SnapshotContents::decode(snap).unwrap();
            assert_eq!(c.encode(), snap.to_vec());
        }
    }

    #[test]
    fn fresh_java_snapshot_holds_the_four_builtin_nodes() {
        let c = SnapshotContents::decode(SNAPS[0]).unwrap();
        let paths: Vec<&str> = c.nodes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"]
        );
        assert_eq!(
            c.trailer.digest,
            Some(ZxidDigest {
                zxid: 0,
                version: 2,
                digest: 0
            })
        );
        assert!(looks_complete(SNAPS[0]));
    }

    #[test]
    fn a_flipped_byte_fails_the_checksum() {
        let mut snap = SNAPS[1].to_vec();
        let c = SnapshotContents::decode(&snap).unwrap();
        assert!(!c.nodes.is_empty());
        snap[30] ^= 0x40;
        assert!(SnapshotContents::decode(&snap).is_err());
    }

    #[test]
    fn lpz_section_round_trips() {
        let mut c = SnapshotContents::decode(SNAPS[2]).unwrap();
        c.trailer.last_processed_zxid = Some(0x13);
        let bytes = c.encode();
        assert_eq!(SnapshotContents::decode(&bytes).unwrap(), c);
    }

    #[test]
    fn a_truncated_snapshot_is_an_error() {
        let snap = SNAPS[1];
        assert!(SnapshotContents::decode(&snap[..snap.len() / 2]).is_err());
        assert!(!looks_complete(&snap[..snap.len() - 1]));
    }
}
