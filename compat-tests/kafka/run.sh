#!/bin/bash
# Suite kafka: Kafka's (ZooKeeper mode) use of ZooKeeper replayed with the Java client, no broker,
# compiled at run time against the Debian jars. See README.md.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${ZK_CONNECT:?ZK_CONNECT must be host:port of the server under test}"
WORK=${WORK:-$(mktemp -d)}
J=/usr/share/java
CP=${JAVA_CP:-}
if [ -z "$CP" ]; then
  CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar
fi
# One SLF4J binding only, ours: drop any binding the given classpath brings.
CP=$(tr ':' '\n' <<<"$CP" | grep -v -E '/slf4j-(log4j12|simple|nop|jdk14|jcl|reload4j)[^/]*\.jar$' | paste -sd: -)
# Client logging stays quiet unless SUITE_LOG is set (then WARN and up on stderr).
if [ -n "${SUITE_LOG:-}" ]; then LOGJAR=$J/slf4j-simple.jar; else LOGJAR=$J/slf4j-nop.jar; fi
CLASSES=$WORK/kafka-classes
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
echo "kafka: compiling against ${CP:0:80}..."
if ! javac -nowarn -d "$CLASSES" -cp "$CP" "$HERE"/*.java "$HERE"/../java-common/*.java 2>"$WORK/kafka-javac.log"; then
  cat "$WORK/kafka-javac.log"
  echo "FAIL kafka_compile: javac failed"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "kafka: checks against $ZK_CONNECT (target ${TARGET:-?})"
timeout 300 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CLASSES:$CP:$LOGJAR" KafkaSuite "$ZK_CONNECT"
rc=$?
if [ $rc -eq 124 ]; then
  echo "FAIL kafka_timeout: suite did not finish within 300 s"
  echo "0 passed, 1 failed"
fi
exit $rc
