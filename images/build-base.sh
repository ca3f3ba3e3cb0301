#!/usr/bin/env bash
# Builds the local base image panel-dask-base:bookworm from Debian packages, for
# machines that cannot pull python:3.11-slim from a registry. debootstrap makes a
# minimal bookworm root filesystem with Debian's python3.11 (the project's Python);
# `docker import` turns it into an image. The root filesystem tarball is cached
# under ~/.cache/panel-dask/base so later builds only re-import it.
set -euo pipefail

tag=${BASE_IMAGE_TAG:-panel-dask-base:bookworm}
mirror=$("$(dirname "$0")/../hack/debian-mirror.sh")
cache_dir=${PANEL_DASK_CACHE:-$HOME/.cache/panel-dask}/base
tarball=$cache_dir/bookworm-python3.11-minbase.tar
packages=python3,python3-venv,ca-certificates

if docker image inspect "$tag" >/dev/null 2>&1 && [[ ${REBUILD_BASE:-0} != 1 ]]; then
  echo "==> base image $tag present (REBUILD_BASE=1 rebuilds it)"
  exit 0
fi

if [[ ! -s $tarball || ${REBUILD_BASE:-0} == 1 ]]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "debootstrap is missing: sudo apt-get install debootstrap" >&2
    exit 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "debootstrap needs root to create device nodes and set owners: run as root or with sudo" >&2
    exit 1
  fi
  mkdir -p "$cache_dir"
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/panel-dask-rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  echo "==> debootstrap bookworm ($packages) from $mirror"
  debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" \
    >"$cache_dir/debootstrap.log" 2>&1 || {
    tail -n 30 "$cache_dir/debootstrap.log" >&2
    exit 1
  }
  # Package indexes and caches only add size; images install nothing with apt.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*
  tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi

echo "==> docker import $tarball as $tag"
docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  --message "debootstrap bookworm minbase + $packages" \
  "$tarball" "$tag" >/dev/null
echo "==> built $tag"
