//! Java `java.util.regex` patterns and replacement strings for the `auth_to_local` rules
//! of `KerberosName` (`Pattern.compile`, `Matcher.matches`, `replaceFirst`,
//! `replaceAll`), run on the `regex` crate.
//!
//! A pattern is rewritten into the crate's syntax where the two agree, with Java's
//! meanings kept: `\d`, `\w`, `\s` are ASCII classes as in Java without
//! `UNICODE_CHARACTER_CLASS`, `.` stops at every Java line terminator, `\Q…\E` quotes.
//! Whatever the crate cannot do or would read differently is refused, so that a rule is
//! either run as Java runs it or rejected when the server starts: backreferences,
//! lookaround, atomic groups, possessive quantifiers, `\G` `\Z` `\R` `\X` `\h` `\v`
//! `\p{…}` octal and control escapes, POSIX and `--`/`~~` class syntax, and the flags
//! other than `i` and `m`. Remaining differences only show on names holding line
//! terminators (`$`, `(?m)`) or non-ASCII letters under `(?i)` (Java folds ASCII only).

use regex::{Captures, Regex};

/// Java's `.`: any character but a line terminator (`Pattern.DOTALL` is refused).
const DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";
const SPACE: &str = r"\t\n\x0B\x0C\r\x20";

/// A compiled Java pattern.
#[derive(Clone, Debug)]
pub struct JavaRegex {
    source: String,
    find: Regex,
    whole: Regex,
}

impl JavaRegex {
    /// `Pattern.compile(pattern)`, or why rzk cannot run it as Java would.
    pub fn compile(pattern: &str) -> Result<JavaRegex, String> {
        let refuse = |why: String| format!("regular expression {pattern:?}: {why}");
        let translated = translate(pattern).map_err(refuse)?;
        let find = Regex::new(&translated).map_err(|e| refuse(e.to_string()))?;
        let whole =
            Regex::new(&format!(r"\A(?:{translated})\z")).map_err(|e| refuse(e.to_string()))?;
        Ok(JavaRegex {
            source: pattern.to_string(),
            find,
            whole,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// `Matcher.matches()`: the whole input matches.
    pub fn matches(&self, input: &str) -> bool {
        self.whole.is_match(input)
    }

    /// `Matcher.replaceAll` (`all`) or `replaceFirst`, searching as `Matcher.find` does:
    /// after an empty match the next search starts one character further.
    pub fn replace(&self, input: &str, with: &Replacement, all: bool) -> String {
        let mut out = String::new();
        let (mut copied, mut from) = (0, 0);
        while let Some(caps) = self.find.captures_at(input, from) {
            let Some(m) = caps.get(0) else { break };
            out.push_str(input.get(copied..m.start()).unwrap_or_default());
            with.append(&caps, &mut out);
            copied = m.end();
            if !all {
                break;
            }
            from = if m.is_empty() {
                next_char(input, m.end())
            } else {
                m.end()
            };
            if from > input.len() {
                break;
            }
        }
        out.push_str(input.get(copied..).unwrap_or_default());
        out
    }

    fn group_index(&self, name: &str) -> Option<usize> {
        self.find.capture_names().position(|n| n == Some(name))
    }

    fn group_count(&self) -> usize {
        self.find.captures_len() - 1
    }
}

fn next_char(s: &str, at: usize) -> usize {
    s.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(at + 1, |c| at + c.len_utf8())
}

/// A replacement string as `Matcher.appendReplacement` reads it: `\x` is `x`, `$n` and
/// `${name}` are groups (`$12` takes the longest number naming a group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement(Vec<Piece>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Group(usize),
}

impl Replacement {
    /// Checks the references against `regex` now: Java throws on the first match.
    pub fn parse(template: &str, regex: &JavaRegex) -> Result<Replacement, String> {
        let refuse = |why: String| format!("replacement {template:?}: {why}");
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => text.push(
                    chars
                        .next()
                        .ok_or_else(|| refuse("character to be escaped is missing".into()))?,
                ),
                '$' => {
                    let group = group_reference(&mut chars, regex).map_err(refuse)?;
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                    pieces.push(Piece::Group(group));
                }
                c => text.push(c),
            }
        }
        pieces.push(Piece::Text(text));
        pieces.retain(|p| *p != Piece::Text(String::new()));
        Ok(Replacement(pieces))
    }

    fn append(&self, caps: &Captures<'_>, out: &mut String) {
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(g) => out.push_str(caps.get(*g).map_or("", |m| m.as_str())),
            }
        }
    }
}

/// The group after a `$` of a replacement.
fn group_reference(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    regex: &JavaRegex,
) -> Result<usize, String> {
    match chars.next() {
        None => Err("Illegal group reference: group index is missing".into()),
        Some('{') => {
            let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
            regex
                .group_index(&name)
                .ok_or_else(|| format!("No group with name {{{name}}}"))
        }
        Some(d) if d.is_ascii_digit() => {
            let mut group = d as usize - '0' as usize;
            if group > regex.group_count() {
                return Err(format!("No group {group}"));
            }
            while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                let longer = group * 10 + next as usize;
                if longer > regex.group_count() {
                    break;
                }
                group = longer;
                chars.next();
            }
            Ok(group)
        }
        Some(_) => Err("Illegal group reference".into()),
    }
}

