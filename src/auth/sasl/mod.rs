//! SASL DIGEST-MD5 server side (RFC 2831, qop `auth`), as the JDK's `SaslServer` behaves
//! when `ZooKeeperSaslServer` creates it with protocol `zookeeper` and server name
//! `zk-sasl-md5`, its users from the JAAS `Server` section (`SaslServerCallbackHandler`).
//!
//! Two steps: an empty client token gets the challenge; the client's digest-response is
//! verified and answered with `rspauth`, completing the exchange. What the JDK accepts
//! was checked against it: realm required and equal to the server name, digest-uri
//! `zookeeper/zk-sasl-md5` ignoring case, `qop` and `charset` optional, `nc` ignored
//! (the expected response is always computed with `00000001`), `authzid` part of A1
//! but the authorization id reported is the authenticated user.
//!
//! Pure: the nonce (randomness) comes from the caller, see `nonce_from_random`.

mod directives;

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::{Digest, Md5};

/// A failed exchange; the server answers AuthFailed and closes the connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("DIGEST-MD5: {0}")]
pub struct SaslError(pub String);

impl SaslError {
    fn new(msg: &str) -> SaslError {
        SaslError(msg.to_string())
    }
    fn format(msg: &str) -> SaslError {
        SaslError(format!("digest response format violation. {msg}"))
    }
}

/// What a step produced: a token to send back, and whether the exchange is complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaslStep {
    /// Send this challenge and wait for the client's answer.
    Continue(Vec<u8>),
    /// Authenticated: send this final token (`rspauth=...`).
    Complete(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Start,
    Challenged,
    Complete { user: String },
    Failed,
}

/// The JDK refuses longer digest-responses (`DigestMD5Server.MAX_RESPONSE_LENGTH`).
const MAX_RESPONSE_LENGTH: usize = 4096;
/// The JDK only accepts the first use of a nonce and computes with this count.
const NONCE_COUNT: &str = "00000001";

#[derive(Clone, Debug)]
pub struct DigestMd5Server {
    users: BTreeMap<String, String>,
    nonce: String,
    protocol: String,
    server_name: String,
    state: State,
}

/// The JDK's nonce: 30 random bytes in base64 (40 characters).
pub fn nonce_from_random(bytes: &[u8; 30]) -> String {
    STANDARD.encode(bytes)
}

impl DigestMd5Server {
    /// A server for ZooKeeper: protocol `zookeeper`, server name and realm `zk-sasl-md5`.
    pub fn new(users: &BTreeMap<String, String>, nonce: String) -> Self {
        Self::with_service(users, nonce, "zookeeper", "zk-sasl-md5")
    }

    /// Any service; the realm offered is the server name, as the JDK's default.
    pub fn with_service(
        users: &BTreeMap<String, String>,
        nonce: String,
        protocol: &str,
        server_name: &str,
    ) -> Self {
        DigestMd5Server {
            users: users.clone(),
            nonce,
            protocol: protocol.to_string(),
            server_name: server_name.to_string(),
            state: State::Start,
        }
    }

