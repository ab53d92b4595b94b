#!/usr/bin/env bats
# Failing builds: the right exit code, one line naming the culprit, and nothing
# left behind (no image, no temp files in the output dir or TMPDIR).

load helpers/common

setup() {
        common_setup
        write_cat_example
}
teardown() { common_teardown; }

# nothing_left: no image.tar.gz and no temp files in $W or $TMPDIR.
nothing_left() {
        [ ! -e image.tar.gz ] || fail "a failed build left image.tar.gz"
        local left
        left=$(leftovers "$W" "$TMPDIR")
        [ -z "$left" ] || fail "left behind: $left"
        left=$(find "$W" -mindepth 1 -maxdepth 1 ! -name smith.yaml ! -name rootfs ! -name '*.tar.gz' -print)
        [ -z "$left" ] || fail "new files in the build dir: $left"
        left=$(find "$TMPDIR" -mindepth 1 -print)
        [ -z "$left" ] || fail "TMPDIR not empty: $left"
}

@test "a missing package directory is a source error (exit 4) naming it" {
        sed -i 's|^package: /$|package: /nonexistent/smith-root|' smith.yaml
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "/nonexistent/smith-root"
        nothing_left
}

@test "a missing package image is a source error (exit 4) naming it" {
        sed -i 's|^package: /$|package: missing-image.tar.gz|' smith.yaml
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "missing-image.tar.gz"
        nothing_left
}

@test "a package image that is not an archive is a source error (exit 4)" {
        head -c 4096 /dev/urandom >garbage.tar.gz
        sed -i 's|^package: /$|package: garbage.tar.gz|' smith.yaml
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "garbage.tar.gz"
        nothing_left
}

@test "an archive without index.json is a source error (exit 4)" {
        mkdir -p notoci/blobs
        printf 'x\n' >notoci/readme
        tar -C notoci -czf notoci.tar.gz .
        rm -rf notoci
        sed -i 's|^package: /$|package: notoci.tar.gz|' smith.yaml
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "index.json"
        nothing_left
}

@test "a wanted path that matches nothing adds nothing (as in the original)" {
        sed -i 's|/usr/bin/cat$|/usr/bin/no-such-binary-here|' smith.yaml
        run "$SMITH"
        assert_status 0
        run $OCI ls image.tar.gz
        assert_status 0
        ! grep -q 'no-such-binary-here' <<<"$output" || fail "got: $output"
        [ -z "$(leftovers "$W" "$TMPDIR")" ]
}

@test "an unwritable output is an I/O error (exit 1) naming it, nothing left" {
        run "$SMITH" -i "$W/no-such-dir/out.tar.gz"
        assert_status 1
        assert_one_error_line
        assert_output_contains "no-such-dir"
        nothing_left
}

@test "a failed build keeps an older image intact" {
        run "$SMITH"
        assert_status 0
        cp image.tar.gz good.tar.gz
        sed -i 's|^package: /$|package: /nonexistent/smith-root|' smith.yaml
        run "$SMITH"
        assert_status 4
        cmp good.tar.gz image.tar.gz
        [ -z "$(leftovers "$W" "$TMPDIR")" ]
}

@test "an unreadable rootfs file fails naming it (as a non-root builder)" {
        local uid=65534
        printf 'secret\n' >rootfs/read/locked
        chmod 0600 rootfs/read/locked
        mkdir -p "$T/user/cache" "$T/user/tmp"
        cp "$SMITH" "$T/user/smith"
        chown -R "$uid" "$T/user"
        chown -R "$uid" "$W"
        chown root rootfs/read/locked
        run setpriv --reuid=$uid --regid=$uid --clear-groups \
                env -i PATH=/usr/bin:/bin XDG_CACHE_HOME="$T/user/cache" TMPDIR="$T/user/tmp" "$T/user/smith"
        assert_status 1
        assert_one_error_line
        assert_output_contains "locked"
        [ ! -e image.tar.gz ]
        [ -z "$(ls -A "$T/user/tmp")" ] || fail "left in TMPDIR: $(ls -A "$T/user/tmp")"
        [ -z "$(leftovers "$W")" ]
}

@test "SIGTERM during a build leaves no temp files" {
        # a package big enough to still be busy when the signal comes
        local DEB
        DEB=$(fixture debian-image)
        printf 'package: %s\npaths: [/]\n' "$DEB" >smith.yaml
        "$SMITH" >/dev/null 2>&1 &
        local pid=$!
        sleep 1
        kill -TERM "$pid" 2>/dev/null || true
        local rc=0
        wait "$pid" || rc=$?
        [ "$rc" -ne 0 ] || fail "the build finished within a second; the test proves nothing"
        [ ! -e image.tar.gz ]
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
        [ -z "$(find "$TMPDIR" -mindepth 1 -print -quit)" ] || fail "TMPDIR not empty: $(ls -A "$TMPDIR")"
}
