//! Session tracking (`SessionTrackerImpl`, `ExpiryQueue`): session ids, passwords,
//! timeout negotiation and bucketed expiry.
//!
//! Pure: the caller passes the monotonic clock in milliseconds and acts on what
//! `SessionTracker::expired` returns (submitting `closeSession`).

mod expiry;
mod password;
mod tracker;

pub use password::{initial_session_id, negotiate_timeout, session_password};
pub use tracker::SessionTracker;
