#!/bin/bash
# Suite fourlw: the operations surface against Apache ZooKeeper 3.8.
#  1. every four-letter word and AdminServer command, compared with a live Apache
#     ZooKeeper holding the same state (same lines in the same order, same keys);
#  2. the 4lw whitelist refusal lines (default whitelist);
#  3. metric values after the same requests (response sizes, per-namespace summaries,
#     srst/crst), compared with a fresh Apache ZooKeeper; the transaction log, snapshot,
#     start-up and connection factory metrics have values wherever Java's have;
#  4. the AdminServer over HTTPS (admin.forceHttps, admin.portUnification) with PKCS12
#     and PEM key stores made by openssl;
#  5. a real Prometheus server scraping the target's /metrics: znode_count, latency
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
    # Bounded: a Java server that accepted before its selector serves can leave the probe hanging.
    if echo srvr | timeout 5 nc -q1 127.0.0.1 "$PORT" 2>/dev/null | grep -q '^Mode:'; then return 0; fi
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

# A self-signed certificate for localhost, as a PKCS12 key store (password changeit) and
# as a PEM key store (unencrypted PKCS#8 key + certificate); the PEM certificate doubles
# as the trust store Jetty insists on.
make_stores() {
  local d=$WORK/tls; mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" -days 2 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null || return 1
  cat "$d/key.pem" "$d/cert.pem" > "$d/admin.pem"
  openssl pkcs12 -export -inkey "$d/key.pem" -in "$d/cert.pem" -name admin -passout pass:changeit \
    -out "$d/admin.p12" 2>/dev/null
}

# The AdminServer over TLS: forceHttps with a PKCS12 key store, portUnification with a
# PEM one; `curl -k` over HTTPS must get ruok, plain HTTP only with port unification.
admin_tls_checks() {
  local p=0 f=0 d=$WORK/tls out
  ok() { echo "PASS $1"; p=$((p + 1)); }
  ko() { echo "FAIL $1 ${2:-}"; f=$((f + 1)); }
  if ! make_stores; then ko "openssl could not make the key stores"; echo "$p passed, $f failed"; return; fi
  local trust=("ssl.quorum.trustStore.location=$d/cert.pem" "ssl.quorum.trustStore.type=PEM")
  for variant in "forceHttps p12" "portUnification pem"; do
    set -- $variant
    local store=("ssl.quorum.keyStore.location=$d/admin.p12" "ssl.quorum.keyStore.password=changeit")
    [ "$2" = pem ] && store=("ssl.quorum.keyStore.location=$d/admin.pem")
    if ! start "$TARGET" "tls-$1" "admin.$1=true" "${store[@]}" "${trust[@]}" >/dev/null; then ko "admin $1: server start"; continue; fi
    local https="" i
    for i in $(seq 1 20); do
      https=$(curl -sk --max-time 5 "https://127.0.0.1:$APORT/commands/ruok") && [ -n "$https" ] && break
      sleep 0.5
    done
    if grep -q '"command" : "ruok"' <<<"$https"; then ok "admin $1 ($2): curl -k https ruok"; else ko "admin $1 ($2): curl -k https ruok" "$https"; fi
    out=$(curl -sk --max-time 5 -D - -o /dev/null "https://127.0.0.1:$APORT/commands/srvr" | tr -d '\r')
    if grep -qi '^strict-transport-security: max-age=86400; *includesubdomains' <<<"$out"; then ok "admin $1: HSTS header"; else ko "admin $1: HSTS header" "$out"; fi
    out=$(curl -s --max-time 5 "http://127.0.0.1:$APORT/commands/ruok")
    if [ "$1" = forceHttps ]; then
      if grep -q '"command" : "ruok"' <<<"$out"; then ko "admin forceHttps: plain HTTP refused" "$out"; else ok "admin forceHttps: plain HTTP refused"; fi
    else
      if grep -q '"command" : "ruok"' <<<"$out"; then ok "admin portUnification: plain HTTP served"; else ko "admin portUnification: plain HTTP served" "$out"; fi
    fi
  done
  echo "$p passed, $f failed"
}

echo "fourlw: target $TARGET"
if ! [ "$TARGET" = zk ] && ! [ -x "$RZK_BIN" ]; then echo "FAIL rzk binary missing: $RZK_BIN"; echo "0 passed, 1 failed"; exit 1; fi
METRICS_PORT=$(free_port)
EXTRA=("4lw.commands.whitelist=*")
start "$TARGET" target "${EXTRA[@]}" || { echo "0 passed, 1 failed"; exit 1; }
T=127.0.0.1:$PORT; TA=$APORT
start zk oracle "4lw.commands.whitelist=*" || { echo "0 passed, 1 failed"; exit 1; }
O=127.0.0.1:$PORT; OA=$APORT

(cd "$HERE" && timeout 120 python3 compare.py "$T" "$TA" "$O" "$OA") | tee "$WORK/compare.out"; tally "$WORK/compare.out"

start "$TARGET" target-default "admin.enableServer=false" && TD=127.0.0.1:$PORT
start zk oracle-default "admin.enableServer=false" && OD=127.0.0.1:$PORT
(cd "$HERE" && timeout 60 python3 whitelist_check.py "$TD" "$OD") | tee "$WORK/whitelist.out"; tally "$WORK/whitelist.out"

start "$TARGET" target-values "4lw.commands.whitelist=*" "admin.enableServer=false" "enforceQuota=true" && TV=127.0.0.1:$PORT
start zk oracle-values "4lw.commands.whitelist=*" "admin.enableServer=false" "enforceQuota=true" && OV=127.0.0.1:$PORT
(cd "$HERE" && timeout 60 python3 values_check.py "$TV" "$OV") | tee "$WORK/values.out"; tally "$WORK/values.out"

start "$TARGET" target-storage "4lw.commands.whitelist=*" "admin.enableServer=false" && TS=127.0.0.1:$PORT
start zk oracle-storage "4lw.commands.whitelist=*" "admin.enableServer=false" && OS=127.0.0.1:$PORT
(cd "$HERE" && timeout 60 python3 storage_metrics_check.py "$TS" "$OS") | tee "$WORK/storage.out"; tally "$WORK/storage.out"

admin_tls_checks > "$WORK/admin_tls.out"; cat "$WORK/admin_tls.out"; tally "$WORK/admin_tls.out"

if [ "$TARGET" = rzk ]; then
  # With Apache ZooKeeper's Prometheus provider mntr and monitor list its samples, so
  # this server is not the one compared with the oracle above.
  start rzk target-prometheus "4lw.commands.whitelist=*" \
    "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider" \
    "metricsProvider.httpHost=127.0.0.1" "metricsProvider.httpPort=$METRICS_PORT" && TP=127.0.0.1:$PORT TPA=$APORT
  if command -v prometheus >/dev/null; then
    (cd "$HERE" && timeout 180 python3 prometheus_check.py "127.0.0.1:$METRICS_PORT" "$WORK/prometheus" "$TP" "$TPA") \
      | tee "$WORK/prometheus.out"; tally "$WORK/prometheus.out"
  else
    echo "FAIL prometheus: the Debian package prometheus is not installed"; FAILED=$((FAILED + 1))
  fi
else
  echo "SKIP prometheus: Debian's Apache ZooKeeper 3.8.0 ships without the Prometheus metrics provider"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
