//! The server core and its driver (`ZooKeeperServer`).
