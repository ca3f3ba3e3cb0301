#!/usr/bin/env bash
# Builds the root filesystem of the offline kind node image: Debian bookworm
# with systemd (252 still boots on cgroup v1 hosts), Debian's containerd, runc
# and CNI plugins, and the tools kubelet and kube-proxy call (iptables,
# conntrack, ...). The package list is the one kind's own base image installs,
# minus storage extras (nfs, iscsi, fuse-overlayfs) a kind node for this chart
# does not use. The tarball is cached under ~/.cache/panel-dask/kind and rebuilt
# only when this package list changes. Prints the tarball's path last.
set -euo pipefail

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
"$(dirname "$0")/../debootstrap-rootfs.sh" \
  "$tarball" "$cache_dir/node-debootstrap.log" "$packages" "the kind node"
echo "==> node root filesystem: $tarball" >&2
echo "$tarball"
