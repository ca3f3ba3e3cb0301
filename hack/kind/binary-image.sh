#!/usr/bin/env bash
# Usage: binary-image.sh NAME PIN_SET
# Builds panel-dask/NAME:<key> from the binary NAME of a tool pin set (built
# with go from the module proxy: `python -m panel_dask_testcluster PIN_SET`),
# with nothing else in the image, and prints the image's name. The key is the
# binary's digest, so the image is reused while the pins are unchanged.
set -euo pipefail

name=${1:?usage: binary-image.sh NAME PIN_SET}
pin_set=${2:?usage: binary-image.sh NAME PIN_SET}
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
# Image builds use BuildKit (COPY --chmod): the CLI hack/docker-cli.sh picks has it.
docker_cli=$("$root/hack/docker-cli.sh")
docker() { DOCKER_BUILDKIT=1 command "$docker_cli" "$@"; }
bin_dir=$("$py" -m panel_dask_testcluster "$pin_set" --print-bin-dir)
key=$(sha256sum "$bin_dir/$name" | cut -c1-12)
image=panel-dask/$name:$key
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "==> $name image $image present" >&2
  echo "$image"
  exit 0
fi
ctx=$(mktemp -d "${TMPDIR:-/tmp}/panel-dask-$name.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$bin_dir/$name" "$ctx/binary"
echo "==> building $image" >&2
docker build --quiet -t "$image" -f - "$ctx" >/dev/null <<DOCKERFILE
FROM scratch
COPY --chmod=0755 binary /$name
USER 65532:65532
ENTRYPOINT ["/$name"]
DOCKERFILE
echo "$image"
