#!/usr/bin/env bats
# Package metadata for RPM sources: an image built from RPM packages (the
# tiny signed repository of tests/fixtures/rpm-repo.sh, over file://), or
# from a directory that carries an rpm database, holds
# /var/lib/rpm/rpmdb.sqlite with the headers of the packages that shipped
# at least one file, the files it does not ship marked not installed;
# checked with the real rpm on the unpacked image.  Debian's rpm keeps its
# own database in ~/.rpmdb, so every query names --dbpath /var/lib/rpm.

load helpers/common

setup_file() {
        FIX=$(mktemp -d /tmp/smith-rpmdb.XXXXXX)
        chmod 0755 "$FIX"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" make "$FIX"
        chmod -R a+rX "$FIX"
        export FIX
}

teardown_file() {
        rm -rf "$FIX"
}

setup() {
        common_setup
        U="$T/user"
        mkdir -p "$U/home" "$U/cache" "$U/tmp"
        cp "$SMITH" "$U/smith"
        ARCH=$(uname -m)
}

teardown() { common_teardown; }

# write_yaml PACKAGE PATHS...: a smith.yaml for PACKAGE from the fixture
# repository (signatures checked), shipping PATHS.
write_yaml() {
        local pkg=$1 p
        shift
        {
                echo "package: $pkg"
                echo "repos:"
                echo "- name: test"
                echo "  baseurl: file://$FIX/repo"
                echo "  gpgkey: file://$FIX/key.asc"
                echo "  repo_gpgcheck: true"
                echo "paths:"
                for p in "$@"; do echo "- $p"; done
        } >smith.yaml
}

# unpack IMAGE: its rootfs in $R.
unpack() {
        rm -rf "$T/img" "$T/bundle"
        mkdir -p "$T/img"
        tar -C "$T/img" -xzf "$1"
        umoci unpack --rootless --image "$T/img:latest" "$T/bundle" >/dev/null
        R=$T/bundle/rootfs
}

q() { rpm --root "$R" --dbpath /var/lib/rpm "$@"; }

