#!/usr/bin/env bash
# Builds the root filesystem of the offline kind node image: Debian bookworm
# with systemd (252 still boots on cgroup v1 hosts), Debian's containerd, runc
# and CNI plugins, and the tools kubelet and kube-proxy call (iptables,
# conntrack, ...). The package list is the one kind's own base image installs,
# minus storage extras (nfs, iscsi, fuse-overlayfs) a kind node for this chart
# does not use. The tarball is cached under ~/.cache/panel-dask/kind and rebuilt
# only when this package list changes. Prints the tarball's path last.
set -euo pipefail

mirror=$("$(dirname "$0")/../debian-mirror.sh")
packages=systemd,systemd-sysv,dbus,conntrack,iptables,iproute2,ethtool,util-linux,mount,kmod
packages+=,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,socat,ebtables,ipset
packages+=,containerd,runc,containernetworking-plugins
key=$(printf '%s' "$packages" | sha256sum | cut -c1-12)
cache_dir=${PANEL_DASK_CACHE:-$HOME/.cache/panel-dask}/kind
tarball=$cache_dir/node-rootfs-bookworm-$key.tar

if [[ -s $tarball ]]; then
  echo "==> node root filesystem cached: $tarball" >&2
  echo "$tarball"
  exit 0
fi
command -v debootstrap >/dev/null || {
  echo "debootstrap is missing: apt-get install debootstrap" >&2
  exit 1
}
mkdir -p "$cache_dir"
rootfs=$(mktemp -d "${TMPDIR:-/tmp}/panel-dask-node.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
echo "==> debootstrap bookworm for the kind node (a few minutes; log: $cache_dir/node-debootstrap.log)" >&2
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" \
  >"$cache_dir/node-debootstrap.log" 2>&1 || {
  tail -n 30 "$cache_dir/node-debootstrap.log" >&2
  exit 1
}
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*
tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
mv "$tarball.partial" "$tarball"
echo "==> node root filesystem: $tarball" >&2
echo "$tarball"
