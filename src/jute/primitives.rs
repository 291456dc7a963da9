//! Jute primitives: `int`, `long`, `boolean`, `ustring`, `buffer` and `vector<T>`
//! (`BinaryInputArchive` / `BinaryOutputArchive`).
//!
//! Parsers are nom functions over a complete record; the ones that read a length take
//! the `Limits` to check it against. Writers append to any `BufMut`.

use bytes::BufMut;
use nom::bytes::complete::take;
use nom::number::complete::{be_i32, be_i64, be_u8};
use nom::IResult;

use super::error::DecodeError;
use super::frame::Limits;

/// What every jute parser returns.
pub type JResult<'a, T> = IResult<&'a [u8], T, DecodeError>;

/// Turns a parser failure into its `DecodeError` (`Incomplete` cannot come from the
/// `complete` parsers used here, and would mean the same as running out of bytes).
pub fn finish<T>(r: JResult<'_, T>) -> Result<(&[u8], T), DecodeError> {
    r.map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => DecodeError::Truncated,
    })
}

/// Fails the parse with `e` without letting any caller backtrack past it.
pub fn fail<T>(e: DecodeError) -> JResult<'static, T> {
    Err(nom::Err::Failure(e))
}

pub fn int(i: &[u8]) -> JResult<'_, i32> {
    be_i32(i)
}

pub fn long(i: &[u8]) -> JResult<'_, i64> {
    be_i64(i)
}

/// `readBool`: any non-zero byte is true.
pub fn boolean(i: &[u8]) -> JResult<'_, bool> {
    let (i, b) = be_u8(i)?;
    Ok((i, b != 0))
}

/// Reads a length prefix; `None` for the null marker -1. Other negative lengths and
/// lengths above `max_field` are rejected like `BinaryInputArchive.checkLength` does.
fn length<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Option<usize>> {
    let (i, len) = int(i)?;
    if len == -1 {
        return Ok((i, None));
    }
    match usize::try_from(len) {
        Ok(n) if n <= lim.max_field => Ok((i, Some(n))),
        _ => Err(nom::Err::Failure(DecodeError::TooLarge {
            len: len.into(),
            max: lim.max_field,
        })),
    }
}

/// `buffer`: `None` is null (length -1), distinct from an empty buffer.
pub fn buffer<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Option<Vec<u8>>> {
    let (i, len) = length(i, lim)?;
    match len {
        None => Ok((i, None)),
        Some(n) => {
            let (i, bytes) = take(n)(i)?;
            Ok((i, Some(bytes.to_vec())))
        }
    }
}

/// `buffer` where null and empty mean the same (passwords, auth tokens).
pub fn bytes_or_empty<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Vec<u8>> {
    let (i, b) = buffer(i, lim)?;
    Ok((i, b.unwrap_or_default()))
}

/// `ustring`: null reads as the empty string; bytes that are not UTF-8 become U+FFFD,
/// as Java's `new String(bytes, UTF_8)` does.
pub fn ustring<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, String> {
    let (i, len) = length(i, lim)?;
    match len {
        None => Ok((i, String::new())),
        Some(n) => {
            let (i, bytes) = take(n)(i)?;
            // Valid UTF-8 (every well-behaved client) is checked by the word-at-a-time
            // validator; only invalid bytes take the lossy, byte-at-a-time path.
            let s = match std::str::from_utf8(bytes) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(bytes).into_owned(),
            };
            Ok((i, s))
        }
    }
}

/// `vector<T>`: null (count -1) reads as empty. `min_elem` is the smallest encoding of
/// one element, so a count the remaining input cannot hold is refused before anything
/// is allocated.
pub fn vector<'a, T>(
    i: &'a [u8],
    min_elem: usize,
    mut elem: impl FnMut(&'a [u8]) -> JResult<'a, T>,
) -> JResult<'a, Vec<T>> {
    let (mut i, count) = int(i)?;
    if count == -1 {
        return Ok((i, Vec::new()));
    }
    let Ok(n) = usize::try_from(count) else {
        return fail(DecodeError::invalid("vector count", count));
    };
    let max = i.len() / min_elem.max(1);
    if n > max {
        return fail(DecodeError::TooLarge {
            len: count.into(),
            max,
        });
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (rest, v) = elem(i)?;
        out.push(v);
        i = rest;
    }
    Ok((i, out))
}

/// `vector<ustring>`.
pub fn strings<'a>(i: &'a [u8], lim: &Limits) -> JResult<'a, Vec<String>> {
    vector(i, 4, |i| ustring(i, lim))
}

pub fn put_bool(out: &mut impl BufMut, v: bool) {
    out.put_u8(u8::from(v));
}

/// Writes a length or count; Rust collections never exceed what jute can express in
/// practice, and a value that does is clamped rather than wrapped negative.
pub fn put_len(out: &mut impl BufMut, n: usize) {
    out.put_i32(i32::try_from(n).unwrap_or(i32::MAX));
}

/// `buffer`: `None` is written as the null marker -1.
pub fn put_buffer(out: &mut impl BufMut, v: Option<&[u8]>) {
    match v {
        None => out.put_i32(-1),
        Some(b) => put_bytes(out, b),
    }
}

/// A non-null `buffer`.
pub fn put_bytes(out: &mut impl BufMut, b: &[u8]) {
    put_len(out, b.len());
    out.put_slice(b);
}

