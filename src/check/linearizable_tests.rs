use super::*;

fn v(data: &str, version: i32) -> Value {
    Some(Versioned {
        data: data.as_bytes().to_vec(),
        version,
    })
}

fn op(client: i64, op: Op, invoke: u64, complete: Option<u64>, outcome: Outcome) -> Operation {
    Operation {
        client,
        key: "/k".into(),
        op,
        invoke,
        complete,
        outcome,
    }
}

fn create(c: i64, d: &str, t: (u64, u64), out: Outcome) -> Operation {
    op(c, Op::Create { data: d.into() }, t.0, Some(t.1), out)
}

fn set(c: i64, d: &str, expected: Option<i32>, t: (u64, u64), out: Outcome) -> Operation {
    op(
        c,
        Op::SetData {
            data: d.into(),
            expected,
        },
        t.0,
        Some(t.1),
        out,
    )
}

fn read(c: i64, t: (u64, u64), seen: Value) -> Operation {
    op(c, Op::Read, t.0, Some(t.1), Outcome::Read(seen))
}

fn history(ops: Vec<Operation>) -> History {
    let mut h = History::new();
    for o in ops {
        h.push(o);
    }
    h
}

fn violation(h: &History) -> Anomaly {
    match check(h) {
        Err(a) if a.is_violation() => a,
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn a_sequential_history_of_every_kind_is_linearizable() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        set(1, "b", None, (2, 3), Outcome::Written { version: 1 }),
        set(
            2,
            "c",
            Some(0),
            (4, 5),
            Outcome::Failed(ErrorCode::BadVersion),
        ),
        read(2, (6, 7), v("b", 1)),
        op(
            1,
            Op::Delete { expected: Some(1) },
            8,
            Some(9),
            Outcome::Done,
        ),
        read(2, (10, 11), None),
        set(2, "d", None, (12, 13), Outcome::Failed(ErrorCode::NoNode)),
    ]);
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn concurrent_writes_may_take_effect_in_either_order() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        set(1, "x", None, (2, 10), Outcome::Written { version: 2 }),
        set(2, "y", None, (3, 9), Outcome::Written { version: 1 }),
        read(3, (11, 12), v("x", 2)),
    ]);
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn a_read_after_an_acknowledged_write_that_misses_it_is_stale() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        set(1, "b", None, (2, 3), Outcome::Written { version: 1 }),
        read(2, (4, 5), v("a", 0)),
    ]);
    let a = violation(&h);
    let Anomaly::NotLinearizable { key, stuck, .. } = &a else {
        panic!("{a:?}")
    };
    assert_eq!(key, "/k");
    assert_eq!(stuck, &vec![2]);
    assert!(a.describe(&h).contains("#2"), "{}", a.describe(&h));
}

#[test]
fn writes_acknowledged_in_sequence_cannot_be_seen_reordered() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        set(1, "b", None, (2, 3), Outcome::Written { version: 1 }),
        set(2, "c", None, (4, 5), Outcome::Written { version: 2 }),
        read(3, (6, 7), v("b", 2)),
    ]);
    violation(&h);
}

#[test]
fn a_lost_acknowledged_create_is_caught() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        read(2, (2, 3), None),
    ]);
    violation(&h);
}

#[test]
fn a_create_applied_twice_is_caught() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        create(1, "a", (2, 3), Outcome::Done),
    ]);
    violation(&h);
}

#[test]
fn two_compare_and_sets_on_the_same_version_cannot_both_win() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        set(1, "b", Some(0), (2, 6), Outcome::Written { version: 1 }),
        set(2, "c", Some(0), (3, 5), Outcome::Written { version: 1 }),
    ]);
    violation(&h);
}

#[test]
fn a_wrong_new_version_is_caught() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        set(1, "b", None, (2, 3), Outcome::Written { version: 7 }),
    ]);
    violation(&h);
}

