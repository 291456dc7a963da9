//! Checks against a data directory written by Apache ZooKeeper 3.8.0 (`testdata/`):
//! replaying its txn logs must reproduce the digest each entry carries, loading its
//! snapshots must reproduce their digest trailers, and the final tree must match the
//! dump taken from the Java server through a client.
//!
//! The decoder here reads just enough jute for these files; it is test scaffolding.

use crate::proto::{
    Acl, CreateContainerTxn, CreateTtlTxn, CreateTxn, ErrorCode, SetAclTxn, SetDataTxn,
    StatPersisted, Txn, TxnDigest, TxnHeader,
};

use super::DataTree;

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        out
    }
    fn u8(&mut self) -> u8 {
        self.bytes(1)[0]
    }
    fn int(&mut self) -> i32 {
        i32::from_be_bytes(self.bytes(4).try_into().unwrap())
    }
    fn long(&mut self) -> i64 {
        i64::from_be_bytes(self.bytes(8).try_into().unwrap())
    }
    fn buffer(&mut self) -> Option<Vec<u8>> {
        let n = self.int();
        (n >= 0).then(|| self.bytes(n as usize).to_vec())
    }
    fn string(&mut self) -> String {
        String::from_utf8(self.buffer().unwrap_or_default()).unwrap()
    }
    fn acls(&mut self) -> Vec<Acl> {
        let n = self.int();
        (0..n)
            .map(|_| Acl::new(self.int(), &self.string(), &self.string()))
            .collect()
    }
    fn stat(&mut self) -> StatPersisted {
        StatPersisted {
            czxid: self.long(),
            mzxid: self.long(),
            ctime: self.long(),
            mtime: self.long(),
            version: self.int(),
            cversion: self.int(),
            aversion: self.int(),
            ephemeral_owner: self.long(),
            pzxid: self.long(),
        }
    }
}

fn create(r: &mut Reader) -> CreateTxn {
    CreateTxn {
        path: r.string(),
        data: r.buffer(),
        acl: r.acls(),
        ephemeral: r.u8() != 0,
        parent_cversion: r.int(),
    }
}

fn set_data(r: &mut Reader) -> SetDataTxn {
    SetDataTxn {
        path: r.string(),
        data: r.buffer(),
        version: r.int(),
    }
}

fn txn(kind: i32, r: &mut Reader) -> Txn {
    match kind {
        1 => Txn::Create(create(r)),
        15 => Txn::Create2(create(r)),
        19 => Txn::CreateContainer(CreateContainerTxn {
            path: r.string(),
            data: r.buffer(),
            acl: r.acls(),
            parent_cversion: r.int(),
        }),
        21 => Txn::CreateTtl(CreateTtlTxn {
            path: r.string(),
            data: r.buffer(),
            acl: r.acls(),
            parent_cversion: r.int(),
            ttl: r.long(),
        }),
        2 => Txn::Delete(r.string()),
        20 => Txn::DeleteContainer(r.string()),
        5 => Txn::SetData(set_data(r)),
        16 => Txn::Reconfig(set_data(r)),
        7 => Txn::SetAcl(SetAclTxn {
            path: r.string(),
            acl: r.acls(),
            version: r.int(),
        }),
        13 => Txn::Check {
            path: r.string(),
            version: r.int(),
        },
        -10 => Txn::CreateSession {
            timeout_ms: r.int(),
        },
        -11 => Txn::CloseSession(Some((0..r.int()).map(|_| r.string()).collect())),
        -1 => Txn::Error(ErrorCode::try_from(r.int()).unwrap()),
        14 => {
            let n = r.int();
            Txn::Multi(
                (0..n)
                    .map(|_| {
                        let k = r.int();
                        let data = r.buffer().unwrap();
                        txn(k, &mut Reader::new(&data))
                    })
                    .collect(),
            )
        }
        other => panic!("txn type {other}"),
    }
}

/// Every entry of a txn log: header, txn, and the digest it carries.
fn read_log(file: &[u8]) -> Vec<(TxnHeader, Txn, Option<i64>)> {
    let mut r = Reader::new(file);
    r.bytes(16);
    let mut out = Vec::new();
    while r.remaining() >= 12 {
        let _crc = r.long();
        let len = r.int();
        if len <= 0 {
            break;
        }
        let mut e = Reader::new(r.bytes(len as usize));
        assert_eq!(r.u8(), b'B');
        let hdr = TxnHeader {
            client_id: e.long(),
            cxid: e.int(),
            zxid: e.long(),
            time: e.long(),
        };
        let kind = e.int();
        let t = txn(kind, &mut e);
        let digest = (e.remaining() == 12).then(|| {
            assert_eq!(e.int(), 2);
            e.long()
        });
        assert_eq!(e.remaining(), 0);
        out.push((hdr, t, digest));
    }
    out
}