/// The `regex` crate spelling of a Java pattern.
fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut depth = 0usize; // nesting of character classes
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        let next = chars.get(i).copied();
        match c {
            '\\' => i = escape(&chars, i, depth > 0, &mut out)?,
            '[' => i = open_class(&chars, i, depth > 0, &mut out)?,
            ']' if depth > 0 => out.push(']'),
            '-' | '~' if depth > 0 && next == Some(c) => {
                return Err(format!(
                    "`{c}{c}` in a class means a set operation to the regex engine"
                ))
            }
            _ if depth > 0 => out.push(c),
            '.' => out.push_str(DOT),
            '(' => i = open_group(&chars, i, &mut out)?,
            '*' | '+' | '?' | '}' if next == Some('+') => {
                return Err("possessive quantifiers are not supported".into())
            }
            c => out.push(c),
        }
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            _ => {}
        }
    }
    Ok(out)
}

fn open_class(
    chars: &[char],
    mut i: usize,
    nested: bool,
    out: &mut String,
) -> Result<usize, String> {
    if nested && chars.get(i) == Some(&':') {
        return Err("POSIX classes `[:name:]` mean other things in Java".into());
    }
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        return Err("a class starting with `]` is read differently by Java".into());
    }
    Ok(i)
}

fn open_group(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    if chars.get(i) != Some(&'?') {
        out.push('(');
        return Ok(i);
    }
    match chars.get(i + 1) {
        Some(':') => out.push_str("(?:"),
        Some('=' | '!' | '>') => return Err("lookahead and atomic groups are not supported".into()),
        Some('<') if matches!(chars.get(i + 2), Some('=' | '!')) => {
            return Err("lookbehind is not supported".into())
        }
        Some('<') => return named_group(chars, i + 2, out),
        _ => return flag_group(chars, i + 1, out),
    }
    Ok(i + 2)
}

/// `(?<name>`: Java names are an ASCII letter then ASCII letters and digits.
fn named_group(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let name: String = chars
        .get(i..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&c| c != '>')
        .collect();
    let mut it = name.chars();
    let valid =
        it.next().is_some_and(|c| c.is_ascii_alphabetic()) && it.all(|c| c.is_ascii_alphanumeric());
    if !valid || chars.get(i + name.chars().count()) != Some(&'>') {
        return Err(format!("bad group name {name:?}"));
    }
    out.push_str(&format!("(?<{name}>"));
    Ok(i + name.chars().count() + 1)
}

/// `(?flags)` / `(?flags:`: only `i` and `m` mean the same to both engines.
fn flag_group(chars: &[char], mut i: usize, out: &mut String) -> Result<usize, String> {
    out.push_str("(?");
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            'i' | 'm' | '-' => out.push(c),
            ':' | ')' => {
                out.push(c);
                return Ok(i);
            }
            other => {
                return Err(format!(
                    "the flag `{other}` is not supported (only i and m)"
                ))
            }
        }
    }
    Err("unclosed group".into())
}

/// A Java escape (after the backslash at `i - 1`); returns where the pattern goes on.
fn escape(chars: &[char], i: usize, in_class: bool, out: &mut String) -> Result<usize, String> {
    let Some(&e) = chars.get(i) else {
        return Err("trailing backslash".into());
    };
    let class = |set: &str| {
        if in_class {
            set.to_string()
        } else {
            format!("[{set}]")
        }
    };
    let s = match e {
        'd' => class("0-9"),
        'w' => class("0-9A-Za-z_"),
        's' => class(SPACE),
        'D' => "[^0-9]".to_string(),
        'W' => "[^0-9A-Za-z_]".to_string(),
        'S' => format!("[^{SPACE}]"),
        'b' | 'B' | 'A' | 'z' if !in_class => format!("\\{e}"),
        't' | 'n' | 'r' | 'f' | 'a' => format!("\\{e}"),
        'e' => r"\x1B".to_string(),
        'x' | 'u' => return copy_hex_escape(chars, i, out),
        'Q' if !in_class => return Ok(quote(chars, i + 1, out)),
        '1'..='9' => return Err("backreferences are not supported".into()),
        c if c.is_ascii_alphanumeric() => return Err(format!("the escape \\{c} is not supported")),
        c => regex::escape(&c.to_string()),
    };
    out.push_str(&s);
    Ok(i + 1)
}

/// `\xhh`, `\x{h…}` and `\uhhhh` are spelt alike by both engines.
fn copy_hex_escape(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let len = match (chars.get(i), chars.get(i + 1)) {
        (Some('x'), Some('{')) => chars
            .get(i..)
            .unwrap_or_default()
            .iter()
            .position(|&c| c == '}')
            .map(|p| p + 1),
        (Some('x'), _) => Some(3),
        _ => Some(5),
    };
    let Some(part) = len.and_then(|n| chars.get(i..i + n)) else {
        return Err("truncated hexadecimal escape".into());
    };
    out.push('\\');
    out.extend(part);
    Ok(i + part.len())
}

