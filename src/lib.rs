//! rzk: a ZooKeeper server that Apache ZooKeeper clients and servers cannot tell apart
//! from Apache ZooKeeper.
//!
//! Pure cores (no IO, no clock, no threads) and thin shells:
//!
//! ```text
//!  client socket ──► server (tokio shell: framing, 4lw) ──► node::Core (single owner)
//!                                                          │  pipeline::prep  (Request → Txn)
//!                                                          │  persist         (log, group commit)
//!                                                          │  tree::DataTree::apply (Txn → effects)
//!                                                          │  watch / session / auth
//!  client socket ◄── replies + watch events, in order ◄────┘
//! ```
//!
//! | module     | stands in for (Apache ZooKeeper)                                  |
//! |------------|--------------------------------------------------------------------|
//! | `jute`     | `BinaryInputArchive` / `BinaryOutputArchive`                       |
//! | `proto`    | the records of `zookeeper.jute`, `ZooDefs`, `KeeperException.Code` |
//! | `tree`     | `DataTree`, `DataNode`, `ReferenceCountedACLCache`, `DigestCalculator` |
//! | `session`  | `SessionTrackerImpl`, `ExpiryQueue`                                |
//! | `watch`    | `WatchManager`                                                     |
//! | `auth`     | `AuthenticationProvider`s, `SaslServerCallbackHandler`             |
//! | `pipeline` | `PrepRequestProcessor` (+ `outstandingChanges`), `FinalRequestProcessor` |
//! | `node`     | `ZooKeeperServer` (the single-threaded core and its driver)        |
//! | `server`   | `NIOServerCnxnFactory`, `NIOServerCnxn`, four-letter words         |
//! | `storage`  | `FileTxnSnapLog`, `FileTxnLog`, `FileSnap`, `SyncRequestProcessor`, `PurgeTxnLog` |
//! | `config`   | `QuorumPeerConfig` / `ServerConfig` (`zoo.cfg`)                    |
//! | `ops`      | `command/*`, `admin/*` (AdminServer), `PrometheusMetricsProvider`  |
//! | `election` | `FastLeaderElection` (pure; the election port is the shell's)      |
//! | `zab`      | `Leader`, `LearnerHandler`, `Learner`, `Follower`, `Observer` (pure) |
//! | `quorum`   | `QuorumCnxManager`, epoch files, the SNAP stream (the ensemble's files and sockets) |
//! | `peer`     | `QuorumPeer` (role loop), the quorum port, the ensemble member's driver |
//! | `bench`    | `zookeeper-it`'s `GenerateLoad` (load generator, side-by-side runner) |
//! | `check`    | linearizability checker and history format for recorded client histories (`rzk-check`) |
//! | `sim`      | deterministic ensemble simulator and invariant checkers (tests)   |

pub mod auth;
pub mod bench;
pub mod check;
pub mod config;
pub mod election;
pub mod jute;
pub mod launch;
pub mod node;
pub mod ops;
pub mod peer;
pub mod pipeline;
pub mod proto;
pub mod quorum;
pub mod server;
pub mod session;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod storage;
pub mod tree;
pub mod watch;
pub mod zab;
