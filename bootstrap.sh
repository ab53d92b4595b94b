#!/bin/sh
# The README's two commands on any Debian 12 machine, even a bare one (no
# make, no compiler, nothing from this project installed): as root (or with
# sudo), `sh bootstrap.sh demo` or `sh bootstrap.sh check`.  It installs make
# when it is missing, then runs `make demo` or `make check`, whose `deps`
# step installs everything else with apt-get (only when something is
# missing, so later runs do not ask apt at all).
set -eu
cd "$(dirname "$0")"

case "${1:-}" in
demo | check | deps | build) ;;
*)
        echo "usage: sh bootstrap.sh demo|check|deps|build" >&2
        exit 2
        ;;
esac

if [ "$(id -u)" = 0 ]; then
        sudo=
elif command -v sudo >/dev/null 2>&1; then
        sudo=sudo
else
        echo "bootstrap: run as root (or install sudo): packages must be installed" >&2
        exit 1
fi

if ! command -v make >/dev/null 2>&1; then
        echo "bootstrap: installing make" >&2
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make
fi
exec make --no-print-directory "$1"