@test "rpm source: rpm -qa lists exactly the packages that shipped files, rpm -qf answers for them" {
        write_yaml hello-rpm /usr/bin/hello-rpm
        smith_user -v
        assert_status 0
        assert_output_contains "rpm package metadata for 2 packages"
        unpack "$W/image.tar.gz"
        [ -f "$R/var/lib/rpm/rpmdb.sqlite" ]
        # greeter-data was installed (hello-rpm requires it) but ships nothing; decoy was never installed
        [ "$(q -qa | LC_ALL=C sort)" = "hello-rpm-1.0-1.$ARCH
libgreet-1.1-1.$ARCH" ] || fail "rpm -qa: $(q -qa)"
        [ "$(q -qf /usr/bin/hello-rpm)" = "hello-rpm-1.0-1.$ARCH" ]
        [ "$(q -qf /usr/lib64/libgreet.so.1)" = "libgreet-1.1-1.$ARCH" ]
        [ "$(q -qf /usr/lib64/libm.so.6)" = "libgreet-1.1-1.$ARCH" ]
        # the headers are whole: what did not ship is listed, not installed, and owned by no one
        run q -qls hello-rpm
        assert_status 0
        grep -qE '^normal +/usr/bin/hello-rpm$' <<<"$output" || fail "$output"
        grep -qE '^not installed +/usr/share/doc/hello-rpm/README$' <<<"$output" || fail "$output"
        run q -qf /usr/share/doc/hello-rpm/README
        [ "$status" -ne 0 ] || fail "a file that did not ship is owned: $output"
        # rpm -V checks what shipped and only that (smith owns, dates and may chmod what it copies)
        run q -V --nouser --nogroup --nomtime --nomode --nodeps hello-rpm libgreet
        assert_status 0
        # the headers' digests still hold (rpm would skip a damaged header); installed at SOURCE_DATE_EPOCH
        [ "$(q -q --qf '%{INSTALLTIME} %{INSTALLTID}\n' hello-rpm)" = "0 0" ]
        run "$SMITH" inspect --json "$W/image.tar.gz" /usr/bin/hello-rpm
        assert_status 0
        [ "$(jq -r '.[0].package' <<<"$output")" = hello-rpm ]
        run "$SMITH" inspect --json "$W/image.tar.gz" /var/lib/rpm/rpmdb.sqlite
        [ "$(jq -r '.[0].reason.text' <<<"$output")" = "package metadata" ]
}

@test "rpm source: a file from rootfs/ is not attributed, even where it replaces a package's file" {
        write_yaml hello-rpm /usr/bin/hello-rpm /usr/share
        mkdir -p "$W/rootfs/usr/share/greeter" "$W/rootfs/usr/bin"
        echo mine >"$W/rootfs/usr/share/greeter/hello.txt"
        echo mine >"$W/rootfs/usr/bin/mine"
        smith_user
        assert_status 0
        unpack "$W/image.tar.gz"
        [ "$(cat "$R/usr/share/greeter/hello.txt")" = mine ]
        # greeter-data's only file is rootfs/'s now: it shipped nothing
        [ "$(q -qa | LC_ALL=C sort)" = "hello-rpm-1.0-1.$ARCH
libgreet-1.1-1.$ARCH" ] || fail "rpm -qa: $(q -qa)"
        run q -qf /usr/share/greeter/hello.txt
        [ "$status" -ne 0 ] || fail "rootfs/ file attributed: $output"
        run q -qf /usr/bin/mine
        [ "$status" -ne 0 ] || fail "rootfs/ file attributed: $output"
        run "$SMITH" inspect --json "$W/image.tar.gz" /usr/share/greeter/hello.txt
        [ "$(jq -r '.[0].package' <<<"$output")" = null ]
}

@test "rpm source: rebuilds are byte-identical, and the install time is SOURCE_DATE_EPOCH" {
        write_yaml hello-rpm /usr/bin/hello-rpm /usr/share
        chown -R 65534:65534 "$U" "$W"
        for i in 1 2; do
                rm -rf "$U/cache/smith"
                run setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                        HOME="$U/home" XDG_CACHE_HOME="$U/cache" TMPDIR="$U/tmp" SOURCE_DATE_EPOCH=1700000000 \
                        "$U/smith" -b 1 -i "$i.tar.gz"
                assert_status 0
        done
        cmp "$W/1.tar.gz" "$W/2.tar.gz"
        unpack "$W/1.tar.gz"
        [ "$(q -qa | wc -l)" = 3 ]
        [ "$(q -q --qf '%{INSTALLTIME}\n' greeter-data)" = 1700000000 ]
        [ "$(q -q --tid 1700000000 | wc -l)" = 3 ]
        [ -z "$(ls -A "$U/tmp")" ] || fail "left in TMPDIR: $(ls -A "$U/tmp")"
}

@test "package-metadata: false writes no rpm database (true does)" {
        write_yaml hello-rpm /usr/bin/hello-rpm
        echo "package-metadata: true" >>smith.yaml
        smith_user
        assert_status 0
        unpack "$W/image.tar.gz"
        [ -f "$R/var/lib/rpm/rpmdb.sqlite" ]
        sed -i 's/^package-metadata: true/package-metadata: false/' smith.yaml
        smith_user
        assert_status 0
        unpack "$W/image.tar.gz"
        [ ! -e "$R/var/lib/rpm" ] || fail "$(find "$R/var")"
        run "$SMITH" inspect --json "$W/image.tar.gz" /usr/bin/hello-rpm
        [ "$(jq -r '.[0].package' <<<"$output")" = null ]
}

# rpm_dir DIR RPMS...: an RPM-based root made the way an image is: the
# payloads extracted, the headers recorded by rpm --justdb; with
# os-release, and redhat-release as a symlink.
rpm_dir() {
        local d=$1 f
        shift
        mkdir -p "$d/etc" "$d/usr/lib"
        for f in "$@"; do
                rpm2archive - <"$f" | tar -C "$d" -xzf -
        done
        rpm --root "$d" --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts --nosignature "$@"
        printf 'NAME="Test Linux"\nID=testlinux\nVERSION_ID=9\n' >"$d/usr/lib/os-release"
        ln -s ../usr/lib/os-release "$d/etc/os-release"
        echo "Test Linux release 9" >"$d/etc/testlinux-release"
        ln -s testlinux-release "$d/etc/redhat-release"
}

@test "a directory with an rpm database: files map to its packages, os-release and redhat-release come along" {
        local src=$T/rpmroot
        rpm_dir "$src" "$FIX"/repo/hello-rpm-1.0-*.rpm "$FIX"/repo/libgreet-1.1-*.rpm "$FIX"/repo/greeter-data-*.rpm \
                "$FIX"/repo/decoy-*.rpm
        [ -f "$src/var/lib/rpm/rpmdb.sqlite" ]
        [ "$(rpm --root "$src" --dbpath /var/lib/rpm -qa | wc -l)" = 4 ]
        printf 'package: %s\npaths: [/usr/bin/hello-rpm, /usr/share/greeter]\n' "$src" >smith.yaml
        run "$SMITH" -v
        assert_status 0
        unpack image.tar.gz
        [ "$(q -qa --qf '%{NAME}\n' | LC_ALL=C sort)" = "greeter-data
hello-rpm
libgreet" ] || fail "rpm -qa: $(q -qa)"
        [ "$(q -qf /usr/share/greeter/hello.txt)" = "greeter-data-1.0-1.noarch" ]
        [ "$(q -qf /usr/bin/hello-rpm)" = "hello-rpm-1.0-1.$ARCH" ]
        # an image's install times are its own
        [ "$(q -q --qf '%{INSTALLTIME}\n' hello-rpm)" = \
                "$(rpm --root "$src" --dbpath /var/lib/rpm -q --qf '%{INSTALLTIME}\n' hello-rpm)" ]
        [ -f "$R/etc/os-release" ] && [ ! -L "$R/etc/os-release" ]
        cmp "$R/etc/os-release" "$src/usr/lib/os-release"
        (. "$R/etc/os-release" && [ "$ID $VERSION_ID" = "testlinux 9" ])
        [ "$(cat "$R/etc/redhat-release")" = "Test Linux release 9" ]
        run "$SMITH" inspect --json image.tar.gz /usr/lib64/libgreet.so.1
        [ "$(jq -r '.[0].package' <<<"$output")" = libgreet ]
        [ -z "$(leftovers "$TMPDIR")" ] || fail "left in TMPDIR: $(leftovers "$TMPDIR")"
}

@test "an OCI image with an rpm database gives the same packages" {
        local src=$T/rpmroot L=$T/layout
        rpm_dir "$src" "$FIX"/repo/hello-rpm-1.0-*.rpm "$FIX"/repo/libgreet-1.1-*.rpm "$FIX"/repo/greeter-data-*.rpm
        umoci init --layout "$L"
        umoci new --image "$L:latest"
        umoci unpack --image "$L:latest" "$T/b" >/dev/null
        cp -a "$src/." "$T/b/rootfs/"
        umoci repack --image "$L:latest" "$T/b"
        tar -C "$L" -czf base.tar.gz .
        printf 'package: base.tar.gz\npaths: [/usr/bin/hello-rpm]\n' >smith.yaml
        run "$SMITH"
        assert_status 0
        unpack image.tar.gz
        [ "$(q -qa --qf '%{NAME}\n' | LC_ALL=C sort)" = "hello-rpm
libgreet" ] || fail "rpm -qa: $(q -qa)"
        [ "$(q -qf /usr/lib64/libgreet.so.1)" = "libgreet-1.1-1.$ARCH" ]
        (. "$R/etc/os-release" && [ "$ID" = testlinux ])
}

@test "a directory whose rpm database is not one fails (exit 4) with one line" {
        local src=$T/bad
        mkdir -p "$src/var/lib/rpm" "$src/usr/bin"
        echo 'not a database' >"$src/var/lib/rpm/rpmdb.sqlite"
        echo hi >"$src/usr/bin/hi"
        printf 'package: %s\npaths: [/usr/bin/hi]\n' "$src" >smith.yaml
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "rpm database 'var/lib/rpm/rpmdb.sqlite' in '$src'"
        [[ "$output" != *smith-rpmdb-* ]] || fail "the private copy's path in the message: $output"
        [ -z "$(leftovers "$TMPDIR")" ] || fail "left in TMPDIR: $(leftovers "$TMPDIR")"
}
