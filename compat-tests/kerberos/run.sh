#!/bin/bash
# Suite kerberos: the Java client authenticating with SASL GSSAPI (Kerberos) against a
# server whose JAAS `Server` section logs in with Krb5LoginModule from a keytab, the way
# secured Kafka deployments run ZooKeeper. The suite starts its own MIT KDC (realm
# EXAMPLE.COM, loopback, free port, temp database) and its own servers of kind $TARGET,
# since the server needs the KDC's keytab before it starts.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"
: "${TARGET:=rzk}"
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
KDIR="$WORK/kdc"
REALM=EXAMPLE.COM

give_up() {
  echo "FAIL kerberos_$1: $2"
  echo "0 passed, 1 failed"
  exit 1
}

for tool in krb5kdc kdb5_util kadmin.local; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || give_up setup "$tool is not installed (krb5-kdc, krb5-admin-server)"
done
export PATH="$PATH:/usr/sbin"

KDC_PID=""
cleanup() {
  stop_server krb-main >/dev/null 2>&1
  stop_server krb-norealm >/dev/null 2>&1
  stop_server krb-rules >/dev/null 2>&1
  [ -n "$KDC_PID" ] && kill "$KDC_PID" 2>/dev/null
}
trap cleanup EXIT

start_kdc() {
  rm -rf "$KDIR" && mkdir -p "$KDIR"
  KDC_PORT=$(free_port) || return 1
  cat >"$KDIR/krb5.conf" <<CONF
[libdefaults]
  default_realm = $REALM
  dns_lookup_realm = false
  dns_lookup_kdc = false
  rdns = false
  udp_preference_limit = 1
[realms]
  $REALM = {
    kdc = 127.0.0.1:$KDC_PORT
  }
[domain_realm]
  localhost = $REALM
CONF
  cat >"$KDIR/kdc.conf" <<CONF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$KDC_PORT
  kdc_tcp_listen = 127.0.0.1:$KDC_PORT
[realms]
  $REALM = {
    database_name = $KDIR/principal
    key_stash_file = $KDIR/stash
    acl_file = $KDIR/kadm5.acl
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:$KDIR/kdc.log
CONF
  : >"$KDIR/kadm5.acl"
  export KRB5_CONFIG="$KDIR/krb5.conf" KRB5_KDC_PROFILE="$KDIR/kdc.conf" KRB5RCACHEDIR="$KDIR"
  kdb5_util create -s -r "$REALM" -P kdc-master-pw >"$KDIR/setup.log" 2>&1 || return 1
  local p
  for p in zookeeper/localhost client admin; do
    kadmin.local -q "addprinc -randkey $p" >>"$KDIR/setup.log" 2>&1 || return 1
    kadmin.local -q "ktadd -k $KDIR/${p%%/*}.keytab $p" >>"$KDIR/setup.log" 2>&1 || return 1
  done
  krb5kdc -n -P "$KDIR/kdc.pid" >>"$KDIR/setup.log" 2>&1 &
  KDC_PID=$!
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$KDC_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start_kdc || { cat "$KDIR/setup.log" 2>/dev/null; give_up kdc "the KDC did not start"; }
echo "kerberos: KDC for $REALM on 127.0.0.1:$KDC_PORT"

cat >"$WORK/server-jaas.conf" <<JAAS
Server {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true keyTab="$KDIR/zookeeper.keytab" storeKey=true useTicketCache=false
  principal="zookeeper/localhost@$REALM";
};
JAAS
cat >"$WORK/client-jaas.conf" <<JAAS
Client {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true keyTab="$KDIR/client.keytab" storeKey=true useTicketCache=false
  principal="client@$REALM";
};
Admin {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true keyTab="$KDIR/admin.keytab" storeKey=true useTicketCache=false
  principal="admin@$REALM";
};
DigestClient { org.apache.zookeeper.server.auth.DigestLoginModule required username="bob" password="bobsecret"; };
JAAS

# Later -D flags win over the runner's JAAS path, for Java and for rzk alike.
export SUITE_JVMFLAGS="-Djava.security.auth.login.config=$WORK/server-jaas.conf -Djava.security.krb5.conf=$KDIR/krb5.conf -Dzookeeper.superUser=admin@$REALM"
MAIN=$(start_server "$TARGET" krb-main) || give_up server_start "the $TARGET server with Kerberos did not start"
NOREALM=$(start_server "$TARGET" krb-norealm "kerberos.removeRealmFromPrincipal=true") ||
  give_up server_start "the $TARGET server with removeRealmFromPrincipal did not start"
# auth_to_local rules other than DEFAULT (no spaces: the flags are split on them).
RULES='RULE:[1:$1](client)s/(.*)/app-$1/DEFAULT'
RULED=$(SUITE_JVMFLAGS="$SUITE_JVMFLAGS -Dzookeeper.security.auth_to_local=$RULES" start_server "$TARGET" krb-rules) ||
  give_up server_start "the $TARGET server with auth_to_local rules did not start"
echo "kerberos: $TARGET servers $MAIN, $NOREALM (removeRealmFromPrincipal=true), $RULED (auth_to_local $RULES)"

ZK_CONNECT="$MAIN"
# shellcheck source=../java-common/run-suite.sh
. "$HERE/../java-common/run-suite.sh"
# run_java_suite exits; the EXIT trap stops the servers and the KDC.
run_java_suite kerberos KerberosSuite 150 "$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar" \
  -Djava.security.auth.login.config="$WORK/client-jaas.conf" -Djava.security.krb5.conf="$KDIR/krb5.conf" \
  -Dkerberos.suite.norealm="$NOREALM" -Dkerberos.suite.rules="$RULED"
