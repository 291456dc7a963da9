#!/bin/bash
# Suite fourlw: the operations surface against Apache ZooKeeper 3.8.
#  1. every four-letter word and AdminServer command, compared with a live Apache
#     ZooKeeper holding the same state (same lines in the same order, same keys);
#  2. the 4lw whitelist refusal lines (default whitelist);
#  3. a real Prometheus server scraping the target's /metrics: znode_count, latency
#     summaries and every metric of Grafana dashboard 10465 through the query API.
# The suite starts its own servers (AdminServer and metrics need ports of their own).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${TARGET:-rzk}
WORK=${WORK:-$(mktemp -d)}/fourlw
RZK_BIN=${RZK_BIN:-$ROOT/target/release/rzk}
J=/usr/share/java
# The oracle's AdminServer needs Jetty: always every Debian jar, not the clients' JAVA_CP.
CP=$(ls $J/*.jar | paste -sd:)
CP=$(tr ':' '\n' <<<"$CP" | grep -v -E '/slf4j-(log4j12|nop|jdk14|jcl|reload4j)[^/]*\.jar$|maven3-slf4j' | paste -sd: -)
rm -rf "$WORK" && mkdir -p "$WORK"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done' EXIT
PASSED=0
FAILED=0

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start <kind> <name> [extra zoo.cfg lines...]; sets PORT (client) and APORT (admin)
start() {
  local kind=$1 name=$2; shift 2
  local dir=$WORK/$name
  mkdir -p "$dir/data"
  PORT=$(free_port); APORT=$(free_port)
  {
    echo "tickTime=2000"; echo "dataDir=$dir/data"; echo "clientPort=$PORT"
    echo "clientPortAddress=127.0.0.1"; echo "maxClientCnxns=0"
    echo "admin.serverAddress=127.0.0.1"; echo "admin.serverPort=$APORT"
    for l in "$@"; do echo "$l"; done
  } > "$dir/zoo.cfg"
  if [ "$kind" = zk ]; then
    (cd "$dir" && exec java -cp "$CP" org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg > server.log 2>&1) &
  else
    (cd "$dir" && exec "$RZK_BIN" zoo.cfg > server.log 2>&1) &
  fi
  PIDS+=($!)
  for _ in $(seq 1 60); do
    if echo srvr | nc -q1 127.0.0.1 "$PORT" 2>/dev/null | grep -q '^Mode:'; then return 0; fi
    sleep 0.5
  done
  echo "FAIL start_$name: $kind server did not answer srvr within 30 s"; tail -5 "$dir/server.log"
  return 1
}

tally() { # adds a "N passed, N failed" line to the totals; a check that died counts as failed
  local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  if [ -z "$line" ]; then echo "FAIL $(basename "$1" .out): the check ended without its totals"; FAILED=$((FAILED + 1)); return; fi
  PASSED=$((PASSED + $(awk '{print $1}' <<<"$line"))); FAILED=$((FAILED + $(awk '{print $3}' <<<"$line")))
}

echo "fourlw: target $TARGET"
if ! [ "$TARGET" = zk ] && ! [ -x "$RZK_BIN" ]; then echo "FAIL rzk binary missing: $RZK_BIN"; echo "0 passed, 1 failed"; exit 1; fi
METRICS_PORT=$(free_port)
EXTRA=("4lw.commands.whitelist=*")
[ "$TARGET" = rzk ] && EXTRA+=("metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider" \
  "metricsProvider.httpHost=127.0.0.1" "metricsProvider.httpPort=$METRICS_PORT")
start "$TARGET" target "${EXTRA[@]}" || { echo "0 passed, 1 failed"; exit 1; }
T=127.0.0.1:$PORT; TA=$APORT
start zk oracle "4lw.commands.whitelist=*" || { echo "0 passed, 1 failed"; exit 1; }
O=127.0.0.1:$PORT; OA=$APORT

(cd "$HERE" && timeout 120 python3 compare.py "$T" "$TA" "$O" "$OA") | tee "$WORK/compare.out"; tally "$WORK/compare.out"

start "$TARGET" target-default "admin.enableServer=false" && TD=127.0.0.1:$PORT
start zk oracle-default "admin.enableServer=false" && OD=127.0.0.1:$PORT
(cd "$HERE" && timeout 60 python3 whitelist_check.py "$TD" "$OD") | tee "$WORK/whitelist.out"; tally "$WORK/whitelist.out"

if [ "$TARGET" = rzk ]; then
  if command -v prometheus >/dev/null; then
    (cd "$HERE" && timeout 180 python3 prometheus_check.py "127.0.0.1:$METRICS_PORT" "$WORK/prometheus" "$T") \
      | tee "$WORK/prometheus.out"; tally "$WORK/prometheus.out"
  else
    echo "FAIL prometheus: the Debian package prometheus is not installed"; FAILED=$((FAILED + 1))
  fi
else
  echo "SKIP prometheus: Debian's Apache ZooKeeper 3.8.0 ships without the Prometheus metrics provider"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
