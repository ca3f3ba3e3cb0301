#!/usr/bin/env bash
# Makes a minimal Debian bookworm root filesystem tarball with debootstrap, from
# the mirror in this machine's apt sources (debian-mirror.sh). The one recipe
# behind the local base image (images/build-base.sh) and the kind node's root
# filesystem (hack/kind/node-rootfs.sh).
#   hack/debootstrap-rootfs.sh TARBALL LOG PACKAGES WHAT
# PACKAGES is debootstrap's comma-separated --include list, WHAT names the
# result in the progress line. Progress goes to stderr (callers print results
# on stdout); the log's last lines are shown only when debootstrap fails.
set -euo pipefail

here=$(dirname "$0")
# shellcheck source=hack/lib.sh
source "$here/lib.sh"
tarball=$1 log=$2 packages=$3 what=$4

require_command debootstrap debootstrap
require_root "debootstrap needs root to create device nodes and set owners: run as root or with sudo"
mirror=$("$here/debian-mirror.sh")
mkdir -p "$(dirname "$tarball")" "$(dirname "$log")"
rootfs=$(mktemp -d "${TMPDIR:-/tmp}/panel-dask-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
echo "==> debootstrap bookworm for $what ($packages) from $mirror; a few minutes (log: $log)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  exit 1
}
# Package indexes and caches only add size; nothing installs with apt later.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*
tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
mv "$tarball.partial" "$tarball"
