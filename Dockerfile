# berth runner image: berth (the bundle dist/berth.mjs and its chunks), Node >= 20, git (berth fetches
# job sources itself), CA certificates, Debian's Docker credential helpers (docker-credential-pass,
# -secretservice) with pass and gnupg. berth talks to the host's engine through its socket:
#
#   npm run build
#   docker build --build-arg BASE_IMAGE=node:20-bookworm-slim -t berth/runner:dev .
#   docker run -d --init --name berth -v /var/run/docker.sock:/var/run/docker.sock \
#     -v /srv/berth:/etc/berth berth/runner:dev run
#
# The base must be Debian-like (apt-get) unless it already has everything, as the base that
# scripts/build-runner-image.sh makes does: then nothing is installed and no network is needed.
# Repositories mounted for `berth exec` often belong to another user than root: git trusts them
# (safe.directory).
ARG BASE_IMAGE=node:20-bookworm-slim
FROM ${BASE_IMAGE}

RUN set -eu; \
    missing=''; \
    command -v git >/dev/null || missing="$missing git"; \
    [ -s /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"; \
    command -v docker-credential-pass >/dev/null || missing="$missing golang-docker-credential-helpers"; \
    command -v pass >/dev/null || missing="$missing pass"; \
    command -v gpg >/dev/null || missing="$missing gnupg"; \
    if [ -n "$missing" ]; then \
      echo "installing:$missing"; \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    command -v node >/dev/null || { echo 'the base image has no node: berth needs Node >= 20' >&2; exit 1; }; \
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
      || { echo "the base image has Node $(node --version): berth needs Node >= 20" >&2; exit 1; }; \
    git config --system --add safe.directory '*'; \
    printf '#!/bin/sh\nexec node /opt/berth/berth.mjs "$@"\n' > /usr/local/bin/berth; \
    chmod 755 /usr/local/bin/berth

COPY dist/berth.mjs dist/berth.mjs.map /opt/berth/
COPY dist/chunks /opt/berth/chunks/

# config.toml (and berth's git cache next to it) live here: mount a host folder.
VOLUME /etc/berth
# root: berth needs the Docker socket (which gives root on the host anyway).
USER root
ENTRYPOINT ["berth"]
CMD ["run"]
