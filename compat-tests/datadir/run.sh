#!/bin/bash
# Suite datadir: the dataDir is compatible both ways. Apache ZooKeeper 3.8 runs a workload
# touching every txn type (multi, ACLs, a live session's ephemerals, sequential,
# containers, TTL, quotas, error txns, closeSession) and stops; rzk starts on that dataDir
# and must serve the same data/Stat/ACL for every znode; rzk writes more and stops;
# Apache ZooKeeper starts on the result and must serve what rzk served. Each side's dump
# tools must also read the other side's files. Runs the same whatever TARGET is.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$(mktemp -d)}
LIB=${COMPAT_LIB:-$HERE/../lib/servers.sh}
# shellcheck source=/dev/null
. "$LIB"
J=/usr/share/java
CP=${JAVA_CP:-$(zk_server_classpath)}
CP=$(tr ':' '\n' <<<"$CP" | grep -v -E '/slf4j-(log4j12|simple|nop|jdk14|jcl|reload4j)[^/]*\.jar$' | paste -sd: -)
CLASSES=$WORK/datadir-classes
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
finish() { stop_server datadir >/dev/null 2>&1; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if ! javac -nowarn -d "$CLASSES" -cp "$CP" "$HERE"/DatadirTool.java 2>"$WORK/datadir-javac.log"; then
  cat "$WORK/datadir-javac.log"; fail datadir_compile "javac failed"; finish
fi
tool() { timeout 120 java -cp "$CLASSES:$CP:$J/slf4j-nop.jar" DatadirTool "$@"; }
# Switches the server's kind, keeping its zoo.cfg, port and dataDir (servers.sh layout).
switch_to() { echo "$1" >"$(_srv_dir datadir)/kind"; restart_server datadir; }
DATA="$(_srv_dir datadir)/data/version-2"

echo "datadir: Apache ZooKeeper writes the first workload"
conn=$(start_server zk datadir snapCount=10) || { fail datadir_zk_start "Apache ZooKeeper did not start"; finish; }
tool first "$conn" || { fail datadir_first_workload "workload failed on Apache ZooKeeper"; finish; }
tool dump "$conn" "$WORK/zk-1.txt" >/dev/null || fail datadir_dump_zk1 "dump failed"
stop_server datadir

echo "datadir: rzk starts on Apache ZooKeeper's dataDir"
if conn=$(switch_to rzk); then
  tool dump "$conn" "$WORK/rzk-1.txt" >/dev/null
  if diff -u "$WORK/zk-1.txt" "$WORK/rzk-1.txt" >"$WORK/diff-1.txt"; then
    pass rzk_serves_apache_zookeeper_datadir
  else
    fail rzk_serves_apache_zookeeper_datadir "$(head -c 1500 "$WORK/diff-1.txt")"
  fi
  tool second "$conn" >/dev/null || fail datadir_second_workload "workload failed on rzk"
  tool dump "$conn" "$WORK/rzk-2.txt" >/dev/null
  stop_server datadir
else
  fail rzk_serves_apache_zookeeper_datadir "rzk did not start: $(server_log_tail datadir 20)"
  finish
fi

echo "datadir: the dump tools read each other's files"
ok=1
for f in "$DATA"/log.* "$DATA"/snapshot.*; do
  case "$(basename "$f")" in log.*) sub=txnlog-dump ;; *) sub=snapshot-dump ;; esac
  "$RZK_BIN" "$sub" "$f" >"$WORK/rzk-dump.txt" 2>&1 || { ok=0; echo "  rzk $sub $f: $(tail -1 "$WORK/rzk-dump.txt")"; }
done
[ $ok = 1 ] && pass rzk_dump_tools_read_both_servers_files || fail rzk_dump_tools_read_both_servers_files "see above"
ok=1
for f in "$DATA"/log.*; do
  out=$(timeout 60 java -cp "$CP:$J/slf4j-nop.jar" org.apache.zookeeper.server.persistence.TxnLogToolkit "$f" 2>&1)
  grep -q "EOF reached after" <<<"$out" || { ok=0; echo "  TxnLogToolkit $f: $(tail -2 <<<"$out")"; }
done
for f in "$DATA"/snapshot.*; do
  out=$(timeout 60 java -cp "$CP:$J/slf4j-nop.jar" org.apache.zookeeper.server.SnapshotFormatter "$f" 2>&1)
  grep -q "Session Details" <<<"$out" || { ok=0; echo "  SnapshotFormatter $f: $(tail -2 <<<"$out")"; }
done
[ $ok = 1 ] && pass apache_zookeeper_tools_read_rzk_files || fail apache_zookeeper_tools_read_rzk_files "see above"

echo "datadir: Apache ZooKeeper starts on the dataDir rzk wrote"
if conn=$(switch_to zk); then
  tool dump "$conn" "$WORK/zk-2.txt" >/dev/null
  if diff -u "$WORK/rzk-2.txt" "$WORK/zk-2.txt" >"$WORK/diff-2.txt"; then
    pass apache_zookeeper_serves_rzk_datadir
  else
    fail apache_zookeeper_serves_rzk_datadir "$(head -c 1500 "$WORK/diff-2.txt")"
  fi
else
  fail apache_zookeeper_serves_rzk_datadir "Apache ZooKeeper did not start: $(server_log_tail datadir 20)"
fi
stop_server datadir

echo "datadir: gzip snapshots (snapshot.compression.method=gz) written by rzk, read by Apache ZooKeeper"
if conn=$(start_server rzk datadir "snapshot.compression.method=gz") && tool first "$conn" >/dev/null &&
   conn=$(restart_server datadir); then
  # The restart wrote a startup snapshot holding the whole workload.
  tool dump "$conn" "$WORK/rzk-gz.txt" >/dev/null
  stop_server datadir
  ls "$DATA"/snapshot.*.gz >/dev/null 2>&1 || fail gz_snapshots "rzk wrote no snapshot.*.gz"
  # Only the snapshots: Apache ZooKeeper must load the newest, not replay the logs.
  rm -f "$DATA"/log.*
  if conn=$(switch_to zk); then
    tool dump "$conn" "$WORK/zk-gz.txt" >/dev/null
    if diff -u "$WORK/rzk-gz.txt" "$WORK/zk-gz.txt" >"$WORK/diff-gz.txt"; then
      pass apache_zookeeper_reads_rzk_gz_snapshot
    else
      fail apache_zookeeper_reads_rzk_gz_snapshot "$(head -c 1500 "$WORK/diff-gz.txt")"
    fi
  else
    fail apache_zookeeper_reads_rzk_gz_snapshot "Apache ZooKeeper did not start: $(server_log_tail datadir 20)"
  fi
else
  fail apache_zookeeper_reads_rzk_gz_snapshot "rzk did not start: $(server_log_tail datadir 20)"
fi
finish
