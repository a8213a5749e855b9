#!/usr/bin/env bash
# Builds berth's runner image, berth/runner:dev, from the Dockerfile, on a local Debian base
# (no registry needed): berth-test/runner-base:bookworm is a debootstrap'ed bookworm with git,
# ca-certificates, the Docker credential helpers, pass and gnupg, plus this machine's Node
# binary (same Debian, same glibc). Then `npm run build` when dist/berth.mjs is missing or
# older than the sources, and `docker build --build-arg BASE_IMAGE=<that base>`.
#
# Idempotent: the base is kept while its recipe label matches (recipe version + Node version),
# and `docker build` reuses its cache. Building the base needs root and debootstrap (about a minute).
#
#   DOCKER          docker client (default: docker)
#   DEBIAN_MIRROR   default http://deb.debian.org/debian
#   RUNNER_BASE     default berth-test/runner-base:bookworm
#   RUNNER_IMAGE    default berth/runner:dev
set -euo pipefail
cd "$(dirname "$0")/.."

RECIPE=1   # bump to force a rebuild of the base when the recipe below changes
DOCKER=${DOCKER:-docker}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=${RUNNER_BASE:-berth-test/runner-base:bookworm}
IMAGE=${RUNNER_IMAGE:-berth/runner:dev}
NODE_BIN=$(readlink -f "$(command -v node)")
WANT="$RECIPE-node-$("$NODE_BIN" --version)"

work=
# debootstrap mounts /proc and /sys in the target while it installs: unmount before removing.
remove_work() {
  [ -n "$work" ] || return 0
  local m
  for m in proc sys dev/pts dev; do
    if mountpoint -q "$work/rootfs/$m"; then umount -l "$work/rootfs/$m" || true; fi
  done
  rm -rf --one-file-system "$work"
}

label_of() { $DOCKER image inspect -f '{{index .Config.Labels "berth.recipe"}}' "$1" 2>/dev/null || true; }

build_base() {
  if [ "$(id -u)" != 0 ]; then echo "build-runner-image.sh: building $BASE needs root (debootstrap)" >&2; exit 1; fi
  command -v debootstrap >/dev/null || { echo "build-runner-image.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  work=$(mktemp -d /var/tmp/berth-runner-base.XXXXXX)
  rootfs="$work/rootfs"
  trap remove_work EXIT
  local started=$SECONDS
  echo "debootstrap bookworm into $rootfs (from $MIRROR) ..."
  # golang-docker-credential-helpers depends on gnome-keyring, which needs "default-dbus-session-bus |
  # dbus-session-bus"; debootstrap does not resolve alternatives, so one provider is named: dbus-x11,
  # the smallest (the other, dbus-user-session, brings systemd).
  debootstrap --variant=minbase --include=git,ca-certificates,golang-docker-credential-helpers,pass,gnupg,dbus-x11 \
    bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.out" 2>&1 || {
    tail -n 20 "$work/debootstrap.out" >&2
    [ -f "$rootfs/debootstrap/debootstrap.log" ] && grep -B2 -A4 -m5 -i 'error' "$rootfs/debootstrap/debootstrap.log" >&2 || true
    echo "build-runner-image.sh: debootstrap of bookworm from $MIRROR failed (see the lines above)" >&2
    exit 1
  }
  install -m 755 "$NODE_BIN" "$rootfs/usr/local/bin/node"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  tar -C "$rootfs" --numeric-owner -c . | $DOCKER import \
    --change "LABEL berth.recipe=$WANT" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$BASE" >/dev/null
  echo "built $BASE in $((SECONDS - started)) s"
}

if [ "$(label_of "$BASE")" = "$WANT" ]; then echo "have $BASE"; else build_base; fi

# dist/berth.mjs: built when missing or older than anything it is built from.
if [ ! -s dist/berth.mjs ] || [ -n "$(find src scripts/bundle package.json package-lock.json tsconfig.json tsconfig.build.json -newer dist/berth.mjs -print -quit)" ]; then
  echo "npm run build ..."
  npm run build --silent
fi

started=$SECONDS
previous=$($DOCKER image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
$DOCKER build -q --build-arg "BASE_IMAGE=$BASE" -t "$IMAGE" . >/dev/null
# The image this one replaced (an older bundle) is dropped unless something still uses it.
if [ -n "$previous" ] && [ "$previous" != "$($DOCKER image inspect -f '{{.Id}}' "$IMAGE")" ]; then
  $DOCKER image rm "$previous" >/dev/null 2>&1 || true
fi
echo "built $IMAGE in $((SECONDS - started)) s ($($DOCKER image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
