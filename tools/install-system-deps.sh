#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: chromium for the
# browser tests; nginx as the load balancer of the reliability tests (run by
# the tests themselves on loopback, never as a service); docker.io, debootstrap
# (local base image) and shellcheck for the image tests. Idempotent; runs
# apt-get only when something is missing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[[ -x /usr/sbin/nginx ]] || need+=(nginx)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v curl >/dev/null 2>&1 || need+=(curl)

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
# Keep package scripts from starting services (nginx would take port 80):
# the tests start what they need. Only added when the machine has no policy.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
