# shellcheck shell=bash
# Sourced by the hack/ and images/ scripts: fail early, naming what fixes a
# missing tool or privilege.

# require_command COMMAND PACKAGE [CONTEXT]: exit 1 unless COMMAND is on the
# PATH, naming the Debian package that provides it.
require_command() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "${3:+$3 and }$1 is not installed: sudo apt-get install $2" >&2
    exit 1
  fi
}

# require_root MESSAGE: exit 1 with MESSAGE unless running as root.
require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "$1" >&2
    exit 1
  fi
}
