//! Authentication (`AuthenticationProvider`s, `ProviderRegistry`,
//! `SaslServerCallbackHandler`): digest ids, the per-connection id set, whoAmI names,
//! SASL DIGEST-MD5 and the JAAS file that lists its users.
//!
//! Matching ids against ACLs lives with the ACL checks, not here.

mod auth_info;
mod digest;
mod digest_md5;
mod providers;

pub use auth_info::{java_set_order, AuthInfo};
pub use digest::{authenticate_digest, digest_id};
pub use digest_md5::{nonce_from_random, DigestMd5Server, SaslError, SaslStep};
pub use providers::AuthProviders;
