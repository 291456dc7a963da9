//! The `key=value` lists of RFC 2831 (§7.1 `#rule`): values are tokens or quoted strings
//! with `\` escapes; empty list elements and linear white space are allowed.

use super::SaslError;

/// Parses a digest-response into (lower-cased key, raw value) pairs, in order. A key
/// given twice is an error, as in the JDK's `DigestMD5Base.parseDirectives`.
pub(crate) fn parse(input: &[u8]) -> Result<Vec<(String, Vec<u8>)>, SaslError> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rest = input;
    loop {
        rest = skip(rest, |b| is_lws(b) || b == b',');
        if rest.is_empty() {
            return Ok(out);
        }
        let (key, after) = read_key(rest)?;
        let (value, after) = read_value(skip(after, is_lws))?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err(SaslError::format(&format!(
                "peer sent more than one {key} directive"
            )));
        }
        out.push((key, value));
        rest = skip(after, is_lws);
        match rest.first() {
            None | Some(b',') => {}
            Some(_) => return Err(SaslError::format("directives must be separated by commas")),
        }
    }
}

fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip(s: &[u8], pred: impl Fn(u8) -> bool) -> &[u8] {
    let n = s.iter().take_while(|b| pred(**b)).count();
    s.get(n..).unwrap_or_default()
}

fn read_key(s: &[u8]) -> Result<(String, &[u8]), SaslError> {
    let n = s
        .iter()
        .take_while(|b| !is_lws(**b) && **b != b'=' && **b != b',')
        .count();
    let key = String::from_utf8_lossy(s.get(..n).unwrap_or_default()).to_ascii_lowercase();
    let after = skip(s.get(n..).unwrap_or_default(), is_lws);
    match after.split_first() {
        Some((b'=', v)) if n > 0 => Ok((key, v)),
        _ => Err(SaslError::format("expected key=value")),
    }
}

fn read_value(s: &[u8]) -> Result<(Vec<u8>, &[u8]), SaslError> {
    let Some((b'"', quoted)) = s.split_first() else {
        let n = s.iter().take_while(|b| !is_lws(**b) && **b != b',').count();
        return Ok((
            s.get(..n).unwrap_or_default().to_vec(),
            s.get(n..).unwrap_or_default(),
        ));
    };
    let mut value = Vec::new();
    let mut iter = quoted.iter().enumerate();
    while let Some((i, &b)) = iter.next() {
        match b {
            b'"' => return Ok((value, quoted.get(i + 1..).unwrap_or_default())),
            b'\\' => match iter.next() {
                Some((_, &escaped)) => value.push(escaped),
                None => break,
            },
            _ => value.push(b),
        }
    }
    Err(SaslError::format("unterminated quoted string"))
}

/// Writes `s` as the inside of a quoted string.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(input: &str) -> Vec<(String, String)> {
        parse(input.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
            .collect()
    }

    #[test]
    fn tokens_quoted_strings_and_escapes() {
        let got = kv(r#"Username="a\"b\\c", nc=00000001 ,, qop = auth,realm="""#);
        let want = [
            ("username", r#"a"b\c"#),
            ("nc", "00000001"),
            ("qop", "auth"),
            ("realm", ""),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn malformed_lists_are_errors() {
        for bad in [
            "username",
            "=x",
            r#"a="x"#,
            r#"a="x"b=1"#,
            "a=1,a=2",
            "a=1 b=2",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn quote_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