/// A snapshot loaded into a tree, with its digest trailer `(zxid, digest)`.
fn read_snapshot(file: &[u8], name_zxid: i64) -> (DataTree, (i64, i64)) {
    let mut r = Reader::new(file);
    r.bytes(16);
    for _ in 0..r.int() {
        r.long();
        r.int();
    }
    let mut loader = DataTree::loader(true);
    for _ in 0..r.int() {
        let key = r.long();
        let acls = r.acls();
        loader.add_acl(key, acls);
    }
    loop {
        let path = r.string();
        if path == "/" {
            break;
        }
        let (data, acl, stat) = (r.buffer(), r.long(), r.stat());
        loader.add_node(&path, data, acl, stat).unwrap();
    }
    r.long();
    assert_eq!(r.string(), "/");
    let zxid = r.long();
    assert_eq!(r.int(), 2);
    let digest = r.long();
    loader.snapshot_digest(zxid, 2, digest, name_zxid);
    (loader.finish().unwrap(), (zxid, digest))
}

fn all_log_entries() -> Vec<(TxnHeader, Txn, Option<i64>)> {
    let mut all = read_log(include_bytes!("testdata/log.1"));
    all.extend(read_log(include_bytes!("testdata/log.b")));
    all.extend(read_log(include_bytes!("testdata/log.14")));
    all
}

type NodeRecords = Vec<(String, Option<Vec<u8>>, i64, StatPersisted)>;

/// Node records as a snapshot would write them, plus the ACL map.
fn records(tree: &DataTree) -> (NodeRecords, Vec<(i64, Vec<Acl>)>) {
    let nodes = tree
        .nodes_preorder()
        .into_iter()
        .map(|(p, n)| (p, n.data().map(<[u8]>::to_vec), n.acl_ref(), *n.stat()))
        .collect();
    let acls = tree
        .acl_cache()
        .entries()
        .map(|(k, a)| (k, a.to_vec()))
        .collect();
    (nodes, acls)
}

#[test]
fn replaying_the_java_logs_reproduces_every_txn_digest() {
    let mut tree = DataTree::with_extended_types(true);
    let entries = all_log_entries();
    assert_eq!(entries.last().map(|e| e.0.zxid), Some(0x17));
    let mut checked = 0;
    for (hdr, txn, digest) in &entries {
        let out = tree.apply(hdr, txn);
        if let Some(digest) = digest {
            checked += 1;
            assert_eq!(
                tree.digest(),
                *digest,
                "digest after zxid {:#x}: {:?}",
                hdr.zxid,
                out.result
            );
        }
        assert_eq!(tree.digest(), tree.recomputed_digest());
    }
    assert!(checked >= 15, "only {checked} digests checked");
}

#[test]
fn fresh_tree_matches_the_java_initial_snapshot() {
    let (loaded, _) = read_snapshot(include_bytes!("testdata/snapshot.0"), 0);
    let fresh = DataTree::with_extended_types(true);
    assert_eq!(records(&loaded), records(&fresh));
    assert_eq!(loaded.digest(), fresh.digest());
    assert_eq!(fresh.node_count(), 5);
    assert_eq!(fresh.approximate_data_size(), 44);
}

#[test]
fn loaded_snapshots_match_their_digest_trailers() {
    for (file, name) in [
        (&include_bytes!("testdata/snapshot.9")[..], 9),
        (&include_bytes!("testdata/snapshot.12")[..], 0x12),
    ] {
        let (tree, (zxid, digest)) = read_snapshot(file, name);
        assert!(zxid > 0);
        assert_eq!(tree.digest(), digest, "snapshot digest at zxid {zxid:#x}");
        assert_eq!(tree.recomputed_digest(), digest);
    }
}

#[test]
fn fuzzy_snapshot_plus_replay_equals_full_replay() {
    let mut full = DataTree::with_extended_types(true);
    for (hdr, txn, _) in all_log_entries() {
        full.apply(&hdr, &txn);
    }
    let (mut tree, _) = read_snapshot(include_bytes!("testdata/snapshot.12"), 0x12);
    for (hdr, txn, digest) in all_log_entries().into_iter().filter(|e| e.0.zxid > 0x12) {
        let logged = digest.map(|d| TxnDigest {
            version: 2,
            tree_digest: d,
        });
        tree.apply_with_digest(&hdr, &txn, logged, true);
        // The snapshot's own digest (zxid 0x13) is checked on reaching 0x13.
        assert_eq!(tree.last_zxid_digest().is_some(), hdr.zxid > 0x13);
        if let Some(digest) = digest {
            assert_eq!(tree.digest(), digest, "after zxid {:#x}", hdr.zxid);
        }
    }
    assert_eq!(records(&tree), records(&full));
    assert_eq!(tree.digest_mismatches(), 0);
    assert_eq!(tree.last_zxid_digest(), Some((0x17, full.digest())));
}

