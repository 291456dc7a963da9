//! Whether a string is a distinguished name `X500Principal(String)` would accept: the
//! validity check of an `x509:` ACL id (`X509AuthenticationProvider.isValid`).
//!
//! Java parses the name in RFC 1779/2253 form: relative names separated by `,` or `;`,
//! attribute-value pairs within one joined by `+`, each `keyword=value` where the
//! keyword is one Java knows by name or a dotted OID (optionally `OID.`-prefixed), and
//! the value is quoted, `#` hex, or plain text in which `,` `+` `;` `"` `\` `<` `>`
//! must be escaped with `\`. The empty string is the empty name. A null id (which a
//! client writes for an empty string in some libraries) makes Java throw, which the
//! caller turns into MarshallingError.

/// Attribute keywords `X500Principal` reads by name (`AVAKeyword`, RFC 1779 table).
const KEYWORDS: [&str; 21] = [
    "CN",
    "C",
    "L",
    "S",
    "ST",
    "O",
    "OU",
    "T",
    "IP",
    "STREET",
    "DC",
    "DNQUALIFIER",
    "DNQ",
    "SURNAME",
    "GIVENNAME",
    "INITIALS",
    "GENERATION",
    "EMAIL",
    "EMAILADDRESS",
    "UID",
    "SERIALNUMBER",
];

/// True when `name` parses as a distinguished name.
pub fn is_valid_dn(name: &str) -> bool {
    if name.trim().is_empty() {
        return true;
    }
    match split_unescaped(name, &[',', ';']) {
        Some(rdns) => rdns.iter().all(|rdn| {
            split_unescaped(rdn, &['+']).is_some_and(|avas| avas.iter().all(|a| is_valid_ava(a)))
        }),
        None => false,
    }
}

/// Splits at the separators outside quotes and escapes; `None` for an unterminated
/// quote or a trailing backslash.
fn split_unescaped<'a>(s: &'a str, seps: &[char]) -> Option<Vec<&'a str>> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted && seps.contains(&c) {
            parts.push(s.get(start..i)?);
            start = i + c.len_utf8();
        }
    }
    if quoted || escaped {
        return None;
    }
    parts.push(s.get(start..)?);
    Some(parts)
}

fn is_valid_ava(ava: &str) -> bool {
    let Some((key, value)) = ava.split_once('=') else {
        return false;
    };
    is_valid_keyword(key.trim()) && is_valid_value(value.trim())
}

fn is_valid_keyword(key: &str) -> bool {
    let oid = key
        .strip_prefix("OID.")
        .or_else(|| key.strip_prefix("oid."))
        .unwrap_or(key);
    let is_oid = !oid.is_empty()
        && oid.split('.').count() >= 2
        && oid
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    is_oid || KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

fn is_valid_value(value: &str) -> bool {
    if let Some(hex) = value.strip_prefix('#') {
        return !hex.is_empty() && hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(inner) = value.strip_prefix('"') {
        return inner
            .strip_suffix('"')
            .is_some_and(|body| !body.replace("\\\"", "").contains('"'));
    }
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if matches!(c, '"' | '<' | '>' | '=') {
            return false;
        }
    }
    !escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_certificates_are_valid() {
        for n in [
            "CN=alice,OU=ZooKeeper,O=Apache,C=US",
            "cn=a; o=b",
            "CN=a+UID=7,DC=example",
            "CN=\"a, b\",O=x",
            "CN=a\\,b",
            "OID.2.5.4.3=a",
            "2.5.4.3=#0403616263",
            "",
        ] {
            assert!(is_valid_dn(n), "{n}");
        }
    }

    #[test]
    fn text_that_is_not_a_name_is_refused() {
        for n in [
            "not a dn",
            "CN",
            "XX=a",
            "CN=a,",
            "CN=\"open",
            "CN=a\\",
            "2.5=#abc",
            "CN=a<b",
            "=a",
        ] {
            assert!(!is_valid_dn(n), "{n}");
        }
    }
}
