//! The `acceptedEpoch` and `currentEpoch` files of the snapshot directory
//! (`QuorumPeer.readLongFromFile` / `writeLongToFile` and the epoch part of
//! `QuorumPeer.loadDataBase`).
//!
//! Each holds a decimal long with no newline. A write goes to `<name>.tmp`, is synced,
//! then renamed over the file (`AtomicFileWritingIdiom`), so a crash leaves either the
//! old or the new value; a `currentEpoch.tmp` left by a crash between the sync and the
//! rename is how Java recovers a current epoch older than the log.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub const ACCEPTED_EPOCH: &str = "acceptedEpoch";
pub const CURRENT_EPOCH: &str = "currentEpoch";
const TMP: &str = ".tmp";

/// Both epochs as loaded at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epochs {
    pub accepted: i64,
    pub current: i64,
}

/// The epoch files of one snapshot directory.
#[derive(Clone, Debug)]
pub struct EpochFiles {
    dir: PathBuf,
}

impl EpochFiles {
    pub fn new(snap_dir: &Path) -> EpochFiles {
        EpochFiles {
            dir: snap_dir.to_path_buf(),
        }
    }

    /// The value in `name`, `None` when the file does not exist.
    pub fn read(&self, name: &str) -> io::Result<Option<i64>> {
        read_long(&self.dir.join(name))
    }

    /// Replaces `name` atomically with `value`.
    pub fn write(&self, name: &str, value: i64) -> io::Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!("{name}{TMP}"));
        let written = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(value.to_string().as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        crate::storage::datadir::sync_dir(&self.dir)
    }

    /// `loadDataBase`: reads both epochs for a database whose last zxid is `last_zxid`,
    /// creating missing files with that zxid's epoch, as Java does on an upgrade.
    pub fn load(&self, last_zxid: i64) -> io::Result<Epochs> {
        let of_zxid = last_zxid >> 32;
        let mut current = match self.read(CURRENT_EPOCH)? {
            Some(e) => e,
            None => {
                self.write(CURRENT_EPOCH, of_zxid)?;
                of_zxid
            }
        };
        if of_zxid > current {
            current = self.recover_current(current, last_zxid)?;
        }
        let accepted = match self.read(ACCEPTED_EPOCH)? {
            Some(e) => e,
            None => {
                self.write(ACCEPTED_EPOCH, of_zxid)?;
                of_zxid
            }
        };
        if accepted < current {
            return Err(io::Error::other(format!(
                "The accepted epoch, {accepted:x} is less than the current epoch, {current:x}"
            )));
        }
        Ok(Epochs { accepted, current })
    }

    fn recover_current(&self, current: i64, last_zxid: i64) -> io::Result<i64> {
        let tmp = format!("{CURRENT_EPOCH}{TMP}");
        match self.read(&tmp)? {
            Some(e) => {
                self.write(CURRENT_EPOCH, e)?;
                Ok(e)
            }
            None => Err(io::Error::other(format!(
                "The current epoch, {current:x}, is older than the last zxid, {last_zxid:x}"
            ))),
        }
    }
}

fn read_long(path: &Path) -> io::Result<Option<i64>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let line = text.lines().next().unwrap_or("");
    line.parse()
        .map(Some)
        .map_err(|_| io::Error::other(format!("Found {line} in {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rzk-epochs-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn written_value_has_no_newline_and_no_tmp_left() {
        let d = dir("write");
        let f = EpochFiles::new(&d);
        f.write(ACCEPTED_EPOCH, 7).unwrap();
        assert_eq!(fs::read_to_string(d.join(ACCEPTED_EPOCH)).unwrap(), "7");
        assert!(!d.join("acceptedEpoch.tmp").exists());
        assert_eq!(f.read(ACCEPTED_EPOCH).unwrap(), Some(7));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn missing_files_are_created_from_the_last_zxid() {
        let d = dir("missing");
        let f = EpochFiles::new(&d);
        assert_eq!(
            f.load(0x3_0000_0005).unwrap(),
            Epochs {
                accepted: 3,
                current: 3
            }
        );
        assert_eq!(fs::read_to_string(d.join(CURRENT_EPOCH)).unwrap(), "3");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn accepted_below_current_refuses_to_start() {
        let d = dir("below");
        let f = EpochFiles::new(&d);
        f.write(CURRENT_EPOCH, 4).unwrap();
        f.write(ACCEPTED_EPOCH, 3).unwrap();
        assert!(f
            .load(0)
            .unwrap_err()
            .to_string()
            .contains("less than the current epoch"));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn log_newer_than_current_epoch_needs_the_tmp_file() {
        let d = dir("tmp");
        let f = EpochFiles::new(&d);
        f.write(CURRENT_EPOCH, 1).unwrap();
        f.write(ACCEPTED_EPOCH, 2).unwrap();
        assert!(f
            .load(0x2_0000_0001)
            .unwrap_err()
            .to_string()
            .contains("older than the last zxid"));
        fs::write(d.join("currentEpoch.tmp"), "2").unwrap();
        assert_eq!(
            f.load(0x2_0000_0001).unwrap(),
            Epochs {
                accepted: 2,
                current: 2
            }
        );
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn garbage_is_an_error() {
        let d = dir("garbage");
        fs::write(d.join(CURRENT_EPOCH), "x").unwrap();
        assert!(EpochFiles::new(&d).read(CURRENT_EPOCH).is_err());
        let _ = fs::remove_dir_all(&d);
    }
}
