#!/usr/bin/env bats
# Package metadata for RPM sources: an image built from RPM packages (the
# tiny signed repository of tests/fixtures/rpm-repo.sh, over file://), or
# from a directory that carries an rpm database, holds
# /var/lib/rpm/rpmdb.sqlite with the headers of the packages that shipped
# at least one file, the files it does not ship marked not installed;
# checked with the real rpm on the unpacked image.  Debian's rpm keeps its
# own database in ~/.rpmdb, so every query names --dbpath /var/lib/rpm.
# The SBOMs list those packages (pkg:rpm purls, header data read back with
# rpm -q), checked with sbom-check.py (CycloneDX's official schema).

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

# Debian's python, which has python3-jsonschema (pyenv's may shadow it)
CHECK="${SCHEMA_PYTHON:-/usr/bin/python3} $HELPERS/sbom-check.py"

# sboms IMAGE: its SPDX and CycloneDX documents in spdx.json and cdx.json, both checked
sboms() {
        run "$SMITH" sbom "$1"
        assert_status 0
        printf '%s\n' "$output" >spdx.json
        run "$SMITH" sbom -f cyclonedx "$1"
        assert_status 0
        printf '%s\n' "$output" >cdx.json
        run $CHECK spdx spdx.json
        assert_status 0
        run $CHECK cyclonedx cdx.json
        assert_status 0
}

# spdx_pkg NAME FILTER: FILTER (jq) applied to the SPDX package called NAME
spdx_pkg() { jq -r --arg n "$1" ".packages[] | select(.name == \$n) | $2" spdx.json; }
# cdx_pkg NAME FILTER: the same for the CycloneDX component
cdx_pkg() { jq -r --arg n "$1" ".components[] | select(.name == \$n) | $2" cdx.json; }
# rpm_pkgs: the names of the SPDX packages with a pkg:rpm purl, sorted, one line
rpm_pkgs() {
        jq -r '[.packages[] | select(.externalRefs[0].referenceLocator // "" | startswith("pkg:rpm/")) | .name] |
                sort | join(" ")' spdx.json
}
# owner PATH: the name of the SPDX package that CONTAINS file PATH (the image: SPDXRef-Image)
owner() {
        jq -r --arg f "$1" '(.files[] | select(.fileName == $f) | .SPDXID) as $id |
                (.relationships[] | select(.relationshipType == "CONTAINS" and .relatedSpdxElement == $id) |
                .spdxElementId) as $p | if $p == "SPDXRef-Image" then $p else
                (.packages[] | select(.SPDXID == $p) | .name) end' spdx.json
}

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

