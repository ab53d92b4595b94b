# shellcheck shell=bash disable=SC2034,SC2154
# Shared setup for the CLI tests: `load helpers/common` from a .bats file.
#
# Every test gets its own temp dir ($T) holding the cache ($XDG_CACHE_HOME),
# TMPDIR and the working directory ($W), so tests never see each other's or the
# user's state.  $SMITH is the binary under test (meson passes it); when run by
# hand, build/smith is used.  Fixtures (debootstrapped Debian, hostile images)
# live in $FIXTURES and are made once per build tree.

HELPERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SMITH_SRC="${SMITH_SRC:-$(cd "$HELPERS/../../.." && pwd)}"
SMITH_BUILD="${SMITH_BUILD:-$SMITH_SRC/build}"
SMITH="${SMITH:-$SMITH_BUILD/smith}"
FIXTURES="${SMITH_FIXTURES:-$SMITH_BUILD/fixtures}"
PYTHON="${PYTHON:-python3}"
OCI="$PYTHON $HELPERS/oci.py"
export SMITH SMITH_SRC SMITH_BUILD FIXTURES PYTHON

common_setup() {
        T="$(mktemp -d "${BATS_TMPDIR:-/tmp}/smith-test.XXXXXX")"
        chmod 0755 "$T"
        export XDG_CACHE_HOME="$T/cache"
        export TMPDIR="$T/tmp"
        W="$T/work"
        mkdir -p "$XDG_CACHE_HOME" "$TMPDIR" "$W"
        cd "$W" || return 1
        unset SOURCE_DATE_EPOCH
}

common_teardown() {
        cd /
        if [ -n "${T:-}" ] && [ -d "$T" ]; then
                rm -rf "$T"
        fi
}

# Fail with a message (bats shows stderr of a failed test).
fail() {
        echo "FAIL: $*" >&2
        return 1
}

# assert_status N: the last `run` exited with N.
assert_status() {
        if [ "$status" -ne "$1" ]; then
                echo "expected exit $1, got $status; output:" >&2
                printf '%s\n' "$output" >&2
                return 1
        fi
}

# assert_output_contains STR: the last `run`'s output contains STR.
assert_output_contains() {
        case "$output" in
        *"$1"*) ;;
        *)
                echo "output does not contain '$1':" >&2
                printf '%s\n' "$output" >&2
                return 1
                ;;
        esac
}

# assert_one_error_line: the last `run` printed exactly one line, starting "smith: ".
assert_one_error_line() {
        local n
        n=$(printf '%s\n' "$output" | grep -c '' || true)
        if [ "$n" -ne 1 ] || [ "${output#smith: }" = "$output" ]; then
                echo "expected one 'smith: ...' line, got:" >&2
                printf '%s\n' "$output" >&2
                return 1
        fi
}

# Write the cat example (package: /) into the current directory.
write_cat_example() {
        cat >smith.yaml <<'EOF'
package: /
paths:
- /usr/bin/cat
cmd:
- /usr/bin/cat
- /read/data
EOF
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
}

# helper_serve SCRIPT ARGS...: a server of helpers/ that binds a free port
# of 127.0.0.1 and writes it to the file after --port-file (given here:
# $T/SCRIPT.port), started with ARGS; HELPER_PORT and HELPER_PID once it
# listens.  The caller stops it (kill "$HELPER_PID").
helper_serve() {
        local script=$1 pf="$T/$1.port"
        shift
        rm -f "$pf"
        "$PYTHON" "$HELPERS/$script" --port-file "$pf" "$@" </dev/null >/dev/null 2>&1 3>&- &
        HELPER_PID=$!
        for _ in $(seq 100); do
                [ -s "$pf" ] && break
                sleep 0.1
        done
        [ -s "$pf" ] || fail "$script did not start"
        HELPER_PORT=$(cat "$pf")
}

