//! Which SASL mechanism a connection's exchange runs (`SecurityUtils.createSaslServer`):
//! GSSAPI when the JAAS `Server` section logged in a Kerberos principal, DIGEST-MD5
//! otherwise. Java offers exactly one of them, so a DIGEST-MD5 client talking to a
//! Kerberos server fails (its empty first token is not a GSSAPI token), and the other
//! way round.

use std::collections::BTreeMap;

use super::sasl::{DigestMd5Server, SaslError, SaslStep};
use super::sasl_gssapi::{GssapiServer, GssapiService};

/// One SASL step's answer. `token: None` is the null token (`SetSASLResponse(null)`,
/// length -1 on the wire) that ends a GSSAPI exchange; `authorization_id` is set when
/// the step completed the exchange: the id to add as `Id("sasl", ..)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaslReply {
    pub token: Option<Vec<u8>>,
    pub authorization_id: Option<String>,
}

/// The SASL exchange of one connection (`ZooKeeperSaslServer`).
#[derive(Debug)]
pub enum SaslSession {
    DigestMd5(DigestMd5Server),
    Gssapi(GssapiServer),
}

impl SaslSession {
    /// A new exchange: GSSAPI when `gssapi` is set up, else DIGEST-MD5 over `users`
    /// with this `nonce`.
    pub fn start(
        gssapi: Option<&GssapiService>,
        users: &BTreeMap<String, String>,
        nonce: String,
    ) -> Result<SaslSession, SaslError> {
        match gssapi {
            Some(service) => service.new_server().map(SaslSession::Gssapi),
            None => Ok(SaslSession::DigestMd5(DigestMd5Server::new(users, nonce))),
        }
    }

    pub fn step(&mut self, token: &[u8]) -> Result<SaslReply, SaslError> {
        let token = match self {
            SaslSession::DigestMd5(s) => match s.step(token)? {
                SaslStep::Continue(t) | SaslStep::Complete(t) => Some(t),
            },
            SaslSession::Gssapi(s) => s.step(token)?,
        };
        Ok(SaslReply {
            token,
            authorization_id: self.authorization_id().map(str::to_string),
        })
    }

    pub fn authorization_id(&self) -> Option<&str> {
        match self {
            SaslSession::DigestMd5(s) => s.authorization_id(),
            SaslSession::Gssapi(s) => s.authorization_id(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sasl_gssapi::{Accepted, GssAcceptor, GssAcceptorFactory, GssError};
    use crate::auth::sasl_gssapi_name::NameRules;
    use std::sync::Arc;

    #[derive(Debug)]
    struct NoKerberos;

    impl GssAcceptorFactory for NoKerberos {
        fn new_acceptor(&self) -> Result<Box<dyn GssAcceptor>, GssError> {
            Err(GssError("no keytab".into()))
        }
    }

    #[derive(Debug)]
    struct Rejecting;

    struct RejectAll;

    impl GssAcceptor for RejectAll {
        fn accept(&mut self, _: &[u8]) -> Result<Accepted, GssError> {
            Err(GssError("Defective token detected".into()))
        }
        fn wrap(&mut self, m: &[u8]) -> Result<Vec<u8>, GssError> {
            Ok(m.to_vec())
        }
        fn unwrap(&mut self, t: &[u8]) -> Result<Vec<u8>, GssError> {
            Ok(t.to_vec())
        }
        fn peer_name(&mut self) -> Result<String, GssError> {
            Ok(String::new())
        }
    }

    impl GssAcceptorFactory for Rejecting {
        fn new_acceptor(&self) -> Result<Box<dyn GssAcceptor>, GssError> {
            Ok(Box::new(RejectAll))
        }
    }

    fn service(factory: Arc<dyn GssAcceptorFactory>) -> GssapiService {
        GssapiService {
            factory,
            rules: NameRules::default(),
        }
    }

    #[test]
    fn digest_md5_is_used_without_kerberos() {
        let users = [("bob".to_string(), "pw".to_string())].into();
        let mut s = SaslSession::start(None, &users, "n".into()).unwrap();
        let reply = s.step(b"").unwrap();
        assert_eq!(reply.authorization_id, None);
        assert!(reply.token.is_some_and(|t| t.starts_with(b"realm=")));
    }

    #[test]
    fn a_digest_client_fails_against_a_kerberos_server() {
        let svc = service(Arc::new(Rejecting));
        let mut s = SaslSession::start(Some(&svc), &BTreeMap::new(), "n".into()).unwrap();
        assert!(s.step(b"").is_err());
        assert_eq!(s.authorization_id(), None);
    }

    #[test]
    fn an_acceptor_that_cannot_start_fails_the_exchange() {
        let svc = service(Arc::new(NoKerberos));
        assert!(SaslSession::start(Some(&svc), &BTreeMap::new(), "n".into()).is_err());
    }
}
