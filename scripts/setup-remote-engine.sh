#!/usr/bin/env bash
# A "remote" Docker engine for berth's tests: a second dockerd in a network namespace of its own
# (berth-remote), reachable from the host only at its TLS port (tcp://10.212.0.2:2376, client
# certificates required), so that its containers' addresses are not routable from berth's side,
# as on a real remote host. As root; idempotent.
#
#   scripts/setup-remote-engine.sh start    # certificates, netns + veth, dockerd, test images
#   scripts/setup-remote-engine.sh stop     # the dockerd of its pidfile, the netns, the veth
#   scripts/setup-remote-engine.sh status   # exit 0 when the engine answers over TLS
#
# Connection facts for the tests: $STATE/env (DOCKER_HOST, DOCKER_TLS_VERIFY=1,
# DOCKER_CERT_PATH with ca.pem/cert.pem/key.pem, as gitlab-runner's tls_cert_path expects).
# $STATE/wrong-ca holds the same client certificate with another CA's ca.pem (certificate tests).
#
# Addresses (see docs/environment notes: no collision with the main engine's pools, 172.17-31/16
# and 192.168/16): the veth pair is 10.212.0.0/30 (host 10.212.0.1, namespace 10.212.0.2), the
# engine's default bridge 10.214.0.0/24, its networks from 10.213.0.0/16 in /24s. The bridges
# live inside the namespace: the host has no route to them.
# dockerd runs with its own iptables inside the namespace (iptables rules are per namespace), so
# nothing is added to the host's FORWARD chain. Its containers reach the host only at 10.212.0.1
# (dockerd masquerades them behind 10.212.0.2; the host forwards nothing further): a registry or
# git server meant for the remote engine listens there (10.212.0.1:5000 is an insecure registry).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${BERTH_REMOTE_STATE:-/var/lib/berth-remote}
NS=berth-remote
VETH_HOST=berth-rh0
VETH_NS=berth-rn0
HOST_ADDR=10.212.0.1
NS_ADDR=10.212.0.2
PORT=2376
DROP_PORT=2377
POOL=10.213.0.0/16
BIP=10.214.0.1/24
DOCKER=${DOCKER:-/usr/bin/docker}
IMAGES=(berth-test/busybox:latest berth-test/bash:latest berth-test/svc-http:latest berth-test/svc-never:latest)

