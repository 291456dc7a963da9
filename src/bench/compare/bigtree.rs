//! The large-database figures: a dataDir holding N znodes of 100 bytes (one snapshot,
//! in Apache ZooKeeper's format, so both servers load the same file), then for each
//! server the time from process start to serving and its RSS once serving.

use std::path::Path;
use std::time::Duration;

use super::servers::{Kind, Launch, ServerProc};
use crate::proto::{Acl, CreateTxn, Txn, TxnHeader};
use crate::storage::snapshot::{writer, Compression};
use crate::tree::DataTree;

/// What one start measured.
#[derive(Clone, Copy, Debug)]
pub struct BigStart {
    pub kind: Kind,
    pub to_serving: Duration,
    pub rss_bytes: u64,
}

/// Writes `version-2/snapshot.<zxid>` with `znodes` znodes of 100 bytes under `/big/d<k>`
/// parents of 1000 children each.
pub fn build_datadir(data_dir: &Path, znodes: usize) -> Result<(), String> {
    let snap_dir = data_dir.join("version-2");
    std::fs::create_dir_all(&snap_dir).map_err(|e| e.to_string())?;
    let mut tree = DataTree::new();
    let mut zxid = 0i64;
    let value = super::super::client::payload(100);
    let mut create = |tree: &mut DataTree, path: String, data: Option<Vec<u8>>| {
        zxid += 1;
        let hdr = TxnHeader {
            client_id: 1,
            cxid: 0,
            zxid,
            time: 1_700_000_000_000,
        };
        tree.apply(
            &hdr,
            &Txn::Create(CreateTxn {
                path,
                data,
                acl: Acl::open_unsafe(),
                ephemeral: false,
                parent_cversion: -1,
            }),
        );
    };
    create(&mut tree, "/big".into(), None);
    for dir in 0..znodes.div_ceil(1000) {
        create(&mut tree, format!("/big/d{dir}"), None);
        for i in 0..1000.min(znodes - dir * 1000) {
            create(&mut tree, format!("/big/d{dir}/n{i}"), Some(value.clone()));
        }
    }
    let last = tree.last_processed_zxid();
    writer::write(&snap_dir, last, &tree, &[], Compression::None).map_err(|e| e.to_string())?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(to);
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("cp {} failed", from.display()))
}

/// Starts `kind` on a fresh copy of `master`, times it to serving, reads its RSS after
/// `settle`, stops it.
pub fn start_once(
    kind: Kind,
    launch: &Launch,
    master: &Path,
    work: &Path,
    settle: Duration,
) -> Result<BigStart, String> {
    let data = work.join(format!("big-data-{}", kind.label()));
    copy_dir(master, &data)?;
    let mut server = ServerProc::spawn(
        kind,
        launch,
        &work.join(format!("big-run-{}", kind.label())),
        &data,
    )?;
    let result = server
        .wait_serving(Duration::from_secs(600))
        .and_then(|to_serving| {
            std::thread::sleep(settle);
            Ok(BigStart {
                kind,
                to_serving,
                rss_bytes: server.rss_bytes()?,
            })
        });
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
    result
}
