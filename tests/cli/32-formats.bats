#!/usr/bin/env bats
# What a build writes (--format oci, oci-tar, oci-dir, docker-archive) and
# how its layer is compressed (--compression gzip|zstd[:LEVEL]), checked by
# the real tools: skopeo (oci: and docker-archive: transports, zstd),
# podman load, oci-image-tool, umoci and runc.

load helpers/common
# shellcheck source=helpers/registry.sh
source "$BATS_TEST_DIRNAME/helpers/registry.sh"

setup_file() {
        DEB=$(fixture debian-image)
        SHARED_CACHE="$BATS_FILE_TMPDIR/cache"
        export DEB SHARED_CACHE
}

setup() {
        common_setup
        export XDG_CACHE_HOME="$SHARED_CACHE" SOURCE_DATE_EPOCH=1700000000
        printf '%s\n' "package: $DEB" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >smith.yaml
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
}

teardown() {
        services_stop
        common_teardown
}

@test "formats: oci, oci-tar and oci-dir hold the same image; smith reads each; bad values are usage errors" {
        local f d
        for f in oci oci-tar oci-dir; do
                run "$SMITH" -b 1 --format "$f" -i "out-$f"
                assert_status 0
        done
        [ "$(file -b out-oci | cut -d, -f1)" = "gzip compressed data" ]
        [ "$(file -b out-oci-tar)" = "POSIX tar archive" ]
        [ -f out-oci-dir/oci-layout ] && [ -f out-oci-dir/index.json ]
        d=$(jq -r '.manifests[0].digest' out-oci-dir/index.json)
        [ "$(tar -xOf out-oci-tar index.json | jq -r '.manifests[0].digest')" = "$d" ]
        [ "$(tar -xzOf out-oci index.json | jq -r '.manifests[0].digest')" = "$d" ]
        run oci-image-tool validate --type image --ref name=latest out-oci-dir
        assert_status 0
        run skopeo inspect oci:out-oci-dir:latest
        assert_status 0
        run run_image out-oci
        assert_status 0
        [ "$output" = "Hello World!" ]
        # smith itself reads the plain tar and the directory
        for f in oci-tar oci-dir; do
                run "$SMITH" inspect "out-$f" /usr/bin/cat
                assert_status 0
                assert_output_contains "/usr/bin/cat"
        done
        # a directory is replaced only when it is a layout
        run "$SMITH" -b 1 --format oci-dir -i out-oci-dir
        assert_status 0
        mkdir notalayout
        run "$SMITH" -b 1 --format oci-dir -i notalayout
        assert_status 1
        assert_output_contains "it exists and is not an OCI layout directory"
        run "$SMITH" --format tarball
        assert_status 2
        assert_output_contains "--format: 'tarball' is not oci, oci-tar, oci-dir or docker-archive"
}