# A free TCP port on 127.0.0.1.
free_port() {
        $PYTHON -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# http_serve DIR [LOG]: python's http.server serving DIR on a free port of
# 127.0.0.1 (HTTP_PORT; its pid HTTP_PID), answering by the time it returns.
http_serve() {
        HTTP_PORT=$(free_port)
        "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$1" "$HTTP_PORT" >"${2:-/dev/null}" 2>&1 &
        HTTP_PID=$!
        for _ in $(seq 50); do
                curl -fs "http://127.0.0.1:$HTTP_PORT/" >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        fail "http.server on port $HTTP_PORT did not answer"
}

# http_stop: stops the http_serve server, which then no longer answers.
http_stop() {
        kill "$HTTP_PID"
        wait "$HTTP_PID" 2>/dev/null || true
        ! curl -fs "http://127.0.0.1:$HTTP_PORT/" >/dev/null 2>&1 || fail "the server still answers"
}

# Make a fixture (once per build tree, under a lock) and print its path.
fixture() {
        "$SMITH_SRC/tests/fixtures/$1.sh"
}

# Listing + checksum of a directory tree, for "untouched" checks.
tree_digest() {
        (cd "$1" && find . -printf '%y %m %U:%G %p -> %l\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# Files smith might leave behind in TMPDIR or the output directory.
leftovers() {
        local d
        for d in "$@"; do
                find "$d" -mindepth 1 -maxdepth 1 \( -name 'smith-*' -o -name '.smith*' -o -name '*.tmp' -o -name '.*.tmp' -o -name '*.tar.gz.*' -o -name '.image*' \) -print
        done
}

# Run an image with runc (see run-image.sh).
run_image() {
        "$HELPERS/run-image.sh" "$@"
}

# smith_user ARGS: `run` smith as uid 65534 in $W, with its own HOME, cache
# and TMPDIR under $U (the package-source tests' unprivileged builds);
# SMITH_RETRY_MS sets the backoff base (default 200).
smith_user() {
        chown -R 65534:65534 "$U" "$W"
        run ${SMITH_OFFLINE:+unshare --net} setpriv --reuid=65534 --regid=65534 --clear-groups \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$U/home" XDG_CACHE_HOME="$U/cache" \
                TMPDIR="$U/tmp" SOURCE_DATE_EPOCH=0 SMITH_NET_RETRY_BASE_MS="${SMITH_NET_RETRY_BASE_MS:-${SMITH_RETRY_MS:-200}}" \
                ${SMITH_NET_STALL_SECONDS:+SMITH_NET_STALL_SECONDS=$SMITH_NET_STALL_SECONDS} \
                "$U/smith" "$@"
}

# smith_offline ARGS...: smith_user in a network namespace with no
# interface up at all: nothing is reachable, not even 127.0.0.1.
smith_offline() {
        SMITH_OFFLINE=1 SMITH_NET_RETRY_BASE_MS=10 smith_user "$@"
}

# flip_byte FILE OFFSET: that byte inverted, so the file surely changes (a
# byte overwritten with a constant may already be that constant).
flip_byte() {
        python3 -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0xff; open(p, "wb").write(b)' "$1" "$2"
}

# elf_machines DIR: the machine (readelf's name) of every ELF file below DIR, one a line, sorted, unique
elf_machines() {
        find "$1" -type f -print0 | while IFS= read -r -d '' f; do
                [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
                readelf -h "$f" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}'
        done | sort -u
}

# in_root ROOT PATH: PATH with every symlink resolved inside ROOT, as a
# container would see it
in_root() {
        "$PYTHON" - "$1" "$2" <<'PY'
import os, sys
root, path = sys.argv[1], sys.argv[2]
parts, done, hops = [p for p in path.split("/") if p], [], 0
while parts:
    p = parts.pop(0)
    if p == "..":
        done = done[:-1]
        continue
    full = os.path.join(root, *done, p)
    if os.path.islink(full) and hops < 40:
        hops += 1
        t = os.readlink(full)
        parts = [q for q in t.split("/") if q] + parts
        if t.startswith("/"):
            done = []
        continue
    done.append(p)
print("/" + "/".join(done))
PY
}

# assert_qemu_hello IMAGE MACHINE QEMU: every ELF file in IMAGE (an OCI
# layout tar.gz, tag latest) is for MACHINE (readelf's name), and its
# /usr/bin/cat prints Hello World! (from /read/data) under
# qemu-QEMU-static, with the interpreter resolved inside the root.
assert_qemu_hello() {
        local d="$T/qemu-$3" interp
        rm -rf "$d"
        mkdir -p "$d/img"
        tar -C "$d/img" -xzf "$1"
        umoci unpack --rootless --image "$d/img:latest" "$d/bundle" >/dev/null 2>&1 ||
                fail "umoci cannot unpack '$1'"
        [ "$(elf_machines "$d/bundle/rootfs")" = "$2" ] || fail "$1: ELF machines: $(elf_machines "$d/bundle/rootfs")"
        # qemu -L would follow an absolute link (ppc64el's /usr/lib64/ld64.so.2) on the host
        interp=$(readelf -l "$d/bundle/rootfs/usr/bin/cat" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
        interp=$(in_root "$d/bundle/rootfs" "$interp")
        run "qemu-$3-static" -L "$d/bundle/rootfs" "$d/bundle/rootfs$interp" "$d/bundle/rootfs/usr/bin/cat" /read/data
        assert_status 0
        [ "$output" = "Hello World!" ] || fail "$1 under qemu-$3-static: $output"
}
