#!/usr/bin/env bats
# Decompression bombs and full disks: honest images (tests/fixtures/bombs.py,
# every digest right) whose layers inflate to hundreds of MiB of zeros, and
# builds that pass a file size limit.  Reaching a limit is one line, exit 4,
# naming the setting that raises it; a write that fails (EFBIG under ulimit -f,
# ENOSPC) is one line, exit 1, never a signal; either way nothing of the root
# stays in the cache's tmp/ or roots/ and no image or temp file is left.
# Image tarballs carrying 300 MiB more than their image: what nothing
# references is not stored, and a member longer than its descriptor is refused
# before it is written.

load helpers/common

setup_file() {
        BOMBS="$BATS_FILE_TMPDIR/bombs"
        "$PYTHON" "$SMITH_SRC/tests/fixtures/bombs.py" "$BOMBS" >/dev/null
        export BOMBS
}

setup() { common_setup; }
teardown() { common_teardown; }

# use IMAGE: build from the bomb IMAGE, selecting /etc/hostname.
use() {
        cp "$BOMBS/$1" .
        printf 'package: %s\npaths: [/etc/hostname]\n' "$1" >smith.yaml
}

# Nothing of a root in the cache, no image, no temp files.
nothing_left() {
        local c="$XDG_CACHE_HOME/smith"
        [ -z "$(ls -A "$c/tmp")" ] || fail "left in the cache's tmp/: $(ls -A "$c/tmp")"
        [ -z "$(ls -A "$c/roots")" ] || fail "left in the cache's roots/: $(ls -A "$c/roots")"
        [ ! -e image.tar.gz ] || fail "failed but left image.tar.gz"
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
}

@test "bombs: a file larger than SMITH_MAX_ENTRY is refused by its header: exit 4, one line" {
        use entry.tar
        SECONDS=0
        SMITH_MAX_ENTRY=100M run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "unpack 'entry.tar': layer 'sha256:"
        assert_output_contains "entry 'big' is larger than the 100 MiB limit (--max-entry, SMITH_MAX_ENTRY)"
        [ "$SECONDS" -lt 5 ] || fail "took ${SECONDS}s"
        nothing_left
}

@test "bombs: --max-entry wins over SMITH_MAX_ENTRY" {
        use entry.tar
        SMITH_MAX_ENTRY=1G run "$SMITH" --max-entry 200M
        assert_status 4
        assert_one_error_line
        assert_output_contains "entry 'big' is larger than the 200 MiB limit"
        nothing_left
}

@test "bombs: --max-unpacked holds for all layers together: exit 4, one line" {
        use layers.tar
        run "$SMITH" --max-unpacked 200M
        assert_status 4
        assert_one_error_line
        assert_output_contains "unpack 'layers.tar': layer 'sha256:"
        assert_output_contains "the image unpacks to more than 200 MiB (--max-unpacked, SMITH_MAX_UNPACKED)"
        # the upper layer is the one that passes it
        assert_output_contains "$($OCI layers layers.tar | tail -n 1)"
        nothing_left
}

@test "bombs: SMITH_MAX_UNPACKED sets the same bound" {
        use layers.tar
        SMITH_MAX_UNPACKED=200M run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "the image unpacks to more than 200 MiB (--max-unpacked, SMITH_MAX_UNPACKED)"
        nothing_left
}

@test "bombs: under the default limits a 300 MiB file unpacks" {
        use entry.tar
        run "$SMITH"
        assert_status 0
        [ "$($OCI cat image.tar.gz /etc/hostname)" = bomb ]
        [ "$(stat -c %s "$XDG_CACHE_HOME"/smith/roots/*/big)" = $((300 << 20)) ]
}

@test "bombs: bad sizes are usage errors" {
        use entry.tar
        for bad in abc 0 1X 12MB -5 99999999999T ""; do
                run "$SMITH" --max-entry "$bad"
                assert_status 2
                assert_one_error_line
                assert_output_contains "--max-entry: invalid size '$bad'"
        done
        run "$SMITH" --max-unpacked 1.5G
        assert_status 2
        assert_output_contains "--max-unpacked: invalid size '1.5G'"
        SMITH_MAX_UNPACKED=lots run "$SMITH"
        assert_status 2
        assert_one_error_line
        assert_output_contains "SMITH_MAX_UNPACKED: invalid size 'lots'"
        SMITH_MAX_ENTRY=0 run "$SMITH"
        assert_status 2
        assert_output_contains "SMITH_MAX_ENTRY: invalid size '0'"
        run "$SMITH" --help
        assert_output_contains "--max-entry size"
        assert_output_contains "--max-unpacked size"
}

# bash counts ulimit -f in KiB (1024-byte blocks; 512 only in POSIX mode).

@test "bombs: past ulimit -f while unpacking: exit 1, one line, no SIGXFSZ" {
        use entry.tar
        run bash -c 'ulimit -f 51200 && exec "$0"' "$SMITH"
        [ "$status" -ne 153 ] || fail "killed by SIGXFSZ"
        assert_status 1
        assert_one_error_line
        assert_output_contains "write 'big': File too large"
        nothing_left
}

