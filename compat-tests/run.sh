#!/usr/bin/env bash
# Compat test runner: installs what is missing, runs `cargo test`, builds
# target/release/rzk, then runs every suite compat-tests/*/run.sh against a
# fresh server and prints one final line `N passed, N failed`.
#
#   bash compat-tests/run.sh [--target rzk|zk] [--suite NAME]... [--no-cargo]
#
# Everything it writes goes under compat-tests/work/ (git-ignored).
set -uo pipefail

COMPAT_TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$COMPAT_TESTS_DIR/.." && pwd)"
COMPAT_WORK="${COMPAT_WORK:-$COMPAT_TESTS_DIR/work}"
export COMPAT_TESTS_DIR REPO_DIR COMPAT_WORK
# shellcheck source-path=SCRIPTDIR source=lib/servers.sh
source "$COMPAT_TESTS_DIR/lib/servers.sh"
# shellcheck source-path=SCRIPTDIR source=lib/setup.sh
source "$COMPAT_TESTS_DIR/lib/setup.sh"

TARGET=rzk
SUITES=()
RUN_CARGO=1
# Wall-clock limit of one suite, in seconds; a suite may set its own in a
# file named `timeout` in its directory.
DEFAULT_SUITE_TIMEOUT="${COMPAT_SUITE_TIMEOUT:-900}"

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --target) TARGET="${2:-}"; shift 2 ;;
    --target=*) TARGET="${1#*=}"; shift ;;
    --suite) SUITES+=("${2:-}"); shift 2 ;;
    --suite=*) SUITES+=("${1#*=}"); shift ;;
    --no-cargo) RUN_CARGO=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$TARGET" in
rzk|zk) ;;
*) echo "run.sh: --target must be rzk or zk, not '$TARGET'" >&2; exit 2 ;;
esac

TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()

record() { # record <label> <passed> <failed> [note]
    TOTAL_PASSED=$(( TOTAL_PASSED + $2 ))
    TOTAL_FAILED=$(( TOTAL_FAILED + $3 ))
    SUMMARY+=("$(printf '%-14s %4d passed, %4d failed%s' "$1" "$2" "$3" "${4:+  ($4)}")")
}

# Every directory with an executable run.sh is a suite.
discover_suites() {
    local f
    for f in "$COMPAT_TESTS_DIR"/*/run.sh; do
        [ -f "$f" ] || continue
        basename "$(dirname "$f")"
    done
}

# The last `N passed, N failed` line of a log, as "N N"; empty if none.
last_counts() {
    grep -aE '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 |
        sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/'
}

# Sums the `N passed` or `N failed` of every `test result:` line of a log.
sum_cargo_field() {
    grep -aE '^test result: ' "$2" | sed -E "s/.* ([0-9]+) $1.*/\\1/" |
        awk '{ s += $1 } END { print s + 0 }'
}

run_cargo() {
    local log="$COMPAT_WORK/logs/cargo-test.log" passed failed rc
    echo "== cargo test --release"
    (cd "$REPO_DIR" && cargo test --release 2>&1) | tee "$log"
    rc=${PIPESTATUS[0]}
    passed=$(sum_cargo_field passed "$log")
    failed=$(sum_cargo_field failed "$log")
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        echo "cargo test: exited with status $rc without a failed test (build error?)"
        failed=1
    fi
    record "cargo test" "$passed" "$failed"
    echo "== cargo build --release"
    if ! (cd "$REPO_DIR" && cargo build --release 2>&1) >"$COMPAT_WORK/logs/cargo-build.log"; then
        tail -n 30 "$COMPAT_WORK/logs/cargo-build.log"
        echo "cargo build --release failed (log: $COMPAT_WORK/logs/cargo-build.log)"
        record "cargo build" 0 1
    fi
}

suite_timeout() {
    local f="$COMPAT_TESTS_DIR/$1/timeout"
    if [ -f "$f" ]; then tr -dc '0-9' <"$f"; else echo "$DEFAULT_SUITE_TIMEOUT"; fi
}

