#!/usr/bin/env bash
# Prepares this machine for berth's registry tests: a TLS registry name that resolves locally.
# Run as root on a fresh Debian machine, after the caller has installed
#   docker-registry apache2-utils golang-docker-credential-helpers pass gnupg openssl
# Installs nothing and starts nothing (the tests start and stop their own registries). Idempotent.
#
#   - a CA and a server certificate for registry.test (openssl), under $STATE_DIR;
#   - /etc/hosts: registry.test -> 127.0.0.2 (a loopback address of its own, so that the TLS
#     registry can listen on port 5000 without colliding with anything on 127.0.0.1);
#   - /etc/docker/certs.d/registry.test:5000/ca.crt (dockerd reads certs.d on every pull).
#
# Note: dockerd treats 127.0.0.0/8 as an insecure registry range by default, so it talks TLS to
# registry.test:5000 without verifying the certificate. berth's own `auth explain --check`
# verifies it against certs.d/ca.crt.
set -euo pipefail

HOST=${REGISTRY_TEST_HOST:-registry.test}
ADDR=${REGISTRY_TEST_ADDR:-127.0.0.2}
PORT=${REGISTRY_TEST_PORT:-5000}
STATE_DIR=${REGISTRY_TEST_STATE:-/var/lib/berth-test/registry}
CERTS_D=${DOCKER_CERTS_D:-/etc/docker/certs.d}
HOSTS_FILE=${HOSTS_FILE:-/etc/hosts}

if [ "$(id -u)" != 0 ]; then echo "setup-registry.sh: run me as root" >&2; exit 1; fi
for tool in openssl docker-registry htpasswd docker-credential-pass pass gpg; do
  command -v "$tool" >/dev/null || { echo "setup-registry.sh: $tool is missing (apt-get install docker-registry apache2-utils golang-docker-credential-helpers pass gnupg openssl)" >&2; exit 1; }
done

mkdir -p "$STATE_DIR"
chmod 755 "$STATE_DIR"
cd "$STATE_DIR"

# --- CA and server certificate (regenerated when missing, invalid or expiring within 30 days)
cert_ok() {
  [ -s ca.crt ] && [ -s ca.key ] && [ -s server.crt ] && [ -s server.key ] &&
    openssl verify -CAfile ca.crt server.crt >/dev/null 2>&1 &&
    openssl x509 -in server.crt -noout -checkend $((30 * 86400)) >/dev/null 2>&1 &&
    openssl x509 -in server.crt -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$HOST"
}
if cert_ok; then
  echo "have certificates for $HOST in $STATE_DIR"
else
  rm -f ca.crt ca.key ca.srl server.crt server.key server.csr server.ext
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout ca.key -out ca.crt -subj "/CN=berth test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr -subj "/CN=$HOST" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:$HOST,IP:$ADDR" "extendedKeyUsage=serverAuth" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=CA:FALSE" > server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 825 \
    -extfile server.ext -out server.crt 2>/dev/null
  rm -f server.csr server.ext
  echo "made a CA and a certificate for $HOST in $STATE_DIR"
fi
chmod 644 ca.crt server.crt
chmod 600 ca.key server.key

# --- /etc/hosts (rewritten in place: it may be a bind mount that cannot be replaced)
if grep -Eq "^[[:space:]]*$ADDR[[:space:]]+([^#]*[[:space:]])?$HOST([[:space:]]|\$)" "$HOSTS_FILE"; then
  echo "have $HOST -> $ADDR in $HOSTS_FILE"
else
  tmp=$(mktemp)
  awk -v host="$HOST" '{ for (i = 2; i <= NF; i++) if ($i == host) next; print }' "$HOSTS_FILE" > "$tmp"
  echo "$ADDR $HOST" >> "$tmp"
  cat "$tmp" > "$HOSTS_FILE"
  rm -f "$tmp"
  echo "mapped $HOST -> $ADDR in $HOSTS_FILE"
fi

# --- dockerd trust for the registry
mkdir -p "$CERTS_D/$HOST:$PORT"
if cmp -s ca.crt "$CERTS_D/$HOST:$PORT/ca.crt"; then
  echo "have $CERTS_D/$HOST:$PORT/ca.crt"
else
  cp ca.crt "$CERTS_D/$HOST:$PORT/ca.crt"
  chmod 644 "$CERTS_D/$HOST:$PORT/ca.crt"
  echo "installed $CERTS_D/$HOST:$PORT/ca.crt"
fi

# --- what the tests read
cat > env <<EOF
REGISTRY_TEST_HOST=$HOST
REGISTRY_TEST_ADDR=$ADDR
REGISTRY_TEST_PORT=$PORT
REGISTRY_TEST_CA=$STATE_DIR/ca.crt
REGISTRY_TEST_CERT=$STATE_DIR/server.crt
REGISTRY_TEST_KEY=$STATE_DIR/server.key
EOF
chmod 644 env
echo "registry test setup done ($HOST:$PORT -> $ADDR:$PORT)"