@test "rpm source: the SBOMs list the rpm packages that shipped files, with purls, versions and licenses" {
        write_yaml hello-rpm /usr/bin/hello-rpm /usr/lib64/libgreet.so.1 /usr/share/doc
        mkdir -p "$W/rootfs/etc"
        echo mine >"$W/rootfs/etc/mine"
        smith_user
        assert_status 0
        sboms "$W/image.tar.gz"
        # greeter-data was installed but shipped nothing; decoy was never installed
        [ "$(rpm_pkgs)" = "hello-rpm libgreet" ] || fail "packages: $(rpm_pkgs)"
        # the rpm source's root has no os-release: no namespace, no distro
        [ "$(spdx_pkg hello-rpm '.externalRefs[0].referenceLocator')" = "pkg:rpm/hello-rpm@1.0-1?arch=$ARCH" ]
        [ "$(spdx_pkg libgreet '.externalRefs[0].referenceLocator')" = "pkg:rpm/libgreet@1.1-1?arch=$ARCH" ]
        [ "$(spdx_pkg libgreet .versionInfo)" = 1.1-1 ]
        [ "$(spdx_pkg libgreet .licenseDeclared)" = MIT ]
        [ "$(spdx_pkg hello-rpm .sourceInfo)" = "built package from: hello-rpm-1.0-1.src.rpm" ]
        [ "$(spdx_pkg hello-rpm .supplier)" = null ]
        # each shipped file's package, as rpm -qf says; rootfs/'s belongs to the image
        unpack "$W/image.tar.gz"
        [ "$(owner /usr/bin/hello-rpm)" = "$(q -qf --qf '%{NAME}' /usr/bin/hello-rpm)" ]
        [ "$(owner /usr/lib64/libgreet.so.1)" = libgreet ]
        [ "$(owner /usr/share/doc/hello-rpm/README)" = hello-rpm ]
        [ "$(owner /etc/mine)" = SPDXRef-Image ]
        jq -e '.relationships | any(.spdxElementId == "SPDXRef-Image" and .relationshipType == "CONTAINS" and
                .relatedSpdxElement == "SPDXRef-Package-1")' spdx.json
        # CycloneDX: the same packages, their files nested, the image depending on them
        local purl="pkg:rpm/libgreet@1.1-1?arch=$ARCH"
        [ "$(cdx_pkg libgreet '.purl + " " + .version + " " + .licenses[0].expression')" = "$purl 1.1-1 MIT" ]
        [ "$(cdx_pkg libgreet '[.components[].name] | join(" ")')" = "/usr/lib64/libgreet.so.1 /usr/lib64/libm.so.6" ]
        [ "$(cdx_pkg hello-rpm '.properties | map(.name + "=" + .value) | join(" ")')" = \
                "smith:rpm:architecture=$ARCH smith:rpm:sourcerpm=hello-rpm-1.0-1.src.rpm" ]
        jq -e --arg p "$purl" '.dependencies | any(.ref == "image" and (.dependsOn | index($p)))' cdx.json
        [ "$(jq -r '[.components[] | select(.purl | startswith("pkg:rpm/")?) | .name] | join(" ")' cdx.json)" = \
                "hello-rpm libgreet" ]
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
        # which holds the SBOMs, with the packages in them
        sboms "$W/1.tar.gz"
        [ "$(rpm_pkgs)" = "greeter-data hello-rpm libgreet" ] || fail "packages: $(rpm_pkgs)"
        cp spdx.json spdx1.json
        sboms "$W/2.tar.gz"
        cmp spdx.json spdx1.json
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
        # and the SBOMs list them, named after the image's os-release
        sboms image.tar.gz
        [ "$(rpm_pkgs)" = "hello-rpm libgreet" ] || fail "packages: $(rpm_pkgs)"
        [ "$(spdx_pkg hello-rpm '.externalRefs[0].referenceLocator')" = \
                "pkg:rpm/testlinux/hello-rpm@1.0-1?arch=$ARCH&distro=testlinux-9" ]
        [ "$(cdx_pkg libgreet .purl)" = "pkg:rpm/testlinux/libgreet@1.1-1?arch=$ARCH&distro=testlinux-9" ]
        [ "$(owner /usr/lib64/libgreet.so.1)" = libgreet ]
        [ "$(owner /usr/bin/hello-rpm)" = hello-rpm ]
}

# odd_rpm OUTDIR NAME EPOCH LICENSE [VENDOR]: a noarch package shipping
# /usr/share/NAME/file, with that epoch, License and Vendor tag
odd_rpm() {
        local out=$1 name=$2 epoch=$3 license=$4 vendor=${5:-} top
        top=$(mktemp -d)
        mkdir -p "$top/SPECS"
        {
                echo "Name: $name"
                echo "Epoch: $epoch"
                echo "Version: 3.0"
                echo "Release: 1"
                echo "Summary: $name"
                echo "License: $license"
                [ -z "$vendor" ] || echo "Vendor: $vendor"
                echo "BuildArch: noarch"
                echo "%description"
                echo "$name"
                echo "%install"
                echo "mkdir -p %{buildroot}/usr/share/$name"
                echo "echo $name >%{buildroot}/usr/share/$name/file"
                echo "%files"
                echo "/usr/share/$name/file"
        } >"$top/SPECS/$name.spec"
        rpmbuild --quiet -bb --nodeps --define "_topdir $top" --define "_rpmdir $out" \
                --define '_build_name_fmt %%{NAME}.rpm' --define '__os_install_post %{nil}' \
                --define '_buildhost smith' "$top/SPECS/$name.spec" >/dev/null 2>&1 || fail "rpmbuild $name"
        rm -rf "$top"
}

