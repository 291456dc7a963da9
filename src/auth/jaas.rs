//! The JAAS login configuration file, as far as ZooKeeper's SASL server goes: the
//! DIGEST-MD5 users (`SaslServerCallbackHandler`: every `user_<name>="<password>"` option
//! of every login module in the server section) and the Kerberos login
//! (`Krb5LoginModule` options `principal`, `keyTab`, ...), whose presence makes
//! `SecurityUtils.createSaslServer` offer GSSAPI instead of DIGEST-MD5.
//!
//! Syntax as the JDK's `ConfigFile` reads it with a `StreamTokenizer`:
//! `Name { module.Class flag key=value ... ; ... };`, `//` and `/* */` comments, values
//! in double quotes (backslash escapes) or bare words. The JDK rejects single-quoted
//! values and bare values starting with a digit, `.` or `-` (number tokens). `${...}` property
//! expansion is not performed.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    /// `'...'`: a quote token the JDK's parser does not take as a value.
    SingleQuoted(String),
    Number(String),
    Punct(char),
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

fn starts_word(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '$' | '_' | '*') || u32::from(c) >= 0xA0
}

fn continues_word(c: char) -> bool {
    starts_word(c) || c.is_ascii_digit() || matches!(c, '.' | '-')
}

impl Lexer<'_> {
    fn take_while(&mut self, first: char, pred: impl Fn(char) -> bool) -> String {
        let mut s = String::from(first);
        while let Some(&c) = self.chars.peek() {
            if !pred(c) {
                break;
            }
            s.push(c);
            self.chars.next();
        }
        s
    }

    fn skip_comment(&mut self) -> Result<(), String> {
        match self.chars.peek() {
            Some('*') => {
                self.chars.next();
                let mut prev = ' ';
                for c in self.chars.by_ref() {
                    if prev == '*' && c == '/' {
                        return Ok(());
                    }
                    prev = c;
                }
                Err("unterminated /* comment".to_string())
            }
            // `//`, and a lone `/` (the tokenizer's default comment character).
            _ => {
                self.chars.by_ref().find(|&c| c == '\n');
                Ok(())
            }
        }
    }

    fn quoted(&mut self, quote: char) -> Result<String, String> {
        let mut s = String::new();
        while let Some(c) = self.chars.next() {
            match c {
                c if c == quote => return Ok(s),
                '\n' => break,
                '\\' => s.push(self.escape()?),
                c => s.push(c),
            }
        }
        Err("unterminated quoted string".to_string())
    }

    /// `StreamTokenizer` escapes: C-style letters, up to three octal digits, else the char.
    fn escape(&mut self) -> Result<char, String> {
        let c = self.chars.next().ok_or("unterminated quoted string")?;
        Ok(match c {
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            '0'..='7' => {
                let mut v = c.to_digit(8).unwrap_or(0);
                let max_digits = if c <= '3' { 2 } else { 1 };
                for _ in 0..max_digits {
                    match self.chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.chars.next();
                        }
                        None => break,
                    }
                }
                char::from_u32(v).unwrap_or('\u{0}')
            }
            other => other,
        })
    }

    fn next_token(&mut self) -> Result<Option<Token>, String> {
        while let Some(c) = self.chars.next() {
            match c {
                c if c <= ' ' => {}
                '/' => self.skip_comment()?,
                '"' => return self.quoted(c).map(|s| Some(Token::Quoted(s))),
                '\'' => return self.quoted(c).map(|s| Some(Token::SingleQuoted(s))),
                c if c.is_ascii_digit() || c == '.' || c == '-' => {
                    let n = self.take_while(c, |d| d.is_ascii_digit() || d == '.');
                    return Ok(Some(Token::Number(n)));
                }
                c if starts_word(c) => {
                    return Ok(Some(Token::Word(self.take_while(c, continues_word))))
                }
                c => return Ok(Some(Token::Punct(c))),
            }
        }
        Ok(None)
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut lexer = Lexer {
        chars: text.chars().peekable(),
    };
    let mut out = Vec::new();
    while let Some(t) = lexer.next_token()? {
        out.push(t);
    }
    Ok(out)
}