    pub fn step(&mut self, response: &[u8]) -> Result<SaslStep, SaslError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Start if response.is_empty() => {
                self.state = State::Challenged;
                Ok(SaslStep::Continue(self.challenge().into_bytes()))
            }
            State::Start => Err(SaslError::new(
                "DIGEST-MD5 must not have an initial response",
            )),
            State::Challenged if response.len() > MAX_RESPONSE_LENGTH => Err(SaslError::new(
                &format!("Invalid digest response length. Got:  {}", response.len()),
            )),
            State::Challenged => {
                let (user, rspauth) = self.verify(response)?;
                self.state = State::Complete { user };
                Ok(SaslStep::Complete(rspauth.into_bytes()))
            }
            State::Complete { user } => {
                self.state = State::Complete { user };
                Err(SaslError::new("Server at illegal state"))
            }
            State::Failed => Err(SaslError::new("Server at illegal state")),
        }
    }

    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete { .. })
    }

    /// The id to attach as `Id("sasl", ..)`: the authenticated user name.
    pub fn authorization_id(&self) -> Option<&str> {
        match &self.state {
            State::Complete { user } => Some(user),
            _ => None,
        }
    }

    /// `DigestMD5Server.generateChallenge` with the defaults ZooKeeper leaves in place:
    /// no `qop` (auth is the default) and no `maxbuf` directive.
    fn challenge(&self) -> String {
        format!(
            "realm=\"{}\",nonce=\"{}\",charset=utf-8,algorithm=md5-sess",
            directives::quote(&self.server_name),
            directives::quote(&self.nonce)
        )
    }

    /// Checks a digest-response; returns the user and the `rspauth=...` token.
    fn verify(&self, response: &[u8]) -> Result<(String, String), SaslError> {
        let r = Response::parse(response)?;
        if r.qop != "auth" {
            return Err(SaslError::new(&format!(
                "server does not support  qop: {}",
                r.qop
            )));
        }
        if r.realm != self.server_name {
            return Err(SaslError::format(&format!(
                "Nonexistent realm: {}",
                r.realm
            )));
        }
        if r.nonce != self.nonce.as_bytes() {
            return Err(SaslError::format("Mismatched nonce."));
        }
        let expected_uri = format!("{}/{}", self.protocol, self.server_name);
        if !r.digest_uri.eq_ignore_ascii_case(&expected_uri) {
            return Err(SaslError::format(&format!(
                "Mismatched URI: {}; expecting: {expected_uri}",
                r.digest_uri
            )));
        }
        let password = self.users.get(&r.username).ok_or_else(|| {
            SaslError::new(&format!(
                "cannot acquire password for {} in realm : {}",
                r.username, r.realm
            ))
        })?;
        let ha1 = r.ha1(password);
        if r.response != response_value(&ha1, &r, "AUTHENTICATE").as_bytes() {
            return Err(SaslError::format("Mismatched response."));
        }
        let rspauth = format!("rspauth={}", response_value(&ha1, &r, ""));
        Ok((r.username, rspauth))
    }
}

/// The directives of a digest-response the server uses, decoded.
struct Response {
    username: String,
    realm: String,
    nonce: Vec<u8>,
    cnonce: Vec<u8>,
    digest_uri: String,
    qop: String,
    authzid: Option<Vec<u8>>,
    response: Vec<u8>,
}

impl Response {
    fn parse(input: &[u8]) -> Result<Response, SaslError> {
        let mut d: BTreeMap<String, Vec<u8>> = directives::parse(input)?.into_iter().collect();
        let utf8 = match d.remove("charset") {
            Some(c) if c.eq_ignore_ascii_case(b"utf-8") => true,
            Some(c) => {
                let c = String::from_utf8_lossy(&c).into_owned();
                return Err(SaslError::format(&format!(
                    "Incompatible charset value: {c}"
                )));
            }
            None => false,
        };
        let text = |v: Vec<u8>| decode(&v, utf8);
        let mut required = |key: &str, what: &str| {
            d.remove(key)
                .ok_or_else(|| SaslError::format(&format!("Missing {what}.")))
        };
        let username = text(required("username", "username")?);
        let nonce = required("nonce", "nonce")?;
        let cnonce = required("cnonce", "cnonce")?;
        let digest_uri = text(required("digest-uri", "digest-uri")?);
        let response = required("response", "response")?;
        Ok(Response {
            username,
            nonce,
            cnonce,
            digest_uri,
            response,
            realm: d.remove("realm").map(text).unwrap_or_default(),
            qop: d
                .remove("qop")
                .map(text)
                .unwrap_or_else(|| "auth".to_string()),
            authzid: d.remove("authzid"),
        })
    }

