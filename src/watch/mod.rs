//! Watch registrations and triggering (`WatchManager`).
