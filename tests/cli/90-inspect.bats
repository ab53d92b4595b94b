#!/usr/bin/env bats
# `smith inspect`: why each file is in the image, as the build recorded it
# (the provenance blob), with mode, owner and size read from the layer.  Built
# from the debootstrapped Debian root (a dir source) so the libraries are known:
# /usr/bin/id needs libselinux.so.1, which needs libpcre2-8.so.0.

load helpers/common

setup() {
        common_setup
        ROOT=$(fixture debian-root)
        cat >smith.yaml <<EOF
package: $ROOT
paths:
  - /usr/bin/id
  - /usr/bin/ca?
nss: true
mounts: [/data]
EOF
        mkdir -p rootfs/etc
        printf 'hello\n' >rootfs/etc/motd
        LIB=/usr/lib/x86_64-linux-gnu
}
teardown() { common_teardown; }

build() {
        run "$SMITH" "$@"
        assert_status 0
}

# reason PATH: the REASON column of `smith inspect image.tar.gz PATH`.
reason() {
        run "$SMITH" inspect image.tar.gz --json "$1"
        assert_status 0
        jq -r '.[0].reason.text' <<<"$output"
}

@test "a library pulled in by DT_NEEDED names its needer, down the chain" {
        build
        [ "$(reason $LIB/libselinux.so.1)" = "DT_NEEDED libselinux.so.1 of /usr/bin/id" ]
        # libpcre2-8.so.0 is a symlink to the file; both say why
        [ "$(reason $LIB/libpcre2-8.so.0)" = "DT_NEEDED libpcre2-8.so.0 of $LIB/libselinux.so.1" ]
        local real
        real=$(readlink "$ROOT$LIB/libpcre2-8.so.0")
        [ "$(reason "$LIB/$real")" = "DT_NEEDED libpcre2-8.so.0 of $LIB/libselinux.so.1" ]
}

@test "a path from a glob names the pattern and its smith.yaml line" {
        build
        [ "$(reason /usr/bin/cat)" = "paths '/usr/bin/ca?' (smith.yaml:4)" ]
        [ "$(reason /usr/bin/id)" = "paths '/usr/bin/id' (smith.yaml:3)" ]
        run "$SMITH" inspect image.tar.gz --json /usr/bin/cat
        [ "$(jq -c '.[0].reason | [.kind, .pattern, .line]' <<<"$output")" = '["pattern","/usr/bin/ca?",4]' ]
}

@test "the interpreter, the symlinks on the way to it, NSS modules, implied directories" {
        build
        [ "$(reason $LIB/ld-linux-x86-64.so.2)" = "interpreter of /usr/bin/id" ]
        [ "$(reason /lib64)" = "symlink on the way to $LIB/ld-linux-x86-64.so.2" ]
        [ "$(reason $LIB/libnss_files.so.2)" = "NSS module libnss_files.so.2" ]
        [ "$(reason /usr/bin)" = "parent directory of /usr/bin/id" ]
}

@test "the overlay, generated files, mounts and the layout say so" {
        build
        [ "$(reason /etc/motd)" = "rootfs/ overlay" ]
        [ "$(reason /etc/passwd)" = "generated" ]
        [ "$(reason /etc/group)" = "generated" ]
        [ "$(reason /data)" = "mounts '/data' (smith.yaml)" ]
        [ "$(reason /proc)" = "layout" ]
}

@test "the listing shows every entry of the layer with mode, owner, size and reason" {
        build
        run "$SMITH" inspect image.tar.gz
        assert_status 0
        [ "$(head -n1 <<<"$output" | tr -s ' ')" = "MODE OWNER SIZE PACKAGE PATH REASON" ]
        local size
        size=$(stat -c %s "$ROOT/usr/bin/id")
        grep -qE "^-rwxr-xr-x 10:10 +$size coreutils +/usr/bin/id +paths '/usr/bin/id' \(smith.yaml:3\)$" <<<"$output" ||
                fail "no line for /usr/bin/id: $output"
        grep -qE "^lrwxrwxrwx 10:10 +0 - +/lib64 -> usr/lib64 +symlink on the way to " <<<"$output" ||
                fail "no line for /lib64: $output"
        # as many entries as the layer has (the header aside)
        [ "$(($(wc -l <<<"$output") - 1))" = "$($OCI ls image.tar.gz | wc -l)" ]
}

@test "inspect IMAGE PATH answers for one path; a missing one exits 4 with one line" {
        build
        run "$SMITH" inspect image.tar.gz /usr/bin/id
        assert_status 0
        [ "$(wc -l <<<"$output")" = 1 ]
        assert_output_contains "/usr/bin/id"
        assert_output_contains "paths '/usr/bin/id' (smith.yaml:3)"
        # relative and unclean spellings of the same path
        run "$SMITH" inspect image.tar.gz usr/bin/../bin/id
        assert_status 0
        assert_output_contains "paths '/usr/bin/id' (smith.yaml:3)"
        run "$SMITH" inspect image.tar.gz /usr/bin/ls
        assert_status 4
        assert_one_error_line
        [ "$output" = "smith: '/usr/bin/ls' is not in 'image.tar.gz'" ]
        run "$SMITH" inspect
        assert_status 2
        assert_one_error_line
}