/// One login-module entry: its class and options.
type Entry = (String, BTreeMap<String, String>);

struct Parser {
    tokens: std::vec::IntoIter<Token>,
    peeked: Option<Token>,
}

impl Parser {
    fn peek(&mut self) -> Option<&Token> {
        if self.peeked.is_none() {
            self.peeked = self.tokens.next();
        }
        self.peeked.as_ref()
    }

    fn next(&mut self) -> Option<Token> {
        self.peek();
        self.peeked.take()
    }

    fn is_punct(&mut self, c: char) -> bool {
        self.peek() == Some(&Token::Punct(c))
    }

    fn punct(&mut self, c: char) -> Result<(), String> {
        match self.next() {
            Some(Token::Punct(p)) if p == c => Ok(()),
            other => Err(format!("expected [{c}], found {other:?}")),
        }
    }

    /// A word or quoted string.
    fn value(&mut self, what: &str) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(s)) | Some(Token::Quoted(s)) => Ok(s),
            other => Err(format!("expected [{what}], found {other:?}")),
        }
    }

    fn section(&mut self) -> Result<(String, Vec<Entry>), String> {
        let name = self.value("application name")?;
        self.punct('{')?;
        let mut entries = Vec::new();
        while !self.is_punct('}') {
            entries.push(self.entry()?);
        }
        self.punct('}')?;
        self.punct(';')?;
        Ok((name, entries))
    }

    fn entry(&mut self) -> Result<Entry, String> {
        let class = self.value("module class name")?;
        let flag = self.value("controlFlag")?.to_ascii_uppercase();
        if !matches!(
            flag.as_str(),
            "REQUIRED" | "REQUISITE" | "SUFFICIENT" | "OPTIONAL"
        ) {
            return Err(format!("Invalid control flag, flag = {flag}"));
        }
        let mut options = BTreeMap::new();
        while !self.is_punct(';') {
            let key = self.value("option key")?;
            self.punct('=')?;
            let value = self.value("option value")?;
            options.insert(key, value);
        }
        self.punct(';')?;
        Ok((class, options))
    }
}

/// The login-module entries of section `section`, after checking the whole file parses
/// as the JDK's `ConfigFile` would.
fn section_entries(text: &str, section: &str) -> Result<Vec<Entry>, String> {
    let mut parser = Parser {
        tokens: tokenize(text)?.into_iter(),
        peeked: None,
    };
    let mut found: Option<Vec<Entry>> = None;
    let mut seen = Vec::new();
    while parser.peek().is_some() {
        let (name, entries) = parser.section()?;
        if seen.contains(&name) {
            return Err(format!("Can not specify multiple entries for {name}"));
        }
        if name == section {
            found = Some(entries);
        }
        seen.push(name);
    }
    found.ok_or_else(|| {
        format!("Could not find a '{section}' entry in this configuration: Server cannot start.")
    })
}

/// The DIGEST-MD5 users (name → password) of section `section` (ZooKeeper's default is
/// `Server`, `zookeeper.sasl.serverconfig`). Errors carry a reason for the log.
pub fn parse_jaas_server_section(
    text: &str,
    section: &str,
) -> Result<BTreeMap<String, String>, String> {
    let users = section_entries(text, section)?
        .into_iter()
        .flat_map(|(_, options)| options)
        .filter_map(|(k, v)| k.strip_prefix("user_").map(|u| (u.to_string(), v)))
        .collect();
    Ok(users)
}

/// The JDK's Kerberos login module; a server section holding it logs in a Kerberos
/// principal, and ZooKeeper then serves GSSAPI.
pub const KRB5_LOGIN_MODULE: &str = "com.sun.security.auth.module.Krb5LoginModule";

/// The `Krb5LoginModule` options a GSSAPI acceptor needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Krb5Login {
    /// `principal`, e.g. `zookeeper/host@REALM` (the realm may be left to the default).
    pub principal: Option<String>,
    /// `keyTab`: the keytab file, when `useKeyTab=true`; else the default keytab.
    pub key_tab: Option<String>,
    pub use_key_tab: bool,
    pub store_key: bool,
}

