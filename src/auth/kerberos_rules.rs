//! The `auth_to_local` rules that turn a Kerberos principal into a short name
//! (`KerberosName` rules, set by the `zookeeper.security.auth_to_local` system
//! property, default `DEFAULT`), in the syntax ZooKeeper's copy of Hadoop's class reads:
//!
//! - `DEFAULT`: a principal of the default realm maps to its first component;
//! - `RULE:[n:format](match)s/pattern/replacement/g`: for principals of `n` components,
//!   `format` with `$0` the realm and `$1`, `$2` the components, kept if the Java
//!   regex `match` matches all of it, then `replaceFirst` (`replaceAll` with `g`).
//!
//! Rules are tried in order; the first that yields a name wins. ZooKeeper 3.8's copy has
//! no `/L` (lowercase) suffix: like Java, such a rule is invalid. Java only finds a bad
//! rule when the first client authenticates (the class initializer throws and SASL
//! breaks for good); rzk refuses it when the server starts, as it does patterns and
//! replacements it could not run as Java would (see `java_regex`).

use super::java_regex::{JavaRegex, Replacement};

/// Why a principal got no short name. Both are exceptions in Java: `Rejected` ones are
/// `IOException`s that `SaslServerCallbackHandler` logs (the client keeps the id it
/// asked for); a `Broken` one escapes it and ends the exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShortNameError {
    Rejected(String),
    Broken(String),
}

/// The parsed rules, in order.
#[derive(Clone, Debug)]
pub struct AuthToLocal {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
enum Rule {
    Default,
    Custom(Box<Custom>),
}

#[derive(Clone, Debug)]
struct Custom {
    components: usize,
    format: String,
    matcher: Option<JavaRegex>,
    substitution: Option<Substitution>,
}

#[derive(Clone, Debug)]
struct Substitution {
    pattern: JavaRegex,
    template: String,
    replacement: Replacement,
    all: bool,
}

impl Default for AuthToLocal {
    fn default() -> AuthToLocal {
        AuthToLocal {
            rules: vec![Rule::Default],
        }
    }
}

impl PartialEq for AuthToLocal {
    fn eq(&self, other: &AuthToLocal) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for AuthToLocal {}

impl std::fmt::Display for AuthToLocal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let texts: Vec<String> = self.rules.iter().map(Rule::to_string).collect();
        f.write_str(&texts.join(" "))
    }
}

impl AuthToLocal {
    /// `KerberosName.parseRules`: rules follow each other, optionally separated by
    /// whitespace, after Java's `trim()`.
    pub fn parse(text: &str) -> Result<AuthToLocal, String> {
        let mut rules = Vec::new();
        let mut rest = text.trim_matches(|c: char| c <= ' ');
        while !rest.is_empty() {
            let (rule, after) =
                parse_rule(rest).ok_or_else(|| format!("Invalid rule: {rest}"))??;
            rules.push(rule);
            rest = after;
        }
        Ok(AuthToLocal { rules })
    }

    /// `KerberosName.getShortName` for a principal split into `realm`, `service` and
    /// optional `host` (bare names never reach the rules).
    pub fn short_name(
        &self,
        default_realm: &str,
        realm: &str,
        components: &[&str],
    ) -> Result<String, ShortNameError> {
        for rule in &self.rules {
            if let Some(name) = rule.apply(default_realm, realm, components)? {
                if name.contains(['/', '@']) {
                    return Err(ShortNameError::Rejected(format!(
                        "Non-simple name {name} after auth_to_local rule {rule}"
                    )));
                }
                return Ok(name);
            }
        }
        let mut full = components.join("/");
        full.push('@');
        full.push_str(realm);
        Err(ShortNameError::Rejected(format!(
            "No rules applied to {full}"
        )))
    }
}

/// Whitespace as Java's `\s`.
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// One rule at the start of `text`: `None` when none starts there, `Some(Err)` when
/// one does but cannot be used.
fn parse_rule(text: &str) -> Option<Result<(Rule, &str), String>> {
    let text = text.trim_start_matches(is_java_space);
    if let Some(rest) = text.strip_prefix("DEFAULT") {
        return Some(Ok((Rule::Default, rest)));
    }
    let rest = text.strip_prefix("RULE:[")?;
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, rest) = rest.split_at(digits_end);
    let rest = rest.strip_prefix(':')?;
    let (format, rest) = rest.split_once(']')?;
    // Java's Integer.parseInt fails on "" and on numbers past i32::MAX.
    let Some(components) = digits
        .parse::<i32>()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
    else {
        return Some(Err(format!(
            "bad number of components {digits:?} in rule {text}"
        )));
    };
    let (matcher, rest) = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
        Some((m, after)) => (Some(m), after),
        None => (None, rest),
    };
    let (sed, rest) = split_substitution(rest);
    Some(build(components, format, matcher, sed).map(|rule| (rule, rest)))
}

