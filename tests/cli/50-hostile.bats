#!/usr/bin/env bats
# Hostile images (tests/fixtures/hostile.py): each tries to reach a sentinel
# directory on the host.  Whatever smith does, the sentinel stays untouched and
# its secret never ends up in the image; smith either refuses with exit 4 and
# one line naming the layer or the entry, or succeeds with the attack contained
# in the image's own root.

load helpers/common

# The images name the sentinel's path, so it is chosen once per file; its
# content is laid anew before every test, so one test's damage cannot show up
# in the next.
setup_file() {
        SENTINEL=$(mktemp -d /tmp/smith-sentinel.XXXXXX)
        TOKEN="sentinel-secret-$RANDOM$RANDOM$RANDOM"
        HOSTILE="$BATS_FILE_TMPDIR/hostile"
        "$PYTHON" "$SMITH_SRC/tests/fixtures/hostile.py" "$HOSTILE" "$SENTINEL" >/dev/null
        export SENTINEL TOKEN HOSTILE
}

teardown_file() {
        rm -rf "$SENTINEL"
}

setup() {
        common_setup
        rm -rf "$SENTINEL"
        mkdir -m 0755 "$SENTINEL" "$SENTINEL/dir"
        printf '%s\n' "$TOKEN" >"$SENTINEL/secret"
        printf 'keep\n' >"$SENTINEL/dir/keep"
}
teardown() { common_teardown; }

# try CASE [PATHS]: build hostile-CASE with paths PATHS (default [/]); check the
# sentinel and the leak; leave $status/$output of the build for the test.
try() {
        local case=$1 paths=${2:-/} before after
        cp "$HOSTILE/hostile-$case.tar.gz" .
        printf 'package: hostile-%s.tar.gz\npaths: [%s]\n' "$case" "$paths" >smith.yaml
        before=$(tree_digest "$SENTINEL")
        run "$SMITH"
        after=$(tree_digest "$SENTINEL")
        [ "$before" = "$after" ] || fail "sentinel changed: $(diff <(echo "$before") <(echo "$after"))"
        [ -z "$(find "$SENTINEL" -name '*pwned*' -o -name dotdot -o -name absolute)" ] || fail "file written in the sentinel"
        if [ "$status" = 0 ]; then
                [ -f image.tar.gz ] || fail "exit 0 but no image"
                $OCI verify image.tar.gz >/dev/null || fail "exit 0 but the image does not verify"
                ! $OCI grep image.tar.gz "$TOKEN" >/dev/null || fail "the host's secret leaked into the image"
                LISTING=$($OCI ls image.tar.gz --all)
                local bad
                bad=$(awk '{print $5}' <<<"$LISTING" | grep -E '^/|(^|/)\.\.(/|$)' || true)
                [ -z "$bad" ] || fail "image entries outside the root: $bad"
        else
                [ "$status" = 4 ] || fail "expected exit 0 or 4, got $status: $output"
                assert_one_error_line
                [ ! -e image.tar.gz ] || fail "failed but left image.tar.gz"
        fi
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
}

# On failure the message names the layer or the entry ($1).
names_layer_or() {
        [ "$status" = 0 ] && return 0
        case "$output" in
        *layer* | *"$1"*) ;;
        *) fail "error names neither the layer nor '$1': $output" ;;
        esac
}

# On success the file the attack aimed at the host is inside the image's root.
contained() {
        [ "$status" = 0 ] || return 0
        local want=${SENTINEL#/}/$1
        grep -qE "^f [0-7]+ [0-9]+:[0-9]+ [0-9]+ (\./)?$want$" <<<"$LISTING" ||
                fail "exit 0 but $want is not in the image: $LISTING"
        [ "$($OCI cat image.tar.gz "/$want")" = pwned ]
}

@test "hostile: ../ entry" {
        try dotdot
        names_layer_or dotdot
        contained dotdot
}

@test "hostile: absolute entry" {
        try absolute
        names_layer_or absolute
        contained absolute
}

@test "hostile: symlink to the host dir, then a file through it" {
        try symlink-dir
        names_layer_or evil
        contained pwned
}

@test "hostile: ../ symlink climbing to /, then a file through it" {
        try symlink-up
        names_layer_or up
        contained pwned-up
}

@test "hostile: symlink in a lower layer, file through it in the upper" {
        try symlink-layer
        names_layer_or evil
        contained pwned-layer
}

@test "hostile: relative hardlink to a host file, then a write to it" {
        try hardlink-rel
        names_layer_or hl
}

@test "hostile: absolute hardlink to a host file, then a write to it" {
        try hardlink-abs
        names_layer_or ha
}

@test "hostile: hardlink to a symlink pointing at a host file" {
        try hardlink-symlink
        names_layer_or hs
}

@test "hostile: whiteouts below a symlink to the host dir" {
        try whiteout-symlink
        names_layer_or wdir
        [ -f "$SENTINEL/secret" ]
        [ -f "$SENTINEL/dir/keep" ]
}

@test "hostile: wanted path is an absolute symlink to a host file" {
        try symlink-leak /usr/bin/leak
        names_layer_or leak
}

@test "hostile: device nodes" {
        try device
        names_layer_or dev/
        if [ "$status" = 0 ]; then
                ! grep -qE '^[cb] ' <<<"$LISTING" || fail "device nodes in the image: $(grep -E '^[cb] ' <<<"$LISTING")"
        fi
        [ ! -e "$XDG_CACHE_HOME/smith" ] || [ -z "$(find "$XDG_CACHE_HOME/smith" \( -type c -o -type b \) -print -quit)" ] ||
                fail "device nodes created in the cache"
}

@test "hostile: 1 MiB path in a pax header" {
        try huge-pax
        names_layer_or "xxxxxxxx"
        [ "${#output}" -lt 4096 ] || fail "error message of ${#output} bytes"
        if [ "$status" = 0 ]; then
                ! awk 'length($5) > 4096 { found = 1 } END { exit !found }' <<<"$LISTING" || fail "a huge path in the image"
        fi
}

@test "hostile: layer bytes do not match the digest: exit 4 naming the layer" {
        local digest
        digest=$($OCI layers "$HOSTILE/hostile-bad-digest.tar.gz" | tail -n1)
        try bad-digest
        assert_status 4
        assert_output_contains "${digest:7:12}"
}

@test "hostile: layer size differs from the manifest: exit 4 naming the layer" {
        local digest
        digest=$($OCI layers "$HOSTILE/hostile-size-mismatch.tar.gz" | tail -n1)
        try size-mismatch
        assert_status 4
        assert_output_contains "${digest:7:12}"
}

@test "hostile: a fifo where the loader's files belong does not hang the build" {
        mkdir -p src/usr/bin src/etc
        cp /usr/bin/true src/usr/bin/
        mkfifo src/etc/ld.so.cache
        printf 'package: %s\ntype: dir\npaths:\n- /usr/bin/true\n' "$PWD/src" >smith.yaml
        run timeout 20 "$SMITH"
        assert_status 0
        assert_output_contains "'/etc/ld.so.cache': not a regular file: searching without it"
        rm src/etc/ld.so.cache
        mkfifo src/etc/ld.so.conf
        run timeout 20 "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "'/etc/ld.so.conf' is not a regular file"
}
