//! `zoo.cfg` parsing and the typed configuration (`QuorumPeerConfig`).
