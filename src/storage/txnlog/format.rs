//! The bytes of a txn log file (`FileTxnLog`, `Util.marshallTxnEntry`,
//! `Util.writeTxnBytes`): a 16-byte `FileHeader`, then entries framed as
//! `long adler32 | int length | entry | 'B'`, then zero padding up to the preallocated
//! size. Pure: works on byte slices.
//!
//! A reader stops at the first zero length (the padding). What lies at the end of the
//! valid entries is reported as a [`LogEnd`] so that recovery can tell a torn tail from
//! damage in the middle of a file.

use bytes::BytesMut;

use super::super::checksum::adler32;
use crate::jute::{DecodeError, Limits};
use crate::proto::codec::{decode_txn, encode_txn};
use crate::proto::TxnEntry;

/// `FileTxnLog.TXNLOG_MAGIC` ("ZKLG").
pub const TXNLOG_MAGIC: i32 = 0x5A4B_4C47;
/// `FileSnap.SNAP_MAGIC` ("ZKSN").
pub const SNAP_MAGIC: i32 = 0x5A4B_534E;
/// On-disk format version, the `2` of `version-2`.
pub const VERSION: i32 = 2;
pub const FILE_HEADER_LEN: usize = 16;
/// The end-of-record marker `Util.writeTxnBytes` appends.
pub const END_OF_RECORD: u8 = 0x42;
/// checksum (8) + length (4).
pub const ENTRY_PREFIX_LEN: usize = 12;
/// The framing around an entry's bytes: prefix plus the end byte.
pub const FRAME_OVERHEAD: usize = ENTRY_PREFIX_LEN + 1;

/// `FileHeader`: magic, version, dbid (0 in logs, -1 in snapshots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    pub magic: i32,
    pub version: i32,
    pub dbid: i64,
}

impl FileHeader {
    pub fn txn_log() -> FileHeader {
        FileHeader {
            magic: TXNLOG_MAGIC,
            version: VERSION,
            dbid: 0,
        }
    }

    pub fn snapshot() -> FileHeader {
        FileHeader {
            magic: SNAP_MAGIC,
            version: VERSION,
            dbid: -1,
        }
    }

    pub fn encode(&self) -> [u8; FILE_HEADER_LEN] {
        let mut out = [0u8; FILE_HEADER_LEN];
        out[..4].copy_from_slice(&self.magic.to_be_bytes());
        out[4..8].copy_from_slice(&self.version.to_be_bytes());
        out[8..].copy_from_slice(&self.dbid.to_be_bytes());
        out
    }

    /// Reads the first 16 bytes; `None` when there are fewer.
    pub fn decode(buf: &[u8]) -> Option<FileHeader> {
        Some(FileHeader {
            magic: i32::from_be_bytes(buf.get(..4)?.try_into().ok()?),
            version: i32::from_be_bytes(buf.get(4..8)?.try_into().ok()?),
            dbid: i64::from_be_bytes(buf.get(8..16)?.try_into().ok()?),
        })
    }
}

/// The serialized txn (header, record, digest), without framing.
pub fn entry_bytes(entry: &TxnEntry) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode_txn(entry, &mut buf);
    buf.to_vec()
}

/// Appends `checksum | length | bytes | 'B'` for already serialized entry bytes.
pub fn frame(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + FRAME_OVERHEAD);
    out.extend_from_slice(&adler32(bytes).to_be_bytes());
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
    out.push(END_OF_RECORD);
}

