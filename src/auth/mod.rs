//! Authentication (`AuthenticationProvider`s, `ProviderRegistry`,
//! `SaslServerCallbackHandler`): digest ids, the per-connection id set, whoAmI names,
//! SASL DIGEST-MD5 and the JAAS file that lists its users, SASL GSSAPI (Kerberos), x509
//! ids of TLS client certificates.
//!
//! Matching ids against ACLs lives with the ACL checks, not here.

mod auth_info;
mod digest;
pub mod jaas;
mod java_regex;
pub mod kerberos_rules;
mod providers;
pub mod sasl;
pub mod sasl_gssapi;
#[cfg(feature = "gssapi")]
pub mod sasl_gssapi_krb5;
pub mod sasl_gssapi_mechanism;
pub mod sasl_gssapi_name;
pub mod sasl_gssapi_setup;
pub mod x509;

pub use auth_info::{java_set_order, AuthInfo};
pub use digest::{authenticate_digest, digest_id};
pub use jaas::parse_jaas_server_section;
pub use providers::AuthProviders;
pub use sasl::{nonce_from_random, DigestMd5Server, SaslError, SaslStep};
pub use sasl_gssapi::GssapiService;
pub use sasl_gssapi_mechanism::{SaslReply, SaslSession};

use crate::proto::{ClientInfo, ErrorCode, Id};

/// An AuthPacket against the default providers (`ip`, `digest`): see
/// [`AuthProviders::authenticate`].
pub fn authenticate(
    scheme: &str,
    auth: &[u8],
    super_digest: Option<&str>,
) -> Result<Vec<Id>, ErrorCode> {
    AuthProviders::new(super_digest.map(str::to_string)).authenticate(scheme, auth)
}

/// whoAmI against the default providers (`ip`, `digest`; so `sasl` ids get an empty
/// user unless a server registers that provider): see [`AuthProviders::client_info`].
pub fn client_info(ids: &[Id]) -> Vec<ClientInfo> {
    AuthProviders::default().client_info(ids)
}
