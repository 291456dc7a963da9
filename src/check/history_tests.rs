use super::*;
use crate::check::linearizable::check;

const SAMPLE: &str = "\
# recorded by hand
history phase-1
initial /seed x%20y 3
0 10 0x100 /k0 create v1 -> ok
11 20 0x100 /k0 set v2 -1 -> written 1
12 19 0x101 /k0 set v3 0 -> error BadVersion
21 25 0x101 /k0 read -> read v2 1
30 - 0x101 /k0 delete 1 -> unknown
40 45 256 /k1 read -> read absent
50 55 0x102 /k1 set - -1 -> error -101
history phase-2
0 1 7 /k0 create %25%2D -> error ConnectionLoss
";

#[test]
fn lines_round_trip_through_the_format() {
    let parsed = parse(SAMPLE).unwrap();
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].name, "phase-1");
    assert_eq!(parsed[0].history.len(), 7);
    let text = format(&parsed);
    let again = parse(&text).unwrap();
    assert_eq!(format(&again), text);
    assert_eq!(again[0].history.ops(), parsed[0].history.ops());
    assert_eq!(again[0].history.initial(), parsed[0].history.initial());
}

#[test]
fn fields_are_read_as_documented() {
    let parsed = parse(SAMPLE).unwrap();
    let ops = parsed[0].history.ops();
    assert_eq!(
        ops[1].op,
        Op::SetData {
            data: b"v2".to_vec(),
            expected: None
        }
    );
    assert_eq!(
        ops[2].op,
        Op::SetData {
            data: b"v3".to_vec(),
            expected: Some(0)
        }
    );
    assert_eq!(ops[2].outcome, Outcome::Failed(ErrorCode::BadVersion));
    assert_eq!(ops[4].complete, None);
    assert_eq!(ops[5].client, 256);
    assert_eq!(
        ops[6].op,
        Op::SetData {
            data: vec![],
            expected: None
        }
    );
    assert_eq!(ops[6].outcome, Outcome::Failed(ErrorCode::NoNode));
    let seed = parsed[0]
        .history
        .initial()
        .get("/seed")
        .cloned()
        .flatten()
        .unwrap();
    assert_eq!(
        seed,
        Versioned {
            data: b"x y".to_vec(),
            version: 3
        }
    );
    assert_eq!(
        parsed[1].history.ops()[0].op,
        Op::Create {
            data: b"%-".to_vec()
        }
    );
}

#[test]
fn awkward_bytes_survive_encoding() {
    for data in [&b""[..], b"-", b"--", b"%", b"a b\n\xff", b"plain"] {
        let word = encode(data);
        assert!(
            !word.is_empty() && !word.contains(char::is_whitespace),
            "{word:?}"
        );
        assert_eq!(decode(&word).unwrap(), data, "{word}");
    }
}

#[test]
fn operations_before_any_header_form_an_unnamed_history() {
    let parsed = parse("0 1 1 /a read -> read absent\n").unwrap();
    assert_eq!(parsed[0].name, "-");
    assert_eq!(parsed[0].history.len(), 1);
}

#[test]
fn bad_lines_are_errors_with_their_line_number() {
    let cases = [
        ("history a\n\n0 1 1 /k frobnicate -> ok\n", 3),
        ("0 1 1 /k read read absent\n", 1),
        ("# c\n0 x 1 /k read -> read absent\n", 2),
        ("0 1 1 /k read -> error NoSuchCode\n", 1),
        ("0 1 1 /k create a%zz -> ok\n", 1),
        ("0 1 1 /k create a%4 -> ok\n", 1),
        ("0 1 1 /k set a -> written 1\n", 1),
        ("0 1 zz /k read -> read absent\n", 1),
        ("initial /k a\n", 1),
        ("history a b\n", 1),
    ];
    for (text, line) in cases {
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(
            err.to_string().starts_with(&format!("line {line}: ")),
            "{err}"
        );
    }
}

#[test]
fn a_non_linearizable_history_read_from_text_is_reported() {
    let text = "\
history stale-read
0 1 1 /k create a -> ok
2 3 1 /k set b -1 -> written 1
4 5 2 /k read -> read a 0
";
    let parsed = parse(text).unwrap();
    let h = &parsed[0].history;
    let a = check(h).unwrap_err();
    assert!(a.is_violation());
    let report = describe(&a, h);
    assert!(
        report.contains("#2 4 5 0x2 /k read -> read a 0"),
        "{report}"
    );
    assert!(report.contains("state then: b 1"), "{report}");
}

#[test]
fn a_linearizable_history_read_from_text_passes() {
    let text = "\
0 10 1 /k create a -> ok
2 8 2 /k read -> read a 0
11 30 1 /k set b 0 -> written 1
12 29 2 /k set c 0 -> error BadVersion
31 - 3 /k delete -1 -> unknown
40 41 2 /k read -> read b 1
";
    assert_eq!(check(&parse(text).unwrap()[0].history), Ok(()));
}