@test "formats: docker-archive: skopeo reads it, its diff_ids are the OCI output's, byte-identical again" {
        run "$SMITH" -b 1 -i oci.tar.gz
        assert_status 0
        run "$SMITH" -b 1 --format docker-archive -i docker.tar
        assert_status 0
        run "$SMITH" -b 1 --format docker-archive -i docker2.tar
        assert_status 0
        cmp docker.tar docker2.tar
        run skopeo inspect --config docker-archive:docker.tar
        assert_status 0
        [ "$(jq -c .rootfs.diff_ids <<<"$output")" = "$($OCI config oci.tar.gz | jq -c .rootfs.diff_ids)" ] ||
                fail "diff_ids: $(jq -c .rootfs.diff_ids <<<"$output")"
        [ "$(jq -r .architecture <<<"$output")" = amd64 ]
        # the layers are plain tars whose digests are the diff_ids
        tar -xf docker.tar manifest.json
        for l in $(jq -r '.[0].Layers[]' manifest.json); do
                [ "sha256:$(tar -xOf docker.tar "$l" | sha256sum | cut -d' ' -f1)" = "sha256:${l%%/*}" ] ||
                        fail "$l is not its diff_id"
        done
        # skopeo turns it into an OCI image that runs
        run skopeo copy --insecure-policy docker-archive:docker.tar "oci:$T/from-docker:latest"
        assert_status 0
        (cd "$T" && tar -czf from-docker.tar.gz -C from-docker .)
        run run_image "$T/from-docker.tar.gz"
        assert_status 0
        [ "$output" = "Hello World!" ]
        # podman loads it, with the same layers (its own store, in the test's directory)
        run podman --root "$T/podman" --runroot "$T/podman-run" load -i docker.tar
        assert_status 0
        assert_output_contains "Loaded image"
        run podman --root "$T/podman" --runroot "$T/podman-run" image inspect \
                "$(tar -xOf docker.tar manifest.json | jq -r '.[0].Config' | cut -d. -f1)"
        assert_status 0
        [ "$(jq -c '.[0].RootFS.Layers' <<<"$output")" = "$($OCI config oci.tar.gz | jq -c .rootfs.diff_ids)" ] ||
                fail "podman's layers: $(jq -c '.[0].RootFS.Layers' <<<"$output")"
        # smith reads it back: inspect, a build from it, upload (its layers go up as the plain tars they are)
        run "$SMITH" inspect docker.tar /usr/bin/cat
        assert_status 0
        assert_output_contains "/usr/bin/cat"
        mkdir again
        printf '%s\n' "package: $PWD/docker.tar" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >again/smith.yaml
        cp -a rootfs again/
        run "$SMITH" -d again -i "$PWD/again.tar.gz"
        assert_status 0
        run run_image again.tar.gz
        assert_status 0
        [ "$output" = "Hello World!" ]
        registry_start
        run "$SMITH" upload -i docker.tar -r "http://$REG/d/cat:v1"
        assert_status 0
        run skopeo inspect --raw --tls-verify=false "docker://$REG/d/cat:v1"
        assert_status 0
        [ "$(jq -r .config.digest <<<"$output")" = "$($OCI manifest oci.tar.gz | jq -r .config.digest)" ]
        [ "$(jq -r '.layers[0].mediaType' <<<"$output")" = application/vnd.oci.image.layer.v1.tar ]
        # one image of one platform: an index has no place in it
        run "$SMITH" --format docker-archive --platform linux/amd64,linux/arm64 -i multi.tar
        assert_status 2
        assert_output_contains "docker-archive holds one image of one platform"
}

