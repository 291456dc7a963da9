//! The transaction log (`FileTxnLog`): `log.<zxid>` files of framed entries.

pub mod format;
pub mod reader;
pub mod segment;
pub mod writer;
