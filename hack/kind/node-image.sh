#!/usr/bin/env bash
# Builds the offline kind node image, panel-dask/kind-node:<k8s version>-<key>,
# and prints its name last. Nothing is pulled: the root filesystem comes from
# node-rootfs.sh, kind's base-image files from the pinned kind Go module, the
# Kubernetes binaries from the project's Go tool builds, and every image kubeadm
# needs (control plane, etcd, CoreDNS, kube-proxy, pause) is a local image saved
# into the node, named as `kubeadm config images list` asks. The key covers all
# inputs, so a pin change rebuilds and anything else reuses.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/hack/kind
py=${PYTHON:-$root/.venv/bin/python}
# Image builds use BuildKit (COPY --chmod): the CLI hack/docker-cli.sh picks has it.
docker_cli=$("$root/hack/docker-cli.sh")
docker() { DOCKER_BUILDKIT=1 command "$docker_cli" "$@"; }
step() { echo "==> $*" >&2; }

rootfs=$("$here/node-rootfs.sh")
tools_bin=$("$py" -m panel_dask_testcluster build --print-bin-dir)
node_bin=$("$py" -m panel_dask_testcluster build-node --print-bin-dir)
k8s_version=$("$py" -c 'from panel_dask_testcluster.pins import KUBERNETES_VERSION as v; print(v)')
kind_files=$(cd "$root/tools/go/kind" && go list -m -f '{{.Dir}}' sigs.k8s.io/kind)/images/base/files

key=$( {
  # The pin keys are the bin folders' parents: .../<pin key>/bin.
  basename -a "$rootfs" "$(dirname "$tools_bin")" "$(dirname "$node_bin")"
  sha256sum "$here/node.Dockerfile" "$here/node-image.sh"
  (cd "$here/node-files" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
} | sha256sum | cut -c1-12)
image=panel-dask/kind-node:$k8s_version-$key
if docker image inspect "$image" >/dev/null 2>&1; then
  step "kind node image $image present"
  echo "$image"
  exit 0
fi

base=panel-dask/kind-base:$(basename "$rootfs" .tar | sed 's/^node-rootfs-//')
if ! docker image inspect "$base" >/dev/null 2>&1; then
  step "docker import $rootfs as $base"
  docker import "$rootfs" "$base" >/dev/null
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/panel-dask-node-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/bin" "$ctx/images" "$ctx/kind-files"
cp -r "$kind_files/." "$ctx/kind-files/"
chmod -R u+w "$ctx/kind-files"
cp -r "$here/node-files" "$ctx/node-files"
cp "$node_bin"/{kubelet,kubeadm,capwrap} "$tools_bin/kubectl" "$ctx/bin/"

# component_image NAME BASE BINARY ENTRYPOINT: a one-binary image, saved for the node.
component_image() {
  local name=$1 from=$2 binary=$3 entrypoint=$4 dir
  dir=$(mktemp -d "$ctx/component.XXXXXX")
  cp "$binary" "$dir/"
  step "image $name (${binary##*/} on ${from})"
  docker build --quiet -t "$name" -f - "$dir" >/dev/null <<DOCKERFILE
FROM $from
COPY --chmod=0755 ${binary##*/} /usr/local/bin/${binary##*/}
ENTRYPOINT ["$entrypoint"]
DOCKERFILE
  docker save "$name" -o "$ctx/images/$(echo "${name##*/}" | tr ':/' '__').tar"
}

sandbox=$(sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$kind_files/etc/containerd/config.toml")
mapfile -t wanted < <("$node_bin/kubeadm" config images list --kubernetes-version "$k8s_version" 2>/dev/null)
for name in "${wanted[@]}" "$sandbox"; do
  repo=${name%:*}
  case ${repo##*/} in
    kube-apiserver | kube-controller-manager | kube-scheduler)
      component_image "$name" scratch "$tools_bin/${repo##*/}" "/usr/local/bin/${repo##*/}" ;;
    etcd) component_image "$name" scratch "$tools_bin/etcd" /usr/local/bin/etcd ;;
    coredns) component_image "$name" scratch "$node_bin/coredns" /usr/local/bin/coredns ;;
    pause) component_image "$name" scratch "$node_bin/pause" /usr/local/bin/pause ;;
    # kube-proxy calls iptables and conntrack: the node's own root filesystem has them.
    kube-proxy) component_image "$name" "$base" "$node_bin/kube-proxy" /usr/local/bin/kube-proxy ;;
    *) echo "no local build for image $name" >&2; exit 1 ;;
  esac
done

# The NetworkPolicy enforcer that the node's default-cni.yaml runs: it calls
# iptables and ipset, which the node's root filesystem has.
kube_router_version=$("$py" -c 'from panel_dask_testcluster.pins import KUBE_ROUTER_VERSION as v; print(v)')
component_image "panel-dask/kube-router:$kube_router_version" "$base" "$node_bin/kube-router" \
  /usr/local/bin/kube-router
sed -i "s/KUBE_ROUTER_VERSION/$kube_router_version/" "$ctx/node-files/kind/manifests/default-cni.yaml"

step "building $image"
docker build --progress=plain -t "$image" -f "$here/node.Dockerfile" \
  --build-arg "BASE_IMAGE=$base" --build-arg "KUBERNETES_VERSION=$k8s_version" "$ctx" \
  >"$ctx/build.log" 2>&1 || { tail -n 40 "$ctx/build.log" >&2; exit 1; }
echo "$image"
