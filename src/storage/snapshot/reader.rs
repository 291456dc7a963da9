//! Reading snapshot files (`FileSnap.deserialize`, `SnapStream.getInputStream`,
//! `Util.isValidSnapshot`): plain or gzip streams, into a tree and a session table.

use flate2::read::GzDecoder;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::format::{decode, looks_complete, NodeRecord, SnapshotError, SnapshotSink, Trailer};
use crate::jute::Limits;
use crate::proto::{Acl, StatPersisted};
use crate::tree::{DataTree, TreeLoader};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// snappy-java's `SnappyOutputStream` header.
const SNAPPY_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];

/// Decode limits for snapshot records.
pub fn limits() -> Limits {
    Limits {
        max_frame: usize::MAX / 4,
        max_field: usize::MAX / 4,
    }
}

/// A snapshot file's uncompressed bytes: a plain file is mapped (no copy, and its pages
/// go back to the page cache once loaded), a gzip stream inflated into memory.
pub enum SnapshotBytes {
    Mapped(memmap2::Mmap),
    Inflated(Vec<u8>),
}

impl std::ops::Deref for SnapshotBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SnapshotBytes::Mapped(m) => m,
            SnapshotBytes::Inflated(v) => v,
        }
    }
}

/// The uncompressed bytes of a snapshot file.
pub fn read_file(path: &Path) -> Result<SnapshotBytes, String> {
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    // Safety of the mapping: snapshot files are written under a temporary name and
    // renamed, never changed in place while a server runs on the directory.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| e.to_string())?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    if map.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        GzDecoder::new(&map[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("gzip: {e}"))?;
        return Ok(SnapshotBytes::Inflated(out));
    }
    if map.starts_with(&SNAPPY_MAGIC) {
        return Err("snappy-compressed snapshots are not supported".into());
    }
    Ok(SnapshotBytes::Mapped(map))
}

/// The cheap check done before trying a snapshot (`SnapStream.isValidSnapshot`): a
/// compressed stream's magic, or a plain file's length and final seal; reads the
/// first and last bytes only.
pub fn is_valid(path: &Path) -> bool {
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 8];
    let n = f.read(&mut head).unwrap_or(0);
    if head[..n].starts_with(&GZIP_MAGIC) || head[..n].starts_with(&SNAPPY_MAGIC) {
        return true;
    }
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut tail = [0u8; 5];
    let read_tail = f
        .seek(SeekFrom::Start(len.saturating_sub(5)))
        .and_then(|_| f.read_exact(&mut tail));
    len >= 10 && read_tail.is_ok() && looks_complete(&[&[0u8; 5][..], &tail[..]].concat())
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
        self.loader
            .add_node(&n.path, n.data, n.acl, n.stat)
            .map_err(|e| e.to_string())
    }
    fn node_ref(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<(), String> {
        self.loader
            .add_node_ref(path, data, acl, stat)
            .map_err(|e| e.to_string())
    }
}

/// Builds the tree of an uncompressed snapshot named by `name_zxid`.
pub fn load(bytes: &[u8], extended_types: bool, name_zxid: i64) -> Result<Loaded, SnapshotError> {
    let mut sink = TreeSink {
        loader: DataTree::loader(extended_types),
        sessions: Vec::new(),
    };
    let trailer = decode(bytes, &mut sink)?;
    if let Some(d) = trailer.digest {
        sink.loader
            .snapshot_digest(d.zxid, d.version, d.digest, name_zxid);
    }
    let mut tree = sink.loader.finish().map_err(|e| SnapshotError::Tree {
        offset: bytes.len(),
        reason: e.to_string(),
    })?;
    tree.set_last_processed_zxid(name_zxid);
    Ok(Loaded {
        tree,
        sessions: sink.sessions,
        trailer,
    })
}
