#!/usr/bin/env bats
# Package metadata: the files a build takes from a Debian source are
# attributed to their packages, and the image gets the dpkg database of
# those packages (status, info/<pkg>.list, .md5sums) and os-release, so that
# dpkg and scanners see them.  Built from the debootstrapped Debian root
# (merged /usr: coreutils lists /bin/cat, which ships as /usr/bin/cat) and
# from its OCI image; checked with the real dpkg-query on the unpacked image.

load helpers/common

setup() {
        common_setup
        ROOT=$(fixture debian-root)
}
teardown() { common_teardown; }

# write_yaml PACKAGE [EXTRA-LINE]: cat and nginx from PACKAGE.
write_yaml() {
        cat >smith.yaml <<EOF
package: $1
paths:
  - /usr/bin/cat
  - /usr/sbin/nginx
${2:-}
EOF
}

build() {
        run "$SMITH" "$@"
        assert_status 0
}

# unpack IMAGE: its rootfs in $R, as umoci lays it out.
unpack() {
        rm -rf "$T/img" "$T/bundle"
        mkdir -p "$T/img"
        tar -C "$T/img" -xzf "$1"
        umoci unpack --rootless --image "$T/img:latest" "$T/bundle" >/dev/null
        R=$T/bundle/rootfs
}

q() { dpkg-query --admindir="$R/var/lib/dpkg" "$@"; }

