#!/bin/bash
# Suite sasl: the Java client authenticating with SASL DIGEST-MD5 against the server's
# JAAS `Server` section (user bob, as the runner configures every server).
set -u
. "$(dirname "$0")/../java-common/run-suite.sh"
mkdir -p "$WORK"
cat > "$WORK/client-jaas.conf" <<JAAS
Client { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret"; };
BadClient { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="wrong"; };
JAAS
run_java_suite sasl SaslSuite 120 "$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar" \
  -Djava.security.auth.login.config="$WORK/client-jaas.conf"
