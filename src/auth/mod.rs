//! Authentication providers and ACL checks (digest, ip, super, SASL DIGEST-MD5).
