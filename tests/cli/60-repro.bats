#!/usr/bin/env bats
# Reproducible builds: the same inputs, -b and SOURCE_DATE_EPOCH give the same
# bytes, wherever the build runs and whoever runs it.

load helpers/common

setup() {
        common_setup
        write_cat_example
        export SOURCE_DATE_EPOCH=0
}
teardown() { common_teardown; }

@test "two builds are byte-identical" {
        run "$SMITH" -b 42 -i one.tar.gz
        assert_status 0
        export XDG_CACHE_HOME="$T/cache2"
        run "$SMITH" -b 42 -i two.tar.gz
        assert_status 0
        cmp one.tar.gz two.tar.gz
}

@test "the build directory's path does not matter" {
        run "$SMITH" -b 1
        assert_status 0
        mkdir -p "$T/a/much/longer/path"
        cp -r smith.yaml rootfs "$T/a/much/longer/path/"
        cd "$T/a/much/longer/path"
        run "$SMITH" -b 1
        assert_status 0
        cmp "$W/image.tar.gz" image.tar.gz
}

@test "the build number is recorded and changes only what it must" {
        run "$SMITH" -b 7 -i seven.tar.gz
        assert_status 0
        run "$SMITH" -b 8 -i eight.tar.gz
        assert_status 0
        ! cmp -s seven.tar.gz eight.tar.gz || fail "-b changed nothing"
        run $OCI strings seven.tar.gz
        assert_status 0
        grep -qx 7 <<<"$output" || fail "build number 7 not among the image's metadata: $output"
        # the layers are the same
        [ "$($OCI layers seven.tar.gz)" = "$($OCI layers eight.tar.gz)" ]
}

@test "without -b, SOURCE_DATE_EPOCH is the build number: another time or machine name changes nothing" {
        SOURCE_DATE_EPOCH=1600000000 run "$SMITH" -i one.tar.gz
        assert_status 0
        sleep 1
        SOURCE_DATE_EPOCH=1600000000 run unshare -r -u sh -c 'hostname smith-elsewhere && exec "$0" -i two.tar.gz' "$SMITH"
        assert_status 0
        cmp one.tar.gz two.tar.gz
        run $OCI strings one.tar.gz
        grep -qx 1600000000 <<<"$output" || fail "SOURCE_DATE_EPOCH is not the build number: $output"
        # without it, the original's "<unix seconds>-<hostname>"
        unset SOURCE_DATE_EPOCH
        run "$SMITH" -i three.tar.gz
        assert_status 0
        run $OCI strings three.tar.gz
        grep -qxE "[0-9]{10}-$(hostname)" <<<"$output" || fail "no <seconds>-<hostname> build number: $output"
}

@test "another SOURCE_DATE_EPOCH gives other bytes, the same again gives the same" {
        run "$SMITH" -b 1 -i zero.tar.gz
        assert_status 0
        SOURCE_DATE_EPOCH=1600000000 run "$SMITH" -b 1 -i later.tar.gz
        assert_status 0
        ! cmp -s zero.tar.gz later.tar.gz || fail "SOURCE_DATE_EPOCH changed nothing"
        SOURCE_DATE_EPOCH=1600000000 run "$SMITH" -b 1 -i later2.tar.gz
        assert_status 0
        cmp later.tar.gz later2.tar.gz
}

@test "a non-root user builds the same image as root" {
        local uid=65534 gid=65534
        run "$SMITH" -b 9 -i root.tar.gz
        assert_status 0
        # everything the unprivileged build needs, in a tree it owns
        local U="$T/user"
        mkdir -p "$U/home" "$U/cache" "$U/tmp"
        cp "$SMITH" "$U/smith"
        cp -r smith.yaml rootfs "$U/"
        chown -R "$uid:$gid" "$U"
        chmod 0755 "$T"
        cd "$U"
        run setpriv --reuid=$uid --regid=$gid --clear-groups \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$U/home" XDG_CACHE_HOME="$U/cache" \
                TMPDIR="$U/tmp" SOURCE_DATE_EPOCH=0 "$U/smith" -b 9 -i user.tar.gz
        assert_status 0
        [ "$(stat -c %u user.tar.gz)" = "$uid" ]
        cmp "$W/root.tar.gz" user.tar.gz
        # and its layer still says 10:10, not the builder's ids
        run $OCI ls user.tar.gz
        assert_status 0
        [ -n "$output" ]
        [ -z "$(awk '$3 != "10:10"' <<<"$output")" ] || fail "not 10:10: $output"
        [ -z "$(ls -A "$U/tmp")" ] || fail "left in TMPDIR: $(ls -A "$U/tmp")"
}
