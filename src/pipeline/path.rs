//! Znode path rules: full validation and the parent/name split the server uses.
//!
//! Stands in for Apache ZooKeeper's `PathUtils.validatePath` and the `lastIndexOf('/')`
//! arithmetic of `PrepRequestProcessor`. Validation works on UTF-16 code units, as Java
//! does, so a character outside the Basic Multilingual Plane is rejected (its surrogate
//! halves fall in the forbidden U+D800–U+F8FF range).

use crate::proto::ErrorCode;

/// Paths that can never be deleted (`DataTree.isSpecialPath`).
pub const PROTECTED_PATHS: [&str; 4] = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

/// Full path validation (`PathUtils.validatePath`); any failure is `BadArguments`.
pub fn validate_path(path: &str) -> Result<(), ErrorCode> {
    // An ASCII path's UTF-16 units are its bytes: checked in place, without collecting
    // the units of every request path into a vector.
    if path.is_ascii() {
        return validate_units(path.as_bytes());
    }
    let units: Vec<u16> = path.encode_utf16().collect();
    validate_units(&units)
}

fn validate_units<T: Copy + Into<u16>>(units: &[T]) -> Result<(), ErrorCode> {
    let slash = |u: &T| (*u).into() == u16::from(b'/');
    match units {
        [] => Err(ErrorCode::BadArguments),
        [first, ..] if !slash(first) => Err(ErrorCode::BadArguments),
        [_] => Ok(()),
        [.., last] if slash(last) => Err(ErrorCode::BadArguments),
        _ => scan_units(units),
    }
}

/// The character loop of `PathUtils.validatePath`, from index 1 with `prev` = '/'.
fn scan_units<T: Copy + Into<u16>>(units: &[T]) -> Result<(), ErrorCode> {
    const SLASH: u16 = b'/' as u16;
    const DOT: u16 = b'.' as u16;
    let unit = |i: usize| units.get(i).map(|u| (*u).into());
    let mut prev = SLASH;
    for i in 1..units.len() {
        let c = unit(i).unwrap_or(SLASH);
        let next_ends_component = unit(i + 1).is_none_or(|n| n == SLASH);
        let bad = if c == 0 {
            true
        } else if c == SLASH {
            prev == SLASH
        } else if c == DOT && prev == DOT {
            // ".." as a whole component; a run like "..." is a legal name.
            i >= 2 && unit(i - 2) == Some(SLASH) && next_ends_component
        } else if c == DOT {
            prev == SLASH && next_ends_component
        } else {
            is_forbidden_unit(c)
        };
        if bad {
            return Err(ErrorCode::BadArguments);
        }
        prev = c;
    }
    Ok(())
}

fn is_forbidden_unit(c: u16) -> bool {
    matches!(c, 0x0001..=0x001F | 0x007F..=0x009F | 0xD800..=0xF8FF | 0xFFF0..=0xFFFF)
}

/// Everything before the last `/` (`path.substring(0, lastSlash)`): `""` for a child of
/// the root. `None` when the path has no `/` at all.
pub fn parent_of(path: &str) -> Option<&str> {
    path.rfind('/').map(|i| &path[..i])
}

/// Everything after the last `/`; the whole string when there is none.
pub fn name_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// The committed-tree key for a path as prep computes it: Java's tree answers `""`
/// (the parent of `/a`) with the root, so the view is asked for `"/"`.
pub fn tree_key(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

/// The cheap check create runs before the parent lookup
/// (`PrepRequestProcessor.validatePathForCreate`): a `/` somewhere and no NUL.
pub fn parent_for_create(path: &str) -> Result<&str, ErrorCode> {
    match parent_of(path) {
        Some(parent) if !path.contains('\0') => Ok(parent),
        _ => Err(ErrorCode::BadArguments),
    }
}

/// The check delete runs (`PrepRequestProcessor.getParentPathAndValidate`): as for
/// create, and the system nodes are refused.
pub fn parent_for_delete(path: &str) -> Result<&str, ErrorCode> {
    if PROTECTED_PATHS.contains(&path) {
        return Err(ErrorCode::BadArguments);
    }
    parent_for_create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_paths_are_judged_as_their_utf16_units_are() {
        for p in [
            "/", "/a", "/a/", "//", "/..", "/...", "/a/./b", "/a\0b", "/\u{7F}", "/\u{1F}x", "",
            "a",
        ] {
            let units: Vec<u16> = p.encode_utf16().collect();
            assert_eq!(validate_path(p), validate_units(&units), "{p:?}");
        }
    }

    #[test]
    fn valid_paths_from_the_path_rules() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/...",
            "/a/.b",
            "/a/b.",
            "/a..b",
            "/.a",
            "/a/...",
            "/ab/c.d",
            "/zookeeper",
            "/\u{00A0}",
            "/\u{F900}",
            "/\u{FFEF}",
            "/a b",
            "/é",
        ] {
            assert_eq!(validate_path(p), Ok(()), "{p:?}");
        }
    }

    #[test]
    fn invalid_paths_from_the_path_rules() {
        for p in [
            "",
            "a",
            "a/b",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/.",
            "/a/..",
            "/./a",
            "/../a",
            "/a/./b",
            "/a\0b",
            "/\u{0001}",
            "/\u{001F}",
            "/\u{007F}",
            "/\u{009F}",
            "/\u{E000}",
            "/\u{F8FF}",
            "/\u{FFF0}",
            "/\u{FFFF}",
            "/\u{1F600}",
            "/a/",
        ] {
            assert_eq!(validate_path(p), Err(ErrorCode::BadArguments), "{p:?}");
        }
    }

    #[test]
    fn parent_and_name_split_on_the_last_slash() {
        assert_eq!(parent_of("/a"), Some(""));
        assert_eq!(parent_of("/a/b"), Some("/a"));
        assert_eq!(parent_of("/"), Some(""));
        assert_eq!(parent_of("ab"), None);
        assert_eq!(name_of("/a/b"), "b");
        assert_eq!(name_of("/"), "");
        assert_eq!(tree_key(""), "/");
    }

    #[test]
    fn create_precheck_wants_a_slash_and_no_nul() {
        assert_eq!(parent_for_create("/a/b"), Ok("/a"));
        assert_eq!(parent_for_create("a/b"), Ok("a"));
        assert_eq!(parent_for_create("ab"), Err(ErrorCode::BadArguments));
        assert_eq!(parent_for_create("/a\0"), Err(ErrorCode::BadArguments));
    }

    #[test]
    fn delete_precheck_refuses_system_nodes() {
        for p in PROTECTED_PATHS {
            assert_eq!(parent_for_delete(p), Err(ErrorCode::BadArguments));
        }
        assert_eq!(parent_for_delete("/zookeeper/x"), Ok("/zookeeper"));
    }
}
