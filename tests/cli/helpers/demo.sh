#!/usr/bin/env bash
# `make demo`: build examples/cat (the host's own /usr/bin/cat, `package: /`)
# into a temp dir and run the image read-only with runc as uid 10.  It prints
# "Hello World!".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../../.." && pwd)"
SMITH="${SMITH:-$src/build/smith}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
cp -r "$src/examples/cat" "$tmp/cat"
cd "$tmp/cat"
echo "+ smith -i cat.tar.gz   (in examples/cat)" >&2
"$SMITH" -i cat.tar.gz
echo "+ run-image.sh cat.tar.gz   (runc, read-only root, uid 10)" >&2
"$here/run-image.sh" cat.tar.gz