#[test]
fn a_wrong_snapshot_digest_is_counted_once_replay_reaches_it() {
    let mut loader = DataTree::loader(true);
    loader
        .add_node("", Some(vec![]), -1, StatPersisted::default())
        .unwrap();
    loader.snapshot_digest(2, 2, 12345, 1);
    let mut tree = loader.finish().unwrap();
    let hdr = |zxid| TxnHeader {
        client_id: 1,
        cxid: 0,
        zxid,
        time: 0,
    };
    tree.apply_with_digest(
        &hdr(1),
        &Txn::CreateSession { timeout_ms: 1 },
        Some(TxnDigest {
            version: 2,
            tree_digest: 1,
        }),
        true,
    );
    assert_eq!(tree.digest_mismatches(), 0, "no log check while fuzzy");
    tree.apply(&hdr(2), &Txn::CreateSession { timeout_ms: 1 });
    assert_eq!(tree.digest_mismatches(), 1);
    tree.apply_with_digest(
        &hdr(3),
        &Txn::CreateSession { timeout_ms: 1 },
        Some(TxnDigest {
            version: 2,
            tree_digest: 1,
        }),
        true,
    );
    assert_eq!(tree.digest_mismatches(), 2);
    assert_eq!(tree.last_zxid_digest(), Some((3, tree.digest())));
}

/// `path sha v= cv= av= len= kids= cz= mz= pz= eph= acl=` lines of the Java dump.
#[test]
fn final_tree_matches_the_java_client_view() {
    let mut tree = DataTree::with_extended_types(true);
    for (hdr, txn, _) in all_log_entries() {
        tree.apply(&hdr, &txn);
    }
    let dump = include_str!("testdata/tree.txt");
    let mut paths = Vec::new();
    for line in dump.lines() {
        let mut f = line.split(' ');
        let path = f.next().unwrap();
        paths.push(path.to_string());
        let (acls, stat) = tree
            .acl_and_stat(path)
            .unwrap_or_else(|| panic!("{path} missing"));
        let kv: std::collections::BTreeMap<&str, &str> =
            f.skip(1).filter_map(|x| x.split_once('=')).collect();
        let hex = |k: &str| i64::from_str_radix(kv[k].trim_start_matches("0x"), 16).unwrap();
        let int = |k: &str| kv[k].parse::<i32>().unwrap();
        assert_eq!(
            (stat.version, stat.cversion, stat.aversion),
            (int("v"), int("cv"), int("av")),
            "{path}"
        );
        assert_eq!(
            (stat.data_length, stat.num_children),
            (int("len"), int("kids")),
            "{path}"
        );
        assert_eq!(
            (stat.czxid, stat.mzxid, stat.pzxid),
            (hex("cz"), hex("mz"), hex("pz")),
            "{path}"
        );
        assert_eq!(stat.ephemeral_owner, 0, "{path}");
        let acl_text: Vec<String> = acls
            .iter()
            .map(|a| format!("{}:{}:{}", a.id.scheme, a.id.id, a.perms))
            .collect();
        assert_eq!(acl_text.join(","), kv["acl"], "{path}");
    }
    let mut ours: Vec<String> = tree
        .nodes_preorder()
        .into_iter()
        .map(|(p, _)| if p.is_empty() { "/".into() } else { p })
        .collect();
    ours.sort();
    assert_eq!(ours, paths);
}

/// A second 3.8.0 log: zkCli `setquota`/`delquota`, setData and setAcl on `/`, an
/// ephemeral closed by session expiry and a container reaped after its child went.
/// `mntr` after it said `zk_znode_count 14`, `zk_approximate_data_size 246`.
#[test]
fn replaying_a_quota_workload_matches_java_digests_and_counters() {
    let mut tree = DataTree::with_extended_types(true);
    let entries = read_log(include_bytes!("testdata/quota-log.1"));
    let mut kinds = std::collections::BTreeSet::new();
    for (hdr, txn, digest) in &entries {
        kinds.insert(format!("{:?}", txn.op_code()));
        let out = tree.apply(hdr, txn);
        if let Some(digest) = digest {
            assert_eq!(
                tree.digest(),
                *digest,
                "after zxid {:#x}: {:?}",
                hdr.zxid,
                out.result
            );
        }
    }
    assert!(
        kinds.contains("DeleteContainer") && kinds.contains("CloseSession"),
        "{kinds:?}"
    );
    assert_eq!(tree.node_count(), 14);
    assert_eq!(tree.approximate_data_size(), 246);
    assert_eq!(tree.all_children_number("/zookeeper"), 5);
    let stats = tree
        .data_and_stat("/zookeeper/quota/app/zookeeper_stats")
        .unwrap()
        .0;
    assert_eq!(stats, Some(&b"count=1,bytes=1"[..]));
    assert_eq!(
        tree.max_prefix_with_quota("/app/z").as_deref(),
        Some("/app")
    );
}