@test "--json parses and has the documented keys" {
        build
        run "$SMITH" inspect --json image.tar.gz
        assert_status 0
        python3 -m json.tool <<<"$output" >/dev/null
        [ "$(jq -c '[.[] | keys] | unique' <<<"$output")" = \
                '[["gid","mode","package","path","reason","size","target","type","uid"]]' ]
        [ "$(jq -c '[.[].reason | keys] | unique' <<<"$output")" = \
                '[["detail","kind","line","needed_by","pattern","text"]]' ]
        [ "$(jq -c '[.[].package] | unique' <<<"$output")" = '[null,"coreutils","libc6:amd64","libpcre2-8-0:amd64","libselinux1:amd64"]' ]
        [ "$(jq -r '.[] | select(.path == "/usr/bin/id") | [.type, .mode, .uid, .gid] | @tsv' <<<"$output")" = \
                "$(printf 'file\t0755\t10\t10')" ]
        [ "$(jq -r '.[] | select(.path == "/lib64") | .target' <<<"$output")" = usr/lib64 ]
        [ "$(jq -c ".[] | select(.path == \"$LIB/libselinux.so.1\") | .reason | [.kind, .detail, .needed_by]" \
                <<<"$output")" = '["needed","libselinux.so.1","/usr/bin/id"]' ]
        [ "$(jq -r '[.[] | select(.reason.kind == "unknown")] | length' <<<"$output")" = 0 ]
}

@test "the provenance is an artifact referring to the image, beside the spec, annotated alike" {
        build -b 42
        run $OCI index image.tar.gz
        assert_status 0
        [ "$(jq -c '[.manifests[].mediaType]' <<<"$output")" = \
                '["application/vnd.oci.image.manifest.v1+json","application/vnd.oci.image.index.v1+json"]' ]
        run $OCI referrers image.tar.gz
        assert_status 0
        [ "$(jq -c '[.manifests[].artifactType][:2]' <<<"$output")" = \
                '["application/vnd.smith.spec+json","application/vnd.smith.provenance+json"]' ]
        [ "$(jq -r '.manifests[1].annotations["com.oracle.smith.build"]' <<<"$output")" = 42 ]
        run $OCI blob image.tar.gz application/vnd.smith.provenance+json
        assert_status 0
        run $OCI verify image.tar.gz
        assert_status 0
        # validators still find the one image named latest
        mkdir layout
        tar -C layout -xzf image.tar.gz
        run oci-image-tool validate --type image --ref name=latest layout
        assert_status 0
}

@test "two builds give byte-identical images, provenance included" {
        export SOURCE_DATE_EPOCH=0
        build -b 1 -i one.tar.gz
        export XDG_CACHE_HOME="$T/cache2"
        build -b 1 -i two.tar.gz
        cmp one.tar.gz two.tar.gz
}

@test "a second inspect (the tarball remembered in the cache) gives the same answer" {
        build
        run "$SMITH" inspect image.tar.gz
        assert_status 0
        local first=$output
        run "$SMITH" inspect image.tar.gz
        assert_status 0
        [ "$output" = "$first" ]
        # and so does the unpacked layout directory
        mkdir layout
        tar -C layout -xzf image.tar.gz
        run "$SMITH" inspect layout
        assert_status 0
        [ "$output" = "$first" ]
}

@test "a parent image's entries say so; an image without provenance is unknown, not an error" {
        build -i parent.tar.gz
        mkdir child
        cd child
        printf '%s\n' "parent: ../parent.tar.gz" "package: $ROOT" "paths: [/usr/bin/true]" >smith.yaml
        build
        [ "$(reason /usr/bin/true)" = "paths '/usr/bin/true' (smith.yaml:3)" ]
        [ "$(reason /usr/bin/id)" = "from the parent image" ]
        run "$SMITH" inspect --json image.tar.gz /usr/bin/id
        [ "$(jq -r '.[0].reason.kind' <<<"$output")" = parent-image ]
        # the tiny fixture was made by another tool
        run "$SMITH" inspect "$(fixture tiny-image)"
        assert_status 0
        assert_output_contains "/etc/tiny-marker"
        assert_output_contains "unknown (no provenance recorded)"
}

@test "a layer that does not match its digest is refused" {
        build
        mkdir layout
        tar -C layout -xzf image.tar.gz
        local layer
        layer=$(jq -r '.layers[-1].digest' "layout/blobs/sha256/$(jq -r '.manifests[] | select(.mediaType == "application/vnd.oci.image.manifest.v1+json") | .digest | sub("sha256:"; "")' layout/index.json)")
        layer=layout/blobs/sha256/${layer#sha256:}
        chmod u+w "$layer"
        # the same tar, compressed otherwise: same diff_id, another digest
        gzip -dc "$layer" | gzip -9n >"$T/other.gz"
        cat "$T/other.gz" >"$layer"
        run "$SMITH" inspect layout
        assert_status 4
        assert_one_error_line
        assert_output_contains "smith: 'layout': "
}
