//! SASL GSSAPI server side (RFC 4752) as the JDK's `GssKrb5Server` runs it for
//! `ZooKeeperSaslServer` when the JAAS `Server` section logs in with `Krb5LoginModule`:
//! Kerberos context establishment, then the security-layer negotiation, where only "no
//! security layer" is offered (ZooKeeper never wraps its traffic).
//!
//! The exchange, one client token per step:
//! 1. context tokens go to `gss_accept_sec_context` until the context is established;
//!    the acceptor's last token (the AP-REP of mutual authentication) is sent back;
//! 2. the client's next token must be empty; the server answers with a wrapped
//!    (integrity only) 4-byte offer: the layer bit mask `0x01` and the JDK's receive
//!    buffer size, 65536, in three bytes;
//! 3. the client's wrapped answer names the chosen layer, its buffer size and an optional
//!    authorization id; the server completes with a *null* token.
//!
//! The id the connection gets is the authenticated principal mapped by
//! [`NameRules`](super::sasl_gssapi_name::NameRules) (`SaslServerCallbackHandler`).
//!
//! The GSSAPI calls sit behind [`GssAcceptor`], so this state machine is pure and tested
//! with a fake. The real acceptor (`sasl_gssapi_krb5`, MIT Kerberos) reads the keytab
//! and the replay cache when it accepts a context: that file I/O happens on the thread
//! that steps this machine, is short, and never waits on the network (an acceptor does
//! not talk to the KDC).

use std::fmt;
use std::sync::Arc;

use super::sasl::SaslError;
use super::sasl_gssapi_name::NameRules;

/// A GSSAPI failure, already rendered (major and minor status texts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GssError(pub String);

/// What one `gss_accept_sec_context` call produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The token for the client; empty when there is none.
    pub token: Vec<u8>,
    /// The context is established (`GSS_S_COMPLETE`).
    pub established: bool,
}

/// The GSSAPI acceptor of one connection.
pub trait GssAcceptor: Send {
    fn accept(&mut self, token: &[u8]) -> Result<Accepted, GssError>;
    /// `gss_wrap` without confidentiality (the JDK's `MessageProp(0, false)`).
    fn wrap(&mut self, message: &[u8]) -> Result<Vec<u8>, GssError>;
    fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, GssError>;
    /// The initiator's principal (`gss_display_name` of the source name).
    fn peer_name(&mut self) -> Result<String, GssError>;
}

/// Makes a fresh acceptor per connection (the server's credentials, shared).
pub trait GssAcceptorFactory: Send + Sync + fmt::Debug {
    fn new_acceptor(&self) -> Result<Box<dyn GssAcceptor>, GssError>;
}

/// The server's GSSAPI set-up: where acceptors come from and how names map to ids.
#[derive(Clone, Debug)]
pub struct GssapiService {
    pub factory: Arc<dyn GssAcceptorFactory>,
    pub rules: NameRules,
}

impl GssapiService {
    pub fn new_server(&self) -> Result<GssapiServer, SaslError> {
        let acceptor = self.factory.new_acceptor().map_err(gss_failure)?;
        Ok(GssapiServer::new(acceptor, self.rules.clone()))
    }
}

/// The security layers the JDK server offers by default: none (`NO_PROTECTION`).
const LAYER_NONE: u8 = 0x01;
/// `AbstractSaslImpl`'s default receive buffer size, sent in the offer.
const RECV_MAX_BUF: u32 = 65536;

enum State {
    Context,
    /// Context established and its last token sent: the client answers with nothing.
    AwaitEmpty {
        peer: String,
    },
    /// The wrapped offer was sent: the client answers with its choice.
    AwaitChoice {
        peer: String,
    },
    Complete {
        id: String,
    },
    Failed,
}

pub struct GssapiServer {
    acceptor: Box<dyn GssAcceptor>,
    rules: NameRules,
    state: State,
}

impl fmt::Debug for GssapiServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GssapiServer")
            .field("id", &self.authorization_id())
            .finish()
    }
}

fn gss_failure(e: GssError) -> SaslError {
    SaslError(format!(
        "GSS initiate failed [Caused by GSSException: {}]",
        e.0
    ))
}

