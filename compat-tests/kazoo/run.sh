#!/usr/bin/env bash
# kazoo suite: kazoo's own test suite (kazoo.tests of the pinned kazoo) run
# against the server under test ($ZK_CONNECT), less the tests listed in
# EXCLUDED.md.
#   run.sh                        the suite (needs ZK_CONNECT, or starts a
#                                 server of kind $TARGET itself)
#   run.sh --verify-exclusions    run only the excluded tests against a fresh
#                                 Apache ZooKeeper; every one must fail there
#   run.sh -- <pytest args>       extra pytest arguments (e.g. -k test_lock)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"

MODE=suite
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
    --verify-exclusions) MODE=verify; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "kazoo/run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

WORK="${WORK:-$COMPAT_WORK/suites/kazoo}"
VENV="${VENV:-$COMPAT_WORK/venv}"
PER_TEST_TIMEOUT="${KAZOO_TEST_TIMEOUT:-60}"
# Stop starting new tests after this long, so that a slow or broken server
# still yields counts before the runner's suite timeout (900 s) strikes.
SESSION_TIMEOUT="${KAZOO_SESSION_TIMEOUT:-720}"
mkdir -p "$WORK"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import kazoo, pytest_timeout' 2>/dev/null; then
    echo "kazoo: no venv with kazoo at $VENV (run compat-tests/run.sh once to make it)"
    echo "0 passed, 1 failed"
    exit 1
fi

OWN_SERVER=""
cleanup() { [ -n "$OWN_SERVER" ] && stop_server "$OWN_SERVER"; }
trap cleanup EXIT

if [ "$MODE" = verify ]; then
    OWN_SERVER=kazoo-verify
    export TARGET=zk
elif [ -z "${ZK_CONNECT:-}" ]; then
    OWN_SERVER=kazoo-own
    export TARGET="${TARGET:-zk}"
fi
if [ -n "$OWN_SERVER" ]; then
    ZK_CONNECT="$(start_server "$TARGET" "$OWN_SERVER")" || {
        echo "kazoo: could not start a $TARGET server"
        echo "0 passed, 1 failed"
        exit 1
    }
    ZK_SERVER_NAME="$OWN_SERVER"
fi
export ZK_CONNECT ZK_SERVER_NAME="${ZK_SERVER_NAME:-}"

# test_build checks the server's version against ZOOKEEPER_VERSION when CI is
# set; the version tests of kazoo also read it.
export CI=1 ZOOKEEPER_VERSION=3.8.0
export KAZOO_EXCLUDED="$HERE/EXCLUDED.md"
if [ "$MODE" = verify ]; then export KAZOO_EXCLUDED_MODE=only; else export KAZOO_EXCLUDED_MODE=skip; fi
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

echo "kazoo: $("$VENV/bin/python" -c 'import kazoo.version as v; print("kazoo", v.__version__)') against $ZK_CONNECT (${TARGET:-?}), mode $MODE"
cd "$WORK" || exit 1
rm -f "$WORK/junit-$MODE.xml" "$WORK/collected-$MODE.txt"
export KAZOO_COLLECTED_FILE="$WORK/collected-$MODE.txt"
"$VENV/bin/python" -m pytest -p kazoo_compat -p no:cacheprovider --pyargs kazoo.tests \
    --timeout="$PER_TEST_TIMEOUT" --session-timeout="$SESSION_TIMEOUT" -q -rfE --tb=short --junitxml="$WORK/junit-$MODE.xml" \
    ${EXTRA[@]+"${EXTRA[@]}"} 2>&1 | tee "$WORK/pytest-$MODE.log"
rc=${PIPESTATUS[0]}

# Counts from the junit report: errors count as failures.
read -r passed failed skipped < <("$VENV/bin/python" - "$WORK/junit-$MODE.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
p = f = s = 0
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 1, 0)
    sys.exit()
for case in root.iter("testcase"):
    kinds = {child.tag for child in case}
    if kinds & {"failure", "error"}:
        f += 1
    elif "skipped" in kinds:
        s += 1
    else:
        p += 1
print(p, f, s)
PY
)

if [ "$MODE" = verify ]; then
    # Inverted: an excluded test must fail against Apache ZooKeeper too.
    "$VENV/bin/python" - "$WORK/junit-$MODE.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    kinds = {child.tag for child in case}
    state = "fails" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "PASSES"
    print("  %-7s %s::%s" % (state, case.get("classname", "").rsplit(".", 1)[-1], case.get("name")))
PY
    echo "kazoo --verify-exclusions: $failed excluded tests fail on Apache ZooKeeper, $passed pass there, $skipped skipped"
    echo "$failed passed, $(( passed + skipped )) failed"
    [ "$passed" -eq 0 ] && [ "$skipped" -eq 0 ]
    exit $?
fi

collected="$(cat "$WORK/collected-$MODE.txt" 2>/dev/null || echo 0)"
not_run=$(( collected - passed - failed - skipped ))
if [ "$not_run" -gt 0 ]; then
    echo "kazoo: $not_run tests did not run (session timeout of ${SESSION_TIMEOUT}s); they count as failed"
    failed=$(( failed + not_run ))
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "kazoo: pytest exited with status $rc"
    failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