log() { printf '\033[1m[remote-engine]\033[0m %s\n' "$*"; }
die() { echo "setup-remote-engine: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run it as root: it creates a network namespace and starts dockerd"

remote() { # the docker CLI against the remote engine, over TLS
  DOCKER_HOST=tcp://$NS_ADDR:$PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$STATE/client "$DOCKER" "$@"
}

running_pid() { # prints the PID of our dockerd when it is alive
  local pid
  [ -f "$STATE/dockerd.pid" ] || return 1
  pid=$(cat "$STATE/dockerd.pid")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # The PID must still be our dockerd (not a recycled PID).
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--exec-root $STATE/exec " || return 1
  echo "$pid"
}

make_certs() {
  local c=$STATE/certs
  if [ -f "$STATE/client/key.pem" ] && [ -f "$c/server-cert.pem" ] && [ -f "$STATE/wrong-ca/ca.pem" ]; then return; fi
  log "making a CA, server (SAN IP:$NS_ADDR) and client certificates"
  rm -rf "$c" "$STATE/client" "$STATE/wrong-ca"
  mkdir -p "$c" "$STATE/client" "$STATE/wrong-ca"
  chmod 700 "$c" "$STATE/client" "$STATE/wrong-ca"
  openssl genrsa -out "$c/ca-key.pem" 2048 2>/dev/null
  openssl req -x509 -new -key "$c/ca-key.pem" -sha256 -days 3650 -subj "/CN=berth-remote test CA" -out "$c/ca.pem"
  openssl genrsa -out "$c/server-key.pem" 2048 2>/dev/null
  openssl req -new -key "$c/server-key.pem" -subj "/CN=berth-remote" -out "$c/server.csr"
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$NS_ADDR" > "$c/server.ext"
  openssl x509 -req -in "$c/server.csr" -CA "$c/ca.pem" -CAkey "$c/ca-key.pem" -CAcreateserial -days 3650 -sha256 \
    -extfile "$c/server.ext" -out "$c/server-cert.pem" 2>/dev/null
  openssl genrsa -out "$STATE/client/key.pem" 2048 2>/dev/null
  openssl req -new -key "$STATE/client/key.pem" -subj "/CN=berth-client" -out "$c/client.csr"
  printf 'extendedKeyUsage=clientAuth\n' > "$c/client.ext"
  openssl x509 -req -in "$c/client.csr" -CA "$c/ca.pem" -CAkey "$c/ca-key.pem" -CAcreateserial -days 3650 -sha256 \
    -extfile "$c/client.ext" -out "$STATE/client/cert.pem" 2>/dev/null
  cp "$c/ca.pem" "$STATE/client/ca.pem"
  # Another CA: the server certificate does not chain to it.
  openssl genrsa -out "$c/other-ca-key.pem" 2048 2>/dev/null
  openssl req -x509 -new -key "$c/other-ca-key.pem" -sha256 -days 3650 -subj "/CN=some other CA" -out "$STATE/wrong-ca/ca.pem"
  cp "$STATE/client/cert.pem" "$STATE/client/key.pem" "$STATE/wrong-ca/"
  chmod 600 "$STATE"/client/key.pem "$STATE"/wrong-ca/key.pem "$c"/*-key.pem
}

make_netns() {
  if ! ip netns list | grep -qw "$NS"; then
    log "network namespace $NS"
    ip netns add "$NS"
  fi
  ip -n "$NS" link set lo up
  if ! ip link show "$VETH_HOST" >/dev/null 2>&1; then
    log "veth $VETH_HOST ($HOST_ADDR) <-> $VETH_NS ($NS_ADDR) in $NS"
    ip link add "$VETH_HOST" type veth peer name "$VETH_NS" netns "$NS"
    ip addr add "$HOST_ADDR/30" dev "$VETH_HOST"
    ip -n "$NS" addr add "$NS_ADDR/30" dev "$VETH_NS"
  fi
  ip link set "$VETH_HOST" up
  ip -n "$NS" link set "$VETH_NS" up
  # The namespace's only way out is the host's end of the veth (no NAT on the host: its
  # containers reach only 10.212.0.1, the host side, nothing further).
  ip -n "$NS" route replace default via "$HOST_ADDR" dev "$VETH_NS"
  # The engine's container networks are not routable from the host, as on a real remote host.
  # Without these routes this sandbox's default gateway accepts a TCP connection to ANY address
  # (checked: connect to 10.99.99.99:80 succeeds), so a dial of a container IP would "succeed".
  ip route replace unreachable "$POOL"
  ip route replace unreachable "${BIP%.*}.0/24"
  # A firewalled port for tests of an engine that never answers: SYNs to $NS_ADDR:$DROP_PORT are
  # dropped inside the namespace (its own iptables; gone with the namespace).
  nsenter --net="/run/netns/$NS" iptables -C INPUT -p tcp --dport "$DROP_PORT" -j DROP 2>/dev/null ||
    nsenter --net="/run/netns/$NS" iptables -A INPUT -p tcp --dport "$DROP_PORT" -j DROP
}

start_dockerd() {
  if running_pid >/dev/null; then return; fi
  log "starting dockerd in $NS on tcp://$NS_ADDR:$PORT (log: $STATE/dockerd.log)"
  mkdir -p "$STATE/root" "$STATE/exec"
  rm -f "$STATE/dockerd.pid"
  # Its own /etc/docker (daemon.json, key.json): with the main engine's key.json both engines
  # report the same ID (docker info), which hides which one a test talks to. dockerd 20.10 has no
  # flag for the key's path, so it runs in a mount namespace of its own (unshare --mount) where
  # $STATE/etc-docker is bind-mounted on /etc/docker; its overlay mounts stay in that namespace
  # and go with it when dockerd exits.
  mkdir -p "$STATE/etc-docker"
  [ -f "$STATE/etc-docker/daemon.json" ] || echo '{}' > "$STATE/etc-docker/daemon.json"
  # nsenter --net (not ip netns exec): ip netns exec also mounts a fresh /sys, which hides the
  # cgroup mounts dockerd needs ("Devices cgroup isn't mounted").
  # setsid: detached from this shell, so that it keeps running for the tests. exec: the PID in
  # the pidfile is dockerd's own.
  setsid nsenter --net="/run/netns/$NS" unshare --mount --propagation slave sh -c '
    mount --bind "$1/etc-docker" /etc/docker && shift && exec dockerd "$@"' sh "$STATE" \
    --data-root "$STATE/root" --exec-root "$STATE/exec" --pidfile "$STATE/dockerd.pid" \
    -H "tcp://$NS_ADDR:$PORT" --tlsverify \
    --tlscacert "$STATE/certs/ca.pem" --tlscert "$STATE/certs/server-cert.pem" --tlskey "$STATE/certs/server-key.pem" \
    --default-address-pool "base=$POOL,size=24" --bip "$BIP" --insecure-registry "$HOST_ADDR:5000" \
    >"$STATE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do remote version >/dev/null 2>&1 && break; sleep 0.5; done
  remote version >/dev/null 2>&1 || die "the remote dockerd did not answer on tcp://$NS_ADDR:$PORT; see $STATE/dockerd.log"
}

load_images() {
  for image in "${IMAGES[@]}"; do
    local want
    want=$("$DOCKER" image inspect -f '{{.Id}}' "$image" 2>/dev/null) || die "$image is missing on the main engine: run scripts/build-images.sh first"
    if [ "$(remote image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)" = "$want" ]; then continue; fi
    log "loading $image"
    "$DOCKER" save "$image" | remote load -q >/dev/null
  done
}

write_env() {
  cat > "$STATE/env.tmp" <<EOF
DOCKER_HOST=tcp://$NS_ADDR:$PORT
DOCKER_TLS_VERIFY=1
DOCKER_CERT_PATH=$STATE/client
BERTH_REMOTE_WRONG_CA=$STATE/wrong-ca
BERTH_REMOTE_NETNS=$NS
BERTH_REMOTE_DROPPED=tcp://$NS_ADDR:$DROP_PORT
EOF
  mv "$STATE/env.tmp" "$STATE/env"
}

start() {
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  make_certs
  make_netns
  start_dockerd
  load_images
  write_env
  log "ready: $(cat "$STATE/env" | head -3 | tr '\n' ' ')"
}

stop() {
  rm -f "$STATE/env"
  local pid
  if pid=$(running_pid); then
    log "stopping dockerd (PID $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && die "dockerd (PID $pid) did not stop within 30 s"
  fi
  rm -f "$STATE/dockerd.pid"
  if ip link show "$VETH_HOST" >/dev/null 2>&1; then ip link del "$VETH_HOST"; fi
  ip route del unreachable "$POOL" 2>/dev/null || true
  ip route del unreachable "${BIP%.*}.0/24" 2>/dev/null || true
  if ip netns list | grep -qw "$NS"; then ip netns del "$NS"; fi
  # dockerd's mounts under the exec root belong to the namespace's mount namespace (ip netns
  # exec): nothing to unmount on the host. The data root (images) is kept for the next start.
  log "stopped"
}

status() {
  if ! pid=$(running_pid); then echo "remote engine: not running"; return 1; fi
  if remote version -f '{{.Server.Version}}' >/dev/null 2>&1; then
    echo "remote engine: dockerd PID $pid, tcp://$NS_ADDR:$PORT (TLS), env file $STATE/env"
  else
    echo "remote engine: dockerd PID $pid does not answer on tcp://$NS_ADDR:$PORT"; return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
