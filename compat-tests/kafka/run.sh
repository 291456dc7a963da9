#!/bin/bash
# Suite kafka: Kafka's (ZooKeeper mode) use of ZooKeeper replayed with the Java client, no broker,
# compiled at run time against the Debian jars. See README.md.
set -u
. "$(dirname "$0")/../java-common/run-suite.sh"
run_java_suite kafka KafkaSuite 300 "$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar"
