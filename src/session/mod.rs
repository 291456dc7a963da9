//! Session tracking (`SessionTrackerImpl`, `ExpiryQueue`): ids, passwords, expiry.