/// One entry framed as it goes into the file. Encoded once, in place behind a reserved
/// prefix that is filled in afterwards: on the write path every entry passes here, and
/// serializing, copying out and copying again into a frame cost as much as the rest.
pub fn framed_entry(entry: &TxnEntry) -> Vec<u8> {
    let mut out = BytesMut::with_capacity(FRAME_OVERHEAD + 64 + payload_hint(&entry.txn));
    out.extend_from_slice(&[0; ENTRY_PREFIX_LEN]);
    encode_txn(entry, &mut out);
    let len = out.len() - ENTRY_PREFIX_LEN;
    let sum = adler32(out.get(ENTRY_PREFIX_LEN..).unwrap_or_default());
    if let Some(prefix) = out.get_mut(..ENTRY_PREFIX_LEN) {
        prefix[..8].copy_from_slice(&sum.to_be_bytes());
        prefix[8..].copy_from_slice(&(len as i32).to_be_bytes());
    }
    out.extend_from_slice(&[END_OF_RECORD]);
    out.into()
}

/// Bytes of path and data a txn carries (a capacity hint; the rest is small).
fn payload_hint(txn: &crate::proto::Txn) -> usize {
    use crate::proto::Txn;
    match txn {
        Txn::Create(t) => t.path.len() + t.data.as_ref().map_or(0, Vec::len) + 32 * t.acl.len(),
        Txn::SetData(t) => t.path.len() + t.data.as_ref().map_or(0, Vec::len),
        Txn::Delete(p) => p.len(),
        _ => 256,
    }
}

/// One framed entry found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntry<'a> {
    /// Offset of the entry's checksum field in the file.
    pub offset: usize,
    /// The entry bytes (checksum verified).
    pub bytes: &'a [u8],
}

impl RawEntry<'_> {
    /// The offset just past this entry's end byte.
    pub fn end(&self) -> usize {
        self.offset + FRAME_OVERHEAD + self.bytes.len()
    }

    pub fn decode(&self, lim: &Limits) -> Result<TxnEntry, DecodeError> {
        decode_txn(self.bytes, lim)
    }
}

/// How the run of valid entries ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEnd {
    /// A zero length (preallocated padding) or the end of the file at `offset`.
    Clean { offset: usize },
    /// A record at `offset` that is cut short, lacks its end byte or fails its checksum.
    /// `damaged_until` is where the record claims to end (clamped to the file); when
    /// only zeros follow it, this is a torn last write rather than damage.
    Bad {
        offset: usize,
        damaged_until: usize,
        reason: &'static str,
        zeros_after: bool,
    },
}

/// Why a file is not a txn log at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("file shorter than its 16-byte header")]
    Short,
    #[error("bad magic number 0x{0:08x} (not a transaction log)")]
    Magic(i32),
    #[error("unsupported format version {0}")]
    Version(i32),
}

/// The entries of a log file up to where they stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogScan<'a> {
    pub header: FileHeader,
    pub entries: Vec<RawEntry<'a>>,
    pub end: LogEnd,
}

/// Checks the header of a log file.
pub fn check_header(buf: &[u8]) -> Result<FileHeader, HeaderError> {
    let header = FileHeader::decode(buf).ok_or(HeaderError::Short)?;
    if header.magic != TXNLOG_MAGIC {
        return Err(HeaderError::Magic(header.magic));
    }
    if header.version != VERSION {
        return Err(HeaderError::Version(header.version));
    }
    Ok(header)
}

/// Walks a whole log file (`FileTxnLog.FileTxnIterator.next` over one file).
pub fn scan(buf: &[u8]) -> Result<LogScan<'_>, HeaderError> {
    let header = check_header(buf)?;
    let mut entries = Vec::new();
    let mut pos = FILE_HEADER_LEN;
    loop {
        match read_entry(buf, pos) {
            Step::Entry(e) => {
                pos = e.end();
                entries.push(e);
            }
            Step::End(end) => {
                return Ok(LogScan {
                    header,
                    entries,
                    end,
                })
            }
        }
    }
}

enum Step<'a> {
    Entry(RawEntry<'a>),
    End(LogEnd),
}

