//! Encoding and decoding of every `proto` record.
