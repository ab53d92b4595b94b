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

@test "platforms: two in one build make one index of the single-platform images; upload pushes it, skopeo agrees" {
        local idx d p
        # the same build number and time: each platform is its single build byte for byte
        export SOURCE_DATE_EPOCH=1700000000
        yaml_cat "$IMAGES/two-platform.tar.gz"
        run "$SMITH" -b 7 --platform linux/amd64 --platform linux/arm64 -i multi.tar.gz
        assert_status 0
        run "$SMITH" -b 7 --platform linux/amd64 -i amd64.tar.gz
        assert_status 0
        run "$SMITH" -b 7 --platform linux/arm64 -i arm64.tar.gz
        assert_status 0
        mkdir m a r
        tar -C m -xzf multi.tar.gz
        tar -C a -xzf amd64.tar.gz
        tar -C r -xzf arm64.tar.gz
        # latest is an image index naming each single build's manifest with its platform
        [ "$(jq -r '.manifests[0].mediaType' m/index.json)" = application/vnd.oci.image.index.v1+json ]
        idx=m/blobs/sha256/$(jq -r '.manifests[0].digest' m/index.json | cut -d: -f2)
        [ "$(jq -r '[.manifests[] | .platform.os + "/" + .platform.architecture] | join(" ")' "$idx")" = "linux/amd64 linux/arm64" ]
        [ "$(jq -r '.manifests[0].digest' "$idx")" = "$(jq -r '.manifests[0].digest' a/index.json)" ]
        [ "$(jq -r '.manifests[1].digest' "$idx")" = "$(jq -r '.manifests[0].digest' r/index.json)" ]
        # every blob of each single build is in it, byte for byte (artifacts too)
        for p in a/blobs/sha256/* r/blobs/sha256/*; do
                cmp "$p" "m/blobs/sha256/${p##*/}" || fail "'${p##*/}' differs or is missing"
        done
        # oci-image-tool checks the index and each manifest and config (its "image"
        # validation of a layout does not follow a nested index)
        run oci-image-tool validate --type imageIndex "$idx"
        assert_status 0
        for d in $(jq -r '.manifests[].digest' "$idx" | cut -d: -f2); do
                run oci-image-tool validate --type manifest "m/blobs/sha256/$d"
                assert_status 0
                run oci-image-tool validate --type config "m/blobs/sha256/$(jq -r .config.digest "m/blobs/sha256/$d" | cut -d: -f2)"
                assert_status 0
        done
        # smith.yaml's platforms: the same images (the spec artifact names the key)
        printf 'platforms: [linux/amd64, linux/arm64]\n' >>smith.yaml
        run "$SMITH" -b 7 -i multi2.tar.gz
        assert_status 0
        mkdir m2
        tar -C m2 -xzf multi2.tar.gz
        [ "$(jq -r '.manifests[0].digest' m2/index.json)" = "sha256:${idx##*/}" ] || fail "platforms: gave other images"
        run "$SMITH" --platform linux/amd64,linux/amd64 -i twice.tar.gz
        assert_status 2
        assert_output_contains "platform 'linux/amd64' is named twice"
        # upload: each image, then the index to the tag, byte for byte
        registry_start
        run "$SMITH" upload -v -i multi.tar.gz -r "http://$REG/multi/cat:v1"
        assert_status 0
        run skopeo inspect --raw --tls-verify=false "docker://$REG/multi/cat:v1"
        assert_status 0
        [ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "sha256:${idx##*/}" ] || fail "another index: $output"
        run skopeo copy --all --insecure-policy --src-tls-verify=false "docker://$REG/multi/cat:v1" "oci:$T/copied:v1"
        assert_status 0
        [ "$(jq -r '.manifests[0].digest' "$T/copied/index.json")" = "sha256:${idx##*/}" ] || fail "skopeo copied another index"
        for d in $(jq -r '.manifests[].digest' "$idx"); do
                [ -f "$T/copied/blobs/sha256/${d#sha256:}" ] || fail "skopeo did not copy $d"
        done
        # and smith download picks a platform of it, or keeps them all
        run "$SMITH" download --platform linux/arm64 -r "http://$REG/multi/cat:v1" -i down.tar.gz
        assert_status 0
        [ "$($OCI config down.tar.gz v1 | jq -r '.architecture + "/" + .variant')" = arm64/v8 ]
        run "$SMITH" download --platform all -r "http://$REG/multi/cat:v1" -i all.tar.gz
        assert_status 0
        mkdir all
        tar -C all -xzf all.tar.gz
        [ "$(jq -r '.manifests[0].digest' all/index.json)" = "sha256:${idx##*/}" ] || fail "another index: $(cat all/index.json)"
        cmp "$idx" "all/blobs/sha256/${idx##*/}"
        for d in $(jq -r '.manifests[].digest' "$idx" | cut -d: -f2); do
                cmp "m/blobs/sha256/$d" "all/blobs/sha256/$d" || fail "manifest $d not kept"
        done
        # with each platform's artifacts, and a build takes either platform from it
        [ "$(jq '[.manifests[] | select(.annotations["vnd.smith.referrers"])] | length' all/index.json)" = 2 ]
        run skopeo copy --all --insecure-policy oci:all:v1 "oci:$T/all-copy:v1"
        assert_status 0
        yaml_cat "all.tar.gz:v1"
        run "$SMITH" --platform linux/arm64 -i from-all.tar.gz
        assert_status 0
        [ "$(arch_of from-all.tar.gz)" = arm64/v8 ]
}
