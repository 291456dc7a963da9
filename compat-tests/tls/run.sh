#!/bin/bash
# Suite tls: the Java client over TLS (ClientCnxnSocketNetty, zookeeper.client.secure)
# against secureClientPort, with PKCS12 key and trust stores made here by keytool, and
# x509 client-certificate authentication (whoAmI, x509 ACLs, the x509 super user).
# The suite starts its own server of kind $TARGET, since the stores only exist now.
set -u
. "$(dirname "$0")/../java-common/run-suite.sh"
. "$(dirname "$0")/../lib/servers.sh"
mkdir -p "$WORK"
PKI=$WORK/pki
rm -rf "$PKI" && mkdir -p "$PKI"
PASS=changeit

kt() { keytool -noprompt "$@" >>"$PKI/keytool.log" 2>&1; }

# A CA, then one PKCS12 key store per identity holding its key and its CA-signed chain.
make_pki() {
  kt -genkeypair -alias ca -keyalg EC -groupname secp256r1 -dname "CN=compat test CA" -ext bc:c \
    -validity 2 -keystore "$PKI/ca.p12" -storetype PKCS12 -storepass $PASS || return 1
  kt -exportcert -rfc -alias ca -keystore "$PKI/ca.p12" -storepass $PASS -file "$PKI/ca.pem" || return 1
  kt -importcert -alias ca -file "$PKI/ca.pem" -keystore "$PKI/trust.p12" -storetype PKCS12 -storepass $PASS || return 1
  local name dn ext
  local alg
  while IFS='|' read -r name dn ext; do
    # The server's key is RSA, as the ZooKeeper admin guide makes it (an EC key from
    # keytool lacks the public key ring needs); clients keep EC keys.
    if [ "$name" = server ]; then alg=(-keyalg RSA -keysize 2048); else alg=(-keyalg EC -groupname secp256r1); fi
    kt -genkeypair -alias "$name" "${alg[@]}" -dname "$dn" -validity 2 \
      -keystore "$PKI/$name.p12" -storetype PKCS12 -storepass $PASS || return 1
    kt -certreq -alias "$name" -keystore "$PKI/$name.p12" -storepass $PASS -file "$PKI/$name.csr" || return 1
    kt -gencert -alias ca -keystore "$PKI/ca.p12" -storepass $PASS -infile "$PKI/$name.csr" \
      -outfile "$PKI/$name.crt" -rfc -validity 2 ${ext:+-ext "$ext"} || return 1
    kt -importcert -alias ca -file "$PKI/ca.pem" -keystore "$PKI/$name.p12" -storepass $PASS || return 1
    kt -importcert -alias "$name" -file "$PKI/$name.crt" -keystore "$PKI/$name.p12" -storepass $PASS || return 1
  done <<LIST
server|CN=localhost|san=dns:localhost,ip:127.0.0.1
alice|CN=alice, OU=ZooKeeper, O=Apache, C=US|
bob|CN=bob, O=Apache|
root|CN=root|
LIST
  # A client whose certificate no trusted CA signed.
  kt -genkeypair -alias mallory -keyalg EC -groupname secp256r1 -dname "CN=mallory" -validity 2 \
    -keystore "$PKI/mallory.p12" -storetype PKCS12 -storepass $PASS
}

if ! make_pki; then
  cat "$PKI/keytool.log"
  echo "FAIL tls_keystores: keytool failed"
  echo "0 passed, 1 failed"
  exit 1
fi

SECURE_PORT=$(free_port)
NAME=tls-secure-$TARGET
if ! addr=$(start_server "$TARGET" "$NAME" \
    "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory" \
    "secureClientPort=$SECURE_PORT" "secureClientPortAddress=127.0.0.1" \
    "ssl.keyStore.location=$PKI/server.p12" "ssl.keyStore.password=$PASS" \
    "ssl.trustStore.location=$PKI/trust.p12" "ssl.trustStore.password=$PASS" \
    "ssl.clientAuth=need" "X509AuthenticationProvider.superUser=CN=root"); then
  echo "FAIL tls_server_start: the $TARGET server with a secure port did not start"
  echo "0 passed, 1 failed"
  exit 1
fi
trap 'stop_server "$NAME"' EXIT
echo "tls: $TARGET server plain $addr, secure 127.0.0.1:$SECURE_PORT"
# The suite's checks run against this server; run_java_suite passes $ZK_CONNECT first.
ZK_CONNECT=127.0.0.1:$SECURE_PORT
CP="$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/netty-buffer.jar:$J/netty-codec.jar:$J/netty-common.jar:$J/netty-handler.jar:$J/netty-resolver.jar:$J/netty-transport.jar:$J/netty-transport-native-epoll.jar:$J/netty-transport-native-unix-common.jar"
(run_java_suite tls TlsSuite 180 "$CP" -Dtls.plain="$addr" -Dtls.pki="$PKI" -Dtls.password=$PASS)
exit $?