# Runs one suite against a fresh server under test and a fresh oracle.
run_suite() {
    local suite="$1" dir="$COMPAT_TESTS_DIR/$1" target_addr oracle_addr limit rc counts
    local log="$COMPAT_WORK/logs/suite-$suite.log" started=$SECONDS
    echo
    echo "== suite $suite (target $TARGET)"
    if [ ! -f "$dir/run.sh" ]; then
        echo "suite $suite: no $dir/run.sh"
        record "$suite" 0 1 "no such suite"
        return
    fi
    # A suite may ask for extra zoo.cfg lines (zoo.cfg.extra) and JVM system properties
    # (server.jvmflags); both servers get them, so they run with the same settings.
    local -a extra=()
    if [ -f "$dir/zoo.cfg.extra" ]; then mapfile -t extra < <(grep -v '^\s*\(#\|$\)' "$dir/zoo.cfg.extra"); fi
    export SUITE_JVMFLAGS=""
    if [ -f "$dir/server.jvmflags" ]; then SUITE_JVMFLAGS="$(grep -v '^\s*#' "$dir/server.jvmflags" | tr '\n' ' ')"; fi
    if ! target_addr="$(start_server "$TARGET" "$suite-target" ${extra[@]+"${extra[@]}"})"; then
        echo "suite $suite: FAILED: the $TARGET server under test did not start"
        record "$suite" 0 1 "server under test did not start"
        return
    fi
    if ! oracle_addr="$(start_server zk "$suite-oracle" ${extra[@]+"${extra[@]}"})"; then
        echo "suite $suite: FAILED: the Apache ZooKeeper oracle did not start"
        stop_server "$suite-target"
        record "$suite" 0 1 "oracle did not start"
        return
    fi
    limit="$(suite_timeout "$suite")"
    mkdir -p "$COMPAT_WORK/suites/$suite"
    TARGET="$TARGET" ZK_CONNECT="$target_addr" ZK_CONNECT_ORACLE="$oracle_addr" \
        ZK_SERVER_NAME="$suite-target" ZK_ORACLE_NAME="$suite-oracle" \
        WORK="$COMPAT_WORK/suites/$suite" VENV="$VENV" JAVA_CP="$JAVA_CP" \
        timeout --kill-after=15 "$limit" bash "$dir/run.sh" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    counts="$(last_counts "$log")"
    local passed="${counts% *}" failed="${counts#* }" note=""
    [ -n "$counts" ] || { passed=0; failed=0; }
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "suite $suite: TIMEOUT: killed after ${limit}s"
        failed=$(( failed + 1 )); note="timed out after ${limit}s"
    elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        echo "suite $suite: exited with status $rc without reporting a failed check"
        failed=$(( failed + 1 )); note="exit status $rc"
    elif [ "$rc" -eq 0 ] && [ -z "$counts" ]; then
        echo "suite $suite: printed no 'N passed, N failed' line"
        failed=$(( failed + 1 )); note="no result line"
    fi
    if [ "$failed" -gt 0 ]; then
        server_log_tail "$suite-target" 60
    fi
    stop_all_servers
    record "$suite" "$passed" "$failed" "${note:-$(( SECONDS - started ))s}"
}

# One runner at a time per work dir: a second one would stop the first
# one's servers.
take_work_lock() {
    exec 9>"$COMPAT_WORK/.lock"
    if ! flock -n 9; then
        echo "run.sh: another runner is using $COMPAT_WORK; waiting for it (up to 1 h)"
        flock -w 3600 9 || { echo "run.sh: gave up waiting"; exit 1; }
    fi
}

main() {
    mkdir -p "$COMPAT_WORK/logs"
    take_work_lock
    trap 'stop_all_servers' EXIT
    trap 'exit 130' INT TERM
    stop_all_servers
    local all_suites
    mapfile -t all_suites < <(discover_suites)
    [ ${#SUITES[@]} -gt 0 ] || SUITES=("${all_suites[@]}")

    echo "== setup"
    ensure_debian_packages "${all_suites[@]}" || { echo "setup: Debian packages could not be installed"; record setup 0 1; }
    ensure_venv "${all_suites[@]}" || { echo "setup: the Python venv could not be made"; record setup 0 1; }
    JAVA_CP="$(compat_java_classpath)"
    export JAVA_CP VENV

    [ "$RUN_CARGO" -eq 1 ] && run_cargo
    if [ "$TARGET" = rzk ] && [ ! -x "$RZK_BIN" ]; then
        echo "note: $RZK_BIN is missing; every suite will fail to start its server"
    fi
    local s
    for s in "${SUITES[@]}"; do
        run_suite "$s"
    done

    echo
    echo "== summary (target $TARGET)"
    printf '%s\n' "${SUMMARY[@]}"
    echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
    [ "$TOTAL_FAILED" -eq 0 ]
}

main
