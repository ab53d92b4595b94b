#!/usr/bin/env bats
# Selection and the image config, from a small `type: dir` tree made here:
# globs, whole directories, symlink chains, dangling links, excludes of
# whole subtrees, hardlinks kept, mounts as directories and volumes, the
# ./rootfs overlay (its files win, its symlinks stay symlinks), every
# config field smith.yaml can set, and a corrupt etc/ld.so.cache.

load helpers/common

setup() {
        common_setup
        mkdir -p src/usr/share/app/sub src/usr/share/app/cache src/usr/bin src/etc/app
        echo a >src/usr/share/app/a.txt
        echo b >src/usr/share/app/sub/b.txt
        echo c >src/usr/share/app/cache/c.bin
        echo conf >src/etc/app/conf
        printf '#!/bin/sh\n' >src/usr/bin/tool
        chmod 0755 src/usr/bin/tool
        chmod 4755 src/usr/bin/tool # setuid must not survive
        ln src/usr/share/app/a.txt src/usr/share/app/a-hardlink.txt
        ln -s usr/bin src/bin
        ln -s ../../../etc/app src/usr/share/app/etc
        ln -s missing src/usr/share/app/dangling
}
teardown() { common_teardown; }

ls_image() {
        run $OCI ls image.tar.gz
        assert_status 0
}

@test "globs, whole directories and symlink chains; setuid dropped" {
        cat >smith.yaml <<'YAML'
package: src
type: dir
paths:
- /bin/t?ol
- /usr/share/app
YAML
        run "$SMITH"
        assert_status 0
        ls_image
        assert_output_contains "l 0777 10:10 0 bin -> usr/bin"
        assert_output_contains "f 0755 10:10 0 usr/bin/tool"
        assert_output_contains "f 0644 10:10 0 usr/share/app/sub/b.txt"
        assert_output_contains "l 0777 10:10 0 usr/share/app/etc -> ../../../etc/app"
        assert_output_contains "d 0755 10:10 0 etc/app"
}

@test "hardlinks stay hardlinks" {
        printf 'package: src\ntype: dir\npaths: [/usr/share/app]\n' >smith.yaml
        run "$SMITH"
        assert_status 0
        ls_image
        assert_output_contains "h 0644 10:10 0 usr/share/app/a.txt -> usr/share/app/a-hardlink.txt"
}

@test "a dangling link is skipped, and -v says so" {
        printf 'package: src\ntype: dir\npaths: [/usr/share/app]\n' >smith.yaml
        run "$SMITH" -v
        assert_status 0
        assert_output_contains "skipping '/usr/share/app/dangling'"
        run $OCI ls image.tar.gz
        [[ "$output" != *dangling* ]] || fail "dangling link in the image"
}

@test "excludes drop a whole subtree" {
        cat >smith.yaml <<'YAML'
package: src
type: dir
paths: [/usr/share/app]
excludes: [/usr/share/app/cach?]
YAML
        run "$SMITH"
        assert_status 0
        ls_image
        [[ "$output" != *cache* ]] || fail "excluded subtree in the image: $output"
        assert_output_contains "usr/share/app/a.txt"
}

@test "mounts are directories and volumes; config fields are set" {
        cat >smith.yaml <<'YAML'
package: src
type: dir
paths: [/usr/bin/tool]
mounts: [/data, /var/cache/x]
entrypoint: [/usr/bin/tool]
cmd: [--flag, 10]
dir: /data
env: [A=1, B=two]
labels: {version: 1, team: core}
ports: {8080/tcp: {}}
YAML
        run "$SMITH"
        assert_status 0
        ls_image
        assert_output_contains "d 0755 10:10 0 data"
        assert_output_contains "d 0755 10:10 0 var/cache/x"
        run $OCI config image.tar.gz
        assert_status 0
        [ "$(echo "$output" | jq -c .config)" = \
          '{"User":"10:10","ExposedPorts":{"8080/tcp":{}},"Env":["A=1","B=two"],"Entrypoint":["/usr/bin/tool"],"Cmd":["--flag","10"],"Volumes":{"/data":{},"/var/cache/x":{}},"WorkingDir":"/data","Labels":{"team":"core","version":"1"}}' ] ||
                fail "config: $(echo "$output" | jq -c .config)"
}

@test "the spec blob is the normalised smith.yaml" {
        cat >smith.yaml <<'YAML'
package: src
paths: [/usr/bin/tool]
user: "1000"
labels: {a: "<&>"}
YAML
        run "$SMITH"
        assert_status 0
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        assert_status 0
        [ "$output" = '{"type":"dir","mock":{},"package":"src","paths":["/usr/bin/tool"],"user":"1000","labels":{"a":"\u003c\u0026\u003e"}}' ] ||
                fail "spec: $output"
}

