#!/usr/bin/env bash
# Makes the benchmark's base image once and prints its path: a
# debootstrapped Debian bookworm (minbase) with nginx-light, perl and
# python3 (about 350 MB unpacked), turned into a one-layer OCI image with
# umoci and packed as tar.gz.  Cached in $SMITH_FIXTURES (default
# build/fixtures) next to the test fixtures.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
fix=${SMITH_FIXTURES:-$src/build/fixtures}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
out=$fix/bench.tar.gz
mkdir -p "$fix"
exec {lock}>"$fix/.bench-image.lock"
flock "$lock"
if [ ! -e "$out" ]; then
        tmp=$fix/bench.tmp
        rm -rf "$tmp"
        mkdir -p "$tmp"
        debootstrap --variant=minbase --include=nginx-light,perl,python3 bookworm "$tmp/root" "$mirror" \
                >"$tmp/debootstrap.log" 2>&1 || { tail -n 20 "$tmp/debootstrap.log" >&2; exit 1; }
        L=$tmp/layout
        umoci init --layout "$L"
        umoci new --image "$L:latest"
        umoci unpack --image "$L:latest" "$tmp/bundle" >/dev/null
        cp -a "$tmp/root/." "$tmp/bundle/rootfs/"
        umoci repack --image "$L:latest" "$tmp/bundle"
        umoci config --image "$L:latest" \
                --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        umoci gc --layout "$L"
        tar -C "$L" -cf - . | gzip -1 >"$tmp/bench.tar.gz"
        mv "$tmp/bench.tar.gz" "$out"
        rm -rf "$tmp"
fi
echo "$out"
