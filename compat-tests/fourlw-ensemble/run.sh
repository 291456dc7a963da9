#!/usr/bin/env bash
# Suite fourlw-ensemble: the operations surface of ensemble members. Starts an
# Apache ZooKeeper 3.8 ensemble and an rzk ensemble on loopback (three voters and an
# observer each), makes the same writes on both, and compares what the leader, a
# follower and the observer print: the keys of `mntr` and of the AdminServer's
# `monitor` (in order), `srvr`, `stat` and `conf` line by line (values masked), the
# AdminServer's `leader`, `voting_view`, `stat`, `observers` and `zabstate` keys, and rzk's
# Prometheus names against the metrics Java's `mntr` lists (Debian's 3.8.0 ships
# without the Prometheus provider). Runs the same whatever TARGET is.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"
WORK="${WORK:-$COMPAT_WORK/suites/fourlw-ensemble}"
VENV="${VENV:-$COMPAT_WORK/venv}"
rm -rf "$WORK" && mkdir -p "$WORK"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
# The oracle's AdminServer needs Jetty: every Debian jar but the extra SLF4J bindings.
ZK_CP=$(find /usr/share/java -maxdepth 1 -name '*.jar' | sort \
    | grep -v -E '/slf4j-(log4j12|nop|jdk14|jcl|reload4j)[^/]*\.jar$|maven3-slf4j' | paste -sd: -)
export WORK RZK_BIN ZK_CP
exec timeout 170 "$PY" "$HERE/compare.py"
