//! The `zoo.cfg` text format: `java.util.Properties`-style `key=value` lines.
//!
//! Like the Java server: `#` and `!` start comment lines, surrounding white space is
//! trimmed, `key value` and `key: value` are accepted as well as `key=value`, and a later
//! line for the same key wins.

/// One `key=value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub key: String,
    pub value: String,
}

pub fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter_map(|(i, raw)| parse_line(i + 1, raw))
        .collect()
}

fn parse_line(line: usize, raw: &str) -> Option<Entry> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
        return None;
    }
    let split = trimmed.find(['=', ':', ' ', '\t']).unwrap_or(trimmed.len());
    let key = trimmed[..split].trim().to_string();
    let rest = trimmed[split..].trim_start();
    let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest);
    Some(Entry {
        line,
        key,
        value: rest.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_properties_style_lines() {
        let e = parse("# c\n! c\n\ntickTime=2000\n  clientPort : 2181 \ndataDir /var/zk\nempty=\n");
        let kv: Vec<_> = e
            .iter()
            .map(|e| (e.line, e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            kv,
            vec![
                (4, "tickTime", "2000"),
                (5, "clientPort", "2181"),
                (6, "dataDir", "/var/zk"),
                (7, "empty", "")
            ]
        );
    }

    #[test]
    fn value_may_contain_separators() {
        let e = parse("server.1=127.0.0.1:2888:3888;2181\n");
        assert_eq!(e[0].key, "server.1");
        assert_eq!(e[0].value, "127.0.0.1:2888:3888;2181");
    }
}
