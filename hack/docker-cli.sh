#!/usr/bin/env bash
# Prints the path of a docker CLI that can build with BuildKit (the image builds
# use build secrets and cache mounts). A CLI from Docker 23 or later builds with
# BuildKit only through the buildx plugin; Debian's docker.io CLI (20.10) has
# BuildKit built in. So: $DOCKER if set, else the first of `docker` on PATH and
# Debian's /usr/bin/docker that qualifies.
set -euo pipefail

can_build() {
  local cli=$1 major
  command -v "$cli" >/dev/null 2>&1 || return 1
  "$cli" buildx version >/dev/null 2>&1 && return 0
  # `docker version` exits non-zero while no daemon answers, yet prints the client's.
  major=$("$cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 || true)
  [[ $major =~ ^[0-9]+$ ]] && ((major < 23))
}

if [[ -n ${DOCKER:-} ]]; then
  can_build "$DOCKER" || {
    echo "DOCKER=$DOCKER cannot build with BuildKit: install the buildx plugin" >&2
    exit 1
  }
  command -v "$DOCKER"
  exit 0
fi
for cli in docker /usr/bin/docker; do
  if can_build "$cli"; then
    command -v "$cli"
    exit 0
  fi
done
cat >&2 <<'MSG'
no docker CLI that builds with BuildKit was found. Install Docker with its buildx
plugin (https://docs.docker.com/engine/install/, package docker-buildx-plugin),
or Debian's docker.io (sudo apt-get install docker.io), or set DOCKER=/path/to/docker.
MSG
exit 1