@test "a directory with an rpm database: SBOM packages have epoch, vendor, SPDX or other licenses" {
        local src=$T/rpmroot
        odd_rpm "$T" oddlic 2 "GPLv2+ and BSD" "Smith Test Vendor"
        odd_rpm "$T" spdxlic 0 "(mit OR Apache-2.0) AND GPL-2.0-or-later WITH Classpath-exception-2.0 AND LicenseRef-Fedora-Public-Domain"
        rpm_dir "$src" "$FIX"/repo/hello-rpm-1.0-*.rpm "$FIX"/repo/libgreet-1.1-*.rpm "$FIX"/repo/greeter-data-*.rpm \
                "$FIX"/repo/decoy-*.rpm "$T/oddlic.rpm" "$T/spdxlic.rpm"
        printf 'package: %s\npaths: [/usr/bin/hello-rpm, /usr/share/oddlic, /usr/share/spdxlic]\n' "$src" >smith.yaml
        run "$SMITH"
        assert_status 0
        sboms image.tar.gz
        # greeter-data and decoy are in the source's database but shipped nothing
        [ "$(rpm_pkgs)" = "hello-rpm libgreet oddlic spdxlic" ] || fail "packages: $(rpm_pkgs)"
        [ "$(spdx_pkg oddlic '.externalRefs[0].referenceLocator')" = \
                "pkg:rpm/testlinux/oddlic@3.0-1?arch=noarch&epoch=2&distro=testlinux-9" ]
        [ "$(spdx_pkg oddlic .versionInfo)" = "2:3.0-1" ]
        [ "$(spdx_pkg oddlic .versionInfo)" = "$(rpm --root "$src" --dbpath /var/lib/rpm -q --qf '%{EVR}' oddlic)" ]
        [ "$(spdx_pkg oddlic .supplier)" = "Organization: Smith Test Vendor" ]
        # a License tag that is no SPDX expression: NOASSERTION, and its name in CycloneDX
        [ "$(spdx_pkg oddlic .licenseDeclared)" = NOASSERTION ]
        [ "$(spdx_pkg oddlic .licenseComments)" = "the License tag: GPLv2+ and BSD" ]
        [ "$(cdx_pkg oddlic '.licenses[0].license.name')" = "GPLv2+ and BSD" ]
        [ "$(cdx_pkg oddlic '.supplier.name + " " + .version')" = "Smith Test Vendor 2:3.0-1" ]
        [ "$(cdx_pkg oddlic '.properties[] | select(.name == "smith:rpm:epoch") | .value')" = 2 ]
        # epoch 0 is no epoch; an SPDX expression is kept, its ids as the license list spells them
        [ "$(spdx_pkg spdxlic '.externalRefs[0].referenceLocator')" = \
                "pkg:rpm/testlinux/spdxlic@3.0-1?arch=noarch&distro=testlinux-9" ]
        [ "$(spdx_pkg spdxlic .versionInfo)" = 3.0-1 ]
        local expr="(MIT OR Apache-2.0) AND GPL-2.0-or-later WITH Classpath-exception-2.0 AND LicenseRef-Fedora-Public-Domain"
        [ "$(spdx_pkg spdxlic .licenseDeclared)" = "$expr" ]
        [ "$(cdx_pkg spdxlic '.licenses[0].expression')" = "$expr" ]
        [ "$(jq -r '.hasExtractedLicensingInfos[].licenseId' spdx.json)" = LicenseRef-Fedora-Public-Domain ]
        [ "$(spdx_pkg hello-rpm .licenseDeclared)" = MIT ]
        [ "$(owner /usr/share/oddlic/file)" = oddlic ]
        [ "$(owner /usr/share/spdxlic/file)" = spdxlic ]
        [ "$(owner /usr/lib64/libgreet.so.1)" = libgreet ]
        [ "$(owner /etc/os-release)" = SPDXRef-Image ]
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