/// `s/pattern/replacement/` with an optional `g`, when complete.
fn split_substitution(text: &str) -> (Option<(&str, &str, bool)>, &str) {
    let parts = text.strip_prefix("s/").and_then(|r| {
        let (from, r) = r.split_once('/')?;
        let (to, r) = r.split_once('/')?;
        Some(match r.strip_prefix('g') {
            Some(after) => ((from, to, true), after),
            None => ((from, to, false), r),
        })
    });
    match parts {
        Some((sed, rest)) => (Some(sed), rest),
        None => (None, text),
    }
}

fn build(
    components: usize,
    format: &str,
    matcher: Option<&str>,
    sed: Option<(&str, &str, bool)>,
) -> Result<Rule, String> {
    let matcher = matcher.map(JavaRegex::compile).transpose()?;
    let substitution = match sed {
        None => None,
        Some((from, to, all)) => {
            let pattern = JavaRegex::compile(from)?;
            let replacement = Replacement::parse(to, &pattern)?;
            Some(Substitution {
                pattern,
                template: to.to_string(),
                replacement,
                all,
            })
        }
    };
    Ok(Rule::Custom(Box::new(Custom {
        components,
        format: format.to_string(),
        matcher,
        substitution,
    })))
}

impl Rule {
    /// `Rule.apply`: the name this rule gives, or `None` when it does not apply.
    fn apply(
        &self,
        default_realm: &str,
        realm: &str,
        components: &[&str],
    ) -> Result<Option<String>, ShortNameError> {
        let custom = match self {
            Rule::Default if realm == default_realm => {
                return Ok(components.first().map(|s| s.to_string()))
            }
            Rule::Default => return Ok(None),
            Rule::Custom(c) if c.components == components.len() => c,
            Rule::Custom(_) => return Ok(None),
        };
        let base = fill_format(&custom.format, realm, components)?;
        if custom.matcher.as_ref().is_some_and(|m| !m.matches(&base)) {
            return Ok(None);
        }
        Ok(Some(match &custom.substitution {
            None => base,
            Some(s) => s.pattern.replace(&base, &s.replacement, s.all),
        }))
    }
}

/// `Rule.replaceParameters`: `$n` is parameter `n` of `[realm, components…]`.
fn fill_format(format: &str, realm: &str, components: &[&str]) -> Result<String, ShortNameError> {
    let mut out = String::new();
    let mut pieces = format.split('$');
    out.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        let digits_end = piece
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(piece.len());
        let (digits, text) = piece.split_at(digits_end);
        let bad =
            || ShortNameError::Rejected(format!("bad format in username mapping in {digits}"));
        let n = digits
            .parse::<i32>()
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(bad)?;
        let params = components.len() + 1;
        out.push_str(match n {
            0 => realm,
            n if n <= components.len() => components.get(n - 1).copied().unwrap_or_default(),
            // Java checks `num > params.length`, so `$params` indexes past the array.
            n if n == params => {
                return Err(ShortNameError::Broken(format!(
                    "Index {n} out of bounds for length {params}"
                )))
            }
            n => {
                return Err(ShortNameError::Rejected(format!(
                    "index {n} from {format} is outside of the valid range 0 to {}",
                    params - 1
                )))
            }
        });
        out.push_str(text);
    }
    Ok(out)
}