@test "compression: zstd layers skopeo copies and pushes; smith builds from a zstd image skopeo made" {
        run "$SMITH" -b 1 --compression zstd -i z.tar.gz
        assert_status 0
        [ "$($OCI manifest z.tar.gz | jq -r '.layers[].mediaType')" = application/vnd.oci.image.layer.v1.tar+zstd ]
        run "$SMITH" -b 1 --compression zstd -i z2.tar.gz
        assert_status 0
        cmp z.tar.gz z2.tar.gz
        run "$SMITH" -b 1 --compression zstd:19 -i z19.tar.gz
        assert_status 0
        ! cmp -s z.tar.gz z19.tar.gz || fail "level 19 gave the level 3 bytes"
        # skopeo reads it, and copies it to a registry, where smith's own upload agrees
        mkdir zd
        tar -C zd -xzf z.tar.gz
        run skopeo copy --insecure-policy oci:zd:latest "oci:$T/zcopy:latest"
        assert_status 0
        registry_start
        run skopeo copy --insecure-policy --dest-tls-verify=false oci:zd:latest "docker://$REG/z/skopeo:v1"
        assert_status 0
        run "$SMITH" upload -i z.tar.gz -r "http://$REG/z/smith:v1"
        assert_status 0
        [ "$(skopeo inspect --tls-verify=false "docker://$REG/z/smith:v1" | jq -r .Digest)" = "$(jq -r '.manifests[0].digest' zd/index.json)" ]
        [ "$(skopeo inspect --raw --tls-verify=false "docker://$REG/z/smith:v1" | jq -r '.layers[0].mediaType')" = application/vnd.oci.image.layer.v1.tar+zstd ]
        # upload --compression: a gzip build goes up as zstd (same config, so the same diff_ids)
        run "$SMITH" -b 1 -i g.tar.gz
        assert_status 0
        run "$SMITH" upload --compression zstd:5 -i g.tar.gz -r "http://$REG/z/recompressed:v1"
        assert_status 0
        assert_output_contains "artifacts not uploaded"
        run skopeo inspect --raw --tls-verify=false "docker://$REG/z/recompressed:v1"
        assert_status 0
        [ "$(jq -r '.layers[0].mediaType' <<<"$output")" = application/vnd.oci.image.layer.v1.tar+zstd ]
        [ "$(jq -r .config.digest <<<"$output")" = "$($OCI manifest g.tar.gz | jq -r .config.digest)" ]
        run skopeo copy --insecure-policy --src-tls-verify=false "docker://$REG/z/recompressed:v1" "oci:$T/recomp:v1"
        assert_status 0
        run "$SMITH" upload --compression zstd --docker -i g.tar.gz -r "http://$REG/z/x:v1"
        assert_status 2
        # docker-archive stays tar: the zstd layer goes in decompressed
        run "$SMITH" -b 1 --compression zstd --format docker-archive -i zd.tar
        assert_status 0
        run skopeo inspect docker-archive:zd.tar
        assert_status 0
        # a zstd image made by skopeo is a package like any other
        run skopeo copy --insecure-policy --dest-compress-format zstd "oci:$FIXTURES/debian-layout:latest" "oci:$T/debzst:latest"
        assert_status 0
        printf '%s\n' "package: $T/debzst" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >smith.yaml
        run "$SMITH" -i from-zstd.tar.gz
        assert_status 0
        run run_image from-zstd.tar.gz
        assert_status 0
        [ "$output" = "Hello World!" ]
        run "$SMITH" --compression brotli
        assert_status 2
        assert_output_contains "--compression: 'brotli' is not gzip or zstd[:LEVEL]"
        run "$SMITH" --compression zstd:99
        assert_status 2
}

@test "progress: on a TTY each phase and a summary; nothing without one; -q leaves errors only" {
        local c="$T/cold"
        # script(1) gives smith a terminal; a cold cache imports the image
        # tarball (unpacking its layer on the way), then its root is unpacked
        # from the blobs unless that staging took it
        run script -qefc "env XDG_CACHE_HOME=$c '$SMITH' -i tty.tar.gz" /dev/null
        assert_status 0
        assert_output_contains "import "
        assert_output_contains " MiB/s"
        assert_output_contains "smith: tty.tar.gz in "
        assert_output_contains "(import "
        assert_output_contains "layer "
        # a layout directory is unpacked from its blobs
        rm -rf "$c"
        sed -i "s|^package: .*|package: $FIXTURES/debian-layout|" smith.yaml
        run script -qefc "env XDG_CACHE_HOME=$c '$SMITH' -i tty2.tar.gz" /dev/null
        assert_status 0
        assert_output_contains "unpack "
        assert_output_contains "(unpack "
        # without a terminal: nothing but what was asked
        rm -rf "$c"
        run env XDG_CACHE_HOME="$c" "$SMITH" -i plain.tar.gz
        assert_status 0
        [ -z "$output" ] || fail "printed without a terminal: $output"
        # -q: a build that warns (a program whose libraries the directory lacks) says nothing ...
        mkdir -p src/usr/bin
        cp /usr/bin/cat src/usr/bin/
        printf '%s\n' "package: ./src" "paths: [/usr/bin/cat]" >smith.yaml
        run "$SMITH" -i warn.tar.gz
        assert_status 0
        assert_output_contains "smith: warning:"
        run script -qefc "'$SMITH' -q -i quiet.tar.gz" /dev/null
        assert_status 0
        [ -z "$output" ] || fail "-q printed: $output"
        # ... and an error is still one line
        run "$SMITH" -q -c nonexistent.yaml
        [ "$status" -ne 0 ]
        assert_one_error_line
}

@test "formats hostile: a docker-archive's names are looked up, never used; its layers unpack contained" {
        local sentinel
        sentinel=$(mktemp -d /tmp/smith-sentinel.XXXXXX)
        printf 'keep\n' >"$sentinel/keep"
        "$PYTHON" - "$sentinel" evil.tar <<'PY'
import hashlib, io, json, sys, tarfile
sentinel, out = sys.argv[1], sys.argv[2]
rel = "../../../../../../../.." + sentinel
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.GNU_FORMAT) as t:
    data = b"pwned\n"
    i = tarfile.TarInfo(rel + "/pwned"); i.size = len(data); t.addfile(i, io.BytesIO(data))
layer = layer.getvalue()
diff = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
manifest = json.dumps([{"Config": rel + "/config.json", "RepoTags": None,
                        "Layers": [rel + "/layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for name, data in ((rel + "/layer.tar", layer), (rel + "/config.json", config), ("manifest.json", manifest)):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
        before=$(tree_digest "$sentinel")
        printf '%s\n' "package: $PWD/evil.tar" "paths: [/]" >smith.yaml
        run "$SMITH" -i out.tar.gz
        [ "$(tree_digest "$sentinel")" = "$before" ] || fail "the sentinel changed"
        [ ! -e "$sentinel/pwned" ] && [ ! -e "$sentinel/config.json" ] && [ ! -e "$sentinel/layer.tar" ]
        assert_status 4
        assert_one_error_line
        assert_output_contains "escapes the root"
        [ ! -e out.tar.gz ]
        rm -rf "$sentinel"
}