/// `ustring` as `BinaryOutputArchive.writeString` writes it: one encoding per UTF-16
/// code unit, so a supplementary character becomes two 3-byte surrogate encodings
/// (CESU-8) rather than 4-byte UTF-8. Other text is plain UTF-8.
pub fn put_ustring(out: &mut impl BufMut, s: &str) {
    if s.bytes().all(|b| b < 0xF0) {
        put_bytes(out, s.as_bytes());
        return;
    }
    let mut enc = Vec::with_capacity(s.len() + s.len() / 2);
    for unit in s.encode_utf16() {
        push_code_unit(&mut enc, unit);
    }
    put_bytes(out, &enc);
}

// Truncating casts are the point: each byte keeps only its payload bits.
#[allow(clippy::cast_possible_truncation)]
fn push_code_unit(enc: &mut Vec<u8>, c: u16) {
    if c < 0x80 {
        enc.push(c as u8);
    } else if c < 0x800 {
        enc.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else {
        enc.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}

/// A `ustring` that may be null: the empty string is written as null. Only for fields
/// where Java gives null and "" the same or no meaning (e.g. `ReconfigRequest`).
pub fn put_ustring_or_null(out: &mut impl BufMut, s: &str) {
    if s.is_empty() {
        out.put_i32(-1);
    } else {
        put_ustring(out, s);
    }
}

/// `vector<T>` (never null).
pub fn put_vector<B: BufMut, T>(out: &mut B, items: &[T], mut put: impl FnMut(&mut B, &T)) {
    put_len(out, items.len());
    for it in items {
        put(out, it);
    }
}

/// `vector<ustring>`.
pub fn put_strings(out: &mut impl BufMut, items: &[String]) {
    put_vector(out, items, |o, s| put_ustring(o, s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ustring_replaces_invalid_utf8_like_java() {
        let lim = Limits::default();
        let mut buf = Vec::new();
        put_bytes(&mut buf, b"/a\xffb");
        assert_eq!(
            ustring(&buf, &lim).map(|(_, s)| s),
            Ok("/a\u{FFFD}b".to_string())
        );
        buf.clear();
        put_bytes(&mut buf, "/é".as_bytes());
        assert_eq!(ustring(&buf, &lim).map(|(_, s)| s), Ok("/é".to_string()));
    }

    fn lim() -> Limits {
        Limits::default()
    }

    #[test]
    fn any_non_zero_byte_reads_true() {
        assert_eq!(boolean(&[0x7f]), Ok((&[][..], true)));
        assert_eq!(boolean(&[0]), Ok((&[][..], false)));
    }

    #[test]
    fn null_buffer_and_empty_buffer_are_distinct() {
        assert_eq!(buffer(&[0xff; 4], &lim()).unwrap().1, None);
        assert_eq!(buffer(&[0; 4], &lim()).unwrap().1, Some(vec![]));
    }

    #[test]
    fn buffer_length_below_minus_one_is_too_large() {
        let e = finish(buffer(&(-2i32).to_be_bytes(), &lim())).unwrap_err();
        assert_eq!(
            e,
            DecodeError::TooLarge {
                len: -2,
                max: lim().max_field
            }
        );
    }

    #[test]
    fn buffer_length_above_max_field_is_too_large() {
        let small = Limits {
            max_frame: 16,
            max_field: 8,
        };
        let mut b = 9i32.to_be_bytes().to_vec();
        b.extend_from_slice(&[0; 9]);
        let e = finish(buffer(&b, &small)).unwrap_err();
        assert_eq!(e, DecodeError::TooLarge { len: 9, max: 8 });
    }

    #[test]
    fn buffer_shorter_than_its_length_is_truncated() {
        let b = [0, 0, 0, 5, 1, 2];
        assert_eq!(
            finish(buffer(&b, &lim())).unwrap_err(),
            DecodeError::Truncated
        );
    }

    #[test]
    fn null_string_reads_empty_and_bad_utf8_is_replaced() {
        assert_eq!(ustring(&[0xff; 4], &lim()).unwrap().1, "");
        let b = [0, 0, 0, 3, b'a', 0xff, b'b'];
        assert_eq!(ustring(&b, &lim()).unwrap().1, "a\u{FFFD}b");
    }

    #[test]
    fn vector_count_beyond_remaining_input_is_refused() {
        let mut b = 1000i32.to_be_bytes().to_vec();
        b.extend_from_slice(&[0; 8]);
        let e = finish(strings(&b, &lim())).unwrap_err();
        assert_eq!(e, DecodeError::TooLarge { len: 1000, max: 2 });
        let huge = i32::MAX.to_be_bytes();
        assert!(matches!(
            finish(strings(&huge, &lim())),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn negative_vector_count_other_than_null_is_invalid() {
        let e = finish(strings(&(-5i32).to_be_bytes(), &lim())).unwrap_err();
        assert_eq!(e, DecodeError::invalid("vector count", -5));
        assert_eq!(strings(&[0xff; 4], &lim()).unwrap().1, Vec::<String>::new());
    }

    #[test]
    fn supplementary_characters_are_written_per_utf16_unit() {
        let mut out = Vec::new();
        put_ustring(&mut out, "\u{1F600}");
        assert_eq!(out, [0, 0, 0, 6, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]);
    }

    #[test]
    fn bmp_text_is_written_as_utf8() {
        let mut out = Vec::new();
        put_ustring(&mut out, "a\u{0}é€");
        assert_eq!(out, [0, 0, 0, 7, b'a', 0, 0xC3, 0xA9, 0xE2, 0x82, 0xAC]);
    }

    #[test]
    fn empty_string_may_be_written_as_null() {
        let mut out = Vec::new();
        put_ustring_or_null(&mut out, "");
        assert_eq!(out, [0xff; 4]);
    }
}
