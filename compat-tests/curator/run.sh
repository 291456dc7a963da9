#!/bin/bash
# Suite curator: what Dubbo's ZooKeeper registry (and common recipes) do through Curator 5.4,
# compiled at run time against the Debian jars. See README.md.
set -u
. "$(dirname "$0")/../java-common/run-suite.sh"
CP=$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/curator-client.jar:$J/curator-framework.jar
CP=$CP:$J/curator-recipes.jar:$J/curator-x-discovery.jar:$J/guava.jar:$J/slf4j-api.jar
CP=$CP:$J/jackson-core.jar:$J/jackson-databind.jar:$J/jackson-annotations.jar
run_java_suite curator CuratorSuite 600 "$CP"