/// `\Q…\E` (or to the end): the text in between is literal.
fn quote(chars: &[char], start: usize, out: &mut String) -> usize {
    let rest = chars.get(start..).unwrap_or_default();
    let end = rest
        .windows(2)
        .position(|w| w == ['\\', 'E'])
        .unwrap_or(rest.len());
    let literal: String = rest.iter().take(end).collect();
    out.push_str(&regex::escape(&literal));
    (start + end + 2).min(chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> JavaRegex {
        JavaRegex::compile(p).unwrap()
    }

    fn sub(p: &str, to: &str, input: &str, all: bool) -> String {
        let r = re(p);
        r.replace(input, &Replacement::parse(to, &r).unwrap(), all)
    }

    #[test]
    fn matches_is_a_whole_input_match() {
        assert!(re(".*@FOO\\.COM").matches("joe@FOO.COM"));
        assert!(!re(".*@FOO\\.COM").matches("joe@FOO.COM.X"));
        assert!(re("a|ab").matches("ab"));
    }

    #[test]
    fn shorthand_classes_are_ascii_as_in_java() {
        assert!(!re("\\w+").matches("jos\u{e9}"));
        assert!(!re("\\d").matches("\u{0663}"));
        assert!(re("[\\w.]+").matches("a.b_1"));
        assert!(re("[^\\W]+").matches("ab"));
        assert!(re("\\S+\\s\\S+").matches("a\u{b}b"));
    }

    #[test]
    fn dot_stops_at_every_java_line_terminator() {
        assert!(re("a.b").matches("a-b"));
        for t in ["\n", "\r", "\u{85}", "\u{2028}"] {
            assert!(!re("a.b").matches(&format!("a{t}b")), "{t:?}");
        }
    }

    #[test]
    fn quoted_text_is_literal() {
        assert!(re("\\Qa.b\\E.c").matches("a.bxc"));
        assert!(!re("\\Qa.b\\E").matches("axb"));
        assert!(re("x\\Q+*").matches("x+*"));
    }

    #[test]
    fn replace_first_and_all() {
        assert_eq!(sub("@.*", "", "joe@FOO.COM", false), "joe");
        assert_eq!(sub("o", "0", "foo", false), "f0o");
        assert_eq!(sub("o", "0", "foo", true), "f00");
        assert_eq!(sub("(.*)/(.*)", "$2-$1", "a/b", false), "b-a");
        assert_eq!(sub("(?<u>[a-z]+)X", "${u}!", "abX", false), "ab!");
        assert_eq!(sub("a", "\\$1\\\\", "a", false), "$1\\");
        assert_eq!(sub("nomatch", "x", "abc", true), "abc");
    }

    #[test]
    fn empty_matches_advance_like_matcher_find() {
        assert_eq!(sub("a*", "X", "aaa", true), "XX");
        assert_eq!(sub("x*", "-", "ab", true), "-a-b-");
        assert_eq!(sub("x*", "-", "\u{e9}", true), "-\u{e9}-");
    }

    #[test]
    fn group_numbers_take_the_longest_existing_group() {
        assert_eq!(sub("(a)", "$10", "a", false), "a0");
        let many = "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)";
        assert_eq!(sub(many, "$11", "abcdefghijk", false), "k");
    }

    #[test]
    fn bad_replacements_are_refused() {
        let r = re("(a)");
        for bad in ["$2", "$x", "$", "\\", "${nope}"] {
            assert!(Replacement::parse(bad, &r).is_err(), "{bad}");
        }
    }

    #[test]
    fn constructs_the_regex_crate_lacks_are_refused() {
        for bad in [
            "(a)\\1",
            "a(?=b)",
            "a(?!b)",
            "(?<=a)b",
            "(?<!a)b",
            "(?>a)",
            "a*+",
            "a++",
            "a?+",
            "a{2}+",
            "\\Gx",
            "a\\Z",
            "\\R",
            "\\X",
            "\\h",
            "\\v",
            "\\p{Lower}",
            "\\0101",
            "\\cA",
            "[[:alpha:]]",
            "[a--b]",
            "[a~~b]",
            "(?s).",
            "(?x)a",
            "(?u)a",
            "(?U)a",
            "(?d)a",
            "(?<a_b>x)",
            "[]a]",
            "\\",
        ] {
            assert!(JavaRegex::compile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn supported_constructs_compile() {
        for ok in [
            "(?i)joe",
            "(?m)^a$",
            "(?i:a)b",
            "[a-z&&[^e]]+",
            "\\x41\\x{42}\\u0043",
            "\\t\\e",
            "\\.\\@\\/\\<",
            "a{2,3}?",
            "(?:x)|y",
            "\\bword\\B",
        ] {
            assert!(JavaRegex::compile(ok).is_ok(), "{ok}");
        }
        assert!(re("\\x41\\x{42}\\u0043").matches("ABC"));
        assert!(re("\\<").matches("<"));
        assert!(re("[a-z&&[^e]]+").matches("abc") && !re("[a-z&&[^e]]+").matches("e"));
        assert!(re("(?i)joe").matches("JOE"));
    }
}