fn read_entry(buf: &[u8], pos: usize) -> Step<'_> {
    let rest = buf.get(pos..).unwrap_or_default();
    let (Some(crc), Some(len)) = (rest.get(..8), rest.get(8..12)) else {
        return end_of_short_tail(buf, pos);
    };
    let crc = i64::from_be_bytes(crc.try_into().unwrap_or_default());
    let len = i32::from_be_bytes(len.try_into().unwrap_or_default());
    if len == 0 {
        // Java stops here without looking further; data after the padding means a
        // record was zeroed in place, so what follows would be silently lost.
        if buf.get(pos..).unwrap_or_default().iter().all(|&b| b == 0) {
            return Step::End(LogEnd::Clean { offset: pos });
        }
        return bad(
            buf,
            pos,
            pos + ENTRY_PREFIX_LEN,
            "zero-length record followed by more data",
        );
    }
    let body_start = pos + ENTRY_PREFIX_LEN;
    let claimed_end = usize::try_from(len)
        .ok()
        .and_then(|n| body_start.checked_add(n)?.checked_add(1));
    let Some(end) = claimed_end.filter(|&e| e <= buf.len()) else {
        // Cut short (or a nonsense length): what follows the prefix is the damage.
        return bad(buf, pos, body_start, "record runs past the end of the file");
    };
    let bytes = buf.get(body_start..end - 1).unwrap_or_default();
    if buf.get(end - 1) != Some(&END_OF_RECORD) {
        return bad(buf, pos, end, "record lacks its end-of-record byte");
    }
    if adler32(bytes) != crc {
        return bad(buf, pos, end, "checksum mismatch");
    }
    Step::Entry(RawEntry { offset: pos, bytes })
}

/// Fewer than 12 bytes left: the end if they are zeros, a torn prefix otherwise.
fn end_of_short_tail(buf: &[u8], pos: usize) -> Step<'_> {
    let rest = buf.get(pos..).unwrap_or_default();
    if rest.iter().all(|&b| b == 0) {
        Step::End(LogEnd::Clean { offset: pos })
    } else {
        Step::End(LogEnd::Bad {
            offset: pos,
            damaged_until: buf.len(),
            reason: "record header cut short",
            zeros_after: true,
        })
    }
}

