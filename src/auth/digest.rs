//! The `digest` scheme (`DigestAuthenticationProvider`): `user:password` becomes the id
//! `user:base64(sha1("user:password"))`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha1::{Digest, Sha1};

use crate::proto::Id;

/// `DigestAuthenticationProvider.generateDigest`: the user is everything before the first
/// `:` (the whole text if there is none); the hash covers the whole text.
pub fn digest_id(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(user_password.as_bytes());
    format!("{user}:{}", STANDARD.encode(hash))
}

/// The ids an AuthPacket with scheme `digest` attaches. Digest auth never fails: a wrong
/// password is just an id no ACL names. `Id("super", "")` comes first when the derived
/// id equals the configured `superDigest`. The bytes are decoded as Java's
/// `new String(bytes)` does on a UTF-8 platform (malformed input replaced).
pub fn authenticate_digest(auth: &[u8], super_digest: Option<&str>) -> Vec<Id> {
    let text = String::from_utf8_lossy(auth);
    let id = digest_id(&text);
    let mut out = Vec::with_capacity(2);
    if super_digest == Some(id.as_str()) {
        out.push(Id::new("super", ""));
    }
    out.push(Id::new("digest", &id));
    out
}

/// `DigestAuthenticationProvider.getUserName`: the part before the first `:`.
pub(crate) fn user_of(id: &str) -> &str {
    id.split(':').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ids_match_known_vectors() {
        assert_eq!(
            digest_id("alice:secret"),
            "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
        );
        assert_eq!(
            digest_id("super:test"),
            "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
        // From the golden frames: the ACL a 3.8.0 server stored for user:pass.
        assert_eq!(digest_id("user:pass"), "user:smGaoVKd/cQkjm7b88GyorAUz20=");
    }

    #[test]
    fn password_may_contain_colons_and_user_may_be_missing_one() {
        let id = digest_id("bob:a:b");
        assert!(id.starts_with("bob:") && id.len() == "bob:".len() + 28);
        assert!(digest_id("lonely").starts_with("lonely:"));
    }

    #[test]
    fn super_digest_adds_the_super_id() {
        let ids = authenticate_digest(b"super:test", Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU="));
        assert_eq!(
            ids,
            vec![
                Id::new("super", ""),
                Id::new("digest", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
            ]
        );
        let ids = authenticate_digest(b"super:wrong", Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU="));
        assert_eq!(ids.len(), 1);
        assert_eq!(authenticate_digest(b"super:test", None).len(), 1);
    }

    #[test]
    fn user_name_is_before_the_first_colon() {
        assert_eq!(user_of("user:smGaoVKd/cQkjm7b88GyorAUz20="), "user");
        assert_eq!(user_of(":x"), "");
    }
}
