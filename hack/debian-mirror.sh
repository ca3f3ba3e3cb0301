#!/usr/bin/env bash
# Prints the Debian mirror debootstrap should use: $DEBIAN_MIRROR if set, else
# the first Debian archive this machine's own apt sources name (deb822 .sources
# files or one-line sources.list). The repository never names a mirror itself.
# APT_ETC_DIR reads another apt configuration folder than /etc/apt (for tests).
set -euo pipefail

apt=${APT_ETC_DIR:-/etc/apt}

if [[ -n ${DEBIAN_MIRROR:-} ]]; then
  echo "$DEBIAN_MIRROR"
  exit 0
fi
mirror=$(
  {
    # A glob that matches nothing makes awk fail: each source kind is optional.
    awk '/^URIs:/ {print $2}' "$apt"/sources.list.d/*.sources 2>/dev/null || true
    awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' \
      "$apt"/sources.list "$apt"/sources.list.d/*.list 2>/dev/null || true
  } | { grep -v -- '-security' || true; } | head -n 1
)
if [[ -z $mirror ]]; then
  echo "no Debian archive found in this machine's apt sources; set DEBIAN_MIRROR=<archive URL>" >&2
  exit 1
fi
echo "$mirror"
