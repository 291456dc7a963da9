//! `<dataDir>/myid`: the id of this server in an ensemble (`QuorumPeerConfig`
//! `setupMyId`). Only quorum mode needs it; a standalone server is id 0.

use super::error::ConfigError;
use super::Config;

/// The id in a myid file's text: its first line, trimmed, a decimal long.
pub fn parse(text: &str) -> Result<i64, String> {
    let first = text.lines().next().unwrap_or("").trim();
    first
        .parse()
        .map_err(|_| format!("serverid {first} is not a number"))
}

/// Reads `<dataDir>/myid` into `cfg.server_id` when the configuration is a quorum one,
/// checking that a `server.<id>` line names it.
pub fn load(cfg: &mut Config) -> Result<(), ConfigError> {
    if !cfg.is_quorum() {
        return Ok(());
    }
    let path = cfg.data_dir.join("myid");
    let err = |reason: String| ConfigError {
        file: path.display().to_string(),
        line: 0,
        key: "myid".into(),
        reason,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| err(format!("{} file is missing: {e}", path.display())))?;
    let id = parse(&text).map_err(err)?;
    if !cfg.servers.contains_key(&id) {
        return Err(err(format!(
            "no server.{id} line for the id in {}",
            path.display()
        )));
    }
    cfg.server_id = id;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::zoo_cfg;
    use std::collections::BTreeMap;

    fn quorum(dir: &std::path::Path) -> Config {
        let text = format!(
            "dataDir={}\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n",
            dir.display()
        );
        Config::from_entries("zoo.cfg", &zoo_cfg::parse(&text), &BTreeMap::new()).unwrap()
    }

    #[test]
    fn first_line_is_the_id() {
        assert_eq!(parse("2\n"), Ok(2));
        assert_eq!(parse(" 7 \nignored"), Ok(7));
        assert_eq!(parse("x"), Err("serverid x is not a number".into()));
    }

    #[test]
    fn quorum_mode_reads_myid() {
        let dir = std::env::temp_dir().join(format!("rzk-myid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cfg = quorum(&dir);
        assert!(load(&mut cfg)
            .unwrap_err()
            .reason
            .contains("myid file is missing"));
        std::fs::write(dir.join("myid"), "2\n").unwrap();
        load(&mut cfg).unwrap();
        assert_eq!(cfg.server_id, 2);
        std::fs::write(dir.join("myid"), "9\n").unwrap();
        assert!(load(&mut cfg)
            .unwrap_err()
            .reason
            .contains("no server.9 line"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn standalone_needs_no_myid() {
        let mut cfg = Config::from_entries(
            "zoo.cfg",
            &zoo_cfg::parse("dataDir=/nonexistent\nserver.1=h:1:2\n"),
            &BTreeMap::new(),
        )
        .unwrap();
        assert!(!cfg.is_quorum());
        assert_eq!(load(&mut cfg), Ok(()));
    }
}
