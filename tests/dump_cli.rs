//! `rzk txnlog-dump` as a shell pipeline uses it.

use std::io::Read;
use std::process::{Command, Stdio};

use rzk::proto::{SetDataTxn, Txn, TxnEntry, TxnHeader};
use rzk::storage::txnlog::writer::{LogWriter, LogWriterConfig};

/// A log long enough that its listing overflows a pipe's buffer.
fn long_log(dir: &std::path::Path) -> std::path::PathBuf {
    let cfg = LogWriterConfig {
        prealloc: 1 << 20,
        force_sync: false,
        size_limit: 0,
    };
    let mut w = LogWriter::new(dir.to_path_buf(), cfg);
    for zxid in 1..=5_000 {
        let entry = TxnEntry {
            header: TxnHeader {
                client_id: 1,
                cxid: zxid as i32,
                zxid,
                time: 1_700_000_000_000,
            },
            txn: Txn::SetData(SetDataTxn {
                path: format!("/a/node-{zxid}"),
                data: Some(vec![b'x'; 16]),
                version: 1,
            }),
            digest: None,
        };
        w.append(&entry).unwrap();
    }
    w.commit().unwrap();
    dir.join("log.1")
}

#[test]
fn a_reader_that_stops_early_ends_the_dump_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let log = long_log(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_rzk"))
        .arg("txnlog-dump")
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The read end is closed here, as `head` closes it.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
