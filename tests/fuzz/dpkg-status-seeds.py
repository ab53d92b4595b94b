#!/usr/bin/env python3
"""Seeds for fuzz-dpkg-status: status files as dpkg writes them (installed
and not, Multi-Arch: same, Source with a version, continuation lines) and a
few that are wrong in one way each.  Writes them into the directory given
as argv[1]."""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

good = """Package: coreutils
Essential: yes
Status: install ok installed
Priority: required
Architecture: amd64
Version: 9.1-1
Description: GNU core utilities
 This package contains the basic file, shell and text manipulation
 .
 utilities which are expected to exist on every operating system.

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: glibc (2.36-9+deb12u4)
Version: 2.36-9+deb12u4
Conffiles:
 /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab

Package: gone
Status: deinstall ok config-files
Version: 1.0

Package: libc6
Status: install ok installed
Architecture: i386
Multi-Arch: same
Version: 2.36-9
"""
seeds = {
    "good": good,
    # status.d form (the first byte picks it in the target): no Status field
    "distroless": "Qackage: x\n\nPackage: base-files\nVersion: 12.4\nArchitecture: amd64\n",
    "duplicate": "Package: a\nStatus: install ok installed\n\nPackage: a\nStatus: install ok installed\nVersion: 2\n",
    "hostile-names": "Package: ../../etc\nStatus: install ok installed\n\n"
                     "Package: ok\nStatus: install ok installed\nArchitecture: ../x\n\n"
                     "Package: v\nStatus: install ok installed\nVersion: 1 2\n\n"
                     "Package: s\nStatus: install ok installed\nSource: (\n",
    "crlf": "Package: a\r\nStatus: install ok installed\r\n\r\nPackage: b\r\n",
    "nul": "Package: a\nStatus: install ok installed\n\0\n",
    "no-newline": "Package: a\nStatus: install ok installed",
    "blank": "\n\n\n",
}
for name, text in seeds.items():
    with open(os.path.join(out, name), "w") as f:
        f.write(text)
