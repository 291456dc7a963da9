//! Server startup for SASL GSSAPI (`ServerCnxnFactory.configureSaslLogin` logging in the
//! JAAS `Server` section): when that section holds a `Krb5LoginModule`, the server
//! serves GSSAPI with the section's principal and keytab instead of DIGEST-MD5. Like
//! Java, a Kerberos login that cannot be made stops the server at startup.
//!
//! This is shell code (it reads the JAAS file and the keytab); the exchange itself is
//! the pure `sasl_gssapi` state machine.

use crate::config::Config;

use super::jaas::{parse_jaas_kerberos, Krb5Login};
use super::sasl_gssapi::GssapiService;

/// The JVM property naming the Kerberos configuration; the MIT library reads the
/// same file from `KRB5_CONFIG`.
const KRB5_CONF_PROPERTY: &str = "java.security.krb5.conf";

/// Points the Kerberos library at `-Djava.security.krb5.conf` when the server flags
/// give one, as the JVM this replaces would read it. Call before any thread starts:
/// it changes the process environment.
pub fn export_krb5_config(cfg: &Config) {
    if let Some(path) = cfg
        .properties
        .get(KRB5_CONF_PROPERTY)
        .filter(|p| !p.is_empty())
    {
        std::env::set_var("KRB5_CONFIG", path);
    }
}

/// The Kerberos login of the JAAS server section, if the server is set up for SASL and
/// the section names `Krb5LoginModule`.
pub fn kerberos_login(cfg: &Config) -> Result<Option<Krb5Login>, String> {
    let Some(path) = cfg.jaas_config.as_ref() else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read JAAS file {}: {e}", path.display()))?;
    let section = cfg
        .properties
        .get("zookeeper.sasl.serverconfig")
        .map(String::as_str)
        .unwrap_or("Server");
    parse_jaas_kerberos(&text, section).map_err(|e| format!("{}: {e}", path.display()))
}

/// The GSSAPI service to run, or `None` when the server does not use Kerberos.
pub fn gssapi_service(cfg: &Config) -> Result<Option<GssapiService>, String> {
    match kerberos_login(cfg)? {
        None => Ok(None),
        Some(login) => start(cfg, &login).map(Some),
    }
}

#[cfg(feature = "gssapi")]
fn start(cfg: &Config, login: &Krb5Login) -> Result<GssapiService, String> {
    use super::sasl_gssapi_krb5::{default_realm, Krb5Service};
    use super::sasl_gssapi_name::NameRules;
    use std::sync::Arc;

    let realm = default_realm();
    let rules = NameRules::from_properties(&realm, &cfg.properties)?;
    let service = Krb5Service::acquire(login)?;
    tracing::info!(
        "SASL GSSAPI with {service:?}, default realm {realm:?}, auth_to_local {}",
        rules.rules
    );
    Ok(GssapiService {
        factory: Arc::new(service),
        rules,
    })
}

#[cfg(not(feature = "gssapi"))]
fn start(_cfg: &Config, _login: &Krb5Login) -> Result<GssapiService, String> {
    Err(
        "the JAAS server section uses Krb5LoginModule, but this rzk was built without \
         the `gssapi` feature"
            .to_string(),
    )
}
