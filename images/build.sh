#!/usr/bin/env bash
# Builds panel-dask-app:dev and panel-dask-operator:dev from the working tree.
#   LOCAL_BASE=1      build the Debian base locally first (no registry needed)
#   BASE_IMAGE=...    base for both images (default python:3.11-slim-bookworm)
#   APP_IMAGE=..., OPERATOR_IMAGE=...   tags (defaults: the chart's kind values)
#   CA_BUNDLE=file    PEM bundle pip trusts inside the build (default: the
#                     system bundle when present), passed as a build secret
# PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_TRUSTED_HOST and the proxy variables
# are passed through when set.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
docker=$(hack/docker-cli.sh)
export DOCKER=$docker DOCKER_BUILDKIT=1

app_image=${APP_IMAGE:-panel-dask-app:dev}
operator_image=${OPERATOR_IMAGE:-panel-dask-operator:dev}
base_image=${BASE_IMAGE:-python:3.11-slim-bookworm}
if [[ ${LOCAL_BASE:-0} == 1 ]]; then
  base_image=${BASE_IMAGE_TAG:-panel-dask-base:bookworm}
  BASE_IMAGE_TAG=$base_image images/build-base.sh
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' app/pyproject.toml)
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
created=$(git log -1 --format=%cI 2>/dev/null || echo unknown)
args=(
  --build-arg "BASE_IMAGE=$base_image"
  --build-arg "VERSION=$version"
  --build-arg "REVISION=$revision"
  --build-arg "CREATED=$created"
)
pip_args=$(bash images/pip-build-args.sh)
[[ -z $pip_args ]] || mapfile -t -O "${#args[@]}" args <<<"$pip_args"

for image in app operator; do
  tag=$app_image
  [[ $image == operator ]] && tag=$operator_image
  echo "==> building $tag on $base_image"
  "$docker" build --progress=plain "${args[@]}" -f "images/$image.Dockerfile" -t "$tag" . \
    >"${TMPDIR:-/tmp}/panel-dask-build-$image.log" 2>&1 || {
    tail -n 40 "${TMPDIR:-/tmp}/panel-dask-build-$image.log" >&2
    echo "building $tag failed; full log: ${TMPDIR:-/tmp}/panel-dask-build-$image.log" >&2
    exit 1
  }
done
echo "==> built $app_image and $operator_image"
