#!/bin/bash
# Suite sasl: the Java client authenticating with SASL DIGEST-MD5 against the server's
# JAAS `Server` section (user bob, as the runner configures every server).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${ZK_CONNECT:?ZK_CONNECT must be host:port of the server under test}"
WORK=${WORK:-$(mktemp -d)}
J=/usr/share/java
CP=${JAVA_CP:-$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar}
CP=$(tr ':' '\n' <<<"$CP" | grep -v -E '/slf4j-(log4j12|simple|nop|jdk14|jcl|reload4j)[^/]*\.jar$' | paste -sd: -)
CLASSES=$WORK/sasl-classes
rm -rf "$CLASSES" && mkdir -p "$CLASSES"
if ! javac -nowarn -d "$CLASSES" -cp "$CP" "$HERE"/*.java "$HERE"/../java-common/*.java 2>"$WORK/sasl-javac.log"; then
  cat "$WORK/sasl-javac.log"
  echo "FAIL sasl_compile: javac failed"
  echo "0 passed, 1 failed"
  exit 1
fi
cat > "$WORK/client-jaas.conf" <<JAAS
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret"; };
BadClient { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="wrong"; };
JAAS
echo "sasl: checks against $ZK_CONNECT (target ${TARGET:-?})"
timeout 120 java -Djava.security.auth.login.config="$WORK/client-jaas.conf" \
  -cp "$CLASSES:$CP:$J/slf4j-nop.jar" SaslSuite "$ZK_CONNECT"
rc=$?
if [ $rc -eq 124 ]; then
  echo "FAIL sasl_timeout: suite did not finish within 120 s"
  echo "0 passed, 1 failed"
fi
exit $rc
