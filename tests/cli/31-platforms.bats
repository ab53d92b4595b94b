#!/usr/bin/env bats
# Building for another platform from images: an arm64 Debian root made by
# debootstrap's first stage (nothing runs), as a one-platform OCI layout and
# in a two-platform index with the amd64 Debian image
# (tests/fixtures/arm64-image.sh), also pushed to a registry with skopeo
# copy --all; and the arm64 root as a directory.  What is built is checked
# with readelf and run under qemu-aarch64-static.

load helpers/common
# shellcheck source=helpers/registry.sh
source "$BATS_TEST_DIRNAME/helpers/registry.sh"

setup_file() {
        IMAGES=$(fixture arm64-image)
        SHARED_CACHE="$BATS_FILE_TMPDIR/cache"
        export IMAGES SHARED_CACHE
}

setup() {
        common_setup
        export XDG_CACHE_HOME="$SHARED_CACHE"
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
}

teardown() {
        services_stop
        common_teardown
}

yaml_cat() {
        printf '%s\n' "package: $1" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >smith.yaml
}

arch_of() {
        $OCI config "$1" | jq -r '.architecture + (if .variant then "/" + .variant else "" end)'
}

@test "platforms: cat for linux/arm64 from the arm64 image runs under qemu; for this machine it is refused" {
        yaml_cat "$IMAGES/arm64.tar.gz"
        run "$SMITH" -v --platform linux/arm64 -i arm64.tar.gz
        assert_status 0
        # -v says each thing once (the link /lib is on the way to every library)
        [ -z "$(sort <<<"$output" | uniq -d)" ] || fail "repeated lines: $(sort <<<"$output" | uniq -d)"
        assert_output_contains "symlink '/lib' -> 'usr/lib'"
        [ "$(arch_of arm64.tar.gz)" = arm64/v8 ]
        assert_qemu_hello arm64.tar.gz AArch64 aarch64
        # aarch64 and arm64/v8 are names of the same platform
        run "$SMITH" --platform linux/aarch64 -i again.tar.gz -b 1
        assert_status 0
        run "$SMITH" --platform linux/arm64/v8 -i again2.tar.gz -b 1
        assert_status 0
        cmp again.tar.gz again2.tar.gz
        # a single-platform image of another platform than the one built for
        run "$SMITH" -i host.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "is an image for linux/arm64/v8, not for linux/amd64, the platform built for"
        [ ! -e host.tar.gz ]
}

@test "platforms: a two-platform layout gives each platform its own image; an absent one lists what it has" {
        local p
        for p in tar.gz dir; do
                if [ "$p" = dir ]; then yaml_cat "$IMAGES/two-platform"; else yaml_cat "$IMAGES/two-platform.tar.gz"; fi
                run "$SMITH" --platform linux/arm64 -i "arm64-$p.tar.gz"
                assert_status 0
                [ "$(arch_of "arm64-$p.tar.gz")" = arm64/v8 ]
                assert_qemu_hello "arm64-$p.tar.gz" AArch64 aarch64
                run "$SMITH" --platform linux/amd64 -i "amd64-$p.tar.gz"
                assert_status 0
                [ "$(arch_of "amd64-$p.tar.gz")" = amd64 ]
                run run_image "amd64-$p.tar.gz"
                assert_status 0
                [ "$output" = "Hello World!" ] || fail "amd64 from the index: $output"
                # this machine's by default
                run "$SMITH" -i "host-$p.tar.gz"
                assert_status 0
                [ "$(arch_of "host-$p.tar.gz")" = amd64 ]
        done
        run "$SMITH" --platform linux/s390x -i s390x.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "has no image for platform 'linux/s390x' (it has: linux/amd64, linux/arm64/v8)"
        # a platform smith does not build for, and a malformed one, are usage errors
        run "$SMITH" --platform linux/sparc64
        assert_status 2
        assert_output_contains "smith cannot build for 'linux/sparc64'"
        run "$SMITH" --platform arm64
        assert_status 2
        printf 'platform: linux\n' >>smith.yaml
        run "$SMITH"
        assert_status 3
        assert_output_contains "smith.yaml: platform: invalid platform 'linux'"
}

@test "platforms: a directory of arm64 programs is built as an arm64 image; --platform must agree" {
        yaml_cat "$IMAGES/arm64-root"
        run "$SMITH" -i dir.tar.gz
        assert_status 0
        [ "$(arch_of dir.tar.gz)" = arm64/v8 ]
        assert_qemu_hello dir.tar.gz AArch64 aarch64
        run "$SMITH" --platform linux/arm64 -i dir2.tar.gz
        assert_status 0
        [ "$(arch_of dir2.tar.gz)" = arm64/v8 ]
        run "$SMITH" --platform linux/amd64 -i dir3.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "'/usr/bin/cat' in '$IMAGES/arm64-root' is a program for aarch64, not for the platform built for (x86-64)"
}

@test "platforms: the two-platform index pushed with skopeo copy --all; a build picks each platform from the registry" {
        registry_start
        run skopeo copy --all --insecure-policy --dest-tls-verify=false "oci:$IMAGES/two-platform:latest" "docker://$REG/multi/debian:latest"
        assert_status 0
        run skopeo inspect --raw --tls-verify=false "docker://$REG/multi/debian:latest"
        assert_status 0
        [ "$(jq -r '[.manifests[].platform.architecture] | join(",")' <<<"$output")" = "amd64,arm64" ] || fail "index: $output"
        yaml_cat "http://$REG/multi/debian:latest"
        run "$SMITH" --platform linux/arm64 -i arm64.tar.gz
        assert_status 0
        [ "$(arch_of arm64.tar.gz)" = arm64/v8 ]
        assert_qemu_hello arm64.tar.gz AArch64 aarch64
        run "$SMITH" --platform linux/amd64 -i amd64.tar.gz
        assert_status 0
        [ "$(arch_of amd64.tar.gz)" = amd64 ]
        # -f takes what a pull for that platform resolved, not the other one's
        run "$SMITH" -f --platform linux/arm64 -i arm64-fast.tar.gz
        assert_status 0
        [ "$(arch_of arm64-fast.tar.gz)" = arm64/v8 ]
}