# The packages that list the image's files in the source's database (by
# their merged-/usr name too), computed here with grep, sorted.
expected_packages() {
        local f alt
        (cd "$R" && find . \( -type f -o -type l \) -printf '/%P\n') | while read -r f; do
                case "$f" in
                /lib | /lib64 | /bin | /sbin | /var/lib/dpkg/* | /etc/os-release | /etc/debian_version) continue ;;
                esac
                alt=$f
                case "$f" in
                /usr/bin/* | /usr/sbin/* | /usr/lib/* | /usr/lib64/*) alt=${f#/usr} ;;
                esac
                (cd "$ROOT/var/lib/dpkg/info" && LC_ALL=C grep -lxF -e "$f" -e "$alt" -- *.list | head -n1)
        done | sed 's/\.list$//' | LC_ALL=C sort -u
}

@test "dpkg-query lists exactly the packages that shipped files, and finds /usr/bin/cat in coreutils" {
        write_yaml "$ROOT"
        build
        unpack image.tar.gz
        run q -W -f '${binary:Package}\n'
        assert_status 0
        local got=$output want
        want=$(expected_packages)
        [ -n "$want" ]
        [ "$(LC_ALL=C sort <<<"$got")" = "$want" ] || fail "packages: got '$got', want '$want'"
        grep -qx coreutils <<<"$got"
        grep -qx nginx <<<"$got"
        grep -qx 'libc6:amd64' <<<"$got"
        # coreutils lists /bin/cat; the image ships it as /usr/bin/cat
        grep -qx /bin/cat "$ROOT/var/lib/dpkg/info/coreutils.list"
        run q -S /usr/bin/cat
        assert_status 0
        [ "$output" = "coreutils: /usr/bin/cat" ]
        [ "$(cat "$R/var/lib/dpkg/info/coreutils.list")" = /usr/bin/cat ]
        run q -S /usr/lib/x86_64-linux-gnu/libc.so.6
        assert_status 0
        [ "$output" = "libc6:amd64: /usr/lib/x86_64-linux-gnu/libc.so.6" ]
        # the stanzas are the source's, installed
        [ "$(q -W -f '${Version} ${Status}' coreutils)" = \
                "$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f '${Version} ${Status}' coreutils)" ]
}

@test "the md5sums are right for what shipped (dpkg --verify), and the lists are sorted" {
        write_yaml "$ROOT"
        build
        unpack image.tar.gz
        run dpkg --root="$R" --verify
        assert_status 0
        [ -z "$output" ] || fail "dpkg --verify: $output"
        grep -q ' usr/bin/cat$' "$R/var/lib/dpkg/info/coreutils.md5sums"
        local l
        for l in "$R"/var/lib/dpkg/info/*.list; do
                LC_ALL=C sort -c "$l"
        done
}

@test "smith inspect names each file's package" {
        write_yaml "$ROOT"
        build
        run "$SMITH" inspect --json image.tar.gz /usr/bin/cat
        assert_status 0
        [ "$(jq -r '.[0].package' <<<"$output")" = coreutils ]
        run "$SMITH" inspect --json image.tar.gz /var/lib/dpkg/status
        assert_status 0
        [ "$(jq -r '.[0].package' <<<"$output")" = null ]
        [ "$(jq -r '.[0].reason.text' <<<"$output")" = "package metadata" ]
}

@test "a file from rootfs/ that shadows a package's file is not attributed" {
        write_yaml "$ROOT" "  - /usr/bin/id"
        mkdir -p rootfs/usr/bin
        printf '#!/bin/sh\necho mine\n' >rootfs/usr/bin/cat
        chmod +x rootfs/usr/bin/cat
        build
        unpack image.tar.gz
        [ "$(cat "$R/usr/bin/cat")" = "$(cat rootfs/usr/bin/cat)" ]
        run q -S /usr/bin/cat
        [ "$status" -ne 0 ] || fail "rootfs/ file attributed: $output"
        # coreutils is still there, for id
        run q -S /usr/bin/id
        assert_status 0
        [ "$output" = "coreutils: /usr/bin/id" ]
        run "$SMITH" inspect --json image.tar.gz /usr/bin/cat
        [ "$(jq -r '.[0].package' <<<"$output")" = null ]
}

@test "/etc/os-release and /etc/debian_version come from the source, resolved inside it" {
        write_yaml "$ROOT"
        build
        unpack image.tar.gz
        [ -L "$ROOT/etc/os-release" ]
        [ -f "$R/etc/os-release" ] && [ ! -L "$R/etc/os-release" ]
        cmp "$R/etc/os-release" "$ROOT/usr/lib/os-release"
        cmp "$R/etc/debian_version" "$ROOT/etc/debian_version"
}

@test "the OCI image of the same root gives the same packages" {
        local image
        image=$(fixture debian-image)
        write_yaml "$image"
        build
        unpack image.tar.gz
        run q -W -f '${binary:Package}\n'
        assert_status 0
        [ "$(LC_ALL=C sort <<<"$output")" = "$(expected_packages)" ]
        run q -S /usr/bin/cat
        assert_status 0
        [ "$output" = "coreutils: /usr/bin/cat" ]
        [ -f "$R/etc/os-release" ]
}

@test "package-metadata: false writes none of it, and says so in the spec" {
        write_yaml "$ROOT" "package-metadata: false"
        build
        unpack image.tar.gz
        [ ! -e "$R/var/lib/dpkg" ] || fail "$(find "$R/var")"
        [ ! -e "$R/etc/os-release" ]
        [ ! -e "$R/etc/debian_version" ]
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        assert_status 0
        [ "$(jq -c '."package-metadata"' <<<"$output")" = false ]
        run "$SMITH" inspect --json image.tar.gz /usr/bin/cat
        [ "$(jq -r '.[0].package' <<<"$output")" = null ]
}

@test "the spec blob of a build that leaves package-metadata alone has no such key" {
        write_yaml "$ROOT" "package-metadata: true"
        build
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        assert_status 0
        [ "$(jq -c 'has("package-metadata")' <<<"$output")" = false ]
}

@test "a distroless database (status.d) is read too" {
        local src=$T/distroless
        mkdir -p "$src/var/lib/dpkg/status.d" "$src/usr/bin"
        ln -s usr/bin "$src/bin"
        printf 'hello\n' >"$src/usr/bin/hello"
        printf 'Package: hello\nVersion: 1.0-1\nArchitecture: all\nMaintainer: x <x@example.org>\nDescription: hi\n' \
                >"$src/var/lib/dpkg/status.d/hello"
        printf '%s  bin/hello\n' "$(md5sum <"$src/usr/bin/hello" | cut -d' ' -f1)" \
                >"$src/var/lib/dpkg/status.d/hello.md5sums"
        # not installed: left out
        printf 'Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n' >"$src/var/lib/dpkg/status.d/gone"
        cat >smith.yaml <<EOF
package: $src
paths: [/usr/bin/hello]
EOF
        build
        unpack image.tar.gz
        [ "$(q -W -f '${binary:Package} ${Version} ${Status}\n')" = "hello 1.0-1 install ok installed" ]
        [ "$(q -S /usr/bin/hello)" = "hello: /usr/bin/hello" ]
        run dpkg --root="$R" --verify
        assert_status 0
}

@test "a hostile database is bounded: a FIFO or a huge status is refused or ignored, never hangs" {
        local src=$T/hostile
        mkdir -p "$src/var/lib/dpkg/info" "$src/usr/bin"
        printf 'x\n' >"$src/usr/bin/x"
        mkfifo "$src/var/lib/dpkg/status"
        cat >smith.yaml <<EOF
package: $src
paths: [/usr/bin/x]
EOF
        run timeout 20 "$SMITH"
        assert_status 0
        rm "$src/var/lib/dpkg/status"
        truncate -s 65M "$src/var/lib/dpkg/status"
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "larger than 64 MiB"
}
