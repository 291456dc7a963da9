//! The database a leader streams to a learner right after the SNAP packet
//! (`LearnerHandler.syncFollower` → `ZKDatabase.serializeSnapshot`, and
//! `Learner.syncWithLeader` → `deserializeSnapshot`): `int sessionCount`, that many
//! `(long id, int timeout)`, the ACL map, the nodes in pre-order ended by the path `"/"`,
//! then the string `"BenWasHere"`. Unlike a snapshot file there is no header, no
//! checksum and no digest section. Pure: bytes in, tree out.
//!
//! The stream has no length prefix, so the learner decodes from what it has buffered
//! and asks for more bytes while the stream is incomplete.

use bytes::BufMut;

use crate::jute::primitives::{
    buffer, finish, int, long, put_buffer, put_ustring, ustring, JResult,
};
use crate::jute::{DecodeError, Limits};
use crate::proto::codec::{acls, put_acls, put_stat_persisted, stat_persisted};
use crate::tree::DataTree;

/// The string that closes the stream (`Learner.syncWithLeader` checks it).
pub const SIGNATURE: &str = "BenWasHere";
const END_OF_NODES: &str = "/";

/// Writes the stream for `tree` and `sessions`.
pub fn encode(tree: &DataTree, sessions: &[(i64, i32)], out: &mut impl BufMut) {
    out.put_i32(i32::try_from(sessions.len()).unwrap_or(i32::MAX));
    for &(id, timeout) in sessions {
        out.put_i64(id);
        out.put_i32(timeout);
    }
    let cache = tree.acl_cache();
    out.put_i32(i32::try_from(cache.len()).unwrap_or(i32::MAX));
    for (key, list) in cache.entries() {
        out.put_i64(key);
        put_acls(out, list);
    }
    for (path, node) in tree.nodes_preorder() {
        put_ustring(out, &path);
        put_buffer(out, node.data());
        out.put_i64(node.acl_ref());
        put_stat_persisted(out, node.stat());
    }
    put_ustring(out, END_OF_NODES);
    put_ustring(out, SIGNATURE);
}

/// The database received from the leader.
#[derive(Debug)]
pub struct SnapDb {
    pub tree: DataTree,
    pub sessions: Vec<(i64, i32)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapStreamError {
    #[error("malformed snapshot stream at byte {offset}: {cause}")]
    Decode { offset: usize, cause: DecodeError },
    #[error("invalid tree in the snapshot stream: {0}")]
    Tree(String),
    #[error("Missing signature. Got {0}")]
    Signature(String),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    lim: Limits,
}

/// `Err(None)` means the buffer ended first.
type Step<T> = Result<T, Option<SnapStreamError>>;

impl<'a> Cursor<'a> {
    fn read<T>(&mut self, parse: impl FnOnce(&'a [u8], &Limits) -> JResult<'a, T>) -> Step<T> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match finish(parse(rest, &self.lim)) {
            Ok((left, v)) => {
                self.pos += rest.len() - left.len();
                Ok(v)
            }
            Err(DecodeError::Truncated) => Err(None),
            Err(cause) => Err(Some(SnapStreamError::Decode {
                offset: self.pos,
                cause,
            })),
        }
    }
}

/// Decodes the stream at the start of `buf`: `Ok(None)` until all of it has arrived,
/// then the database (its last processed zxid set to `zxid`, the SNAP packet's) and the
/// number of bytes it took.
pub fn decode(
    buf: &[u8],
    extended_types: bool,
    zxid: i64,
) -> Result<Option<(SnapDb, usize)>, SnapStreamError> {
    let mut c = Cursor {
        buf,
        pos: 0,
        lim: crate::storage::snapshot::reader::limits(),
    };
    match decode_at(&mut c, extended_types) {
        Ok(mut db) => {
            db.tree.set_last_processed_zxid(zxid);
            Ok(Some((db, c.pos)))
        }
        Err(None) => Ok(None),
        Err(Some(e)) => Err(e),
    }
}

fn decode_at(c: &mut Cursor, extended_types: bool) -> Step<SnapDb> {
    let n = c.read(|i, _| int(i))?;
    let mut sessions = Vec::new();
    for _ in 0..n.max(0) {
        let id = c.read(|i, _| long(i))?;
        let timeout = c.read(|i, _| int(i))?;
        sessions.push((id, timeout));
    }
    let mut loader = DataTree::loader(extended_types);
    let n = c.read(|i, _| int(i))?;
    for _ in 0..n.max(0) {
        let key = c.read(|i, _| long(i))?;
        loader.add_acl(key, c.read(acls)?);
    }
    loop {
        let path = c.read(ustring)?;
        if path == END_OF_NODES {
            break;
        }
        let data = c.read(buffer)?;
        let acl = c.read(|i, _| long(i))?;
        let stat = c.read(|i, _| stat_persisted(i))?;
        loader
            .add_node(&path, data, acl, stat)
            .map_err(|e| Some(SnapStreamError::Tree(e.to_string())))?;
    }
    let signature = c.read(ustring)?;
    if signature != SIGNATURE {
        return Err(Some(SnapStreamError::Signature(signature)));
    }
    let tree = loader
        .finish()
        .map_err(|e| Some(SnapStreamError::Tree(e.to_string())))?;
    Ok(SnapDb { tree, sessions })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn java_stream() -> Vec<u8> {
        let hex = include_str!("../proto/quorum/testdata/zab-snap-stream.hex");
        let hex: String = hex.split_whitespace().collect();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    fn paths(t: &DataTree) -> Vec<String> {
        let mut p: Vec<String> = t.nodes_preorder().into_iter().map(|(p, _)| p).collect();
        p.sort();
        p
    }

    #[test]
    fn java_leaders_stream_decodes_whole() {
        let bytes = java_stream();
        let (db, used) = decode(&bytes, false, 0x1_0000_0003).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert!(paths(&db.tree).contains(&"/zookeeper".to_string()));
        assert_eq!(db.tree.last_processed_zxid(), 0x1_0000_0003);
    }

    #[test]
    fn every_prefix_asks_for_more() {
        let bytes = java_stream();
        for cut in [0, 1, 4, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                decode(&bytes[..cut], false, 0).unwrap().is_none(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn reencoded_stream_carries_the_same_database() {
        let (db, _) = decode(&java_stream(), false, 5).unwrap().unwrap();
        let mut out = Vec::new();
        encode(&db.tree, &db.sessions, &mut out);
        out.extend_from_slice(b"next packet");
        let (again, used) = decode(&out, false, 5).unwrap().unwrap();
        assert_eq!(used, out.len() - b"next packet".len());
        assert_eq!(paths(&again.tree), paths(&db.tree));
        assert_eq!(again.sessions, db.sessions);
        assert_eq!(again.tree.digest(), db.tree.digest());
    }

    #[test]
    fn a_wrong_signature_is_refused() {
        let mut out = Vec::new();
        encode(&DataTree::new(), &[], &mut out);
        let n = out.len();
        out[n - 1] = b'X';
        assert!(matches!(
            decode(&out, false, 0),
            Err(SnapStreamError::Signature(_))
        ));
    }
}
