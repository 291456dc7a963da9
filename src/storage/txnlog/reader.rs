//! The read side of the txn log files (`FileTxnLog.FileTxnIterator`): whole files
//! mapped (a log is padded to 64 MiB, mostly zeros past its last entry: mapped, only
//! the pages scanned are touched, and nothing is copied), entries decoded in order, and
//! the cut of a torn tail.

use std::fs::{self, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

use super::format::{scan, LogEnd};
use crate::jute::Limits;
use crate::proto::TxnEntry;

/// Decode limits for logged txns: as large as a log entry can be.
pub fn limits() -> Limits {
    Limits {
        max_frame: usize::MAX / 4,
        max_field: usize::MAX / 4,
    }
}

/// One entry with where it sits, for messages.
#[derive(Clone, Debug)]
pub struct Located {
    pub offset: usize,
    pub entry: TxnEntry,
}

/// A whole log file decoded.
#[derive(Clone, Debug)]
pub struct DecodedLog {
    pub entries: Vec<Located>,
    pub end: LogEnd,
}

/// Reads and decodes a log file; an entry that passes its checksum but does not decode
/// is reported with its offset.
pub fn read(path: &Path) -> Result<DecodedLog, String> {
    let map = map(path)?;
    let s = scan(&map).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut entries = Vec::with_capacity(s.entries.len());
    for raw in &s.entries {
        let entry = raw.decode(&limits()).map_err(|e| {
            format!(
                "{}: entry at offset {} does not decode: {e}",
                path.display(),
                raw.offset
            )
        })?;
        entries.push(Located {
            offset: raw.offset,
            entry,
        });
    }
    Ok(DecodedLog {
        entries,
        end: s.end,
    })
}

/// A log file's bytes, mapped for one pass from start to end.
pub fn map(path: &Path) -> Result<memmap2::Mmap, String> {
    let fail = |e: io::Error| format!("{}: {e}", path.display());
    let file = fs::File::open(path).map_err(fail)?;
    if file.metadata().map_err(fail)?.is_dir() {
        // As reading it would say, rather than the mapping's "no such device".
        return Err(fail(io::Error::from_raw_os_error(libc::EISDIR)));
    }
    // Safety of the mapping: log files only grow while a server runs on the directory
    // (entries are appended past the end read here, the unused reservation of a closed
    // file becomes a hole that reads as zeros, a torn tail is cut by overwriting it
    // with zeros); a purge unlinks whole files, which keeps a mapping valid.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(fail)?;
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Overwrites `[from, until)` with zeros and syncs, so that every reader (Apache
/// ZooKeeper's too) sees the end of the log at `from`.
pub fn cut(path: &Path, from: usize, until: usize) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).open(path)?;
    f.seek(SeekFrom::Start(from as u64))?;
    f.write_all(&vec![0u8; until.saturating_sub(from)])?;
    f.sync_data()
}
