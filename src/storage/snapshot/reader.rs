//! Reading snapshot files (`FileSnap.deserialize`, `SnapStream.getInputStream`,
//! `Util.isValidSnapshot`): plain or gzip streams, into a tree and a session table.

use flate2::read::GzDecoder;
use std::fs;
use std::io::Read;
use std::path::Path;

use super::format::{decode, looks_complete, NodeRecord, SnapshotError, SnapshotSink, Trailer};
use crate::jute::Limits;
use crate::proto::Acl;
use crate::tree::{DataTree, TreeLoader};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// snappy-java's `SnappyOutputStream` header.
const SNAPPY_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];

/// Decode limits for snapshot records.
pub fn limits() -> Limits {
    Limits { max_frame: usize::MAX / 4, max_field: usize::MAX / 4 }
}

/// The uncompressed bytes of a snapshot file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let raw = fs::read(path).map_err(|e| e.to_string())?;
    if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        GzDecoder::new(raw.as_slice()).read_to_end(&mut out).map_err(|e| format!("gzip: {e}"))?;
        return Ok(out);
    }
    if raw.starts_with(&SNAPPY_MAGIC) {
        return Err("snappy-compressed snapshots are not supported".into());
    }
    Ok(raw)
}

/// The cheap check done before trying a snapshot (`SnapStream.isValidSnapshot`).
pub fn is_valid(path: &Path) -> bool {
    match fs::read(path) {
        Ok(raw) if raw.starts_with(&GZIP_MAGIC) || raw.starts_with(&SNAPPY_MAGIC) => true,
        Ok(raw) => looks_complete(&raw),
        Err(_) => false,
    }
}

/// A snapshot loaded: the tree, the session table and the trailer.
pub struct Loaded {
    pub tree: DataTree,
    pub sessions: Vec<(i64, i32)>,
    pub trailer: Trailer,
}

struct TreeSink {
    loader: TreeLoader,
    sessions: Vec<(i64, i32)>,
}

impl SnapshotSink for TreeSink {
    fn session(&mut self, id: i64, timeout_ms: i32) {
        self.sessions.push((id, timeout_ms));
    }
    fn acl(&mut self, key: i64, list: Vec<Acl>) {
        self.loader.add_acl(key, list);
    }
    fn node(&mut self, n: NodeRecord) -> Result<(), String> {
        self.loader.add_node(&n.path, n.data, n.acl, n.stat).map_err(|e| e.to_string())
    }
}

/// Builds the tree of an uncompressed snapshot named by `name_zxid`.
pub fn load(bytes: &[u8], extended_types: bool, name_zxid: i64) -> Result<Loaded, SnapshotError> {
    let mut sink = TreeSink { loader: DataTree::loader(extended_types), sessions: Vec::new() };
    let trailer = decode(bytes, &mut sink)?;
    if let Some(d) = trailer.digest {
        sink.loader.snapshot_digest(d.zxid, d.version, d.digest, name_zxid);
    }
    let mut tree = sink.loader.finish().map_err(|e| SnapshotError::Tree { offset: bytes.len(), reason: e.to_string() })?;
    tree.set_last_processed_zxid(name_zxid);
    Ok(Loaded { tree, sessions: sink.sessions, trailer })
}
