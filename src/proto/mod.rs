//! ZooKeeper's records, declared in `zookeeper.jute` field order, and their jute encoding.
//! Pure: knows bytes and records, not semantics.

pub mod codec;
pub mod data;
pub mod error_code;
pub mod ids;
pub mod java_hash;
pub mod op_code;
pub mod quorum;
pub mod records;
pub mod request;
pub mod response;
pub mod txn;

pub use data::*;
pub use error_code::ErrorCode;
pub use ids::{ServerId, SessionId, Zxid};
pub use op_code::OpCode;
pub use records::*;
pub use request::Request;
pub use response::{MultiResult, Response};
pub use txn::*;
