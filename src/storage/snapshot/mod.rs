//! Snapshots (`FileSnap`, `SnapStream`): the whole tree and session table at a zxid.

pub mod format;
pub mod reader;
pub mod writer;

/// `zookeeper.snapshot.compression.method` (`SnapStream.StreamMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    #[default]
    None,
    Gz,
    /// Recognised when reading (to name it in errors) but not written.
    Snappy,
}

impl Compression {
    /// Unknown names fall back to none, as `StreamMode.fromString` does.
    pub fn from_name(name: &str) -> Compression {
        match name.trim().to_ascii_lowercase().as_str() {
            "gz" => Compression::Gz,
            "snappy" => Compression::Snappy,
            _ => Compression::None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gz => ".gz",
            Compression::Snappy => ".snappy",
        }
    }
}
