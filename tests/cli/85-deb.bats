#!/usr/bin/env bats
# The deb source against a tiny signed repository (tests/fixtures/deb-repo.sh)
# served by python3 -m http.server on 127.0.0.1: what is solved and unpacked,
# the verification chain (InRelease signature -> Release -> Packages -> .deb),
# offline use from the cache, and hostile packages.  Every build runs as an
# unprivileged user (uid 65534) with a cache of its own.

load helpers/common

setup_file() {
        FIX=$(mktemp -d /tmp/smith-debrepo.XXXXXX)
        chmod 0755 "$FIX"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" make "$FIX"
        WWW="$FIX/www"
        mkdir -p "$WWW"
        chmod 0755 "$WWW"
        http_serve "$WWW" "$FIX/http.log"
        PORT=$HTTP_PORT
        echo "$HTTP_PID" >"$FIX/http.pid"
        SENTINEL=$(mktemp -d /tmp/smith-sentinel.XXXXXX)
        TOKEN="sentinel-secret-$RANDOM$RANDOM$RANDOM"
        "$PYTHON" "$SMITH_SRC/tests/fixtures/deb-hostile.py" "$FIX/hostile" "$SENTINEL" >/dev/null
        chmod -R a+rX "$FIX/hostile"
        export FIX WWW PORT SENTINEL TOKEN
}

teardown_file() {
        [ ! -f "$FIX/http.pid" ] || kill "$(cat "$FIX/http.pid")" 2>/dev/null || true
        rm -rf "$FIX" "$SENTINEL"
}

setup() {
        common_setup
        # this test's copy of the repository, free to damage
        REPO="$WWW/$BATS_TEST_NUMBER"
        rm -rf "$REPO"
        cp -a "$FIX/repo" "$REPO"
        URL="http://127.0.0.1:$PORT/$BATS_TEST_NUMBER"
        export DEB_REPO_GNUPG="$FIX/gnupg"
        U="$T/user"
        mkdir -p "$U/home" "$U/cache" "$U/tmp"
        cp "$SMITH" "$U/smith"
        rm -rf "$SENTINEL"
        mkdir -m 0755 "$SENTINEL" "$SENTINEL/dir"
        printf '%s\n' "$TOKEN" >"$SENTINEL/secret"
        printf 'keep\n' >"$SENTINEL/dir/keep"
}

teardown() {
        [ -z "${SLOW_PID:-}" ] || kill "$SLOW_PID" 2>/dev/null || true
        rm -rf "${REPO:-/nonexistent}"
        common_teardown
}


# write_yaml PACKAGE [KEY]: a smith.yaml for PACKAGE from both suites.
write_yaml() {
        local key=${2:-$FIX/key.gpg}
        cat >smith.yaml <<EOF
package: $1
repos:
- deb [signed-by=$key] $URL stable main
- uri: $URL
  suites: updates
  components: [main]
  signed-by: $key
paths:
- /usr/bin/hello
cmd: [/usr/bin/hello]
EOF
}

packages_of() {
        $OCI blob "$1" application/vnd.smith.packages
}

# No image, nothing left in the cache's tmp/ or TMPDIR.
assert_clean_failure() {
        [ ! -e image.tar.gz ] || fail "failed but left image.tar.gz"
        [ -z "$(ls -A "$U/cache/smith/tmp" 2>/dev/null)" ] || fail "left in the cache: $(ls -A "$U/cache/smith/tmp")"
        [ -z "$(ls -A "$U/tmp")" ] || fail "left in TMPDIR: $(ls -A "$U/tmp")"
        [ -z "$(leftovers "$W")" ] || fail "left behind: $(leftovers "$W")"
        # every root in the cache is whole: published with its marker
        local r
        for r in $(ls "$U/cache/smith/roots" 2>/dev/null | grep -v '\.done$'); do
                [ -e "$U/cache/smith/roots/$r.done" ] || fail "a half-made root in the cache: $r"
        done
}

