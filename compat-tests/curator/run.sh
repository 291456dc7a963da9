#!/bin/bash
# Suite curator: what Dubbo's ZooKeeper registry (and common recipes) do through Curator 5.4,
# compiled at run time against the Debian jars. See README.md.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${ZK_CONNECT:?ZK_CONNECT must be host:port of the server under test}"
WORK=${WORK:-$(mktemp -d)}
J=/usr/share/java
CP=${JAVA_CP:-}
if [ -z "$CP" ]; then
  CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/curator-client.jar:$J/curator-framework.jar
  CP=$CP:$J/curator-recipes.jar:$J/curator-x-discovery.jar:$J/guava.jar:$J/slf4j-api.jar
  CP=$CP:$J/jackson-core.jar:$J/jackson-databind.jar:$J/jackson-annotations.jar
fi
# One SLF4J binding only, ours: drop any binding the given classpath brings.
CP=$(tr ':' '\n' <<<"$CP" | grep -v -E '/slf4j-(log4j12|simple|nop|jdk14|jcl|reload4j)[^/]*\.jar$' | paste -sd: -)
# Client logging stays quiet unless SUITE_LOG is set (then WARN and up on stderr).
if [ -n "${SUITE_LOG:-}" ]; then LOGJAR=$J/slf4j-simple.jar; else LOGJAR=$J/slf4j-nop.jar; fi
CLASSES=$WORK/curator-classes
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
echo "curator: compiling against ${CP:0:80}..."
if ! javac -nowarn -d "$CLASSES" -cp "$CP" "$HERE"/*.java "$HERE"/../java-common/*.java 2>"$WORK/curator-javac.log"; then
  cat "$WORK/curator-javac.log"
  echo "FAIL curator_compile: javac failed"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "curator: checks against $ZK_CONNECT (target ${TARGET:-?})"
timeout 600 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CLASSES:$CP:$LOGJAR" CuratorSuite "$ZK_CONNECT"
rc=$?
if [ $rc -eq 124 ]; then
  echo "FAIL curator_timeout: suite did not finish within 600 s"
  echo "0 passed, 1 failed"
fi
exit $rc