#[test]
fn an_error_answer_the_state_does_not_explain_is_caught() {
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        set(
            2,
            "b",
            Some(0),
            (2, 3),
            Outcome::Failed(ErrorCode::BadVersion),
        ),
    ]);
    violation(&h);
}

#[test]
fn an_indeterminate_write_may_or_may_not_take_effect() {
    let lost = op(
        1,
        Op::SetData {
            data: "b".into(),
            expected: None,
        },
        2,
        None,
        Outcome::Unknown,
    );
    let seen = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        lost.clone(),
        read(2, (50, 51), v("b", 1)),
    ]);
    assert_eq!(check(&seen), Ok(()));
    let unseen = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        lost.clone(),
        read(2, (50, 51), v("a", 0)),
    ]);
    assert_eq!(check(&unseen), Ok(()));
    let flicker = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        lost,
        read(2, (50, 51), v("b", 1)),
        read(2, (52, 53), v("a", 0)),
    ]);
    violation(&flicker);
}

#[test]
fn an_indeterminate_write_takes_effect_no_earlier_than_its_invocation() {
    let late = op(
        1,
        Op::SetData {
            data: "b".into(),
            expected: None,
        },
        10,
        Some(20),
        Outcome::Unknown,
    );
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        read(2, (2, 3), v("b", 1)),
        late,
    ]);
    violation(&h);
}

#[test]
fn failures_that_apply_nothing_constrain_nothing() {
    let expired = set(
        1,
        "zzz",
        Some(42),
        (2, 3),
        Outcome::Failed(ErrorCode::SessionExpired),
    );
    let lost_read = op(2, Op::Read, 4, None, Outcome::Unknown);
    let h = history(vec![
        create(1, "a", (0, 1), Outcome::Done),
        expired,
        lost_read,
        read(2, (5, 6), v("a", 0)),
    ]);
    assert_eq!(check(&h), Ok(()));
}

#[test]
fn keys_are_checked_independently() {
    let mut h = history(vec![create(1, "a", (0, 10), Outcome::Done)]);
    h.push(Operation {
        key: "/other".into(),
        ..read(2, (1, 2), None)
    });
    h.set_initial("/other", v("seed", 3));
    let a = violation(&h);
    assert!(
        matches!(&a, Anomaly::NotLinearizable { key, .. } if key == "/other"),
        "{a:?}"
    );
}

#[test]
fn the_search_gives_up_as_inconclusive_at_its_cap() {
    let mut ops = vec![create(1, "a", (0, 1), Outcome::Done)];
    for c in 0..12 {
        ops.push(op(
            c,
            Op::SetData {
                data: vec![c as u8],
                expected: None,
            },
            2,
            None,
            Outcome::Unknown,
        ));
    }
    ops.push(read(99, (100, 101), v("nope", 1)));
    let h = history(ops);
    let got = check_with(&h, Limits { max_states: 50 });
    assert!(matches!(got, Err(Anomaly::Inconclusive { .. })), "{got:?}");
    assert!(!got.unwrap_err().is_violation());
}

#[test]
fn a_long_low_concurrency_history_checks_quickly() {
    let mut ops = vec![create(1, "v0", (0, 1), Outcome::Done)];
    for i in 1..2000u64 {
        let t = 10 * i;
        ops.push(set(
            1 + (i % 3) as i64,
            &format!("v{i}"),
            Some(i as i32 - 1),
            (t, t + 15),
            Outcome::Written { version: i as i32 },
        ));
    }
    assert_eq!(check(&history(ops)), Ok(()));
}

#[test]
fn malformed_operations_are_refused() {
    let backwards = create(1, "a", (5, 1), Outcome::Done);
    assert!(matches!(
        check(&history(vec![backwards])),
        Err(Anomaly::Malformed { index: 0, .. })
    ));
    let misfit = op(1, Op::Read, 0, Some(1), Outcome::Done);
    assert!(matches!(
        check(&history(vec![misfit])),
        Err(Anomaly::Malformed { .. })
    ));
}
