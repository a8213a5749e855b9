#!/usr/bin/env bash
# Builds the local images berth's example pipeline and tests use. No registry is needed:
# each image is a busybox (and, for bash, bash-static) root filesystem made with `docker import`.
# Idempotent: an image that exists with the current recipe version is kept.
set -euo pipefail

RECIPE=3   # bump to force a rebuild when a recipe below changes
DOCKER=${DOCKER:-docker}
BUSYBOX=${BUSYBOX:-/bin/busybox}
BASH_STATIC=${BASH_STATIC:-/bin/bash-static}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have() { [ "$($DOCKER image inspect -f '{{index .Config.Labels "berth.recipe"}}' "$1" 2>/dev/null || true)" = "$RECIPE" ]; }

rootfs() { # rootfs DIR [with-bash]
  local d=$1
  mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,tmp,etc,root,var/www}
  chmod 1777 "$d/tmp"
  cp "$BUSYBOX" "$d/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ -e "$d/bin/$applet" ] || ln -s busybox "$d/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$d/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh' >> "$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
  if [ "${2:-}" = with-bash ]; then cp "$BASH_STATIC" "$d/bin/bash"; fi
}

build() { # build NAME ROOTFS [--change ...]
  local name=$1 dir=$2; shift 2
  tar -C "$dir" -c . | $DOCKER import --change "LABEL berth.recipe=$RECIPE" "$@" - "$name" >/dev/null
  echo "built $name"
}

img() { # img NAME [with-bash] -- [--change ...]
  local name=$1 bash=$2; shift 2
  if have "$name"; then echo "have $name"; return; fi
  local d="$work/$(echo "$name" | tr '/:' '__')"
  rootfs "$d" "$bash"
  [ -n "${SETUP_FILES:-}" ] && eval "$SETUP_FILES"
  build "$name" "$d" "$@"
  SETUP_FILES=
}

# Plain busybox: sh, no bash (exercises the sh fallback of shell detection).
img berth-test/busybox:latest '' --change 'CMD ["sh"]'
# busybox + bash: bash is detected and used.
img berth-test/bash:latest with-bash --change 'CMD ["bash"]'
# An HTTP service on port 80 that answers at once.
SETUP_FILES='echo "hello from svc-http" > "$d/var/www/index.html"' \
img berth-test/svc-http:latest '' --change 'EXPOSE 80/tcp' --change 'CMD ["httpd","-f","-p","80","-h","/var/www"]'
# A service that exposes a port but never listens (health check must warn).
img berth-test/svc-never:latest '' --change 'EXPOSE 8080/tcp' --change 'CMD ["sleep","3600"]'
# A service with no CMD at all (must not abort the pipeline).
img berth-test/svc-nocmd:latest ''
# An image whose ENTRYPOINT runs its arguments with exec "$@" (the GitLab contract).
SETUP_FILES='printf "#!/bin/sh\necho \"entrypoint ran\" >&2\nexec \"\$@\"\n" > "$d/entrypoint.sh"; chmod 755 "$d/entrypoint.sh"' \
img berth-test/entrypoint-exec:latest with-bash --change 'ENTRYPOINT ["/entrypoint.sh"]' --change 'CMD ["bash"]'
# An image whose ENTRYPOINT ignores its arguments and exits 0: the job script never runs.
SETUP_FILES='printf "#!/bin/sh\necho \"I ignore my arguments\"\nexit 0\n" > "$d/entrypoint.sh"; chmod 755 "$d/entrypoint.sh"' \
img berth-test/entrypoint-swallow:latest '' --change 'ENTRYPOINT ["/entrypoint.sh"]'
# An image whose ENTRYPOINT runs the script but hides its exit status (no exec, exit 0).
SETUP_FILES='printf "#!/bin/sh\n\"\$@\"\nexit 0\n" > "$d/entrypoint.sh"; chmod 755 "$d/entrypoint.sh"' \
img berth-test/entrypoint-hide-status:latest '' --change 'ENTRYPOINT ["/entrypoint.sh"]'
