#!/usr/bin/env bash
# acl suite: ACL enforcement for every operation x permission x scheme (world, auth,
# digest, ip, super, sasl, x509), run by acl_matrix.py with kazoo against the server
# under test and the Apache ZooKeeper oracle; every result code must match.
#
# The suite starts its own pair of servers (one of kind $TARGET, one Apache ZooKeeper):
# the x509 cells need a secure client port with certificates made here, and the sasl
# cells a third JAAS user (eve) so that an authenticated client can fail to match.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../lib/servers.sh
source "$HERE/../lib/servers.sh"

VENV="${VENV:-$COMPAT_WORK/venv}"
WORK="${WORK:-$COMPAT_WORK/suites/acl}"
PKI="$WORK/pki"
PASS=changeit
rm -rf "$PKI" && mkdir -p "$PKI"

ossl() { openssl "$@" >>"$PKI/openssl.log" 2>&1; }

# A CA, an RSA server key in a PKCS12 key store, a trust store holding the CA, and one
# PEM key + CA-signed certificate per client identity (subjects as the x509 cells use).
make_pki() {
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -subj "/CN=acl matrix CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign || return 1
    keytool -noprompt -importcert -alias ca -file "$PKI/ca.pem" -keystore "$PKI/trust.p12" \
        -storetype PKCS12 -storepass $PASS >>"$PKI/openssl.log" 2>&1 || return 1
    local name subj
    while IFS='|' read -r name subj; do
        local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
        [ "$name" = server ] && key=(-newkey rsa:2048)
        ossl req -new "${key[@]}" -nodes -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subj" || return 1
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$PKI/$name.ext"
        ossl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
            -days 2 -extfile "$PKI/$name.ext" -out "$PKI/$name.pem" || return 1
    done <<LIST
server|/CN=localhost
alice|/C=US/O=Apache/OU=ZooKeeper/CN=alice
bob|/O=Apache/CN=bob
root|/CN=root
LIST
    ossl pkcs12 -export -in "$PKI/server.pem" -inkey "$PKI/server.key" -certfile "$PKI/ca.pem" \
        -name server -passout pass:$PASS -out "$PKI/server.p12"
}

fail_setup() { echo "FAIL acl_setup: $1"; echo "0 passed, 1 failed"; exit 1; }

make_pki || { cat "$PKI/openssl.log"; fail_setup "could not make the certificates"; }

started=()
cleanup() { for s in ${started[@]+"${started[@]}"}; do stop_server "$s"; done; }
trap cleanup EXIT

# start_secure <kind> <name> -> "<plain host:port> <secure host:port>"
start_secure() {
    local kind="$1" name="$2" port addr
    port="$(free_port)" || return 1
    addr="$(SERVER_JAAS_USERS='user_super="test" user_bob="bobsecret" user_eve="evesecret"' \
        start_server "$kind" "$name" \
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory" \
        "secureClientPort=$port" "secureClientPortAddress=127.0.0.1" \
        "ssl.keyStore.location=$PKI/server.p12" "ssl.keyStore.password=$PASS" \
        "ssl.trustStore.location=$PKI/trust.p12" "ssl.trustStore.password=$PASS" \
        "ssl.clientAuth=need" "X509AuthenticationProvider.superUser=CN=root")" || return 1
    printf '%s 127.0.0.1:%s\n' "$addr" "$port"
}

read -r target target_tls < <(start_secure "${TARGET:-rzk}" acl-target) ||
    fail_setup "the ${TARGET:-rzk} server did not start"
started+=(acl-target)
read -r oracle oracle_tls < <(start_secure zk acl-oracle) || fail_setup "the oracle did not start"
started+=(acl-oracle)
echo "acl matrix: target $target (tls $target_tls), oracle $oracle (tls $oracle_tls)"
"$VENV/bin/python" "$HERE/acl_matrix.py" "$target" "$oracle" \
    --tls "$target_tls" "$oracle_tls" --pki "$PKI"
rc=$?
exit $rc
