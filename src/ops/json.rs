//! JSON values printed the way the AdminServer's Jackson `ObjectMapper` with its default
//! pretty printer prints them (`JsonOutputter`): objects one key per line indented by two
//! spaces with `" : "` between key and value, arrays on one line as `[ a, b ]`, empty
//! containers as `{ }` and `[ ]`, doubles as Java's `Double.toString`.

use std::fmt::Write;

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    Array(Vec<Json>),
    /// Keys in insertion order, as Java's `LinkedHashMap` keeps them.
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    pub fn obj() -> Json {
        Json::Object(Vec::new())
    }

    /// Appends a key (builder style).
    pub fn with(mut self, key: &str, v: Json) -> Json {
        if let Json::Object(entries) = &mut self {
            entries.push((key.to_string(), v));
        }
        self
    }

    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => {
                let _ = write!(out, "{i}");
            }
            // Jackson writes what JSON cannot hold (NaN, infinities) as strings.
            Json::Double(d) if !d.is_finite() => quote(out, &java_double(*d)),
            Json::Double(d) => out.push_str(&java_double(*d)),
            Json::Str(s) => quote(out, s),
            Json::Array(items) => write_array(out, items, indent),
            Json::Object(entries) => write_object(out, entries, indent),
        }
    }
}

fn write_array(out: &mut String, items: &[Json], indent: usize) {
    if items.is_empty() {
        out.push_str("[ ]");
        return;
    }
    out.push_str("[ ");
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        v.write(out, indent);
    }
    out.push_str(" ]");
}

fn write_object(out: &mut String, entries: &[(String, Json)], indent: usize) {
    if entries.is_empty() {
        out.push_str("{ }");
        return;
    }
    out.push('{');
    for (i, (k, v)) in entries.iter().enumerate() {
        out.push_str(if i > 0 { ",\n" } else { "\n" });
        out.push_str(&" ".repeat(indent + 2));
        quote(out, k);
        out.push_str(" : ");
        v.write(out, indent + 2);
    }
    out.push('\n');
    out.push_str(&" ".repeat(indent));
    out.push('}');
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A double as Java's `Double.toString` prints the values the server reports: at least
/// one decimal, scientific notation from 10^7 up.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-3) {
        let s = format!("{v:E}");
        let (mantissa, exp) = s.split_once('E').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        return format!("{mantissa}E{exp}");
    }
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// A latency average as `ServerStats` reports it: rounded to 4 decimals.
pub fn round4(v: f64) -> f64 {
    (v * 10000.0).round() / 10000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_jacksons_default_pretty_printer() {
        let j = Json::obj()
            .with(
                "connections",
                Json::Array(vec![Json::obj().with("a", Json::Int(1))]),
            )
            .with("paths", Json::Array(vec![Json::str("/a"), Json::str("/b")]))
            .with("none", Json::Array(vec![]))
            .with("empty", Json::obj())
            .with("avg", Json::Double(0.0))
            .with("error", Json::Null);
        let want = "{\n  \"connections\" : [ {\n    \"a\" : 1\n  } ],\n  \"paths\" : [ \"/a\", \"/b\" ],\n  \"none\" : [ ],\n  \"empty\" : { },\n  \"avg\" : 0.0,\n  \"error\" : null\n}";
        assert_eq!(j.pretty(), want);
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(1.5), "1.5");
        assert_eq!(java_double(round4(1.0 / 3.0)), "0.3333");
        assert_eq!(java_double(1.0e7), "1.0E7");
        assert_eq!(java_double(12345678.0), "1.2345678E7");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(Json::str("a\"b\n").pretty(), "\"a\\\"b\\n\"");
    }
}