@test "bombs: past ulimit -f while writing the layer: exit 1, one line" {
        mkdir -p rootfs
        head -c $((12 << 20)) /dev/urandom >rootfs/big
        printf 'cmd: [/big]\n' >smith.yaml
        run bash -c 'ulimit -f 10240 && exec "$0"' "$SMITH"
        [ "$status" -ne 153 ] || fail "killed by SIGXFSZ"
        assert_status 1
        assert_one_error_line
        assert_output_contains "write layer"
        assert_output_contains "File too large"
        [ ! -e image.tar.gz ] || fail "failed but left image.tar.gz"
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
}

@test "bombs: past ulimit -f while writing the image file: exit 1, one line" {
        local size kib
        mkdir -p rootfs
        head -c $((12 << 20)) /dev/urandom >rootfs/big
        printf 'cmd: [/big]\n' >smith.yaml
        run "$SMITH" -b 1
        assert_status 0
        size=$($OCI manifest image.tar.gz | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["layers"][0]["size"])')
        rm image.tar.gz
        # room for the layer's temp file, not for the image that holds it
        kib=$(((size + 1023) / 1024))
        run bash -c 'ulimit -f "$1" && exec "$0" -b 1' "$SMITH" "$kib"
        [ "$status" -ne 153 ] || fail "killed by SIGXFSZ"
        assert_status 1
        assert_one_error_line
        assert_output_contains "write 'image.tar.gz': write gzip blob: File too large"
        [ ! -e image.tar.gz ] || fail "failed but left image.tar.gz"
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
}

# The cache's store and tmp/ hold at most this many bytes (the small image).
cache_small() {
        local c="$XDG_CACHE_HOME/smith" n
        n=$(du -sb "$c/blobs" | cut -f1)
        [ "$n" -lt $((1 << 20)) ] || fail "the cache's blobs/ holds $n bytes: $(ls -l "$c/blobs/sha256")"
        [ -z "$(ls -A "$c/tmp")" ] || fail "left in the cache's tmp/: $(ls -A "$c/tmp")"
}

@test "bombs: an unreferenced 300 MiB member before index.json is skipped, not stored" {
        use junk.tar.gz
        run timeout 5 "$SMITH"
        assert_status 0
        [ "$($OCI cat image.tar.gz /etc/hostname)" = bomb ]
        cache_small
        [ ! -e "$XDG_CACHE_HOME/smith/blobs/sha256/$(printf 'not these zeros' | sha256sum | cut -d' ' -f1)" ]
}

@test "bombs: the tarball itself decompresses within --max-unpacked" {
        use junk.tar.gz
        run timeout 5 "$SMITH" --max-unpacked 100M
        assert_status 4
        assert_one_error_line
        assert_output_contains "'junk.tar.gz': the image unpacks to more than 100 MiB (--max-unpacked, SMITH_MAX_UNPACKED)"
        cache_small
        nothing_left
}

@test "bombs: a layer member larger than its descriptor is refused at its header: exit 4, nothing stored" {
        local layer
        use oversize.tar.gz
        layer=$(cat "$BOMBS/oversize.layer")
        SECONDS=0
        run timeout 5 "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "'oversize.tar.gz': blob '$layer' is larger than its descriptor's size"
        [ "$SECONDS" -lt 2 ] || fail "took ${SECONDS}s"
        cache_small
        [ -z "$(ls -A "$XDG_CACHE_HOME/smith/blobs/sha256")" ] || fail "stored: $(ls "$XDG_CACHE_HOME/smith/blobs/sha256")"
        nothing_left
}

# in_small_fs SIZE DIR CMD...: runs CMD with a tmpfs of SIZE mounted on DIR,
# in a mount namespace of its own; CMD checks what it left there, as the
# tmpfs goes with the namespace.
in_small_fs() {
        local size=$1 dir=$2
        shift 2
        unshare -rm bash -c 'mount -t tmpfs -o "size=$0" tmpfs "$1" && shift && exec "$@"' "$size" "$dir" "$@"
}

@test "bombs: a full disk (ENOSPC) under the cache or the image: exit 1, one line, nothing left" {
        in_small_fs 1m "$T" true 2>/dev/null || skip "no mount namespaces here"
        mkdir "$T/small"
        use entry.tar
        # the layer's 300 MiB do not fit in the cache
        run in_small_fs 40m "$T/small" bash -c 'XDG_CACHE_HOME="$1" "$0"; s=$?
                find "$1/smith/tmp" "$1/smith/roots" -mindepth 1 -printf "left: %p\n"; exit $s' "$SMITH" "$T/small"
        assert_status 1
        assert_one_error_line
        assert_output_contains "No space left on device"
        # the layer of a 12 MiB file does not fit beside the image
        mkdir -p rootfs
        head -c $((12 << 20)) /dev/urandom >rootfs/big
        printf 'cmd: [/big]\n' >smith.yaml
        run in_small_fs 8m "$T/small" bash -c '"$0" -i "$1/image.tar.gz"; s=$?
                find "$1" -mindepth 1 -printf "left: %p\n"; exit $s' "$SMITH" "$T/small"
        assert_status 1
        assert_one_error_line
        assert_output_contains "No space left on device"
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
}
