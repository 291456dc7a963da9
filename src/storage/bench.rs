//! `rzk storage-bench`: figures for the storage layer, side by side with Apache
//! ZooKeeper when its jars are available (prints, asserts nothing).
//!
//! * append+fsync throughput of the txn log at several batch sizes (rzk's `LogWriter`
//!   against Java's `FileTxnLog`, same entry size, same disk);
//! * restart time on a dataDir with N znodes (one snapshot plus a log to replay), from
//!   process start until `srvr` answers, for both servers on copies of the same dataDir.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::bench_java::{java_fsync_figures, time_to_srvr, JavaSide};
use super::settings::StorageConfig;
use super::snapshot::{writer, Compression};
use super::txnlog::writer::{LogWriter, LogWriterConfig};
use crate::proto::{Acl, CreateTxn, SetDataTxn, Txn, TxnEntry, TxnHeader};
use crate::tree::DataTree;

/// Options of `rzk storage-bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Directory to work in (on the disk to measure); emptied first.
    #[arg(long, default_value = "/tmp/rzk-storage-bench")]
    pub dir: PathBuf,
    /// Znodes in the restart test.
    #[arg(long, default_value_t = 1_000_000)]
    pub znodes: usize,
    /// Seconds spent on each batch size.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Batch sizes (txns per fsync).
    #[arg(long, value_delimiter = ',', default_value = "1,10,100,1000")]
    pub batches: Vec<usize>,
    /// Classpath of Apache ZooKeeper; empty to skip the Java side.
    #[arg(long, default_value = "/usr/share/java/*")]
    pub zk_classpath: String,
    /// Leave the work directory in place (to inspect the generated dataDirs).
    #[arg(long)]
    pub keep: bool,
}

fn bench_entry(zxid: i64, payload: &[u8]) -> TxnEntry {
    TxnEntry {
        header: TxnHeader {
            client_id: 1,
            cxid: zxid as i32,
            zxid,
            time: 1_700_000_000_000,
        },
        txn: Txn::Create(CreateTxn {
            path: format!("/bench/n{zxid}"),
            data: Some(payload.to_vec()),
            acl: Acl::open_unsafe(),
            ephemeral: false,
            parent_cversion: zxid as i32,
        }),
        digest: None,
    }
}

/// (txns, seconds) for one batch size with rzk's writer.
fn rzk_fsync_run(dir: &Path, batch: usize, seconds: f64) -> Result<(u64, f64), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let cfg = LogWriterConfig {
        prealloc: 64 << 20,
        force_sync: true,
        size_limit: 0,
    };
    let mut log = LogWriter::new(dir.to_path_buf(), cfg);
    let payload = [0u8; 100];
    let (start, mut zxid) = (Instant::now(), 0i64);
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..batch {
            zxid += 1;
            log.append(&bench_entry(zxid, &payload))
                .map_err(|e| e.to_string())?;
        }
        log.commit().map_err(|e| e.to_string())?;
    }
    Ok((zxid as u64, start.elapsed().as_secs_f64()))
}

fn fsync_table(args: &BenchArgs, java: Option<&JavaSide>, out: &mut String) -> Result<(), String> {
    let java_rows = match java {
        Some(j) => java_fsync_figures(j, &args.dir.join("zk-fsync"), args.seconds, &args.batches),
        None => Err("skipped".into()),
    };
    let _ = writeln!(
        out,
        "append+fsync, 100-byte creates ({} s per batch size)",
        args.seconds
    );
    let _ = writeln!(
        out,
        "{:>8} {:>14} {:>12} {:>24}",
        "batch", "rzk txns/s", "fsyncs/s", "Apache ZooKeeper txns/s"
    );
    for &batch in &args.batches {
        let (n, secs) = rzk_fsync_run(
            &args.dir.join(format!("rzk-fsync-{batch}")),
            batch,
            args.seconds,
        )?;
        let zk = match &java_rows {
            Ok(rows) => rows
                .get(&batch)
                .map_or("-".to_string(), |(n, s)| format!("{:.0}", *n as f64 / s)),
            Err(e) => e.clone(),
        };
        let rate = n as f64 / secs;
        let _ = writeln!(
            out,
            "{batch:>8} {rate:>14.0} {:>12.0} {zk:>24}",
            rate / batch as f64
        );
    }
    Ok(())
}

