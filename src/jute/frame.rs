//! Length-prefixed framing of the client port: a 4-byte big-endian length, then that many
//! bytes (`NIOServerCnxn.readLength` / `ClientCnxnSocket.readLength`), and the size limits
//! that come from `jute.maxbuffer`.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// `jute.maxbuffer` default.
pub const DEFAULT_MAX_BUFFER: usize = 0xFFFFF;

/// Size limits. `max_frame` bounds a whole incoming frame (`jute.maxbuffer`); `max_field`
/// bounds one `buffer`/`ustring` inside a record (`jute.maxbuffer` +
/// `zookeeper.jute.maxbuffer.extrasize`, which defaults to `jute.maxbuffer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_frame: usize,
    pub max_field: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame: DEFAULT_MAX_BUFFER,
            max_field: DEFAULT_MAX_BUFFER + DEFAULT_MAX_BUFFER,
        }
    }
}

/// Why a connection's byte stream cannot be framed; the server drops the connection
/// without replying.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("negative frame length {0}")]
    NegativeLength(i32),
    #[error("frame length {len} exceeds {max}")]
    TooLarge { len: usize, max: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Looks for one complete frame at the start of `buf`. `Ok(None)`: more bytes needed.
/// `Ok(Some((len, body)))`: the frame occupies `4 + len` bytes and `body` is its payload.
pub fn split_frame(buf: &[u8], max: usize) -> Result<Option<(usize, &[u8])>, FrameError> {
    let Some((prefix, rest)) = buf.split_first_chunk::<4>() else {
        return Ok(None);
    };
    let len = check_length(i32::from_be_bytes(*prefix), max)?;
    Ok(rest.get(..len).map(|body| (len, body)))
}

fn check_length(len: i32, max: usize) -> Result<usize, FrameError> {
    let n = usize::try_from(len).map_err(|_| FrameError::NegativeLength(len))?;
    if n > max {
        return Err(FrameError::TooLarge { len: n, max });
    }
    Ok(n)
}

/// `tokio_util` codec for frames: decoding yields the payload without its length prefix;
/// encoding takes bytes that already carry their prefix (the `proto::codec` encoders
/// write whole frames) and passes them through.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameCodec {
    pub limits: Limits,
}

impl FrameCodec {
    pub fn new(limits: Limits) -> FrameCodec {
        FrameCodec { limits }
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        let Some(prefix) = src.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = check_length(i32::from_be_bytes(*prefix), self.limits.max_frame)?;
        if src.len() < 4 + len {
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len)))
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        dst.extend_from_slice(&item);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_frame_waits_for_the_whole_body() {
        assert!(split_frame(&[0, 0], 10).unwrap().is_none());
        assert!(split_frame(&[0, 0, 0, 3, 1, 2], 10).unwrap().is_none());
        let (len, body) = split_frame(&[0, 0, 0, 2, 7, 8, 9], 10).unwrap().unwrap();
        assert_eq!((len, body), (2, &[7u8, 8][..]));
    }

    #[test]
    fn negative_frame_length_is_refused() {
        let r = split_frame(&[0xff, 0xff, 0xff, 0xfe], 10);
        assert!(matches!(r, Err(FrameError::NegativeLength(-2))));
    }

    #[test]
    fn frame_longer_than_max_is_refused_before_its_body_arrives() {
        let r = split_frame(&[0, 0, 0, 11], 10);
        assert!(matches!(r, Err(FrameError::TooLarge { len: 11, max: 10 })));
        let mut c = FrameCodec::new(Limits {
            max_frame: 10,
            max_field: 10,
        });
        let mut src = BytesMut::from(&[0u8, 0x10, 0, 0][..]);
        assert!(matches!(
            c.decode(&mut src),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn decoder_yields_bodies_one_at_a_time() {
        let mut c = FrameCodec::default();
        let mut src = BytesMut::from(&[0u8, 0, 0, 1, 5, 0, 0, 0, 0, 0, 0][..]);
        assert_eq!(c.decode(&mut src).unwrap().unwrap(), &[5u8][..]);
        assert_eq!(c.decode(&mut src).unwrap().unwrap(), &[][..]);
        assert!(c.decode(&mut src).unwrap().is_none());
        assert_eq!(src.len(), 2);
    }

    #[test]
    fn encoder_passes_framed_bytes_through() {
        let mut c = FrameCodec::default();
        let mut dst = BytesMut::new();
        c.encode(Bytes::from_static(&[0, 0, 0, 1, 9]), &mut dst)
            .unwrap();
        assert_eq!(&dst[..], &[0, 0, 0, 1, 9]);
    }

    #[test]
    fn default_limits_follow_jute_maxbuffer() {
        let l = Limits::default();
        assert_eq!((l.max_frame, l.max_field), (0xFFFFF, 0x1FFFFE));
    }
}
