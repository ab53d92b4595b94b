#!/usr/bin/env python3
"""The floors of the code (DESIGN.md), checked from the #include lines.

Every folder of src/lib is on a floor; a file may include headers of its
own folder and of folders on lower floors, never of a folder on its own
floor or above (src/*.c, the commands, are the top floor).  And no two
files include each other, directly or round a circle (a .c file and its
.h count as one).  Prints every offence as FILE:LINE: message and exits 1
if there was one; `python3 tests/floors.py --list` prints the floors.
"""
import os
import re
import sys

FLOORS = [
    ("ground", ["basic"]),
    ("services", ["net", "store"]),
    ("formats", ["config", "elf", "layer", "users"]),
    ("documents", ["oci", "tree"]),
    ("protocols", ["registry", "pkg"]),
    ("sources", ["source"]),
    ("pipeline", ["pipeline"]),
]
COMMANDS = len(FLOORS)

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def floor_of(folder):
    for n, (_, folders) in enumerate(FLOORS):
        if folder in folders:
            return n
    return None


def main():
    top = os.environ.get("SMITH_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    os.chdir(top)
    if "--list" in sys.argv:
        for n, (name, folders) in enumerate(FLOORS):
            print("%d %-10s %s" % (n, name, " ".join("src/lib/%s/" % f for f in folders)))
        print("%d %-10s src/main.c src/cmd-*.c" % (COMMANDS, "commands"))
        return 0

    bad = 0
    edges = {}  # node -> {node: (file, line)}
    files = []
    for root, _, names in os.walk("src"):
        files += [os.path.join(root, n) for n in names if n.endswith((".c", ".h"))]
    for path in sorted(files):
        parts = path.split(os.sep)
        if parts[:2] == ["src", "lib"] and len(parts) == 4:
            folder = parts[2]
            floor = floor_of(folder)
            if floor is None:
                print("%s:1: folder 'src/lib/%s' is on no floor (add it to tests/floors.py and DESIGN.md)"
                      % (path, folder))
                bad = 1
                continue
        elif len(parts) == 2:
            folder, floor = None, COMMANDS
        else:
            print("%s:1: not in a folder of src/lib" % path)
            bad = 1
            continue
        node = os.path.splitext(path)[0]
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if "/" in inc:
                    tfolder = inc.split("/")[0]
                    target = os.path.join("src", "lib", inc)
                else:
                    tfolder = folder
                    target = os.path.join(os.path.dirname(path), inc)
                if not os.path.exists(target):
                    continue  # generated (smith-version.h) or a system header
                tnode = os.path.splitext(target)[0]
                if tnode != node:
                    edges.setdefault(node, {}).setdefault(tnode, (path, lineno))
                if tfolder == folder:
                    continue
                tfloor = floor_of(tfolder)
                if tfloor is None or tfloor >= floor:
                    print("%s:%d: includes '%s' from floor %d (%s), not below its own floor %d" %
                          (path, lineno, inc, tfloor if tfloor is not None else -1,
                           FLOORS[tfloor][0] if tfloor is not None else "?", floor))
                    bad = 1

    # circles: a depth-first search over the include graph
    state = {}
    stack = []

    def visit(n):
        nonlocal bad
        state[n] = 1
        stack.append(n)
        for m, (path, lineno) in sorted(edges.get(n, {}).items()):
            if state.get(m) == 1:
                circle = stack[stack.index(m):] + [m]
                print("%s:%d: include circle: %s" % (path, lineno, " -> ".join(circle)))
                bad = 1
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n)
    if not bad:
        print("floors: %d files, every include goes down a floor, no circles" % len(files))
    return bad


if __name__ == "__main__":
    sys.exit(main())