/// A dataDir with `znodes` znodes in a snapshot and 10 000 setData txns in a log after it.
fn build_datadir(data_dir: &Path, znodes: usize) -> Result<(), String> {
    let snap_dir = data_dir.join("version-2");
    std::fs::create_dir_all(&snap_dir).map_err(|e| e.to_string())?;
    let mut tree = DataTree::new();
    let mut zxid = 0i64;
    let mut create = |tree: &mut DataTree, path: String| {
        zxid += 1;
        let hdr = TxnHeader {
            client_id: 1,
            cxid: 0,
            zxid,
            time: 1_700_000_000_000,
        };
        let txn = Txn::Create(CreateTxn {
            path,
            data: Some(vec![b'x'; 32]),
            acl: Acl::open_unsafe(),
            ephemeral: false,
            parent_cversion: -1,
        });
        tree.apply(&hdr, &txn);
    };
    for dir in 0..znodes.div_ceil(1000) {
        create(&mut tree, format!("/d{dir}"));
        for i in 0..1000.min(znodes - dir * 1000) {
            create(&mut tree, format!("/d{dir}/n{i}"));
        }
    }
    let last = tree.last_processed_zxid();
    writer::write(&snap_dir, last, &tree, &[], Compression::None).map_err(|e| e.to_string())?;
    let mut log = LogWriter::new(
        snap_dir,
        LogWriterConfig {
            prealloc: 64 << 20,
            force_sync: false,
            size_limit: 0,
        },
    );
    for z in last + 1..=last + 10_000 {
        let header = TxnHeader {
            client_id: 1,
            cxid: 0,
            zxid: z,
            time: 1_700_000_000_000,
        };
        let txn = Txn::SetData(SetDataTxn {
            path: "/d0/n0".into(),
            data: Some(b"y".to_vec()),
            version: (z - last) as i32,
        });
        log.append(&TxnEntry {
            header,
            txn,
            digest: None,
        })
        .map_err(|e| e.to_string())?;
    }
    log.commit().map_err(|e| e.to_string())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
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

fn restart_table(
    args: &BenchArgs,
    java: Option<&JavaSide>,
    out: &mut String,
) -> Result<(), String> {
    let master = args.dir.join("datadir-master");
    let t = Instant::now();
    build_datadir(&master, args.znodes)?;
    let _ = writeln!(
        out,
        "\nrestart with {} znodes + 10000 txns to replay (built in {:.1} s)",
        args.znodes,
        t.elapsed().as_secs_f64()
    );
    let rzk_dir = args.dir.join("datadir-rzk");
    copy_dir(&master, &rzk_dir)?;
    let cfg = crate::config::Config::standalone_default();
    let mut storage = StorageConfig::from_config(&cfg);
    (storage.data_dir, storage.data_log_dir) = (rzk_dir.clone(), rzk_dir.clone());
    let t = Instant::now();
    let r = super::recover(&storage).map_err(|e| e.to_string())?;
    let _ = writeln!(
        out,
        "  rzk recovery alone (in process): {:.2} s, {} txns replayed",
        t.elapsed().as_secs_f64(),
        r.replayed
    );
    let t = Instant::now();
    let copy = r.tree.clone();
    let _ = writeln!(
        out,
        "  rzk core pause to copy the tree for a background snapshot: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let scratch = args.dir.join("snapshot-write");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let sessions: Vec<(i64, i32)> = r.sessions.iter().map(|(&id, &t)| (id, t)).collect();
    writer::write(&scratch, r.last_zxid, &copy, &sessions, Compression::None)
        .map_err(|e| e.to_string())?;
    let _ = writeln!(
        out,
        "  rzk snapshot write (background in service, at startup in line): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    drop((copy, r));
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let rzk = time_to_srvr(&args.dir.join("run-rzk"), &rzk_dir, |cfg| {
        let mut c = std::process::Command::new(&exe);
        c.arg(cfg).env("RZK_LOG", "warn");
        c
    });
    let _ = writeln!(out, "  rzk: start until srvr answers: {}", seconds(rzk));
    if let Some(j) = java {
        let zk_dir = args.dir.join("datadir-zk");
        copy_dir(&master, &zk_dir)?;
        let zk = time_to_srvr(&args.dir.join("run-zk"), &zk_dir, |cfg| {
            j.server_command(cfg)
        });
        let _ = writeln!(
            out,
            "  Apache ZooKeeper: start until srvr answers: {}",
            seconds(zk)
        );
    }
    Ok(())
}

fn seconds(r: Result<Duration, String>) -> String {
    r.map_or_else(
        |e| format!("failed: {e}"),
        |d| format!("{:.2} s", d.as_secs_f64()),
    )
}

/// Runs the benchmark; returns the report.
pub fn run(args: &BenchArgs) -> Result<String, String> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let java = JavaSide::prepare(&args.zk_classpath, &args.dir.join("java"));
    let mut out = String::new();
    if let Err(e) = &java {
        let _ = writeln!(out, "(Apache ZooKeeper side skipped: {e})");
    }
    fsync_table(args, java.as_ref().ok(), &mut out)?;
    print!("{out}");
    out.clear();
    restart_table(args, java.as_ref().ok(), &mut out)?;
    if !args.keep {
        let _ = std::fs::remove_dir_all(&args.dir);
    }
    Ok(out)
}