    /// HEX(H(A1)) for md5-sess: H(user:realm:password) ":" nonce ":" cnonce [":" authzid].
    fn ha1(&self, password: &str) -> String {
        let inner = md5(&[
            &rfc_bytes(&self.username),
            b":",
            &rfc_bytes(&self.realm),
            b":",
            &rfc_bytes(password),
        ]);
        let mut a1 = inner.to_vec();
        for part in [Some(&self.nonce), Some(&self.cnonce), self.authzid.as_ref()]
            .into_iter()
            .flatten()
        {
            a1.push(b':');
            a1.extend_from_slice(part);
        }
        hex(&md5(&[&a1]))
    }
}

/// KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2))) with A2 = method ":" digest-uri;
/// the method is empty for rspauth.
fn response_value(ha1: &str, r: &Response, method: &str) -> String {
    let ha2 = hex(&md5(&[method.as_bytes(), b":", r.digest_uri.as_bytes()]));
    hex(&md5(&[
        ha1.as_bytes(),
        b":",
        &r.nonce,
        b":",
        NONCE_COUNT.as_bytes(),
        b":",
        &r.cnonce,
        b":",
        r.qop.as_bytes(),
        b":",
        ha2.as_bytes(),
    ]))
}

/// Values are UTF-8 when the client said `charset=utf-8`, ISO 8859-1 otherwise.
fn decode(v: &[u8], utf8: bool) -> String {
    if utf8 {
        String::from_utf8_lossy(v).into_owned()
    } else {
        v.iter().map(|&b| char::from(b)).collect()
    }
}

