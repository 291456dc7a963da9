//! Jute binary encoding, the stand-in for Apache ZooKeeper's `BinaryInputArchive` and
//! `BinaryOutputArchive`: primitive parsers and writers, length-prefixed framing, and the
//! errors a malformed or hostile peer can cause.
//!
//! Decoding works on complete frames (nom's `complete` parsers), so running out of input
//! is an error (`DecodeError::Truncated`), never a request for more bytes.

pub mod error;
pub mod frame;
pub mod primitives;

pub use error::DecodeError;
pub use frame::{split_frame, FrameCodec, FrameError, Limits};