impl std::fmt::Display for Rule {
    /// `Rule.toString`, as Java's messages print rules.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Rule::Custom(c) = self else {
            return f.write_str("DEFAULT");
        };
        write!(f, "RULE:[{}:{}]", c.components, c.format)?;
        if let Some(m) = &c.matcher {
            write!(f, "({})", m.as_str())?;
        }
        if let Some(s) = &c.substitution {
            write!(
                f,
                "s/{}/{}/{}",
                s.pattern.as_str(),
                s.template,
                if s.all { "g" } else { "" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALM: &str = "APACHE.ORG";

    /// Rules in the style of Hadoop's documentation: Yahoo users by name, one account
    /// mapped to guest, `x/admin` to `x`, any `…/root` to root, then the default realm.
    const SAMPLE: &str = "RULE:[1:$1@$0](.*@YAHOO\\.COM)s/@.*// RULE:[2:$1](johndoe)s/^.*$/guest/ \
        RULE:[2:$1;$2](^.*;admin$)s/;admin$// RULE:[2:$2](root) DEFAULT";

    fn short(rules: &str, principal: &str) -> Result<String, ShortNameError> {
        let (name, realm) = principal.split_once('@').unwrap();
        let components: Vec<&str> = name.split('/').collect();
        AuthToLocal::parse(rules)
            .unwrap()
            .short_name(REALM, realm, &components)
    }

    fn rejected(rules: &str, principal: &str) -> String {
        match short(rules, principal) {
            Err(ShortNameError::Rejected(why)) => why,
            other => panic!("{principal}: {other:?}"),
        }
    }

    #[test]
    fn sample_rules_map_principals_in_order() {
        for (principal, want) in [
            ("omalley@APACHE.ORG", "omalley"),
            ("joe/admin@APACHE.ORG", "joe"),
            ("johndoe/zoo@FOO.COM", "guest"),
            ("joe/admin@FOO.COM", "joe"),
            ("joe/root@FOO.COM", "root"),
            ("foo@YAHOO.COM", "foo"),
        ] {
            assert_eq!(short(SAMPLE, principal).unwrap(), want, "{principal}");
        }
    }

    #[test]
    fn unmatched_principals_name_the_principal() {
        assert_eq!(
            rejected(SAMPLE, "joe@FOO.COM"),
            "No rules applied to joe@FOO.COM"
        );
        assert_eq!(
            rejected(SAMPLE, "x/y@FOO.COM"),
            "No rules applied to x/y@FOO.COM"
        );
        assert_eq!(
            rejected("", "joe@APACHE.ORG"),
            "No rules applied to joe@APACHE.ORG"
        );
    }

    #[test]
    fn default_takes_the_first_component_of_the_default_realm_only() {
        assert_eq!(short("DEFAULT", "zk/host@APACHE.ORG").unwrap(), "zk");
        assert!(short("DEFAULT", "zk@OTHER").is_err());
    }

    #[test]
    fn rules_need_their_number_of_components() {
        assert_eq!(
            short("RULE:[2:$2] DEFAULT", "zk/h@APACHE.ORG").unwrap(),
            "h"
        );
        assert_eq!(short("RULE:[2:$2] DEFAULT", "zk@APACHE.ORG").unwrap(), "zk");
    }

    #[test]
    fn rules_may_follow_each_other_without_space() {
        assert_eq!(AuthToLocal::parse("DEFAULTDEFAULT").unwrap().rules.len(), 2);
        let r = AuthToLocal::parse(" \tRULE:[1:$1]DEFAULT\n").unwrap();
        assert_eq!(r.to_string(), "RULE:[1:$1] DEFAULT");
    }

    #[test]
    fn global_flag_replaces_every_match() {
        assert_eq!(short("RULE:[1:$1]s/o/0/", "foo@X").unwrap(), "f0o");
        assert_eq!(short("RULE:[1:$1]s/o/0/g", "foo@X").unwrap(), "f00");
        assert_eq!(short("RULE:[1:$1]s/(o+)/$1$1/g", "foo@X").unwrap(), "foooo");
    }

    #[test]
    fn names_with_slash_or_at_left_by_a_rule_are_rejected() {
        let why = rejected("RULE:[1:$1@$0] DEFAULT", "foo@APACHE.ORG");
        assert_eq!(
            why,
            "Non-simple name foo@APACHE.ORG after auth_to_local rule RULE:[1:$1@$0]"
        );
    }

    #[test]
    fn format_indexes_out_of_range() {
        assert!(rejected("RULE:[1:$3]", "foo@X").contains("outside of the valid range 0 to 1"));
        assert!(rejected("RULE:[1:$]", "foo@X").starts_with("bad format"));
        assert!(rejected("RULE:[1:$99999999999]", "foo@X").starts_with("bad format"));
        // Java's bound check is off by one: `$2` of a one-component name throws past it.
        assert!(matches!(
            short("RULE:[1:$2]", "foo@X"),
            Err(ShortNameError::Broken(_))
        ));
        assert_eq!(short("RULE:[1:x$01y]", "foo@X").unwrap(), "xfooy");
    }

    #[test]
    fn invalid_rules_are_refused() {
        for bad in [
            "RULE:[1:$1]/L",
            "RULE:[1:$1@$0](.*@X)s/@.*//L",
            "RULE:[:$1]",
            "RULE:[1:$1]s/x",
            "RULE:[1:$1",
            "RULE:1:$1]",
            "default",
            "RULE:[1:$1](a(b)",
            "RULE:[99999999999:$1]",
            "RULE:[1:$1@$0]s/@.*/$1/",
            "RULE:[1:$1]s/(a)\\1/x/",
            "RULE:[1:$1](?=a)",
        ] {
            assert!(AuthToLocal::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            AuthToLocal::parse("RULE:[1:$1]/L").unwrap_err(),
            "Invalid rule: /L"
        );
    }

    #[test]
    fn rules_print_as_java_prints_them() {
        let r = AuthToLocal::parse(SAMPLE).unwrap();
        assert_eq!(
            r.to_string(),
            "RULE:[1:$1@$0](.*@YAHOO\\.COM)s/@.*// RULE:[2:$1](johndoe)s/^.*$/guest/ \
             RULE:[2:$1;$2](^.*;admin$)s/;admin$// RULE:[2:$2](root) DEFAULT"
        );
    }
}
