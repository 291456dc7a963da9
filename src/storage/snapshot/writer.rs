//! Writing a snapshot file (`FileTxnSnapLog.save`, `FileSnap.serialize`) from a tree
//! the caller owns (a copy taken by the core, so writes go on meanwhile).
//! Java writes in place; a temporary name plus rename is equally readable by it and
//! never leaves a torn file under a snapshot name.

use flate2::write::GzEncoder;
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::format::{Encoder, ZxidDigest};
use super::Compression;
use crate::storage::datadir::{snapshot_name, sync_dir};
use crate::tree::{DataTree, DIGEST_VERSION};

/// How much encoded data is buffered before it goes to the file.
const CHUNK: usize = 1 << 20;

/// Encodes `tree` and `sessions` into `out`, in chunks.
pub fn encode_into(
    tree: &DataTree,
    sessions: &[(i64, i32)],
    out: &mut (impl Write + ?Sized),
) -> io::Result<()> {
    let mut e = Encoder::new();
    e.sessions(sessions);
    let acls = tree.acl_cache();
    e.acl_count(acls.len());
    for (key, list) in acls.entries() {
        e.acl(key, list);
    }
    let mut failed = None;
    tree.for_each_preorder(|path, node| {
        if failed.is_some() {
            return;
        }
        e.node(path, node.data(), node.acl_ref(), node.stat());
        if e.pending_len() >= CHUNK {
            failed = out.write_all(&e.take()).err();
        }
    });
    if let Some(err) = failed {
        return Err(err);
    }
    e.end_tree();
    let (zxid, digest) = tree.last_zxid_digest().unwrap_or((0, 0));
    e.digest(ZxidDigest {
        zxid,
        version: DIGEST_VERSION,
        digest,
    });
    out.write_all(&e.take())
}

/// Writes `snapshot.<zxid>[.ext]` in `dir`, synced with its directory entry.
pub fn write(
    dir: &Path,
    zxid: i64,
    tree: &DataTree,
    sessions: &[(i64, i32)],
    compression: Compression,
) -> io::Result<PathBuf> {
    write_with(dir, zxid, compression, |out| {
        encode_into(tree, sessions, out)
    })
}

/// The parts of a fuzzy snapshot taken a slice at a time (`node::snapshot`): the node
/// records were spooled to `nodes` in order; the ACL map is the union of the lists the
/// slices referenced.
pub struct FuzzyParts<'a> {
    pub sessions: &'a [(i64, i32)],
    pub acls: &'a [(i64, Vec<crate::proto::Acl>)],
    pub nodes: &'a Path,
    pub digest: Option<(i64, i64)>,
}

/// Writes a fuzzy snapshot from its parts, like [`write`].
pub fn write_fuzzy(
    dir: &Path,
    zxid: i64,
    parts: &FuzzyParts,
    compression: Compression,
) -> io::Result<PathBuf> {
    write_with(dir, zxid, compression, |out| {
        let mut e = Encoder::new();
        e.sessions(parts.sessions);
        e.acl_count(parts.acls.len());
        for (key, list) in parts.acls {
            e.acl(*key, list);
        }
        let mut nodes = std::fs::File::open(parts.nodes)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = io::Read::read(&mut nodes, &mut buf)?;
            if n == 0 {
                break;
            }
            e.raw(buf.get(..n).unwrap_or_default());
            out.write_all(&e.take())?;
        }
        e.end_tree();
        let (zxid, digest) = parts.digest.unwrap_or((0, 0));
        e.digest(ZxidDigest {
            zxid,
            version: DIGEST_VERSION,
            digest,
        });
        out.write_all(&e.take())
    })
}

fn write_with(
    dir: &Path,
    zxid: i64,
    compression: Compression,
    encode: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<PathBuf> {
    // Snappy is not written: fall back to a plain file, which every reader accepts.
    let compression = if compression == Compression::Snappy {
        Compression::None
    } else {
        compression
    };
    let name = snapshot_name(zxid, compression.extension());
    let path = dir.join(&name);
    // Written under a name no reader takes for a snapshot, then renamed: a crash
    // mid-write never replaces a good snapshot of the same zxid with a partial one.
    let tmp = dir.join(format!(".{name}.partial"));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    let mut buffered = BufWriter::with_capacity(CHUNK, file);
    match compression {
        Compression::Gz => {
            let mut gz = GzEncoder::new(&mut buffered, flate2::Compression::default());
            encode(&mut gz)?;
            gz.finish()?;
        }
        _ => encode(&mut buffered)?,
    }
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::snapshot::format::SnapshotContents;
    use crate::storage::snapshot::reader::{load, read_file};

    #[test]
    fn a_fresh_tree_encodes_like_java_snapshot_0() {
        let mut out = Vec::new();
        encode_into(&DataTree::new(), &[], &mut out).unwrap();
        let golden =
            SnapshotContents::decode(include_bytes!("../../tree/testdata/snapshot.0")).unwrap();
        let mine = SnapshotContents::decode(&out).unwrap();
        let mut a = golden.nodes.clone();
        let mut b = mine.nodes.clone();
        a.sort_by(|x, y| x.path.cmp(&y.path));
        b.sort_by(|x, y| x.path.cmp(&y.path));
        assert_eq!(a, b);
        assert_eq!(golden.acls, mine.acls);
        assert_eq!(golden.trailer, mine.trailer);
        assert_eq!(
            out.len(),
            include_bytes!("../../tree/testdata/snapshot.0").len()
        );
    }

    #[test]
    fn gz_snapshots_read_back() {
        let dir = std::env::temp_dir().join(format!("rzk-snapw-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = write(&dir, 5, &DataTree::new(), &[(7, 30_000)], Compression::Gz).unwrap();
        assert!(path.to_string_lossy().ends_with("snapshot.5.gz"));
        let loaded = load(&read_file(&path).unwrap(), false, 5).unwrap();
        assert_eq!(loaded.sessions, vec![(7, 30_000)]);
        assert_eq!(loaded.tree.last_processed_zxid(), 5);
        let _ = std::fs::remove_dir_all(dir);
    }
}
