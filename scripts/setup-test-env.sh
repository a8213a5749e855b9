#!/usr/bin/env bash
# Installs and starts everything berth's example and tests need on a Debian 12 machine, as root:
# Debian's Docker engine (started in the background when it is not running), the local images
# (and the runner image, berth/runner:dev), a second "remote" engine over TLS in a network
# namespace of its own (scripts/setup-remote-engine.sh),
# the registry/credential-helper packages and their configuration, and the npm dependencies.
# Safe to run again: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "scripts/setup-test-env.sh installs packages and starts dockerd: run it as root (sudo)." >&2
  exit 1
fi

PACKAGES=(docker.io busybox-static bash-static docker-registry apache2-utils golang-docker-credential-helpers pass gnupg openssl git ca-certificates debootstrap iproute2 iptables util-linux zstd)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Debian's client, talking to Debian's engine (another client may be first on PATH).
DOCKER=/usr/bin/docker
export DOCKER
if ! $DOCKER version >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/berth-dockerd.log)"
  # Detached from this shell so that it keeps running for the tests; no systemd on these machines.
  setsid dockerd >/var/log/berth-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 120); do $DOCKER version >/dev/null 2>&1 && break; sleep 0.5; done
  $DOCKER version >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/berth-dockerd.log" >&2; exit 1; }
fi
log "docker engine $($DOCKER version -f '{{.Server.Version}}') is up"

log "building local images"
bash scripts/build-images.sh

if [ -x scripts/setup-registry.sh ] || [ -f scripts/setup-registry.sh ]; then
  log "configuring the test registries"
  bash scripts/setup-registry.sh
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund >/dev/null
fi

if [ "${BERTH_SKIP_RUNNER_IMAGE:-}" = 1 ]; then
  log "skipping the runner image (BERTH_SKIP_RUNNER_IMAGE=1)"
else
  log "building the runner image (berth in a container)"
  bash scripts/build-runner-image.sh
fi
if [ "${BERTH_SKIP_REMOTE_ENGINE:-}" = 1 ]; then
  log "skipping the remote engine (BERTH_SKIP_REMOTE_ENGINE=1)"
else
  log "starting the remote Docker engine (TLS, own network namespace)"
  DOCKER=$DOCKER bash scripts/setup-remote-engine.sh start
fi
log "ready"
