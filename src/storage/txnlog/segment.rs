//! One txn log file being appended to (the write side of `FileTxnLog` with
//! `FilePadding`): entries are copied into a memory map of space that was allocated on
//! disk beforehand, and made durable with `fdatasync`.
//!
//! Java pads by writing one byte at the new end of the file, which leaves a sparse
//! hole; writing through a map into a hole on a full disk would raise SIGBUS. Here the
//! space is reserved with `posix_fallocate` before it is mapped, so a full disk shows
//! up as an error from the allocation, before anything is written. The file sizes
//! follow `FilePadding.calculateFileSizeWithPadding`, so the files look like Java's.

use memmap2::MmapMut;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::format::{FileHeader, FILE_HEADER_LEN};

/// How close to the allocated end a write may come before more is allocated
/// (`FilePadding.padFile`'s 4 KiB).
const PAD_SLACK: u64 = 4096;

pub struct Segment {
    path: PathBuf,
    file: File,
    map: MmapMut,
    /// Next write offset.
    pos: u64,
    /// Allocated (and mapped) length of the file.
    allocated: u64,
    prealloc: u64,
    first_zxid: i64,
}

/// `FilePadding.calculateFileSizeWithPadding`.
pub fn padded_size(position: u64, file_size: u64, prealloc: u64) -> u64 {
    if prealloc == 0 || position + PAD_SLACK < file_size {
        return file_size;
    }
    if position > file_size {
        let size = position + prealloc;
        size - size % prealloc
    } else {
        file_size + prealloc
    }
}

impl Segment {
    /// Creates `log.<first_zxid>` in `dir` with its header; fails if it exists.
    pub fn create(dir: &Path, name: &str, first_zxid: i64, prealloc: u64) -> io::Result<Segment> {
        let path = dir.join(name);
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        let header = FileHeader::txn_log().encode();
        allocate(&file, 0, FILE_HEADER_LEN as u64)?;
        let map = map(&file)?;
        let mut seg = Segment { path, file, map, pos: 0, allocated: FILE_HEADER_LEN as u64, prealloc, first_zxid };
        seg.copy_in(&header)?;
        Ok(seg)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn first_zxid(&self) -> i64 {
        self.first_zxid
    }

    /// Bytes written so far, header included (`FileTxnLog.getCurrentLogSize`).
    pub fn len(&self) -> u64 {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos <= FILE_HEADER_LEN as u64
    }

    /// Appends one framed entry, allocating more space first if needed.
    pub fn append(&mut self, framed: &[u8]) -> io::Result<()> {
        self.reserve(framed.len() as u64)?;
        self.copy_in(framed)
    }

    /// Makes everything appended so far durable (`FileChannel.force(false)`).
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn reserve(&mut self, len: u64) -> io::Result<()> {
        let mut size = padded_size(self.pos, self.allocated, self.prealloc);
        while size < self.pos + len {
            // An entry larger than the padding step (or no padding configured).
            size = padded_size(self.pos + len, size, self.prealloc).max(self.pos + len);
        }
        if size == self.allocated {
            return Ok(());
        }
        allocate(&self.file, self.allocated, size - self.allocated)?;
        self.map = map(&self.file)?;
        self.allocated = size;
        Ok(())
    }

    fn copy_in(&mut self, bytes: &[u8]) -> io::Result<()> {
        let start = usize::try_from(self.pos).map_err(io::Error::other)?;
        let dest = self
            .map
            .get_mut(start..start + bytes.len())
            .ok_or_else(|| io::Error::other("write beyond the allocated part of the log file"))?;
        dest.copy_from_slice(bytes);
        self.pos += bytes.len() as u64;
        Ok(())
    }
}

/// Reserves real disk blocks for `[offset, offset + len)`, growing the file.
fn allocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    let (off, len) = (to_off(offset)?, to_off(len)?);
    // SAFETY: `posix_fallocate` only reads its integer arguments; the descriptor is
    // open and owned by `file`, which outlives the call.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), off, len) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

fn to_off(v: u64) -> io::Result<libc::off_t> {
    libc::off_t::try_from(v).map_err(io::Error::other)
}

fn map(file: &File) -> io::Result<MmapMut> {
    // SAFETY: the file is created by this process with `create_new` and only written
    // through this map while the segment lives; nothing truncates it meanwhile (the
    // purge only deletes files older than the current log, and unlinking keeps the
    // mapping valid). Every mapped byte was allocated by `allocate` first, so stores
    // cannot fault on a full disk.
    unsafe { MmapMut::map_mut(file) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::txnlog::format::{scan, LogEnd};

    #[test]
    fn padding_follows_java() {
        let p = 64 * 1024 * 1024;
        assert_eq!(padded_size(16, 16, p), 16 + p);
        assert_eq!(padded_size(1000, 16 + p, p), 16 + p);
        assert_eq!(padded_size(16 + p - 10, 16 + p, p), 16 + 2 * p);
        assert_eq!(padded_size(3 * p + 5, 16 + p, p), 4 * p);
        assert_eq!(padded_size(100, 16, 0), 16);
    }

    #[test]
    fn a_new_segment_is_header_plus_prealloc_and_scans_cleanly() {
        let dir = tempdir();
        let mut seg = Segment::create(&dir, "log.1", 1, 8192).unwrap();
        seg.append(&[1, 2, 3]).unwrap();
        seg.sync().unwrap();
        let len = std::fs::metadata(seg.path()).unwrap().len();
        assert_eq!(len, 16 + 8192);
        let bytes = std::fs::read(seg.path()).unwrap();
        assert!(scan(&bytes).is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn large_entries_grow_the_file() {
        let dir = tempdir();
        let mut seg = Segment::create(&dir, "log.1", 1, 4096).unwrap();
        let mut framed = Vec::new();
        crate::storage::txnlog::format::frame(&vec![7u8; 20_000], &mut framed);
        seg.append(&framed).unwrap();
        seg.sync().unwrap();
        let bytes = std::fs::read(seg.path()).unwrap();
        let s = scan(&bytes).unwrap();
        assert_eq!(s.entries.len(), 1);
        assert!(matches!(s.end, LogEnd::Clean { .. }));
        assert_eq!(bytes.len() % 4096, 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempdir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("rzk-seg-{}-{}", std::process::id(), rand::random::<u64>()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
