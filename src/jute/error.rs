//! Why a jute record could not be decoded (the `IOException`s of `BinaryInputArchive`
//! and of the record classes, as values).

use nom::error::{ErrorKind, ParseError};

/// A decoding failure. Small and `Copy` so parsers can return it cheaply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before the record did.
    #[error("record truncated")]
    Truncated,
    /// A field holds a value the record cannot take.
    #[error("invalid {what}: {value}")]
    Invalid { what: &'static str, value: i64 },
    /// A length or count is negative (other than the null marker) or beyond the limit
    /// (`BinaryInputArchive.checkLength`: "Unreasonable length").
    #[error("unreasonable length {len} (max {max})")]
    TooLarge { len: i64, max: usize },
    /// An opcode this server does not accept here.
    #[error("unknown opcode {0}")]
    UnknownOpCode(i32),
}

impl DecodeError {
    pub fn invalid(what: &'static str, value: impl Into<i64>) -> DecodeError {
        DecodeError::Invalid {
            what,
            value: value.into(),
        }
    }
}

/// nom reports running out of input on `complete` parsers as `Eof`; every other kind
/// only comes from combinators we use for sequencing, which fail on short input too.
impl<I> ParseError<I> for DecodeError {
    fn from_error_kind(_input: I, kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Eof | ErrorKind::Complete => DecodeError::Truncated,
            other => DecodeError::invalid("input", other as i64),
        }
    }

    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eof_from_nom_means_truncated() {
        let e: DecodeError = ParseError::from_error_kind(&b""[..], ErrorKind::Eof);
        assert_eq!(e, DecodeError::Truncated);
    }
}
