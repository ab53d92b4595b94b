#!/usr/bin/env bats
# `package: debian.tar.gz`: an OCI image (a debootstrapped Debian 12 made into
# a layout by umoci, tests/fixtures/debian-image.sh) as the package.

load helpers/common

# The tests share one cache (unpacking the Debian image cold takes seconds);
# the cache tests below use their own, starting cold.
setup_file() {
        DEB=$(fixture debian-image)
        TINY=$(fixture tiny-image)
        SHARED_CACHE="$BATS_FILE_TMPDIR/cache"
        export DEB TINY SHARED_CACHE
}

setup() {
        common_setup
        export XDG_CACHE_HOME="$SHARED_CACHE"
}
teardown() { common_teardown; }

build() {
        run "$SMITH" "$@"
        assert_status 0
}

yaml() { printf '%s\n' "$@" >smith.yaml; }

@test "cat from the Debian image: valid layout, runs read-only as uid 10" {
        yaml "package: $DEB" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]"
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
        build
        run $OCI verify image.tar.gz
        assert_status 0
        mkdir layout
        tar -C layout -xzf image.tar.gz
        run oci-image-tool validate --type image --ref name=latest layout
        assert_status 0
        run run_image image.tar.gz
        assert_status 0
        [ "$output" = "Hello World!" ] || fail "got: $output"
        # only cat and what it needs: no shell, no package database
        run $OCI ls image.tar.gz
        ! grep -qE '(^|/)(bin/sh|bin/dash|var/lib/dpkg)' <<<"$output" || fail "unwanted files: $output"
}

@test "id (libselinux 0644 needing libpcre2-8) runs and prints uid 10" {
        yaml "package: $DEB" "paths: [/usr/bin/id]" "cmd: [/usr/bin/id]"
        build
        local listing
        listing=$($OCI ls image.tar.gz)
        grep -qE '(^|/)libselinux\.so\.1( |$)' <<<"$listing" || fail "no libselinux"
        grep -qE '(^|/)libpcre2-8\.so\.0' <<<"$listing" || fail "no libpcre2-8"
        run run_image image.tar.gz
        assert_status 0
        [ "$output" = "uid=10 gid=10 groups=10" ] || fail "got: $output"
}

@test "nss: true: exact passwd/group/nsswitch.conf, and id names smith" {
        yaml "package: $DEB" "paths: [/usr/bin/id]" "cmd: [/usr/bin/id]" "nss: true"
        build
        $OCI cat image.tar.gz /etc/passwd >"$T/passwd"
        printf 'root:x:0:0:root:/write:\ndaemon:x:1:1:daemon:/write:\nbin:x:2:2:bin:/write:\nsys:x:3:3:sys:/write:\nsmith:x:10:10:smith:/write' | cmp - "$T/passwd"
        $OCI cat image.tar.gz /etc/group >"$T/group"
        printf 'root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\nsmith:x:10:' | cmp - "$T/group"
        $OCI cat image.tar.gz /etc/nsswitch.conf >"$T/nss"
        printf 'passwd:     files\nshadow:     files\ngroup:      files\nhosts:      files dns' | cmp - "$T/nss"
        run run_image image.tar.gz
        assert_status 0
        [ "$output" = "uid=10(smith) gid=10(smith) groups=10(smith)" ] || fail "got: $output"
}

@test "user: nginx: id -un / -gn name the user and the group" {
        yaml "package: $DEB" "paths: [/usr/bin/id]" "cmd: [/usr/bin/id]" "user: nginx"
        build
        run run_image image.tar.gz /usr/bin/id -un
        assert_status 0
        [ "$output" = nginx ] || fail "got: $output"
        run run_image image.tar.gz /usr/bin/id -gn
        assert_status 0
        [ "$output" = smith ] || fail "got: $output"
}

@test ":tag picks the tagged image of the layout" {
        yaml "package: $DEB:marked" "paths: [/etc/fixture-tag]"
        build
        [ "$($OCI cat image.tar.gz /etc/fixture-tag)" = marked ]
        rm image.tar.gz
        # the latest tag has no /etc/fixture-tag: like the original, a path
        # that matches nothing adds nothing
        yaml "package: $DEB:latest" "paths: [/etc/fixture-tag, /usr/bin/cat]"
        build
        run $OCI ls image.tar.gz
        assert_status 0
        ! grep -q 'fixture-tag' <<<"$output" || fail "latest has /etc/fixture-tag: $output"
        grep -qE ' (\./)?usr/bin/cat$' <<<"$output" || fail "no usr/bin/cat from latest: $output"
}

@test "an unknown tag is a source error (exit 4) naming it" {
        yaml "package: $DEB:no-such-tag" "paths: [/usr/bin/cat]"
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "no-such-tag"
        [ ! -e image.tar.gz ]
}

@test "an OCI layout directory works as the package" {
        yaml "package: $(dirname "$DEB")/debian-layout" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]"
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
        build
        run run_image image.tar.gz
        [ "$output" = "Hello World!" ] || fail "got: $output"
}

@test "parent: the parent's layers lie below the built one" {
        cp "$TINY" parent.tar.gz
        yaml "package: $DEB" "parent: parent.tar.gz" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]"
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
        build
        run $OCI verify image.tar.gz
        assert_status 0
        local parent_layers layers n
        parent_layers=$($OCI layers parent.tar.gz)
        layers=$($OCI layers image.tar.gz)
        n=$(wc -l <<<"$parent_layers")
        [ "$(wc -l <<<"$layers")" -eq $((n + 1)) ] || fail "layers: $layers"
        [ "$(head -n "$n" <<<"$layers")" = "$parent_layers" ] || fail "parent layers not at the bottom: $layers"
        run run_image image.tar.gz
        [ "$output" = "Hello World!" ] || fail "got: $output"
        run run_image image.tar.gz /usr/bin/cat /etc/tiny-marker
        [ "$output" = tiny ] || fail "got: $output"
}

@test "-f rebuilds fast to the same bytes" {
        export XDG_CACHE_HOME="$T/cache"
        yaml "package: $DEB" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]"
        export SOURCE_DATE_EPOCH=0
        build -b 3
        mv image.tar.gz first.tar.gz
        build -b 3 -f
        cmp first.tar.gz image.tar.gz
}

@test "a warm cache rebuilds to the same bytes" {
        export XDG_CACHE_HOME="$T/cache"
        yaml "package: $DEB" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]"
        export SOURCE_DATE_EPOCH=0
        build -b 5
        [ -n "$(find "$XDG_CACHE_HOME/smith" -type f -print -quit)" ] || fail "nothing cached in $XDG_CACHE_HOME/smith"
        mv image.tar.gz first.tar.gz
        build -b 5
        cmp first.tar.gz image.tar.gz
        # and a cold cache gives the same bytes too
        rm -rf "$XDG_CACHE_HOME/smith"
        build -b 5
        cmp first.tar.gz image.tar.gz
}

@test "the source image's Env is kept" {
        yaml "package: $DEB" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]"
        build
        run $OCI config image.tar.gz
        assert_status 0
        jq -e '.config.Env | index("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")' <<<"$output" >/dev/null ||
                fail "Env: $(jq -c .config.Env <<<"$output")"
}
