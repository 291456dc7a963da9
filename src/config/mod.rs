//! `zoo.cfg` parsing and the typed configuration (`QuorumPeerConfig`, `ServerConfig`).
//!
//! Two steps, as the Java server does them: [`zoo_cfg::parse`] turns the text into
//! key/value entries with line numbers, then [`Config::from_entries`] validates them into
//! typed settings. An invalid value stops the start with `file:line: key: reason`.
//! Unknown keys are kept and warned about (Apache ZooKeeper turns them into
//! `zookeeper.<key>` system properties, so they are never an error).
//!
//! System properties matter too: operators pass `-Dzookeeper.*`, `-Djute.maxbuffer` and
//! `-Djava.security.auth.login.config` through `SERVER_JVMFLAGS`/`JVMFLAGS` (zkServer.sh).
//! [`sysprops::from_env`] reads them so the same deployment files work unchanged.

pub mod error;
pub mod keys;
pub mod myid;
pub mod quorum;
pub mod settings;
pub mod sysprops;
pub mod tls;
pub mod zoo_cfg;

pub use error::ConfigError;
pub use quorum::{LearnerType, QuorumSettings, ServerSpec};
pub use settings::{Config, Notice};

#[cfg(test)]
mod tests;