/// The first `Krb5LoginModule` entry of section `section`, if any. Option names and
/// `true` are matched as the JDK module does (`"true".equalsIgnoreCase`).
pub fn parse_jaas_kerberos(text: &str, section: &str) -> Result<Option<Krb5Login>, String> {
    let entry = section_entries(text, section)?
        .into_iter()
        .find(|(class, _)| class == KRB5_LOGIN_MODULE);
    Ok(entry.map(|(_, options)| {
        let flag = |k: &str| {
            options
                .get(k)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        };
        Krb5Login {
            principal: options.get("principal").cloned(),
            key_tab: options.get("keyTab").cloned(),
            use_key_tab: flag("useKeyTab"),
            store_key: flag("storeKey"),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPICAL: &str = r#"
/* ZooKeeper server side */
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";   // trailing comment
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";
};
"#;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_users_of_the_server_section() {
        let users = parse_jaas_server_section(TYPICAL, "Server").unwrap();
        assert_eq!(
            users,
            map(&[("bob", "bobsecret"), ("super", "adminsecret")])
        );
        assert!(parse_jaas_server_section(TYPICAL, "Client")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn missing_section_is_an_error() {
        let err = parse_jaas_server_section(TYPICAL, "QuorumServer").unwrap_err();
        assert!(err.contains("'QuorumServer'"), "{err}");
    }

    #[test]
    fn several_modules_bare_words_and_escapes() {
        let text = "Server{com.sun.security.auth.module.Krb5LoginModule OPTIONAL useKeyTab=true\n\
                    principal=\"zookeeper/host@EXAMPLE.COM\";\n\
                    org.apache.zookeeper.server.auth.DigestLoginModule Required\n\
                    user_alice=alicepw user_q=\"a\\\"b\\\\c\\101\";};";
        let users = parse_jaas_server_section(text, "Server").unwrap();
        assert_eq!(users, map(&[("alice", "alicepw"), ("q", "a\"b\\cA")]));
    }

    #[test]
    fn later_definitions_of_a_user_win() {
        let text = "Server { a.B required user_x=\"1\"; c.D required user_x=\"2\"; };";
        assert_eq!(
            parse_jaas_server_section(text, "Server").unwrap(),
            map(&[("x", "2")])
        );
    }

    #[test]
    fn malformed_files_are_errors() {
        let bad = [
            "Server { a.B required user_x=\"1\" };",
            "Server { a.B mandatory user_x=\"1\"; };",
            "Server { a.B required user_x=12345; };",
            "Server { a.B required user_x=-abc; };",
            "Server { a.B required user_x='abc'; };",
            "# hash comment\nServer { a.B required user_x=\"1\"; };",
            "Server { a.B required user_x=\"1; };",
            "Server { a.B required user_x=\"1\"; }",
            "Server { a.B required user_x \"1\"; };",
            "Server { a.B required; }; Server { a.B required; };",
            "Server { a.B required; }; /* open",
        ];
        for text in bad {
            assert!(parse_jaas_server_section(text, "Server").is_err(), "{text}");
        }
    }

    #[test]
    fn krb5_login_module_options_are_read() {
        let text = r#"Server {
            com.sun.security.auth.module.Krb5LoginModule required
            useKeyTab=true keyTab="/etc/zk/zk.keytab" storeKey=TRUE useTicketCache=false
            principal="zookeeper/localhost@EXAMPLE.COM";
        };"#;
        let login = parse_jaas_kerberos(text, "Server").unwrap().unwrap();
        assert_eq!(
            login,
            Krb5Login {
                principal: Some("zookeeper/localhost@EXAMPLE.COM".into()),
                key_tab: Some("/etc/zk/zk.keytab".into()),
                use_key_tab: true,
                store_key: true,
            }
        );
        assert!(parse_jaas_server_section(text, "Server")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn digest_only_sections_have_no_kerberos_login() {
        assert_eq!(parse_jaas_kerberos(TYPICAL, "Server").unwrap(), None);
        assert!(parse_jaas_kerberos(TYPICAL, "Missing").is_err());
    }

    #[test]
    fn empty_section_has_no_users() {
        assert!(parse_jaas_server_section("Server { };", "Server")
            .unwrap()
            .is_empty());
    }
}