/// RFC 2831 §2.1.2.1: user, realm and password are hashed in ISO 8859-1 when they fit,
/// in UTF-8 otherwise.
fn rfc_bytes(s: &str) -> Vec<u8> {
    if s.chars().all(|c| u32::from(c) <= 0xFF) {
        s.chars().map(|c| c as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect()
    }

    fn zk_server(nonce: &str) -> DigestMd5Server {
        DigestMd5Server::new(
            &users(&[("bob", "bobsecret"), ("bøb", "pässwörd€")]),
            nonce.into(),
        )
    }

    /// A client written from RFC 2831 alone: answers a challenge, checks rspauth.
    struct Client {
        user: String,
        password: String,
        cnonce: String,
        authzid: Option<String>,
        uri: String,
    }

    impl Client {
        fn zk(user: &str, password: &str) -> Client {
            Client {
                user: user.into(),
                password: password.into(),
                cnonce: "cl1entN0nce".into(),
                authzid: None,
                uri: "zookeeper/zk-sasl-md5".into(),
            }
        }

        fn kd(&self, challenge: &BTreeMap<String, String>, a2: &str) -> String {
            let realm = &challenge["realm"];
            let nonce = &challenge["nonce"];
            let secret = md5(&[format!("{}:{realm}:{}", self.user, self.password).as_bytes()]);
            let mut a1 = secret.to_vec();
            a1.extend_from_slice(format!(":{nonce}:{}", self.cnonce).as_bytes());
            if let Some(z) = &self.authzid {
                a1.extend_from_slice(format!(":{z}").as_bytes());
            }
            let ha1 = hex(&md5(&[&a1]));
            let ha2 = hex(&md5(&[a2.as_bytes()]));
            hex(&md5(&[format!(
                "{ha1}:{nonce}:00000001:{}:auth:{ha2}",
                self.cnonce
            )
            .as_bytes()]))
        }

        fn answer(&self, challenge: &[u8]) -> (Vec<u8>, String) {
            let c: BTreeMap<String, String> = directives::parse(challenge)
                .unwrap()
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
                .collect();
            assert_eq!(c["algorithm"], "md5-sess");
            let response = self.kd(&c, &format!("AUTHENTICATE:{}", self.uri));
            let authzid = self
                .authzid
                .as_ref()
                .map(|z| format!("authzid=\"{z}\","))
                .unwrap_or_default();
            let msg = format!(
                "charset=utf-8,username=\"{}\",realm=\"{}\",nonce=\"{}\",nc=00000001,cnonce=\"{}\",\
                 digest-uri=\"{}\",{authzid}maxbuf=65536,response={response},qop=auth",
                self.user, c["realm"], c["nonce"], self.cnonce, self.uri
            );
            (
                msg.into_bytes(),
                format!("rspauth={}", self.kd(&c, &format!(":{}", self.uri))),
            )
        }
    }

    fn challenge_of(s: &mut DigestMd5Server) -> Vec<u8> {
        match s.step(b"") {
            Ok(SaslStep::Continue(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    fn run(s: &mut DigestMd5Server, client: &Client) -> Result<SaslStep, SaslError> {
        let (answer, _) = client.answer(&challenge_of(s));
        s.step(&answer)
    }

    #[test]
    fn rfc_2831_imap_example() {
        let mut s = DigestMd5Server::with_service(
            &users(&[("chris", "secret")]),
            "OA6MG9tEQGm2hh".into(),
            "imap",
            "elwood.innosoft.com",
        );
        challenge_of(&mut s);
        let answer = b"charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",\
            nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",\
            digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth";
        let done = s.step(answer).unwrap();
        assert_eq!(
            done,
            SaslStep::Complete(b"rspauth=ea40f60335c427b5527b84dbabcdfffd".to_vec())
        );
        assert_eq!(s.authorization_id(), Some("chris"));
    }

    #[test]
    fn challenge_is_what_the_jdk_sends_for_zookeeper() {
        let mut s = zk_server("YP4ShGl2IYB35iaT71LfY4qZCMKqiNTOv8wudNbP");
        let c = challenge_of(&mut s);
        assert_eq!(
            String::from_utf8(c).unwrap(),
            "realm=\"zk-sasl-md5\",nonce=\"YP4ShGl2IYB35iaT71LfY4qZCMKqiNTOv8wudNbP\",charset=utf-8,algorithm=md5-sess"
        );
        assert!(!s.is_complete());
    }

    /// Exchanges between the JDK 17 DIGEST-MD5 client and server, replayed.
    #[test]
    fn jdk_client_responses_verify_and_get_the_jdk_rspauth() {
        let vectors = [
            (
                "YP4ShGl2IYB35iaT71LfY4qZCMKqiNTOv8wudNbP",
                "charset=utf-8,username=\"bob\",realm=\"zk-sasl-md5\",nonce=\"YP4ShGl2IYB35iaT71LfY4qZCMKqiNTOv8wudNbP\",nc=00000001,cnonce=\"4C/4MOHIhuE5YVvU7zB/bkawEUJD0mHrg5N6Deyq\",digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,response=f2157dadc830ac7803e58ef3f72d8e42,qop=auth",
                "rspauth=f86ca73e27ee8f94b6eb436e1eb41fd8",
                "bob",
            ),
            (
                "Wzd+IupPr/gY7tdhaFauC2LK3/aA7j33NfjxBGAd",
                "charset=utf-8,username=\"bøb\",realm=\"zk-sasl-md5\",nonce=\"Wzd+IupPr/gY7tdhaFauC2LK3/aA7j33NfjxBGAd\",nc=00000001,cnonce=\"snyITFKDzZJ40iiX4z47JxK48jk7q+ZBpLy2La0M\",digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,response=1f039a33223b66b79c5160c981743289,qop=auth",
                "rspauth=766973e5509ae7458e7d17cc2ac3f98a",
                "bøb",
            ),
        ];
        for (nonce, answer, rspauth, user) in vectors {
            let mut s = zk_server(nonce);
            challenge_of(&mut s);
            assert_eq!(
                s.step(answer.as_bytes()),
                Ok(SaslStep::Complete(rspauth.as_bytes().to_vec()))
            );
            assert_eq!(s.authorization_id(), Some(user));
        }
    }

    #[test]
    fn full_exchange_with_an_rfc_client() {
        let mut s = zk_server("n0nce");
        let client = Client::zk("bob", "bobsecret");
        let (answer, want_rspauth) = client.answer(&challenge_of(&mut s));
        assert_eq!(
            s.step(&answer),
            Ok(SaslStep::Complete(want_rspauth.into_bytes()))
        );
        assert!(s.is_complete());
        assert_eq!(s.authorization_id(), Some("bob"));
    }

    #[test]
    fn authzid_counts_in_the_digest_but_the_user_is_reported() {
        let mut s = zk_server("n0nce");
        let client = Client {
            authzid: Some("alice".into()),
            ..Client::zk("bob", "bobsecret")
        };
        assert!(matches!(run(&mut s, &client), Ok(SaslStep::Complete(_))));
        assert_eq!(s.authorization_id(), Some("bob"));
    }

    #[test]
    fn digest_uri_is_compared_ignoring_case() {
        let mut s = zk_server("n0nce");
        let client = Client {
            uri: "ZooKeeper/ZK-SASL-MD5".into(),
            ..Client::zk("bob", "bobsecret")
        };
        assert!(run(&mut s, &client).is_ok());
    }

    #[test]
    fn bad_credentials_and_parameters_fail() {
        let cases = [
            Client::zk("bob", "wrong"),
            Client::zk("carol", "bobsecret"),
            Client {
                uri: "zookeeper/other".into(),
                ..Client::zk("bob", "bobsecret")
            },
            Client {
                uri: "zookeeper".into(),
                ..Client::zk("bob", "bobsecret")
            },
        ];
        for client in cases {
            let mut s = zk_server("n0nce");
            assert!(
                run(&mut s, &client).is_err(),
                "{} {}",
                client.user,
                client.uri
            );
            assert!(!s.is_complete());
            assert_eq!(s.authorization_id(), None);
            assert!(s.step(b"").is_err());
        }
    }

    fn tampered(edit: impl Fn(String) -> String) -> Result<SaslStep, SaslError> {
        let mut s = zk_server("n0nce");
        let (answer, _) = Client::zk("bob", "bobsecret").answer(&challenge_of(&mut s));
        s.step(edit(String::from_utf8(answer).unwrap()).as_bytes())
    }

    #[test]
    fn realm_nonce_qop_and_charset_are_checked() {
        let realm = tampered(|a| a.replace("realm=\"zk-sasl-md5\",", ""));
        assert!(realm.unwrap_err().0.contains("Nonexistent realm"));
        assert!(tampered(|a| a.replace("nonce=\"n0nce\"", "nonce=\"other\"")).is_err());
        assert!(tampered(|a| a.replace("qop=auth", "qop=auth-int")).is_err());
        assert!(tampered(|a| a.replace("charset=utf-8", "charset=latin1")).is_err());
        assert!(tampered(|a| format!("{a},username=\"bob\"")).is_err());
        assert!(tampered(|a| a.replace("cnonce=", "cnonc=")).is_err());
    }

    #[test]
    fn optional_directives_may_be_left_out_and_nc_is_ignored() {
        assert!(tampered(|a| a.replace(",qop=auth", "")).is_ok());
        assert!(tampered(|a| a.replace("charset=utf-8,", "")).is_ok());
        assert!(tampered(|a| a.replace("nc=00000001,", "")).is_ok());
        assert!(tampered(|a| a.replace("nc=00000001", "nc=00000002")).is_ok());
        assert!(tampered(|a| format!("{a},cipher=rc4,foo=\"bar\"")).is_ok());
    }

    #[test]
    fn protocol_misuse_fails() {
        let mut s = zk_server("n0nce");
        assert!(s.step(b"username=\"bob\"").is_err());
        let mut s = zk_server("n0nce");
        challenge_of(&mut s);
        assert!(s.step(&vec![b'a'; MAX_RESPONSE_LENGTH + 1]).is_err());
        let mut s = zk_server("n0nce");
        assert!(run(&mut s, &Client::zk("bob", "bobsecret")).is_ok());
        assert!(s.step(b"").is_err());
        assert_eq!(s.authorization_id(), Some("bob"));
    }

    #[test]
    fn nonce_is_forty_base64_characters() {
        let n = nonce_from_random(&[0xAB; 30]);
        assert_eq!(n.len(), 40);
        assert!(!n.contains('='));
    }
}
