#!/usr/bin/env bash
# Prints, one per line, the `docker build` arguments that let pip inside a build
# reach its index: --build-arg for each of PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
# PIP_TRUSTED_HOST and the proxy variables that is set, and the CA bundle pip
# should trust as the build secret `ca` (CA_BUNDLE, default the system bundle
# when present). Used by images/build.sh and by builds FROM the app image
# (tests/e2e/test_custom_app.py builds examples/custom-app with it).
set -euo pipefail

for var in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST \
  HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [[ -n ${!var:-} ]]; then printf '%s\n' --build-arg "$var"; fi
done
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
if [[ -s $ca_bundle ]]; then
  printf '%s\n' --secret "id=ca,src=$ca_bundle"
elif [[ -n ${CA_BUNDLE:-} ]]; then
  echo "CA_BUNDLE=$CA_BUNDLE is not a readable, non-empty file" >&2
  exit 1
fi
