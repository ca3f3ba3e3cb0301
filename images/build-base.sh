#!/usr/bin/env bash
# Builds the local base image panel-dask-base:bookworm from Debian packages, for
# machines that cannot pull python:3.11-slim from a registry. debootstrap makes a
# minimal bookworm root filesystem with Debian's python3.11 (the project's Python);
# `docker import` turns it into an image. The root filesystem tarball is cached
# under ~/.cache/panel-dask/base so later builds only re-import it.
set -euo pipefail

tag=${BASE_IMAGE_TAG:-panel-dask-base:bookworm}
cache_dir=${PANEL_DASK_CACHE:-$HOME/.cache/panel-dask}/base
tarball=$cache_dir/bookworm-python3.11-minbase.tar
packages=python3,python3-venv,ca-certificates

if docker image inspect "$tag" >/dev/null 2>&1 && [[ ${REBUILD_BASE:-0} != 1 ]]; then
  echo "==> base image $tag present (REBUILD_BASE=1 rebuilds it)"
  exit 0
fi

if [[ ! -s $tarball || ${REBUILD_BASE:-0} == 1 ]]; then
  "$(dirname "$0")/../hack/debootstrap-rootfs.sh" \
    "$tarball" "$cache_dir/debootstrap.log" "$packages" "the local base image"
fi

echo "==> docker import $tarball as $tag"
docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  --message "debootstrap bookworm minbase + $packages" \
  "$tarball" "$tag" >/dev/null
echo "==> built $tag"
