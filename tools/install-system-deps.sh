#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: chromium for the
# browser tests; docker.io, debootstrap (local base image) and shellcheck for
# the image tests. Idempotent; runs apt-get only when something is missing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)

if ((${#need[@]} == 0)); then
  echo "==> system packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "==> installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