fn failure(msg: &str) -> SaslError {
    SaslError(msg.to_string())
}

impl GssapiServer {
    pub fn new(acceptor: Box<dyn GssAcceptor>, rules: NameRules) -> GssapiServer {
        GssapiServer {
            acceptor,
            rules,
            state: State::Context,
        }
    }

    /// One client token; `Ok(Some(token))` to send back, `Ok(None)` for the null token
    /// that completes the exchange. After an error the exchange is dead.
    pub fn step(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        let reply = match std::mem::replace(&mut self.state, State::Failed) {
            State::Context => self.accept(token),
            State::AwaitEmpty { peer } => self.offer(token, peer),
            State::AwaitChoice { peer } => self.choose(token, &peer).map(|()| None),
            State::Complete { id } => {
                self.state = State::Complete { id };
                Err(failure("SASL authentication already complete"))
            }
            State::Failed => Err(failure("SASL authentication failed earlier")),
        };
        if reply.is_err() && !self.is_complete() {
            self.state = State::Failed;
        }
        reply
    }

    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete { .. })
    }

    /// The id to attach as `Id("sasl", ..)` once complete.
    pub fn authorization_id(&self) -> Option<&str> {
        match &self.state {
            State::Complete { id } => Some(id),
            _ => None,
        }
    }

    fn accept(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        let accepted = self.acceptor.accept(token).map_err(gss_failure)?;
        if !accepted.established {
            self.state = State::Context;
            return Ok(Some(accepted.token));
        }
        let peer = self.acceptor.peer_name().map_err(gss_failure)?;
        if accepted.token.is_empty() {
            // No mutual-authentication token: the offer goes out at once (doHandshake1).
            return self.offer(&[], peer);
        }
        self.state = State::AwaitEmpty { peer };
        Ok(Some(accepted.token))
    }

    fn offer(&mut self, token: &[u8], peer: String) -> Result<Option<Vec<u8>>, SaslError> {
        if !token.is_empty() {
            return Err(SaslError(format!(
                "Handshake expected to be empty. Received: {} bytes",
                token.len()
            )));
        }
        let [_, b1, b2, b3] = RECV_MAX_BUF.to_be_bytes();
        let wrapped = self
            .acceptor
            .wrap(&[LAYER_NONE, b1, b2, b3])
            .map_err(|e| SaslError(format!("Problem wrapping handshake1: {}", e.0)))?;
        self.state = State::AwaitChoice { peer };
        Ok(Some(wrapped))
    }

    fn choose(&mut self, token: &[u8], peer: &str) -> Result<(), SaslError> {
        let message = self
            .acceptor
            .unwrap(token)
            .map_err(|e| SaslError(format!("Problem unwrapping handshake2: {}", e.0)))?;
        let Some((&layer, rest)) = message.split_first() else {
            return Err(failure("Final handshake message too short"));
        };
        let Some(authzid) = rest.get(3..) else {
            return Err(failure("Final handshake message too short"));
        };
        if layer & LAYER_NONE == 0 {
            return Err(SaslError(format!(
                "Client selected unsupported protection: {layer}"
            )));
        }
        // The JDK decodes the authorization id as UTF-8, replacing bad sequences.
        let authzid = match authzid {
            [] => peer.to_string(),
            bytes => String::from_utf8_lossy(bytes).into_owned(),
        };
        let id = self
            .rules
            .authorized_id(peer, &authzid)
            .map_err(SaslError)?;
        self.state = State::Complete { id };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted acceptor: context tokens are `ctx<n>`, established on `ctx-last`;
    /// "wrapping" prefixes `W:`.
    struct Fake {
        reply_to_last: Vec<u8>,
        peer: String,
    }

    impl GssAcceptor for Fake {
        fn accept(&mut self, token: &[u8]) -> Result<Accepted, GssError> {
            match token {
                b"ctx-last" => Ok(Accepted {
                    token: self.reply_to_last.clone(),
                    established: true,
                }),
                t if t.starts_with(b"ctx") => Ok(Accepted {
                    token: b"more".to_vec(),
                    established: false,
                }),
                _ => Err(GssError("Defective token detected".into())),
            }
        }
        fn wrap(&mut self, message: &[u8]) -> Result<Vec<u8>, GssError> {
            Ok([b"W:".as_slice(), message].concat())
        }
        fn unwrap(&mut self, token: &[u8]) -> Result<Vec<u8>, GssError> {
            token
                .strip_prefix(b"W:")
                .map(<[u8]>::to_vec)
                .ok_or(GssError("bad MIC".into()))
        }
        fn peer_name(&mut self) -> Result<String, GssError> {
            Ok(self.peer.clone())
        }
    }

    fn rules() -> NameRules {
        NameRules {
            default_realm: "EXAMPLE.COM".into(),
            ..NameRules::default()
        }
    }

    fn server(reply_to_last: &[u8]) -> GssapiServer {
        let fake = Fake {
            reply_to_last: reply_to_last.to_vec(),
            peer: "client@EXAMPLE.COM".into(),
        };
        GssapiServer::new(Box::new(fake), rules())
    }

    const OFFER: &[u8] = b"W:\x01\x01\x00\x00";

    #[test]
    fn full_exchange_with_mutual_authentication() {
        let mut s = server(b"ap-rep");
        assert_eq!(s.step(b"ctx1").unwrap(), Some(b"more".to_vec()));
        assert_eq!(s.step(b"ctx-last").unwrap(), Some(b"ap-rep".to_vec()));
        assert_eq!(s.step(b"").unwrap(), Some(OFFER.to_vec()));
        assert!(!s.is_complete());
        assert_eq!(s.step(b"W:\x01\x00\x00\x00").unwrap(), None);
        assert_eq!(s.authorization_id(), Some("client@EXAMPLE.COM"));
    }

    #[test]
    fn offer_follows_at_once_without_a_final_context_token() {
        let mut s = server(b"");
        assert_eq!(s.step(b"ctx-last").unwrap(), Some(OFFER.to_vec()));
        assert_eq!(s.step(b"W:\x01\x00\x00\x00").unwrap(), None);
        assert!(s.is_complete());
    }

    #[test]
    fn requested_authorization_id_is_mapped_like_the_principal() {
        let mut s = server(b"");
        s.step(b"ctx-last").unwrap();
        assert_eq!(s.step(b"W:\x01\x00\x00\x00super").unwrap(), None);
        assert_eq!(s.authorization_id(), Some("client@EXAMPLE.COM"));
    }

    fn fails_at_choice(choice: &[u8]) -> SaslError {
        let mut s = server(b"");
        s.step(b"ctx-last").unwrap();
        let err = s.step(choice).unwrap_err();
        assert!(!s.is_complete());
        assert!(s.step(b"").is_err());
        err
    }

    #[test]
    fn bad_choices_fail() {
        assert!(fails_at_choice(b"W:\x04\x00\x00\x00")
            .0
            .contains("unsupported protection"));
        assert!(fails_at_choice(b"W:\x01\x00\x00").0.contains("too short"));
        assert!(fails_at_choice(b"W:").0.contains("too short"));
        assert!(fails_at_choice(b"\x01\x00\x00\x00")
            .0
            .contains("unwrapping"));
    }

    #[test]
    fn non_empty_answer_to_the_context_token_fails() {
        let mut s = server(b"ap-rep");
        s.step(b"ctx-last").unwrap();
        assert!(s.step(b"x").unwrap_err().0.contains("expected to be empty"));
    }

    #[test]
    fn defective_context_tokens_fail_and_the_exchange_stays_dead() {
        let mut s = server(b"");
        assert!(s.step(b"").unwrap_err().0.contains("GSS initiate failed"));
        assert!(s.step(b"ctx-last").is_err());
        assert_eq!(s.authorization_id(), None);
    }

    #[test]
    fn steps_after_completion_fail_but_keep_the_id() {
        let mut s = server(b"");
        s.step(b"ctx-last").unwrap();
        s.step(b"W:\x01\x00\x00\x00").unwrap();
        assert!(s.step(b"").is_err());
        assert_eq!(s.authorization_id(), Some("client@EXAMPLE.COM"));
    }
}
