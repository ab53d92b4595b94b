#!/usr/bin/env bats
# The rpm source against a tiny rpm-md repository (tests/fixtures/rpm-repo.sh:
# rpmbuild, rpmsign, createrepo_c, gpg) served over file:// and by python3
# -m http.server on 127.0.0.1: what is solved and unpacked, the verification
# chain (repomd.xml.asc -> repomd.xml -> primary -> .rpm -> its signature),
# and a hostile payload.  Every build runs as an unprivileged user (uid
# 65534) with a cache of its own.

load helpers/common

setup_file() {
        FIX=$(mktemp -d /tmp/smith-rpmrepo.XXXXXX)
        chmod 0755 "$FIX"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" make "$FIX"
        chmod -R a+rX "$FIX/repo" "$FIX"/*.asc "$FIX"/*.rpm
        WWW="$FIX/www"
        mkdir -p "$WWW"
        chmod 0755 "$WWW"
        http_serve "$WWW" "$FIX/http.log"
        PORT=$HTTP_PORT
        echo "$HTTP_PID" >"$FIX/http.pid"
        SENTINEL=$(mktemp -d /tmp/smith-sentinel.XXXXXX)
        TOKEN="sentinel-secret-$RANDOM$RANDOM$RANDOM"
        export FIX WWW PORT SENTINEL TOKEN
}

teardown_file() {
        [ ! -f "$FIX/http.pid" ] || kill "$(cat "$FIX/http.pid")" 2>/dev/null || true
        rm -rf "$FIX" "$SENTINEL"
}

setup() {
        export SMITH_RETRY_MS=50
        common_setup
        # this test's copy of the repository, free to damage
        REPO="$WWW/$BATS_TEST_NUMBER"
        rm -rf "$REPO"
        cp -a "$FIX/repo" "$REPO"
        URL="http://127.0.0.1:$PORT/$BATS_TEST_NUMBER"
        export RPM_REPO_GNUPG="$FIX/gnupg"
        U="$T/user"
        mkdir -p "$U/home" "$U/cache" "$U/tmp"
        cp "$SMITH" "$U/smith"
        rm -rf "$SENTINEL"
        mkdir -m 0755 "$SENTINEL" "$SENTINEL/dir"
        printf '%s\n' "$TOKEN" >"$SENTINEL/secret"
}

teardown() {
        rm -rf "${REPO:-/nonexistent}"
        common_teardown
}


# write_yaml PACKAGE [BASEURL] [EXTRA REPO KEYS...]: a smith.yaml for
# PACKAGE from the test's repository, repomd.xml and packages checked.
write_yaml() {
        local pkg=$1 url=${2:-$URL}
        shift 2 || shift $#
        {
                echo "package: $pkg"
                echo "repos:"
                echo "- name: test"
                echo "  baseurl: $url"
                echo "  gpgkey: file://$FIX/key.asc"
                echo "  repo_gpgcheck: true"
                for k in "$@"; do echo "  $k"; done
                echo "paths:"
                echo "- /usr/bin/hello-rpm"
                echo "- /usr/share"
                echo "cmd: [/usr/bin/hello-rpm]"
        } >smith.yaml
}

packages_of() {
        $OCI blob "$1" application/vnd.smith.packages
}

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

@test "rpm: solves Requires with versions and Provides over http; the newest wins; no decoy; signatures checked" {
        local arch
        arch=$(uname -m)
        write_yaml hello-rpm
        smith_user -v
        assert_status 0
        [ "$(packages_of image.tar.gz)" = "greeter-data-1.0-1.noarch
hello-rpm-1.0-1.$arch
libgreet-1.1-1.$arch" ] || fail "packages: $(packages_of image.tar.gz)"
        $OCI verify image.tar.gz >/dev/null
        run $OCI ls image.tar.gz
        grep -qE '^f 0755 .* usr/bin/hello-rpm$' <<<"$output" || fail "no usr/bin/hello-rpm: $output"
        # the library (0644) and the libm it needs, found by the ELF closure in the package root
        grep -qE '^f 0644 .* usr/lib64/libgreet.so.1$' <<<"$output" || fail "no libgreet: $output"
        grep -qE '^f 0644 .* usr/lib64/libm.so.6$' <<<"$output" || fail "no libm: $output"
        grep -q 'usr/share/greeter/hello.txt' <<<"$output" || fail "no greeter-data: $output"
        ! grep -q decoy <<<"$output" || fail "the decoy was installed: $output"
        ! grep -q libgreet-1.0 <<<"$output" || fail "the older libgreet won: $output"
        [ "$($OCI cat image.tar.gz usr/share/greeter/hello.txt)" = "hello from greeter-data" ]
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        [ "$(jq -r '.repos[0].baseurl' <<<"$output")" = "$URL" ]
        [ "$(jq -r '.repos[0].repo_gpgcheck' <<<"$output")" = true ]
}

@test "rpm: a file:// repository, a local .rpm with its dependencies from the repository" {
        cp "$FIX/local-tool-2.0-1.noarch.rpm" "$W/"
        write_yaml "[./local-tool-2.0-1.noarch.rpm]" "file://$REPO"
        smith_user
        assert_status 0
        [ "$(packages_of image.tar.gz)" = "greeter-data-1.0-1.noarch
local-tool-2.0-1.noarch" ] || fail "packages: $(packages_of image.tar.gz)"
        [ "$($OCI cat image.tar.gz usr/share/local-tool/2.0)" = "local-tool 2.0" ]
}

@test "rpm: a warm build takes everything from the cache and gives the same image" {
        write_yaml hello-rpm
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        rm -f "$REPO"/*.rpm
        smith_user -b 1 -i two.tar.gz
        assert_status 0
        cmp one.tar.gz two.tar.gz
        ls "$U/cache/smith/pkgs/" | grep -q '^solv-' || fail "no saved index in the cache"
}

@test "rpm: type mock without mock on PATH uses the rpm source and says so under -v" {
        write_yaml hello-rpm
        sed -i '1i type: mock' smith.yaml
        smith_user -v
        assert_status 0
        assert_output_contains "'mock' is not on PATH"
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        [ "$(jq -r .type <<<"$output")" = mock ]
}

@test "rpm: an unknown package fails (exit 4) with one line" {
        write_yaml no-such-package
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "no-such-package"
        assert_clean_failure
}

@test "rpm: a tampered primary fails (exit 4) before it is used" {
        flip_byte "$REPO/repodata/primary.xml.gz" 40
        write_yaml hello-rpm
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "checksum mismatch"
        assert_output_contains "primary.xml.gz"
        assert_clean_failure
}

@test "rpm: a package that does not match primary's checksum fails (exit 4) and is not stored" {
        local f="$REPO/libgreet-1.1-1.$(uname -m).rpm"
        flip_byte "$f" 3000
        write_yaml hello-rpm
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "libgreet"
        assert_output_contains "checksum mismatch"
        assert_clean_failure
        [ -z "$(find "$U/cache/smith/blobs" -type f -size +300k)" ] || fail "the tampered package was stored"
}

@test "rpm: repomd.xml signed by another key fails (exit 4) with repo_gpgcheck" {
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO" other@smith
        write_yaml hello-rpm
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository 'test': repomd.xml: signed by unknown key"
        assert_clean_failure
}

@test "rpm: repomd.xml without a signature fails (exit 4) with repo_gpgcheck, and is used without it" {
        rm "$REPO/repodata/repomd.xml.asc"
        write_yaml hello-rpm
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "repomd.xml: not signed"
        assert_clean_failure
        sed -i 's/repo_gpgcheck: true/repo_gpgcheck: false/' smith.yaml
        smith_user
        assert_status 0
}

@test "rpm: a package signed by another key fails (exit 4) with gpgcheck" {
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" sign "$REPO/greeter-data-1.0-1.noarch.rpm" other@smith
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        write_yaml hello-rpm
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package 'greeter-data-1.0-1.noarch' from 'test'"
        assert_output_contains "not in the repository's gpgkey"
        assert_clean_failure
}

@test "rpm: an unsigned package fails (exit 4) with gpgcheck and installs with gpgcheck: false" {
        write_yaml unsigned-thing
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package 'unsigned-thing-1.0-1.noarch' from 'test': not signed"
        assert_clean_failure
        write_yaml unsigned-thing "$URL" "gpgcheck: false"
        smith_user
        assert_status 0
        [ "$($OCI cat image.tar.gz usr/share/unsigned/file)" = unsigned ]
}

@test "rpm: a payload swapped under a good signature fails (exit 4) with gpgcheck" {
        # the header (and its signature) kept, the payload another one: createrepo_c
        # writes primary from the file as it is, so only the payload digest can tell
        "$PYTHON" "$SMITH_SRC/tests/fixtures/rpm-hostile.py" "$REPO/greeter-data-1.0-1.noarch.rpm" "$T/g.rpm" "$SENTINEL"
        mv "$T/g.rpm" "$REPO/greeter-data-1.0-1.noarch.rpm"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        write_yaml hello-rpm
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "payload digest mismatch"
        assert_clean_failure
        [ "$(cat "$SENTINEL/secret")" = "$TOKEN" ]
}

@test "rpm hostile: a cpio with ../ names, an absolute name and a link out stays contained" {
        "$PYTHON" "$SMITH_SRC/tests/fixtures/rpm-hostile.py" "$REPO/unsigned-thing-1.0-1.noarch.rpm" "$T/h.rpm" "$SENTINEL"
        mv "$T/h.rpm" "$REPO/unsigned-thing-1.0-1.noarch.rpm"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        write_yaml unsigned-thing "$URL" "gpgcheck: false"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "escapes the root"
        assert_clean_failure
        [ "$(cat "$SENTINEL/secret")" = "$TOKEN" ] || fail "the sentinel was written"
        [ "$(ls -A "$SENTINEL")" = "dir
secret" ] || fail "files appeared in the sentinel: $(ls -A "$SENTINEL")"
}

@test "rpm: type deb leaves rpm-md repos to the rpm source (exit 4, one line)" {
        write_yaml hello-rpm
        sed -i '1i type: deb' smith.yaml
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "no package repositories"
        assert_clean_failure
}

@test "rpm: weak dependencies (Recommends) are left out, and installed with packages: {recommends: true}" {
        write_yaml rec-rpm
        smith_user -i off.tar.gz
        assert_status 0
        [ "$(packages_of off.tar.gz)" = "rec-rpm-1.0-1.noarch" ] || fail "packages: $(packages_of off.tar.gz)"
        printf 'packages: {recommends: true}\n' >>smith.yaml
        smith_user -i on.tar.gz
        assert_status 0
        [ "$(packages_of on.tar.gz)" = "decoy-1.0-1.noarch
rec-rpm-1.0-1.noarch" ] || fail "packages: $(packages_of on.tar.gz)"
        [ "$($OCI cat on.tar.gz usr/share/decoy/decoy.txt)" = decoy ]
}

@test "rpm: a local .rpm is signature-checked with gpgcheck (an unsigned one is refused), digests always" {
        cp "$FIX/local-unsigned-1.0-1.noarch.rpm" "$W/"
        write_yaml "[./local-unsigned-1.0-1.noarch.rpm]"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package './local-unsigned-1.0-1.noarch.rpm': not signed (gpgcheck is on)"
        assert_clean_failure
        # signed by a key no repository with gpgcheck trusts
        cp "$FIX/local-tool-2.0-1.noarch.rpm" "$W/other.rpm"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" sign "$W/other.rpm" other@smith
        write_yaml "[./other.rpm]"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package './other.rpm': signed by a key not in the repository's gpgkey"
        assert_clean_failure
        # gpgcheck: false everywhere: only the digests, and they hold
        write_yaml "[./local-unsigned-1.0-1.noarch.rpm]" "$URL" "gpgcheck: false"
        smith_user
        assert_status 0
        [ "$($OCI cat image.tar.gz usr/share/local-unsigned/file)" = local-unsigned ]
        # a payload swapped under the header fails its digest even then
        rm -f image.tar.gz
        "$PYTHON" "$SMITH_SRC/tests/fixtures/rpm-hostile.py" "$W/local-unsigned-1.0-1.noarch.rpm" "$W/swapped.rpm" "$SENTINEL"
        write_yaml "[./swapped.rpm]" "$URL" "gpgcheck: false"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package './swapped.rpm': payload digest mismatch"
        assert_clean_failure
        [ "$(cat "$SENTINEL/secret")" = "$TOKEN" ]
}

@test "rpm: offline, the second build uses the cached repomd.xml and says how old it is; -f does not ask" {
        # a server of this test's own, to stop
        local port
        http_serve "$WWW"
        port=$HTTP_PORT
        URL="http://127.0.0.1:$port/$BATS_TEST_NUMBER"
        write_yaml hello-rpm
        smith_user -i first.tar.gz
        http_stop
        assert_status 0

        SMITH_NET_RETRY_BASE_MS=10 smith_user -i second.tar.gz
        assert_status 0
        [ "$(grep -c 'warning: repository' <<<"$output")" = 1 ] || fail "expected one warning: $output"
        assert_output_contains "warning: repository 'test' unreachable: using metadata from"
        assert_output_contains " ago"
        [ "$(packages_of second.tar.gz)" = "$(packages_of first.tar.gz)" ]

        smith_user -f -i third.tar.gz
        assert_status 0
        ! grep -q 'warning: repository' <<<"$output" || fail "-f warned: $output"
        [ "$(packages_of third.tar.gz)" = "$(packages_of first.tar.gz)" ]

        # in a network namespace with no interface up at all, the server
        # running again: the cache alone builds it (repomd.xml.asc checked again)
        "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$WWW" "$port" >/dev/null 2>&1 &
        HTTP_PID=$!
        smith_offline -i fifth.tar.gz
        kill "$HTTP_PID"
        wait "$HTTP_PID" 2>/dev/null || true
        assert_status 0
        assert_output_contains "warning: repository 'test' unreachable: using metadata from"
        [ "$(packages_of fifth.tar.gz)" = "$(packages_of first.tar.gz)" ]

        # a damaged cached signature is not trusted offline
        for f in "$U"/cache/smith/pkgs/repomd-*.asc; do cp "$FIX/other.asc" "$f"; done
        smith_user -f -i sixth.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository 'test'"

        # without a cache, an unreachable repository is one error line
        rm -rf "$U/cache"
        mkdir -p "$U/cache"
        smith_user -i fourth.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository 'test'"
        assert_clean_failure
}

@test "rpm: repomd.xml is asked for conditionally: unchanged, the server answers 304" {
        write_yaml hello-rpm
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        smith_user -b 1 -i two.tar.gz
        assert_status 0
        ! grep -q 'warning: repository' <<<"$output" || fail "a 304 warned: $output"
        [ "$(grep -c "\"GET /$BATS_TEST_NUMBER/repodata/repomd.xml HTTP/1.1\" 200 " "$FIX/http.log")" = 1 ] ||
                fail "repomd.xml downloaded again"
        [ "$(grep -c "\"GET /$BATS_TEST_NUMBER/repodata/repomd.xml HTTP/1.1\" 304 " "$FIX/http.log")" = 1 ] ||
                fail "no 304"
        cmp one.tar.gz two.tar.gz
}

@test "rpm: a Requires on a path only filelists lists loads filelists (checksum-verified), only then" {
        write_yaml hello-rpm
        smith_user -v -i plain.tar.gz
        assert_status 0
        ! grep -q "GET /$BATS_TEST_NUMBER/repodata/filelists" "$FIX/http.log" || fail "filelists fetched without need"
        # a solve failing for another reason is no need either, though a package of the
        # repository (opt-user) requires a path primary does not list
        write_yaml no-such-package
        smith_user -v
        assert_status 4
        assert_output_contains "package 'no-such-package' not found"
        ! grep -q "GET /$BATS_TEST_NUMBER/repodata/filelists" "$FIX/http.log" || fail "filelists fetched for an unknown package"
        # opt-user Requires /opt/greeter/data, which primary does not list
        ! zcat "$REPO/repodata/primary.xml.gz" | grep -q '<file>/opt/greeter/data</file>' || fail "primary lists it"
        write_yaml opt-user
        sed -i 's|^- /usr/share$|- /usr/share\n- /opt|' smith.yaml
        smith_user -v -i opt.tar.gz
        assert_status 0
        assert_output_contains "repository 'test': a path is required that primary does not list: reading filelists"
        [ "$(packages_of opt.tar.gz)" = "opt-data-1.0-1.noarch
opt-user-1.0-1.noarch" ] || fail "packages: $(packages_of opt.tar.gz)"
        [ "$($OCI cat opt.tar.gz opt/greeter/data)" = "opt data" ]
        grep -q "GET /$BATS_TEST_NUMBER/repodata/filelists.xml.gz" "$FIX/http.log" || fail "filelists not fetched"
        # warm: primary from libsolv's saved form, filelists from the blob store
        smith_user -b 1 -i warm1.tar.gz
        assert_status 0
        smith_user -b 1 -i warm2.tar.gz
        assert_status 0
        cmp warm1.tar.gz warm2.tar.gz
        [ "$(grep -c "GET /$BATS_TEST_NUMBER/repodata/filelists.xml.gz" "$FIX/http.log")" = 1 ] || fail "filelists fetched again"
        # a filelists that is not the one repomd.xml names is refused
        rm -rf "$U/cache"
        mkdir -p "$U/cache"
        flip_byte "$REPO/repodata/filelists.xml.gz" 40
        smith_user -i bad.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "filelists.xml.gz"
        assert_output_contains "checksum mismatch"
        assert_clean_failure
}

@test "rpm: filelists compressed with xz or zstd are read too" {
        local c
        # xz by createrepo_c; zstd (which this createrepo_c cannot write) by hand, repomd.xml to match
        rm -rf "$REPO/repodata"
        createrepo_c --quiet --simple-md-filenames --no-database --general-compress-type xz "$REPO" >/dev/null
        mkdir "$REPO/zst"
        cp -a "$REPO"/*.rpm "$REPO/repodata" "$REPO/zst/"
        "$PYTHON" - "$REPO/zst/repodata" <<'PY'
import hashlib, lzma, os, re, subprocess, sys
d = sys.argv[1]
xml = lzma.open(os.path.join(d, "filelists.xml.xz")).read()
zst = subprocess.run(["zstd", "-q", "-c"], input=xml, capture_output=True, check=True).stdout
os.unlink(os.path.join(d, "filelists.xml.xz"))
open(os.path.join(d, "filelists.xml.zst"), "wb").write(zst)
md = open(os.path.join(d, "repomd.xml")).read()
def fix(m):
    b = m.group(0)
    b = re.sub(r'<checksum type="sha256">[0-9a-f]+</checksum>',
               '<checksum type="sha256">%s</checksum>' % hashlib.sha256(zst).hexdigest(), b)
    b = b.replace("filelists.xml.xz", "filelists.xml.zst")
    return re.sub(r"<size>\d+</size>", "<size>%d</size>" % len(zst), b)
md = re.sub(r'<data type="filelists">.*?</data>', fix, md, flags=re.S)
open(os.path.join(d, "repomd.xml"), "w").write(md)
PY
        for c in xz zst; do
                rm -rf "$U/cache"
                mkdir -p "$U/cache"
                if [ "$c" = xz ]; then write_yaml opt-user; else write_yaml opt-user "$URL/zst"; fi
                sed -i -e 's|^- /usr/share$|- /usr/share\n- /opt|' -e 's/repo_gpgcheck: true/repo_gpgcheck: false/' smith.yaml
                smith_user -i "$c.tar.gz"
                assert_status 0
                [ "$($OCI cat "$c.tar.gz" opt/greeter/data)" = "opt data" ]
        done
        grep -q "GET /$BATS_TEST_NUMBER/repodata/filelists.xml.xz" "$FIX/http.log" || fail "no xz filelists fetched"
        grep -q "GET /$BATS_TEST_NUMBER/zst/repodata/filelists.xml.zst" "$FIX/http.log" || fail "no zst filelists fetched"
}

# newer_mtime FILE N: FILE's mtime N minutes ahead, so that the server does
# not answer a conditional request with 304 for a file rewritten within the
# second (python's http.server compares Last-Modified only)
newer_mtime() {
        touch -d "@$(($(date +%s) + 60 * $2))" "$1"
}

@test "rpm: a repomd.xml older than the cached one is refused (a rollback), naming the repository and both values" {
        local md="$REPO/repodata/repomd.xml"
        RPM_REPO_REVISION=1700000200 "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        write_yaml hello-rpm
        smith_user -b 1 -i one.tar.gz
        assert_status 0
        # an older revision, validly signed
        RPM_REPO_REVISION=1700000100 "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        newer_mtime "$md" 1
        smith_user -b 1 -i two.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository 'test': repomd.xml revision '1700000100' is older than the cached copy's '1700000200': refusing the rollback"
        [ ! -e two.tar.gz ] || fail "an image from the rolled back repository"
        # a newer one is taken, and becomes the cached copy
        RPM_REPO_REVISION=1700000300 "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        newer_mtime "$md" 2
        smith_user -b 1 -i three.tar.gz
        assert_status 0
        # a revision that is no number: the newest <timestamp> decides
        sed -i -E 's|<revision>[^<]*</revision>|<revision>snapshot</revision>|; s|<timestamp>[0-9]+</timestamp>|<timestamp>1000000000</timestamp>|g' "$md"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" sign-repomd "$REPO"
        newer_mtime "$md" 3
        smith_user -b 1 -i four.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "repository 'test': repomd.xml timestamp 'Sun, 09 Sep 2001 01:46:40 UTC' is older than the cached copy's"
        [ -z "$(ls -A "$U/cache/smith/tmp")" ] || fail "left in the cache: $(ls -A "$U/cache/smith/tmp")"
}

@test "rpm: an absolute URL as location href is refused before any request, naming the field" {
        # createrepo_c writes the prefix into every href: a URL that would even serve the package
        RPM_REPO_CREATEREPO_ARGS="--location-prefix=$URL/" "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        zcat "$REPO/repodata/primary.xml.gz" | grep -q "href=\"$URL/" || fail "no absolute href: $(zcat "$REPO/repodata/primary.xml.gz" | grep location | head -3)"
        write_yaml hello-rpm
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "refusing location href '$URL/"
        ! grep -q "GET /$BATS_TEST_NUMBER/[^r]" "$FIX/http.log" || fail "a package was requested: $(grep "/$BATS_TEST_NUMBER/" "$FIX/http.log")"
        assert_clean_failure
}

@test "rpm: a primary.xml.zst whose one tag holds 4 GiB of whitespace is refused within 30 s, one line" {
        local t0 took
        GNUPGHOME=$FIX/gnupg "$PYTHON" "$SMITH_SRC/tests/fixtures/index-bombs.py" rpm-primary "$REPO" $((4 << 30))
        GNUPGHOME=$FIX/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
        write_yaml hello-rpm
        t0=$SECONDS
        smith_user
        took=$((SECONDS - t0))
        assert_status 4
        assert_one_error_line
        assert_output_contains "index 'test': more than 1 GiB uncompressed (a decompression bomb? --max-index, SMITH_MAX_INDEX)"
        [ "$took" -le 30 ] || fail "took $took s"
        assert_clean_failure
        # a limit below the honest primary's size refuses that too: the limit is what is read
        rm -rf "$REPO"
        cp -a "$FIX/repo" "$REPO"
        smith_user --max-index 1K
        assert_status 4
        assert_output_contains "index 'test': more than 1 KiB uncompressed"
}

@test "rpm: --platform linux/arm64 takes aarch64 and noarch packages; this machine's build cannot" {
        local top="$T/rpmbuild"
        mkdir -p "$top/SPECS"
        cat >"$top/SPECS/hello-arm.spec" <<'EOF'
Name: hello-arm
Version: 1.0
Release: 1
Summary: an aarch64 package for the smith tests
License: MIT
AutoReqProv: no
Requires: greeter-data
%description
an aarch64 package
%install
mkdir -p %{buildroot}/usr/share/hello-arm
echo arm >%{buildroot}/usr/share/hello-arm/arch
%files
/usr/share/hello-arm/arch
EOF
        # rpmbuild packs for another architecture with --target (nothing is compiled)
        rpmbuild --quiet --define "_topdir $top" --target aarch64 -bb "$top/SPECS/hello-arm.spec" >/dev/null 2>&1
        cp "$top/RPMS/aarch64/hello-arm-1.0-1.aarch64.rpm" "$REPO/"
        RPM_REPO_GNUPG=$FIX/gnupg GNUPGHOME=$FIX/gnupg "$SMITH_SRC/tests/fixtures/rpm-repo.sh" sign "$REPO/hello-arm-1.0-1.aarch64.rpm" test@smith
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" index "$REPO"
        write_yaml hello-arm
        sed -i 's|^- /usr/bin/hello-rpm$||' smith.yaml
        sed -i 's|^cmd: .*||' smith.yaml
        smith_user --platform linux/arm64
        assert_status 0
        [ "$(packages_of image.tar.gz)" = "greeter-data-1.0-1.noarch
hello-arm-1.0-1.aarch64" ] || fail "packages: $(packages_of image.tar.gz)"
        [ "$($OCI config image.tar.gz | jq -r .architecture)" = arm64 ]
        [ "$($OCI cat image.tar.gz usr/share/hello-arm/arch)" = arm ]
        # for this machine it is not installable
        rm -f image.tar.gz
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "hello-arm"
}
