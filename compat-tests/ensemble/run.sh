#!/usr/bin/env bash
# Suite ensemble: three-node ensembles of real processes on loopback (rzk only, mixed
# with Apache ZooKeeper 3.8 both ways, a rolling migration zk -> rzk -> zk), leaders
# killed under writes; see ensemble.py. Runs the same whatever TARGET is (it starts
# its own servers). ENSEMBLE_SCENARIOS="rzk3 rolling" runs a subset.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"
WORK="${WORK:-$COMPAT_WORK/suites/ensemble}"
VENV="${VENV:-$COMPAT_WORK/venv}"
mkdir -p "$WORK"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
export WORK RZK_BIN
ZK_CP="$(zk_server_classpath)"
# Only the quiet SLF4J binding on the Java writer's classpath.
WRITER_CP=$(tr ':' '\n' <<<"$ZK_CP" | grep -v -E '/slf4j-(log4j12|simple|nop|jdk14|jcl|reload4j)[^/]*\.jar$' | paste -sd: -):/usr/share/java/slf4j-nop.jar
JAVA_CLASSES="$WORK/java-classes"
rm -rf "$JAVA_CLASSES" && mkdir -p "$JAVA_CLASSES"
if ! javac -nowarn -d "$JAVA_CLASSES" -cp "$WRITER_CP" "$HERE/JavaWriter.java" 2>"$WORK/javac.log"; then
    cat "$WORK/javac.log"
    echo "FAIL ensemble_java_writer_compile: javac failed"
    echo "0 passed, 1 failed"
    exit 1
fi
export ZK_CP WRITER_CP JAVA_CLASSES
exec "$PY" "$HERE/ensemble.py"