fn bad<'a>(buf: &[u8], offset: usize, damaged_until: usize, reason: &'static str) -> Step<'a> {
    let zeros_after = buf
        .get(damaged_until..)
        .unwrap_or_default()
        .iter()
        .all(|&b| b == 0);
    Step::End(LogEnd::Bad {
        offset,
        damaged_until,
        reason,
        zeros_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{CreateTxn, Txn, TxnHeader};

    const LOG_1: &[u8] = include_bytes!("../../tree/testdata/log.1");
    const LOG_B: &[u8] = include_bytes!("../../tree/testdata/log.b");
    const LOG_14: &[u8] = include_bytes!("../../tree/testdata/log.14");
    const QUOTA_LOG: &[u8] = include_bytes!("../../tree/testdata/quota-log.1");

    fn reencode(buf: &[u8]) -> Vec<u8> {
        let s = scan(buf).unwrap();
        let mut out = s.header.encode().to_vec();
        for e in &s.entries {
            let entry = e.decode(&Limits::default()).unwrap();
            frame(&entry_bytes(&entry), &mut out);
        }
        out
    }

    #[test]
    fn golden_logs_reencode_byte_for_byte() {
        for log in [LOG_1, LOG_B, LOG_14, QUOTA_LOG] {
            let s = scan(log).unwrap();
            assert!(!s.entries.is_empty());
            let end = match s.end {
                LogEnd::Clean { offset } => offset,
                other => panic!("unexpected end {other:?}"),
            };
            assert_eq!(reencode(log), log[..end].to_vec());
        }
    }

    #[test]
    fn golden_log_header_is_zklg_version_2_dbid_0() {
        assert_eq!(scan(LOG_1).unwrap().header, FileHeader::txn_log());
    }

    #[test]
    fn golden_log_zxids_follow_each_other() {
        let s = scan(LOG_1).unwrap();
        let zxids: Vec<i64> = s
            .entries
            .iter()
            .map(|e| e.decode(&Limits::default()).unwrap().header.zxid)
            .collect();
        assert_eq!(zxids.first(), Some(&1));
        assert!(zxids.windows(2).all(|w| w[1] == w[0] + 1));
    }

    fn sample_log(n: i64) -> Vec<u8> {
        let mut out = FileHeader::txn_log().encode().to_vec();
        for zxid in 1..=n {
            let entry = TxnEntry {
                header: TxnHeader {
                    client_id: 7,
                    cxid: 1,
                    zxid,
                    time: 1000,
                },
                txn: Txn::Create(CreateTxn {
                    path: format!("/n{zxid}"),
                    data: Some(b"data".to_vec()),
                    acl: crate::proto::Acl::open_unsafe(),
                    ephemeral: false,
                    parent_cversion: zxid as i32,
                }),
                digest: None,
            };
            out.extend(framed_entry(&entry));
        }
        out
    }

    #[test]
    fn framed_entry_matches_framing_the_serialized_bytes() {
        let entry = TxnEntry {
            header: crate::proto::TxnHeader {
                client_id: 7,
                cxid: 3,
                zxid: 9,
                time: 1_700_000_000_000,
            },
            txn: Txn::SetData(crate::proto::SetDataTxn {
                path: "/a".into(),
                data: Some(vec![7; 1500]),
                version: 4,
            }),
            digest: Some(crate::proto::TxnDigest {
                version: 2,
                tree_digest: 12345,
            }),
        };
        let mut expected = Vec::new();
        frame(&entry_bytes(&entry), &mut expected);
        assert_eq!(framed_entry(&entry), expected);
    }

    #[test]
    fn zero_padding_ends_the_file_cleanly() {
        let mut log = sample_log(3);
        let len = log.len();
        log.resize(len + 4096, 0);
        let s = scan(&log).unwrap();
        assert_eq!(s.entries.len(), 3);
        assert_eq!(s.end, LogEnd::Clean { offset: len });
    }

    #[test]
    fn a_cut_last_record_is_bad_with_only_zeros_after() {
        let log = sample_log(3);
        let mut torn = log[..log.len() - 10].to_vec();
        torn.resize(log.len() + 100, 0);
        let s = scan(&torn).unwrap();
        assert_eq!(s.entries.len(), 2);
        assert!(
            matches!(
                s.end,
                LogEnd::Bad {
                    zeros_after: true,
                    ..
                }
            ),
            "{:?}",
            s.end
        );
    }

    #[test]
    fn a_flipped_bit_in_the_middle_is_bad_with_data_after() {
        let mut log = sample_log(3);
        let second = scan(&log).unwrap().entries[1].offset;
        log[second + 20] ^= 1;
        let s = scan(&log).unwrap();
        assert_eq!(s.entries.len(), 1);
        match s.end {
            LogEnd::Bad {
                offset,
                reason,
                zeros_after,
                ..
            } => {
                assert_eq!(
                    (offset, reason, zeros_after),
                    (second, "checksum mismatch", false)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_zeroed_record_with_entries_after_it_is_bad() {
        let mut log = sample_log(3);
        let s = scan(&log).unwrap();
        let (start, end) = (s.entries[1].offset, s.entries[1].end());
        log[start..end].fill(0);
        let s = scan(&log).unwrap();
        assert_eq!(s.entries.len(), 1);
        assert!(
            matches!(s.end, LogEnd::Bad { offset, zeros_after: false, .. } if offset == start),
            "{:?}",
            s.end
        );
    }

    #[test]
    fn wrong_magic_is_not_a_log() {
        let mut log = sample_log(1);
        log[0] = 0;
        assert!(matches!(scan(&log), Err(HeaderError::Magic(_))));
        assert_eq!(scan(&log[..5]), Err(HeaderError::Short));
    }
}