@test "deb: solves Depends, Pre-Depends, alternatives, Provides; the newest version wins; nothing else" {
        write_yaml hello-bin
        smith_user
        assert_status 0
        local arch
        arch=$(dpkg --print-architecture)
        [ "$(packages_of image.tar.gz)" = "base-thing_1.0_$arch
greeter-data_1.0_all
hello-bin_1.0_$arch
libgreet_1.2_$arch" ] || fail "packages: $(packages_of image.tar.gz)"
        $OCI verify image.tar.gz >/dev/null
        [ "$($OCI cat image.tar.gz usr/bin/hello)" = "$(printf '#!/bin/sh\necho hello')" ]
        # the spec names the type and the repositories as written
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        [ "$(jq -r .type <<<"$output")" = deb ]
        [ "$(jq -r '.repos[0]' <<<"$output")" = "deb [signed-by=$FIX/key.gpg] $URL stable main" ]
        [ "$(jq -r '.repos[1].suites[0]' <<<"$output")" = updates ]
}

@test "deb: merged /usr: a package's ./bin/ lands in /usr/bin and bin stays a link" {
        write_yaml hello-bin
        sed -i 's|^- /usr/bin/hello$|- /bin/hello-compat\n- /bin|' smith.yaml
        smith_user
        assert_status 0
        run $OCI ls image.tar.gz
        grep -qE '^l .* bin -> usr/bin$' <<<"$output" || fail "no bin -> usr/bin link: $output"
        grep -qE '^f .* usr/bin/hello-compat$' <<<"$output" || fail "no usr/bin/hello-compat: $output"
}

@test "deb: a package list, a local .deb with its dependencies from the repository, an armored key" {
        local arch
        arch=$(dpkg --print-architecture)
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" deb "$W/local-tool.deb" local-tool 2.0 "$arch" "Depends: greeter-data"
        write_yaml "[./local-tool.deb, base-thing]" "$FIX/key.asc"
        # a mapping's signed-by is relative to the build directory
        mkdir "$W/keys"
        cp "$FIX/key.asc" "$W/keys/"
        sed -i "s|^  signed-by: .*|  signed-by: keys/key.asc|" smith.yaml
        sed -i 's|^- /usr/bin/hello$|- /usr/share|' smith.yaml
        smith_user
        assert_status 0
        [ "$(packages_of image.tar.gz)" = "base-thing_1.0_$arch
greeter-data_1.0_all
libgreet_1.2_$arch
local-tool_2.0_$arch" ] || fail "packages: $(packages_of image.tar.gz)"
        [ "$($OCI cat image.tar.gz usr/share/local-tool/2.0)" = "local-tool 2.0" ]
}

@test "deb: a warm build takes everything from the cache and gives the same image" {
        write_yaml hello-bin
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        rm -rf "$REPO/pool"
        smith_user -b 1 -i two.tar.gz
        assert_status 0
        cmp one.tar.gz two.tar.gz
}

@test "deb: the index is read back from libsolv's saved form; a damaged saved form is parsed again" {
        write_yaml hello-bin
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        saved=$(ls "$U/cache/smith/pkgs/" | grep -c '^solv-')
        [ "$saved" -ge 1 ] || fail "no saved index in the cache"
        for f in "$U/cache/smith/pkgs"/solv-*; do
                printf 'garbage' >"$f"
        done
        # the solve is cached too: without it, the indexes are loaded
        rm -f "$U/cache/smith/pkgs"/solve-*
        smith_user -b 1 -i two.tar.gz
        assert_status 0
        cmp one.tar.gz two.tar.gz
        # and it was saved again, whole
        for f in "$U/cache/smith/pkgs"/solv-*; do
                [ "$(stat -c %s "$f")" -gt 7 ] || fail "'$f' was not saved again"
        done
}

@test "deb: a warm build takes the solve from the cache: no index is loaded; a damaged entry is solved again" {
        write_yaml hello-bin
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        # two solves: the packages asked for, and base-files alone (for os-release)
        [ "$(ls "$U/cache/smith/pkgs/" | grep -c '^solve-')" = 2 ] || fail "no solve in the cache"
        for f in "$U/cache/smith/pkgs"/solv-*; do
                printf 'garbage' >"$f"
        done
        smith_user -b 1 -i two.tar.gz
        assert_status 0
        cmp one.tar.gz two.tar.gz
        # the saved indexes were not needed, so not read (nor saved again)
        for f in "$U/cache/smith/pkgs"/solv-*; do
                [ "$(cat "$f")" = garbage ] || fail "'$f' was loaded"
        done
        # a damaged solve entry: solved again from the indexes, same image
        for f in "$U/cache/smith/pkgs"/solve-*; do
                printf '{"packages":[{"name":"x"}]}' >"$f"
        done
        smith_user -b 1 -i three.tar.gz
        assert_status 0
        cmp one.tar.gz three.tar.gz
        # another package list is another solve
        write_yaml base-thing
        smith_user -b 1 -i four.tar.gz
        assert_status 0
        packages_of four.tar.gz | grep -q '^base-thing_1.0_'
        ! packages_of four.tar.gz | grep -q '^hello-bin_' || fail "the old solve was used"
}

# smith_user_spy ARGS: smith_user with $U/bin first on PATH.
smith_user_spy() {
        chown -R 65534:65534 "$U" "$W"
        run setpriv --reuid=65534 --regid=65534 --clear-groups \
                env -i PATH="$U/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$U/home" XDG_CACHE_HOME="$U/cache" \
                TMPDIR="$U/tmp" SOURCE_DATE_EPOCH=0 "$U/smith" "$@"
}

@test "deb: an unchanged InRelease is not checked again, unless the keys changed" {
        cp "$FIX/key.gpg" "$T/key.gpg"
        write_yaml hello-bin "$T/key.gpg"
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        mkdir -p "$U/bin"
        printf '#!/bin/sh\necho run >>"%s"\nexec /usr/bin/gpgv "$@"\n' "$U/gpgv.log" >"$U/bin/gpgv"
        chmod 0755 "$U/bin/gpgv"
        smith_user_spy -b 1 -i two.tar.gz
        assert_status 0
        [ ! -e "$U/gpgv.log" ] || fail "gpgv ran $(wc -l <"$U/gpgv.log") times for unchanged InRelease files"
        cmp one.tar.gz two.tar.gz
        # a changed InRelease is checked (and this one is refused)
        sed -i 's/^Origin: smith-tests$/Origin: smith-evil/' "$REPO/dists/stable/InRelease"
        smith_user_spy -b 1 -i three.tar.gz
        assert_status 4
        assert_output_contains "bad signature"
        [ -e "$U/gpgv.log" ] || fail "a changed InRelease was not checked"
        cp -a "$FIX/repo/dists/stable/InRelease" "$REPO/dists/stable/InRelease"
        rm -f "$U/gpgv.log"
        # the same InRelease against another keyring is checked again: refused
        GNUPGHOME=$FIX/gnupg gpg --batch --export other@smith >"$T/key.gpg"
        smith_user_spy -b 1 -i four.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "unknown key"
        [ -e "$U/gpgv.log" ] || fail "the new keyring was not used"
}

@test "deb: a warm build takes the compressed layer from the cache; a damaged one is compressed again" {
        write_yaml hello-bin
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        local entry digest blob
        entry=$(ls "$U/cache/smith/pkgs/" | grep '^layer-')
        [ -n "$entry" ] || fail "no layer in the cache"
        digest=$(cut -d' ' -f1 <"$U/cache/smith/pkgs/$entry")
        blob="$U/cache/smith/blobs/sha256/${digest#sha256:}"
        [ -f "$blob" ] || fail "the entry names $digest, not in the cache"
        smith_user -b 1 -i two.tar.gz
        assert_status 0
        cmp one.tar.gz two.tar.gz
        # damaged in the cache: compressed again, the same bytes, and stored again
        chmod u+w "$blob"
        flip_byte "$blob" 100
        smith_user -b 1 -i three.tar.gz
        assert_status 0
        cmp one.tar.gz three.tar.gz
        [ "$(sha256sum <"$blob" | cut -d' ' -f1)" = "${digest#sha256:}" ] || fail "not stored again"
        # a changed tree is another layer
        sed -i 's|^- /usr/bin/hello$|- /usr/bin/hello\n- /usr/share|' smith.yaml
        smith_user -b 1 -i four.tar.gz
        assert_status 0
        ! cmp -s one.tar.gz four.tar.gz || fail "the same image for another tree"
        [ "$(ls "$U/cache/smith/pkgs/" | grep -c '^layer-')" = 2 ] || fail "the second layer was not stored"
}

@test "deb: the image carries the packages' dpkg database: dpkg-query lists them and answers -S" {
        write_yaml hello-bin
        smith_user -b 1
        assert_status 0
        mkdir -p adm/info
        $OCI cat image.tar.gz var/lib/dpkg/status >adm/status
        $OCI cat image.tar.gz var/lib/dpkg/info/format >adm/info/format
        for l in $($OCI ls image.tar.gz | grep -o 'var/lib/dpkg/info/[^ ]*\.list'); do
                $OCI cat image.tar.gz "$l" >"adm/info/${l##*/}"
        done
        run dpkg-query --admindir=adm -W -f '${Package}\n'
        assert_status 0
        # only what shipped a file: hello-bin, and the library it links to
        printf '%s\n' "$output" | grep -qx hello-bin || fail "hello-bin not listed: $output"
        printf '%s\n' "$output" | grep -qx decoy && fail "the decoy is listed: $output"
        run dpkg-query --admindir=adm -S /usr/bin/hello
        assert_status 0
        assert_output_contains "hello-bin: /usr/bin/hello"
}

@test "deb: the image carries base-files' os-release and debian_version, and nothing else of it" {
        write_yaml hello-bin
        smith_user -b 1
        assert_status 0
        run $OCI ls image.tar.gz
        grep -qE '^l .* etc/os-release -> \.\./usr/lib/os-release$' <<<"$output" || fail "no etc/os-release link: $output"
        ! grep -qE 'etc/issue|usr/share/base-files' <<<"$output" || fail "more of base-files shipped: $output"
        mkdir img
        tar -C img -xzf image.tar.gz
        umoci unpack --rootless --image img:latest bundle >/dev/null
        (. bundle/rootfs/etc/os-release && [ "$ID $VERSION_ID" = "debian 12" ]) ||
                fail "os-release: $(cat bundle/rootfs/etc/os-release)"
        [ "$($OCI cat image.tar.gz etc/debian_version)" = 12.8 ]
        # base-files is neither a package of the image nor in its dpkg database
        ! packages_of image.tar.gz | grep -q base-files || fail "packages: $(packages_of image.tar.gz)"
        ! $OCI cat image.tar.gz var/lib/dpkg/status | grep -q base-files || fail "base-files in the status"
        run "$U/smith" inspect --json image.tar.gz /etc/debian_version
        [ "$(jq -r '.[0].reason.text' <<<"$output")" = "package metadata" ]
        # base-files' scratch root is kept, complete with its marker; a warm build takes the
        # files from it rather than unpacking base-files again
        local rel
        rel=$(cd "$U/cache/smith/roots" && ls -d release-* | grep -v '\.done$')
        [ "$(wc -w <<<"$rel")" = 1 ] && [ -e "$U/cache/smith/roots/$rel.done" ] || fail "no kept release root: $rel"
        [ -z "$(ls -A "$U/cache/smith/tmp")" ] || fail "left in the cache: $(ls -A "$U/cache/smith/tmp")"
        echo 12.99 >"$U/cache/smith/roots/$rel/etc/debian_version"
        smith_user -b 1 -i warm.tar.gz
        assert_status 0
        [ "$($OCI cat warm.tar.gz etc/debian_version)" = 12.99 ] || fail "base-files unpacked again"
        # without its marker the root is made again
        rm "$U/cache/smith/roots/$rel.done"
        smith_user -b 1 -i again.tar.gz
        assert_status 0
        [ "$($OCI cat again.tar.gz etc/debian_version)" = 12.8 ]
        [ -e "$U/cache/smith/roots/$rel.done" ] || fail "not marked again"
        # package-metadata: false: none of it, and base-files is not even fetched
        echo "package-metadata: false" >>smith.yaml
        rm -rf "$U/cache/smith"
        smith_user -v -b 1 -i off.tar.gz
        assert_status 0
        [ "$(grep -c 'to check or fetch' <<<"$output")" = 1 ] || fail "base-files fetched: $output"
        run $OCI ls off.tar.gz
        ! grep -qE 'etc/os-release|etc/debian_version' <<<"$output" || fail "os-release with package-metadata false"
        [ -z "$(ls -A "$U/tmp")" ] || fail "left in TMPDIR: $(ls -A "$U/tmp")"
        [ -z "$(ls -A "$U/cache/smith/tmp")" ] || fail "left in the cache: $(ls -A "$U/cache/smith/tmp")"
}

@test "deb: a tampered Packages index fails (exit 4) before it is used" {
        local p="$REPO/dists/stable/main/binary-$(dpkg --print-architecture)"
        flip_byte "$p/Packages.gz" 40
        flip_byte "$p/Packages.xz" 40
        flip_byte "$p/Packages" 40
        write_yaml hello-bin
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "checksum mismatch"
        assert_output_contains "Packages.gz"
        assert_clean_failure
}

@test "deb: Packages.gz is taken when Release lists it; a tampered one fails (exit 4), the good .xz beside it unused" {
        local p="$REPO/dists/stable/main/binary-$(dpkg --print-architecture)"
        write_yaml hello-bin
        smith_user
        assert_status 0
        grep -q "GET /$BATS_TEST_NUMBER/dists/stable/main/binary-[a-z0-9]*/Packages.gz " "$FIX/http.log" ||
                fail "Packages.gz not fetched: $(grep "/$BATS_TEST_NUMBER/" "$FIX/http.log")"
        ! grep -q "GET /$BATS_TEST_NUMBER/dists/[a-z]*/main/binary-[a-z0-9]*/Packages.xz " "$FIX/http.log" ||
                fail "Packages.xz fetched too"
        # a fresh cache, and the same Release over a damaged Packages.gz
        flip_byte "$p/Packages.gz" 40
        rm -rf "$U/cache/smith" image.tar.gz
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "checksum mismatch"
        assert_output_contains "'main/binary-$(dpkg --print-architecture)/Packages.gz' of '$URL stable'"
        assert_clean_failure
}

@test "deb: a repository with only Packages.xz builds; a tampered one fails (exit 4)" {
        local p="$REPO/dists/stable/main/binary-$(dpkg --print-architecture)" s
        for s in stable updates; do
                rm "$REPO/dists/$s/main/binary-$(dpkg --print-architecture)/Packages.gz"
                "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" "$s"
        done
        ! grep -q 'Packages.gz' "$REPO/dists/stable/InRelease" || fail "InRelease still lists Packages.gz"
        write_yaml hello-bin
        smith_user
        assert_status 0
        packages_of image.tar.gz | grep -q '^libgreet_1.2_'
        grep -q "GET /$BATS_TEST_NUMBER/dists/stable/main/binary-[a-z0-9]*/Packages.xz " "$FIX/http.log" ||
                fail "Packages.xz not fetched"
        flip_byte "$p/Packages.xz" 40
        rm -rf "$U/cache/smith" image.tar.gz
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "checksum mismatch"
        assert_output_contains "Packages.xz"
        assert_clean_failure
}

@test "deb: a tampered .deb fails (exit 4) and is not stored" {
        local f="$REPO/pool/libgreet_1.2_$(dpkg --print-architecture).deb"
        flip_byte "$f" 200
        write_yaml hello-bin
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "libgreet"
        assert_output_contains "checksum mismatch"
        assert_clean_failure
}

@test "deb: InRelease signed by another key fails (exit 4) naming the repository and the key" {
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" stable other@smith
        local other
        other=$(GNUPGHOME=$FIX/gnupg gpg --batch --with-colons --list-keys other@smith | awk -F: '/^pub/ {print $5; exit}')
        write_yaml hello-bin
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable'"
        assert_output_contains "unknown key '$other'"
        assert_clean_failure
}

@test "deb: a changed InRelease (bad signature) fails (exit 4)" {
        sed -i 's/^Origin: smith-tests$/Origin: smith-evil/' "$REPO/dists/stable/InRelease"
        write_yaml hello-bin
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "bad signature"
        assert_clean_failure
}

@test "deb: trusted: true builds from an unsigned repository, and only then" {
        rm "$REPO/dists/stable/InRelease" "$REPO/dists/updates/InRelease"
        write_yaml hello-bin
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "no InRelease"
        cat >smith.yaml <<EOF
package: hello-bin
repos:
- deb [trusted=yes] $URL stable main
- {uri: $URL, suites: [updates], trusted: true}
paths: [/usr/bin/hello]
EOF
        smith_user
        assert_status 0
        packages_of image.tar.gz | grep -q '^libgreet_1.2_'
        # -k is about TLS only: it does not turn signature checks off
        write_yaml hello-bin
        rm -rf "$U/cache"
        mkdir -p "$U/cache"
        smith_user -k
        assert_status 4
}

@test "deb: a Filename outside the repository is refused (exit 4)" {
        local p="$REPO/dists/stable/main/binary-$(dpkg --print-architecture)"
        sed -i "s|^Filename: pool/hello-bin_.*|Filename: ../../x|" "$p/Packages"
        gzip -n -kf "$p/Packages"
        xz -kf "$p/Packages"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" stable
        write_yaml hello-bin
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "refusing Filename '../../x'"
        assert_clean_failure
}

@test "deb: an unsolvable request is one line with libsolv's reason; an unknown package too" {
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" deb "$W/needy.deb" needy 1.0 all "Depends: libmissing (>= 2)"
        write_yaml ./needy.deb
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "nothing provides libmissing"
        # the indexes parsed for the failed solve are saved all the same, whole
        [ "$(ls "$U/cache/smith/pkgs/" | grep -c '^solv-')" = 2 ] || fail "indexes not saved: $(ls "$U/cache/smith/pkgs/")"
        for f in "$U/cache/smith/pkgs"/solv-*; do
                [ "$(stat -c %s "$f")" -gt 7 ] || fail "'$f' is not whole"
        done
        write_yaml no-such-package
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package 'no-such-package' not found"
        [ -z "$(ls -A "$U/cache/smith/tmp")" ] || fail "left in the cache: $(ls -A "$U/cache/smith/tmp")"
}

@test "deb: offline, the second build uses the cached metadata and says how old it is; -f does not ask" {
        # a server of this test's own, to stop
        local port
        http_serve "$WWW"
        port=$HTTP_PORT
        URL="http://127.0.0.1:$port/$BATS_TEST_NUMBER"
        write_yaml hello-bin
        smith_user -i first.tar.gz
        http_stop
        assert_status 0

        SMITH_NET_RETRY_BASE_MS=10 smith_user -i second.tar.gz
        assert_status 0
        [ -f second.tar.gz ]
        local warns
        warns=$(grep -c 'warning: repository' <<<"$output" || true)
        [ "$warns" = 2 ] || fail "expected one warning per repository: $output"
        assert_output_contains "warning: repository '$URL stable' unreachable: using metadata from"
        assert_output_contains "warning: repository '$URL updates' unreachable: using metadata from"
        assert_output_contains " ago"
        [ "$(packages_of second.tar.gz)" = "$(packages_of first.tar.gz)" ]

        smith_user -f -i third.tar.gz
        assert_status 0
        [ -z "$output" ] || fail "-f printed: $output"
        [ "$(packages_of third.tar.gz)" = "$(packages_of first.tar.gz)" ]

        # and in a network namespace with no interface up at all, the
        # server running again: the cache alone builds it
        "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$WWW" "$port" >/dev/null 2>&1 &
        HTTP_PID=$!
        smith_offline -i fifth.tar.gz
        kill "$HTTP_PID"
        wait "$HTTP_PID" 2>/dev/null || true
        assert_status 0
        assert_output_contains "unreachable: using metadata from"
        [ "$(packages_of fifth.tar.gz)" = "$(packages_of first.tar.gz)" ]

        # without a cache, an unreachable repository is one error line
        rm -rf "$U/cache"
        mkdir -p "$U/cache"
        smith_user -i fourth.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable'"
        assert_clean_failure
}

# hostile CASE: build the local hostile-CASE.deb with paths [/]; the sentinel
# stays untouched and its secret out of the image; the build either fails
# with exit 4 and one line, or succeeds with everything inside the image.
hostile() {
        local case=$1 before after
        cp "$FIX/hostile/hostile-$case.deb" "$W/"
        cat >smith.yaml <<EOF
package: [./hostile-$case.deb${HOSTILE_MORE:+, $HOSTILE_MORE}]
repos:
- deb [signed-by=$FIX/key.gpg] $URL stable main
paths: [/]
EOF
        before=$(tree_digest "$SENTINEL")
        smith_user
        after=$(tree_digest "$SENTINEL")
        [ "$before" = "$after" ] || fail "sentinel changed: $(diff <(echo "$before") <(echo "$after"))"
        [ -z "$(find "$SENTINEL" -name '*pwned*' -o -name dotdot -o -name absolute)" ] || fail "file written in the sentinel"
        if [ "$status" = 0 ]; then
                $OCI verify image.tar.gz >/dev/null || fail "exit 0 but the image does not verify"
                ! $OCI grep image.tar.gz "$TOKEN" >/dev/null || fail "the host's secret leaked into the image"
        else
                [ "$status" = 4 ] || fail "expected exit 0 or 4, got $status: $output"
                assert_one_error_line
                assert_output_contains "hostile-$case"
                assert_clean_failure
        fi
}

@test "deb hostile: ../ names are refused" {
        hostile dotdot
        assert_status 4
        assert_output_contains "escapes the root"
}

@test "deb hostile: absolute names stay inside the root" {
        hostile absolute
        assert_status 0
        $OCI ls image.tar.gz | grep -q "${SENTINEL#/}/absolute" || fail "not in the image: $($OCI ls image.tar.gz)"
}

@test "deb hostile: a file through a symlink to the host stays inside the root" {
        hostile symlink
        assert_status 0
}

@test "deb hostile: a directory entry over a symlink out stays inside the root" {
        hostile symlink-dir
        assert_status 0
}

@test "deb hostile: hardlinks out are refused" {
        hostile hardlink
        assert_status 4
        hostile hardlink-abs
        assert_status 4
}

@test "deb hostile: a decompression bomb stops at the limit" {
        hostile bomb
        assert_status 4
        assert_output_contains "uncompressed"
}

@test "deb: Recommends are left out, and installed with packages: {recommends: true}" {
        cat >smith.yaml <<EOF2
package: hello-rec
repos:
- deb [signed-by=$FIX/key.gpg] $URL stable main
paths: [/usr/share]
EOF2
        smith_user -i off.tar.gz
        assert_status 0
        [ "$(packages_of off.tar.gz)" = "hello-rec_1.0_all" ] || fail "packages: $(packages_of off.tar.gz)"
        printf 'packages:\n  recommends: true\n' >>smith.yaml
        smith_user -i on.tar.gz
        assert_status 0
        [ "$(packages_of on.tar.gz)" = "hello-rec_1.0_all
rec-extra_1.0_all" ] || fail "packages: $(packages_of on.tar.gz)"
        [ "$($OCI cat on.tar.gz usr/share/rec-extra/1.0)" = "rec-extra 1.0" ]
        run $OCI blob on.tar.gz application/vnd.smith.spec+json
        [ "$(jq -c .packages <<<"$output")" = '{"recommends":true}' ]
}

# http_log_count PATH STATUS: requests for PATH (below this test's repository)
# the shared server answered with STATUS.
http_log_count() {
        grep -c "\"GET /$BATS_TEST_NUMBER/$1 HTTP/1.1\" $2 " "$FIX/http.log" || true
}

# resign SUITE [DATE] [VALID_UNTIL]: Release and InRelease again, with that
# Date and Valid-Until, the file newer than any copy a client holds (each
# call a second later than the one before, even within one second, so an
# If-Modified-Since never takes it for the same file).
RESIGNS=0
resign() {
        RESIGNS=$((RESIGNS + 1))
        DEB_REPO_DATE=${2:-now} DEB_REPO_VALID_UNTIL=${3:-} \
                "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" "$1"
        touch -d "@$(($(date +%s) + 5 + RESIGNS))" "$REPO/dists/$1/InRelease"
}

@test "deb: InRelease is asked for conditionally: unchanged, the server answers 304 and nothing is downloaded" {
        write_yaml hello-bin
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        [ "$(http_log_count dists/stable/InRelease 200)" = 1 ] || fail "first build: $(cat "$FIX/http.log")"
        smith_user -b 1 -i two.tar.gz
        assert_status 0
        [ -z "$output" ] || fail "a 304 printed: $output"
        [ "$(http_log_count dists/stable/InRelease 200)" = 1 ] || fail "InRelease downloaded again"
        [ "$(http_log_count dists/stable/InRelease 304)" = 1 ] || fail "no 304 for stable"
        [ "$(http_log_count dists/updates/InRelease 304)" = 1 ] || fail "no 304 for updates"
        cmp one.tar.gz two.tar.gz
        # a new InRelease is downloaded, verified and used
        resign stable "now + 1 minute"
        smith_user -i three.tar.gz
        assert_status 0
        [ "$(http_log_count dists/stable/InRelease 200)" = 2 ] || fail "the new InRelease was not downloaded"
        # a new InRelease with a bad signature is refused, though the cached one was fine
        sed -i 's/^Suite: stable/Suite: stablX/' "$REPO/dists/stable/InRelease"
        touch -d "@$(($(date +%s) + 10))" "$REPO/dists/stable/InRelease"
        smith_user -i four.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable'"
}

@test "deb: an InRelease older than the cached one is refused (a rollback), naming the repository and both dates" {
        write_yaml hello-bin
        resign stable "2026-01-02 03:04:05 UTC"
        smith_user -i one.tar.gz
        assert_status 0
        resign stable "2026-01-01 00:00:00 UTC"
        smith_user -i two.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable': Release Date 'Thu, 01 Jan 2026 00:00:00 UTC' is older than the cached copy's 'Fri, 02 Jan 2026 03:04:05 UTC'"
        assert_clean_failure
        # and the cached copy is still the newer one: a newer Release passes
        resign stable "2026-01-03 00:00:00 UTC"
        smith_user -i three.tar.gz
        assert_status 0
}

@test "deb: a Release whose Valid-Until has passed is refused (exit 4)" {
        write_yaml hello-bin
        resign stable "now - 2 days" "now - 1 day"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable': Release expired (Valid-Until is in the past)"
        assert_clean_failure
}

@test "deb hostile: among other packages (decompressed ahead of their unpacking) the same checks hold" {
        HOSTILE_MORE=hello-bin
        hostile bomb
        assert_status 4
        assert_output_contains "uncompressed"
        for case in dotdot hardlink hardlink-abs; do
                hostile "$case"
                assert_status 4
        done
        hostile absolute
        assert_status 0
        $OCI ls image.tar.gz | grep -q "${SENTINEL#/}/absolute" || fail "not in the image: $($OCI ls image.tar.gz)"
        packages_of image.tar.gz | grep -q '^hello-bin_'
}

@test "deb hostile: a .deb with two data members, two control members or an unknown member before data is refused" {
        hostile two-data
        assert_status 4
        assert_output_contains "a second data member 'data.tar.xz'"
        hostile two-control
        assert_status 4
        assert_output_contains "a second control member 'control.tar.xz'"
        hostile unknown-member
        assert_status 4
        assert_output_contains "unknown member 'extra.tar.gz' before data.tar"
}

@test "deb hostile: the member checks hold for a package from the repository too" {
        local p="$REPO/dists/stable/main/binary-$(dpkg --print-architecture)"
        cp "$FIX/hostile/hostile-two-data.deb" "$REPO/pool/"
        echo "pool/hostile-two-data.deb" >>"$REPO/lists/stable"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" index "$REPO" stable
        write_yaml hostile-two-data
        sed -i 's|^- /usr/bin/hello$|- /usr/share|' smith.yaml
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package 'hostile-two-data"
        assert_output_contains "a second data member"
        assert_clean_failure
        [ -z "$(ls -A "$U/cache/smith/roots" 2>/dev/null | grep -v '^release-')" ] || fail "a root was kept: $(ls -A "$U/cache/smith/roots")"
}

@test "deb: an absolute URL as Filename is refused before any request, naming the field" {
        local p="$REPO/dists/stable/main/binary-$(dpkg --print-architecture)" abs
        # a URL that would even serve the right file
        abs="http://127.0.0.1:$PORT/$BATS_TEST_NUMBER/pool/hello-bin_1.0_$(dpkg --print-architecture).deb"
        sed -i "s|^Filename: pool/hello-bin_.*|Filename: $abs|" "$p/Packages"
        gzip -n -kf "$p/Packages"
        xz -kf "$p/Packages"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" stable
        write_yaml hello-bin
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package 'hello-bin' in '$URL stable main': refusing Filename '$abs'"
        ! grep -q "GET /$BATS_TEST_NUMBER/pool/" "$FIX/http.log" || fail "a package was requested: $(grep "/$BATS_TEST_NUMBER/pool/" "$FIX/http.log")"
        assert_clean_failure
}

@test "deb: a signed Release dated in the future is refused as not valid yet; one already cached cannot lock the repository out" {
        write_yaml hello-bin
        resign stable "now + 1 day"
        smith_user -i one.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable': Release Date '"
        assert_output_contains "is in the future (not valid yet)"
        assert_clean_failure
        # a few seconds ahead is clock skew, not an attack
        resign stable "now + 30 seconds"
        smith_user -i two.tar.gz
        assert_status 0
        # a future-dated copy in the cache (as an older smith stored it): an
        # honest Release is still taken, not refused as a rollback
        local name
        name=inrelease-$(printf 'apt\n%s\n%s' "$URL" stable | sha256sum | cut -d' ' -f1)
        [ -f "$U/cache/smith/pkgs/$name" ] || fail "no cached InRelease '$name': $(ls "$U/cache/smith/pkgs")"
        resign stable "now + 2 years"
        cp "$REPO/dists/stable/InRelease" "$U/cache/smith/pkgs/$name"
        resign stable "now"
        smith_user -i three.tar.gz
        assert_status 0
        # and once replaced, an older Release is a rollback again
        resign stable "now - 1 day"
        smith_user -i four.tar.gz
        assert_status 4
        assert_output_contains "refusing the rollback"
}

@test "deb: a repository with only Release and Release.gpg builds; another key or a changed Release is refused" {
        local s
        for s in stable updates; do
                DEB_REPO_DETACHED=1 "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" "$s"
        done
        [ ! -e "$REPO/dists/stable/InRelease" ] && [ -f "$REPO/dists/stable/Release.gpg" ] || fail "not a detached pair"
        write_yaml hello-bin
        smith_user -i one.tar.gz
        assert_status 0
        [ "$(packages_of one.tar.gz | cut -d_ -f1 | tr '\n' ' ')" = "base-thing greeter-data hello-bin libgreet " ] ||
                fail "packages: $(packages_of one.tar.gz)"
        [ "$(http_log_count dists/stable/Release.gpg 200)" = 1 ] || fail "Release.gpg not fetched: $(grep "/$BATS_TEST_NUMBER/" "$FIX/http.log")"
        # again: the same image (the pair taken conditionally)
        smith_user -i two.tar.gz
        assert_status 0
        cmp one.tar.gz two.tar.gz
        # a Release that differs from what was signed
        cp "$REPO/dists/stable/Release" "$T/Release.good"
        sed -i 's/^Origin: smith-tests$/Origin: smith-evil/' "$REPO/dists/stable/Release"
        touch -d "@$(($(date +%s) + 20))" "$REPO/dists/stable/Release"
        smith_user -i three.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable': Release: bad signature"
        assert_clean_failure
        # signed by another key
        DEB_REPO_DETACHED=1 "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" stable other@smith
        touch -d "@$(($(date +%s) + 30))" "$REPO/dists/stable/Release" "$REPO/dists/stable/Release.gpg"
        smith_user -i four.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable': Release: signed by unknown key"
        # no signature at all: refused, and the message says what is missing
        rm "$REPO/dists/stable/Release.gpg"
        rm -rf "$U/cache/smith"
        smith_user -i five.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "no InRelease at '$URL/dists/stable/InRelease', and Release is not signed (no Release.gpg"
        assert_clean_failure
}

# provider_repo ORDER...: this test's stable suite with hx (Depends: libhx),
# the real libhx 1.0, zz-evil 99 (Provides: libhx (= 99)), virt-user
# (Depends: virt) and three packages that Provide virt, listed in ORDER
provider_repo() {
        local d="$SMITH_SRC/tests/fixtures/deb-repo.sh" n
        $d deb "$REPO/pool/hx_1.0_all.deb" hx 1.0 all "Depends: libhx"
        $d deb "$REPO/pool/libhx_1.0_all.deb" libhx 1.0 all
        $d deb "$REPO/pool/zz-evil_99_all.deb" zz-evil 99 all "Provides: libhx (= 99)"
        $d deb "$REPO/pool/virt-user_1.0_all.deb" virt-user 1.0 all "Depends: virt"
        for n in prov-b prov-a prov-c; do
                $d deb "$REPO/pool/${n}_1.0_all.deb" "$n" 1.0 all "Provides: virt"
        done
        cp "$FIX/repo/lists/stable" "$REPO/lists/stable"
        for n in "$@"; do
                echo "pool/${n}_all.deb" >>"$REPO/lists/stable"
        done
        "$d" index "$REPO" stable
}

@test "deb: solver policy: a real package wins over a provider of its name; among providers the choice is fixed" {
        provider_repo zz-evil_99 hx_1.0 libhx_1.0 virt-user_1.0 prov-b_1.0 prov-c_1.0 prov-a_1.0
        write_yaml hx
        sed -i 's|^- /usr/bin/hello$|- /usr/share|' smith.yaml
        smith_user -i hx.tar.gz
        assert_status 0
        [ "$(packages_of hx.tar.gz)" = "hx_1.0_all
libhx_1.0_all" ] || fail "packages: $(packages_of hx.tar.gz)"
        ! $OCI ls hx.tar.gz | grep -q zz-evil || fail "zz-evil's files are in the image"
        # asked for by name, the provider is what is installed
        write_yaml zz-evil
        sed -i 's|^- /usr/bin/hello$|- /usr/share|' smith.yaml
        smith_user -i evil.tar.gz
        assert_status 0
        [ "$(packages_of evil.tar.gz)" = "zz-evil_99_all" ] || fail "packages: $(packages_of evil.tar.gz)"
        # no real virt: of the providers, the first name in byte order
        write_yaml virt-user
        sed -i 's|^- /usr/bin/hello$|- /usr/share|' smith.yaml
        smith_user -i virt.tar.gz
        assert_status 0
        [ "$(packages_of virt.tar.gz)" = "prov-a_1.0_all
virt-user_1.0_all" ] || fail "packages: $(packages_of virt.tar.gz)"
        # the same on every run, from a fresh cache, and whatever the order of the index
        local run
        for run in 1 2; do
                provider_repo prov-c_1.0 prov-a_1.0 prov-b_1.0 virt-user_1.0 libhx_1.0 hx_1.0 zz-evil_99
                rm -rf "$U/cache/smith"
                smith_user -i "again-$run.tar.gz"
                assert_status 0
                [ "$(packages_of "again-$run.tar.gz")" = "$(packages_of virt.tar.gz)" ] ||
                        fail "run $run: $(packages_of "again-$run.tar.gz")"
        done
        write_yaml hx
        sed -i 's|^- /usr/bin/hello$|- /usr/share|' smith.yaml
        smith_user -i hx2.tar.gz
        assert_status 0
        [ "$(packages_of hx2.tar.gz)" = "$(packages_of hx.tar.gz)" ] || fail "reordered: $(packages_of hx2.tar.gz)"
}

# slow_serve MODE...: tests/cli/helpers/slow-server.py on a free port
# ($SLOW_PORT; stopped by teardown), logging to $T/slow.log; $URL points at it.
slow_serve() {
        rm -f "$T/slow.log"
        helper_serve slow-server.py --log "$T/slow.log" "$@"
        SLOW_PID=$HELPER_PID
        SLOW_PORT=$HELPER_PORT
        URL="http://127.0.0.1:$SLOW_PORT/r"
}

@test "deb: a trickling server (a slowloris) is refused within 60 s by default, and not asked again" {
        slow_serve --trickle 1
        write_yaml hello-bin
        local t0=$SECONDS
        smith_user
        local took=$((SECONDS - t0))
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable'"
        assert_output_contains "too slow"
        [ "$took" -le 60 ] || fail "took $took s"
        [ "$(grep -c 'stable/InRelease' "$T/slow.log")" = 1 ] || fail "asked again: $(cat "$T/slow.log")"
        assert_clean_failure
}

@test "deb: a stalled server is not asked again; 5xx and a 429 with Retry-After are, a bare 429 is not" {
        slow_serve --stall
        write_yaml hello-bin
        SMITH_NET_STALL_SECONDS=2 smith_user
        assert_status 4
        assert_one_error_line
        [ "$(grep -c 'stable/InRelease' "$T/slow.log")" = 1 ] || fail "a stall was retried: $(cat "$T/slow.log")"
        kill "$SLOW_PID"
        slow_serve --status 503
        write_yaml hello-bin
        SMITH_NET_RETRY_BASE_MS=10 smith_user
        assert_status 4
        assert_output_contains "HTTP 503"
        [ "$(grep -c 'stable/InRelease' "$T/slow.log")" = 5 ] || fail "503: $(cat "$T/slow.log")"
        kill "$SLOW_PID"
        slow_serve --status 429
        write_yaml hello-bin
        SMITH_NET_RETRY_BASE_MS=10 smith_user
        assert_status 4
        assert_output_contains "HTTP 429"
        [ "$(grep -c 'stable/InRelease' "$T/slow.log")" = 1 ] || fail "a bare 429 was retried: $(cat "$T/slow.log")"
        kill "$SLOW_PID"
        slow_serve --status 429 --retry-after 0
        write_yaml hello-bin
        SMITH_NET_RETRY_BASE_MS=10 smith_user
        assert_status 4
        [ "$(grep -c 'stable/InRelease' "$T/slow.log")" = 5 ] || fail "429 with Retry-After: $(cat "$T/slow.log")"
}

@test "deb: one deadline per download (--timeout) stops a server that is slow but above the floor" {
        slow_serve --trickle 4096
        write_yaml hello-bin
        local t0=$SECONDS
        smith_user --timeout 3
        local took=$((SECONDS - t0))
        assert_status 4
        assert_one_error_line
        assert_output_contains "not done within the 3s deadline (--timeout, SMITH_NET_TIMEOUT)"
        [ "$took" -le 20 ] || fail "took $took s"
        assert_clean_failure
        smith_user --timeout 3x
        assert_status 2
        assert_output_contains "--timeout: invalid number of seconds '3x'"
}

# bomb ARGS...: tests/fixtures/index-bombs.py with the test keys
bomb() {
        GNUPGHOME=$FIX/gnupg "$PYTHON" "$SMITH_SRC/tests/fixtures/index-bombs.py" "$@"
        GNUPGHOME=$FIX/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
}

@test "deb: an index its Release lists larger than --max-index is refused before it is fetched" {
        local arch t0 took
        arch=$(dpkg --print-architecture)
        bomb deb-listed "$REPO" stable "$arch" $((4 << 30))
        write_yaml hello-bin
        t0=$SECONDS
        smith_user
        took=$((SECONDS - t0))
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository '$URL stable': 'main/binary-$arch/Packages' is 4294967296 bytes uncompressed, more than the --max-index limit of 1073741824 (SMITH_MAX_INDEX)"
        [ "$took" -le 30 ] || fail "took $took s"
        [ "$(http_log_count "dists/stable/main/binary-$arch/Packages.gz" 200)" = 0 ] || fail "the index was fetched"
        assert_clean_failure
        # the limit is a setting: under 5G the real (small) Packages.gz builds
        smith_user --max-index 5G
        assert_status 0
}

@test "deb: a Packages.xz that inflates past the size its Release lists is refused at that size" {
        local arch t0 took
        arch=$(dpkg --print-architecture)
        bomb deb-xz "$REPO" stable "$arch" $((4 << 30))
        write_yaml hello-bin
        t0=$SECONDS
        smith_user
        took=$((SECONDS - t0))
        assert_status 4
        assert_one_error_line
        assert_output_contains "index '$URL stable main': more than the"
        assert_output_contains "bytes expected uncompressed (a decompression bomb?)"
        [ "$took" -le 30 ] || fail "took $took s"
        assert_clean_failure
}

@test "deb: a Packages.xz bomb whose Release lists no plain size is measured against --max-index, within 30 s" {
        local arch t0 took
        arch=$(dpkg --print-architecture)
        bomb deb-xz "$REPO" stable "$arch" $(((1 << 30) + 4096)) unlisted
        write_yaml hello-bin
        t0=$SECONDS
        smith_user
        took=$((SECONDS - t0))
        assert_status 4
        assert_one_error_line
        assert_output_contains "index '$URL stable main': more than 1 GiB uncompressed (a decompression bomb? --max-index, SMITH_MAX_INDEX)"
        [ "$took" -le 30 ] || fail "took $took s"
        assert_clean_failure
        # nothing is saved of it
        [ -z "$(ls "$U/cache/smith/pkgs/" | grep '^solv-')" ] || fail "a saved index: $(ls "$U/cache/smith/pkgs/")"
}

@test "deb: a large index shows its progress on a TTY while it loads" {
        local arch p i
        arch=$(dpkg --print-architecture)
        p="$REPO/dists/stable/main/binary-$arch"
        # 24 MiB of honest stanzas
        "$PYTHON" - "$p/Packages" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    i = 0
    while f.tell() < 24 << 20:
        f.write("Package: pad%d\nVersion: 1\nArchitecture: all\nDepends: pad%d\nFilename: pool/pad%d.deb\n"
                "Size: 1\nSHA256: %s\n\n" % (i, i + 1, i, "0" * 64))
        i += 1
PY
        rm -f "$p/Packages.gz" "$p/Packages.xz"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" release "$REPO" stable
        write_yaml hello-bin
        chown -R 65534:65534 "$U" "$W"
        # script(1) gives smith a terminal
        run script -qefc "setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME=$U/home XDG_CACHE_HOME=$U/cache TMPDIR=$U/tmp SOURCE_DATE_EPOCH=0 $U/smith" /dev/null
        assert_status 0
        assert_output_contains "index '$URL stable main': "
        assert_output_contains " of 24 MiB"
        # and the build's phases, with the time of each at the end
        assert_output_contains "smith: image.tar.gz in "
        assert_output_contains "fetch "
        assert_output_contains "unpack "
}
