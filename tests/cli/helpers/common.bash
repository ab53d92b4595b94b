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
