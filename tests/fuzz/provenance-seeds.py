#!/usr/bin/env python3
"""Seeds for fuzz-provenance: a provenance blob as smith writes it (every
reason kind, a non-ASCII path) and a few that are wrong in one way each.
Writes them into the directory given as argv[1]."""
import json
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def entry(path, kind, type_="file", **why):
    return {"path": path, "type": type_, "package": None, "reason": dict(kind=kind, **why)}


good = {
    "schemaVersion": 1,
    "layer": "sha256:" + "ab" * 32,
    "config": "smith.yaml",
    "entries": [
        entry("/data", "mount", "dir", detail="/data"),
        entry("/dev", "layout", "dir"),
        entry("/etc", "parent", "dir", needed_by="/etc/passwd"),
        entry("/etc/motd", "overlay"),
        entry("/etc/passwd", "generated"),
        entry("/lib64", "symlink", "symlink", needed_by="/usr/lib/ld-linux-x86-64.so.2"),
        entry("/usr/bin/cat", "pattern", pattern="/usr/bin/*", line=3),
        entry("/usr/lib/ld-linux-x86-64.so.2", "interpreter", needed_by="/usr/bin/cat"),
        entry("/usr/lib/libc.so.6", "needed", detail="libc.so.6", needed_by="/usr/bin/cat"),
        entry("/usr/lib/libnss_files.so.2", "nss", detail="libnss_files.so.2"),
        entry("/usr/share/caf\u00e9", "from-a-newer-smith"),
    ],
}
seeds = {
    "good.json": json.dumps(good, separators=(",", ":")),
    "unsorted.json": json.dumps(dict(good, entries=good["entries"][::-1])),
    "duplicate.json": json.dumps(dict(good, entries=good["entries"] + good["entries"][:1])),
    "bad-line.json": json.dumps(dict(good, entries=[entry("/x", "pattern", line="3")])),
    "truncated.json": json.dumps(good)[:200],
}
for name, text in seeds.items():
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write(text)