@test "./rootfs overlays last: its files win, its symlinks stay symlinks" {
        printf 'package: src\ntype: dir\npaths: [/etc/app, /usr/share/app/a.txt]\n' >smith.yaml
        mkdir -p rootfs/etc/app rootfs/read
        echo mine >rootfs/etc/app/conf
        ln -s /read/data rootfs/etc/app/link
        echo data >rootfs/read/data
        echo ignored >rootfs/read/.gitignore
        run "$SMITH"
        assert_status 0
        run $OCI cat image.tar.gz etc/app/conf
        [ "$output" = mine ] || fail "overlay did not win: $output"
        ls_image
        assert_output_contains "l 0777 10:10 0 etc/app/link -> /read/data"
        assert_output_contains "f 0644 10:10 0 read/data"
        [[ "$output" != *.gitignore* ]] || fail ".gitignore copied"
}

@test "an unknown key is a config error at its line and column, and no image is written" {
        printf 'package: src\ntype: dir\npath: [/usr/bin/tool]\n' >smith.yaml
        run "$SMITH"
        assert_status 3
        [ "$output" = "smith: smith.yaml:3:1: unknown key 'path' (did you mean 'paths'?)" ] || fail "$output"
        [ ! -e image.tar.gz ]
}

# copy_with_libs FILE: FILE and what ldd says it needs, at the same paths below src/.
copy_with_libs() {
        local f
        cp --parents -L "$1" src/
        for f in $(ldd "$1" | grep -o '/[^ ]*'); do
                cp --parents -L "$f" src/
        done
}

@test "a corrupt etc/ld.so.cache is ignored as ld.so ignores it: one warning, the libraries still found" {
        copy_with_libs /usr/bin/cat
        # the new format's magic, then an entry count far beyond the file
        printf 'glibc-ld.so.cache1.1\377\377\377\177garbage' >src/etc/ld.so.cache
        printf 'package: src\ntype: dir\npaths: [/usr/bin/cat]\n' >smith.yaml
        run "$SMITH"
        assert_status 0
        [ "$output" = "smith: warning: '/etc/ld.so.cache': truncated header: searching without it" ] ||
                fail "expected one warning, got: $output"
        ls_image
        assert_output_contains "/libc.so.6"
}

# needs_missing N: N (< 100) copies of cat in src/usr/bin/app/, the Kth
# needing libKK.so (which is nowhere) where cat needs libc.so.6 (the name
# patched in place: a shorter string, NUL-padded, moves no offset), with the
# interpreter in place.
needs_missing() {
        copy_with_libs /usr/bin/cat
        mkdir -p src/usr/bin/app
        $PYTHON - "$1" <<'PY'
import sys
data = open("/usr/bin/cat", "rb").read()
assert b"\0libc.so.6\0" in data
for k in range(int(sys.argv[1])):
    with open("src/usr/bin/app/c%02d" % k, "wb") as f:
        f.write(data.replace(b"\0libc.so.6\0", b"\0lib%02d.so\0\0" % k))
PY
}

@test "missing libraries: five warnings, then one line with the count of the rest; -v lists every one" {
        needs_missing 40
        printf 'package: src\ntype: dir\npaths: [/usr/bin/app]\n' >smith.yaml
        run "$SMITH"
        assert_status 0
        [ "$(grep -c "^smith: warning: library 'lib[0-9][0-9].so' needed by '/usr/bin/app/c[0-9][0-9]' not found in 'src'$" <<<"$output")" = 5 ] ||
                fail "not five single warnings: $output"
        [ "$(grep -c '' <<<"$output")" = 6 ] || fail "not six lines: $output"
        [[ "$(tail -n 1 <<<"$output")" =~ ^"smith: warning: 35 more libraries not found in 'src', e.g. 'lib"[0-9]+".so' needed by '/usr/bin/app/c"[0-9]+"'; -v lists them all"$ ]] ||
                fail "no summary line: $output"

        run "$SMITH" -v -i verbose.tar.gz
        assert_status 0
        [ "$(grep -c "^smith: warning: library 'lib[0-9][0-9].so' needed by" <<<"$output")" = 40 ] ||
                fail "-v does not list all 40: $output"
        [[ "$output" != *"more libraries"* ]] || fail "a summary with -v: $output"
}

@test "a deep path in an error keeps its head and tail, and the line stays short" {
        local p=src/deep i
        for i in $(seq 300); do p="$p/d"; done
        mkdir -p "$p"
        printf 'package: src\ntype: dir\npaths: [/deep]\n' >smith.yaml
        run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "'/deep/d/d/d/"
        assert_output_contains "/d/d/...d/d/"
        assert_output_contains "/d/d' in 'src': directories nested too deep"
        [ "${#output}" -lt 300 ] || fail "a ${#output}-character line: $output"
}
