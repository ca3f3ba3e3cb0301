#!/usr/bin/env bash
# Builds panel-dask/traefik:<version> from the Traefik binary of the kind-node
# tool set (built with go from the module proxy), with nothing else in the
# image, and prints its name. Reused while the pins are unchanged.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
# Image builds use BuildKit (COPY --chmod): the CLI hack/docker-cli.sh picks has it.
docker_cli=$("$root/hack/docker-cli.sh")
docker() { DOCKER_BUILDKIT=1 command "$docker_cli" "$@"; }
node_bin=$("$py" -m panel_dask_testcluster build-node --print-bin-dir)
version=$("$node_bin/traefik" version | awk '/^Version:/ {print $2}')
key=$(sha256sum "$node_bin/traefik" | cut -c1-12)
image=panel-dask/traefik:$version-$key
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "==> Traefik image $image present" >&2
  echo "$image"
  exit 0
fi
ctx=$(mktemp -d "${TMPDIR:-/tmp}/panel-dask-traefik.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$node_bin/traefik" "$ctx/"
echo "==> building $image" >&2
docker build --quiet -t "$image" -f - "$ctx" >/dev/null <<'DOCKERFILE'
FROM scratch
COPY --chmod=0755 traefik /traefik
USER 65532:65532
ENTRYPOINT ["/traefik"]
DOCKERFILE
echo "$image"
