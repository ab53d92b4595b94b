#!/bin/sh
# Seeds for fuzz-deb: a .deb dpkg-deb builds, and the hostile ones
# tests/fixtures/deb-hostile.py makes (the bomb is stopped by the target's
# limits).  deb-seeds.sh OUTDIR DEB-HOSTILE.PY
set -eu
out=$1
mkdir -p "$out/pkg/DEBIAN" "$out/pkg/usr/share/x"
python3 "$2" "$out" /nonexistent-sentinel >/dev/null
echo x >"$out/pkg/usr/share/x/x"
printf 'Package: x\nVersion: 1\nArchitecture: all\nMaintainer: m <m@x>\nDescription: x\n' >"$out/pkg/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz -b "$out/pkg" "$out/good.deb" >/dev/null
rm -rf "$out/pkg"
