//! The byte arena that holds every node's name and data, so a znode costs no heap
//! allocation of its own (a million znodes of 100 bytes would otherwise carry a million
//! allocator headers and two pointers each).
//!
//! An entry is `[name length][data length + 1, 0 for null]` as LEB128 varints, the CRC
//! of the node's path and data (the part of its digest that only a new value changes,
//! see `digest::NodeDigest`) as 4 bytes, then the name bytes, then the data bytes; a node
//! keeps the entry's offset. Keeping that CRC costs 4 bytes a node and saves hashing the
//! old value again on every setData, as `DataNode`'s cached digest does in Java. Replaced and freed
//! entries are left as garbage until it outweighs the live bytes; then the live entries
//! are copied into a fresh buffer (the caller renews the offsets it keeps).

/// Garbage below this is never worth a copy.
const MIN_GARBAGE: usize = 1 << 20;

#[derive(Clone, Debug, Default)]
pub(super) struct Blobs {
    bytes: Vec<u8>,
    garbage: usize,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The varint at `pos` and the position after it; 0 past the end (never written so).
fn varint(bytes: &[u8], mut pos: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = bytes.get(pos) {
        pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 || shift > 56 {
            break;
        }
        shift += 7;
    }
    (v, pos)
}

/// Where an entry's parts are.
struct Layout {
    prefix: usize,
    name: usize,
    name_len: usize,
    /// `None`: null data.
    data_len: Option<usize>,
}

impl Layout {
    fn data_start(&self) -> usize {
        self.name + self.name_len
    }
    fn end(&self) -> usize {
        self.data_start() + self.data_len.unwrap_or(0)
    }
}

impl Blobs {
    /// Appends an entry; returns its offset.
    pub(super) fn push(&mut self, name: &[u8], data: Option<&[u8]>, prefix: u32) -> u64 {
        let at = self.bytes.len() as u64;
        put_varint(&mut self.bytes, name.len() as u64);
        put_varint(&mut self.bytes, data.map_or(0, |d| d.len() as u64 + 1));
        self.bytes.extend_from_slice(&prefix.to_le_bytes());
        self.bytes.extend_from_slice(name);
        if let Some(d) = data {
            self.bytes.extend_from_slice(d);
        }
        at
    }

    fn layout(&self, at: u64) -> Layout {
        let (name_len, pos) = varint(&self.bytes, at as usize);
        let (data, prefix) = varint(&self.bytes, pos);
        Layout {
            prefix,
            name: prefix + 4,
            name_len: name_len as usize,
            data_len: data.checked_sub(1).map(|d| d as usize),
        }
    }

    pub(super) fn name(&self, at: u64) -> &[u8] {
        let l = self.layout(at);
        self.bytes.get(l.name..l.data_start()).unwrap_or_default()
    }

    /// The CRC of the node's path and data, as stored with them.
    pub(super) fn prefix(&self, at: u64) -> u32 {
        let l = self.layout(at);
        self.bytes
            .get(l.prefix..l.name)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    }

    pub(super) fn data(&self, at: u64) -> Option<&[u8]> {
        let l = self.layout(at);
        let len = l.data_len?;
        Some(
            self.bytes
                .get(l.data_start()..l.data_start() + len)
                .unwrap_or_default(),
        )
    }

    /// Marks the entry at `at` unused.
    pub(super) fn free(&mut self, at: u64) {
        self.garbage += self.layout(at).end() - at as usize;
    }

    /// Replaces the data of the entry at `at` (and its `prefix`): a new entry with the
    /// same name.
    pub(super) fn replace_data(&mut self, at: u64, data: Option<&[u8]>, prefix: u32) -> u64 {
        let l = self.layout(at);
        let name = l.name..l.data_start();
        self.free(at);
        let new = self.bytes.len() as u64;
        put_varint(&mut self.bytes, l.name_len as u64);
        put_varint(&mut self.bytes, data.map_or(0, |d| d.len() as u64 + 1));
        self.bytes.extend_from_slice(&prefix.to_le_bytes());
        self.bytes.extend_from_within(name);
        if let Some(d) = data {
            self.bytes.extend_from_slice(d);
        }
        new
    }

    /// Whether a compaction would pay off now.
    pub(super) fn wants_compaction(&self) -> bool {
        self.garbage > MIN_GARBAGE && self.garbage * 2 > self.bytes.len()
    }

    /// Copies the live entries, whose offsets `offsets` yields mutably, into a fresh
    /// buffer and renews the offsets.
    pub(super) fn compact<'a>(&mut self, offsets: impl Iterator<Item = &'a mut u64>) {
        let mut fresh = Vec::with_capacity(self.bytes.len().saturating_sub(self.garbage));
        for at in offsets {
            let end = self.layout(*at).end();
            let new = fresh.len() as u64;
            fresh.extend_from_slice(self.bytes.get(*at as usize..end).unwrap_or_default());
            *at = new;
        }
        self.bytes = fresh;
        self.garbage = 0;
    }

    /// Bytes held, garbage included.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_null_and_empty_data_apart() {
        let mut b = Blobs::default();
        let a = b.push(b"a", None, 1);
        let e = b.push(b"e", Some(b""), 2);
        let big = vec![7u8; 300];
        let x = b.push(&[b'x'; 200], Some(&big), u32::MAX);
        assert_eq!((b.name(a), b.data(a)), (&b"a"[..], None));
        assert_eq!((b.prefix(a), b.prefix(e), b.prefix(x)), (1, 2, u32::MAX));
        assert_eq!(b.data(e), Some(&b""[..]));
        assert_eq!(b.name(x), &[b'x'; 200][..]);
        assert_eq!(b.data(x), Some(&big[..]));
    }

    #[test]
    fn compaction_keeps_live_entries_and_drops_garbage() {
        let mut b = Blobs::default();
        let data = vec![1u8; 1 << 16];
        let mut live = vec![b.push(b"keep", Some(b"v"), 7)];
        let mut at = b.push(b"churn", Some(&data), 0);
        for i in 0..40 {
            at = b.replace_data(at, Some(&data), i);
        }
        assert_eq!(b.prefix(at), 39);
        live.push(at);
        assert!(b.wants_compaction());
        b.compact(live.iter_mut());
        assert_eq!(
            (b.name(live[0]), b.data(live[0])),
            (&b"keep"[..], Some(&b"v"[..]))
        );
        assert_eq!(
            (b.name(live[1]), b.data(live[1])),
            (&b"churn"[..], Some(&data[..]))
        );
        assert_eq!((b.prefix(live[0]), b.prefix(live[1])), (7, 39));
        assert!(b.len() < 2 * data.len());
    }
}
