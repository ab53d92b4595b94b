#!/usr/bin/env bats
# `smith lock` and builds from smith.lock: against the signed apt repository
# of tests/fixtures/deb-repo.sh and the rpm-md one of rpm-repo.sh, both
# served by python3 -m http.server on 127.0.0.1, and a local registry
# (helpers/registry.sh).  What is locked is what is built, byte for byte,
# whatever the repository or the tag says later; a lock that does not
# cover smith.yaml, or names a package the server no longer has as locked,
# is one error line and no image; a locked build needs no network once the
# cache holds the packages; the lock is outside input (hostile entries are
# refused before anything is fetched).  Package builds run as uid 65534.

load helpers/common
# shellcheck source=helpers/registry.sh
source "$BATS_TEST_DIRNAME/helpers/registry.sh"

setup_file() {
        FIX=$(mktemp -d /tmp/smith-lock.XXXXXX)
        chmod 0755 "$FIX"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" make "$FIX/deb"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" make "$FIX/rpm"
        chmod -R a+rX "$FIX"
        WWW="$FIX/www"
        mkdir -p "$WWW"
        chmod 0755 "$WWW"
        http_serve "$WWW" "$FIX/http.log"
        PORT=$HTTP_PORT
        echo "$HTTP_PID" >"$FIX/http.pid"
        export FIX WWW PORT
}

teardown_file() {
        [ ! -f "$FIX/http.pid" ] || kill "$(cat "$FIX/http.pid")" 2>/dev/null || true
        rm -rf "$FIX"
}

setup() {
        common_setup
        REPO="$WWW/$BATS_TEST_NUMBER"
        rm -rf "$REPO"
        cp -a "$FIX/deb/repo" "$REPO"
        URL="http://127.0.0.1:$PORT/$BATS_TEST_NUMBER"
        RREPO="$WWW/rpm-$BATS_TEST_NUMBER"
        rm -rf "$RREPO"
        cp -a "$FIX/rpm/repo" "$RREPO"
        RURL="http://127.0.0.1:$PORT/rpm-$BATS_TEST_NUMBER"
        export DEB_REPO_GNUPG="$FIX/deb/gnupg" RPM_REPO_GNUPG="$FIX/rpm/gnupg"
        ARCH=$(dpkg --print-architecture)
        U="$T/user"
        mkdir -p "$U/home" "$U/cache" "$U/tmp"
        cp "$SMITH" "$U/smith"
}

teardown() {
        services_stop
        rm -rf "${REPO:-/nonexistent}" "${RREPO:-/nonexistent}"
        common_teardown
}

write_yaml() {
        cat >smith.yaml <<EOF
package: ${1:-hello-bin}
repos:
- deb [signed-by=$FIX/deb/key.gpg] $URL stable main
- uri: $URL
  suites: updates
  components: [main]
  signed-by: $FIX/deb/key.gpg
paths:
- /usr/bin/hello
- /usr/share
cmd: [/usr/bin/hello]
EOF
}

packages_of() {
        $OCI blob "$1" application/vnd.smith.packages
}

# a newer libgreet (1.3) in the updates suite, signed as before
add_libgreet_13() {
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" deb "$REPO/pool/libgreet_1.3_$ARCH.deb" libgreet 1.3 "$ARCH" \
                "Provides: greeting-virtual"
        echo "pool/libgreet_1.3_$ARCH.deb" >>"$REPO/lists/updates"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" index "$REPO" updates
        chmod -R a+rX "$REPO"
}

fresh_cache() {
        rm -rf "$U/cache"
        mkdir -p "$U/cache"
}

assert_clean_failure() {
        [ ! -e image.tar.gz ] || fail "failed but left image.tar.gz"
        [ -z "$(ls -A "$U/cache/smith/tmp" 2>/dev/null)" ] || fail "left in the cache: $(ls -A "$U/cache/smith/tmp")"
        [ -z "$(leftovers "$W")" ] || fail "left behind: $(leftovers "$W")"
}

@test "lock: smith.lock pins every package (version, arch, URL, sha256, size) and the indexes, sorted" {
        write_yaml
        smith_user lock
        assert_status 0
        [ -z "$output" ] || fail "lock printed: $output"
        [ -f smith.lock ] || fail "no smith.lock"
        [ ! -e image.tar.gz ] || fail "lock built an image"
        # nothing was fetched but metadata: no package unpacked
        [ -z "$(find "$U/cache/smith/roots" -mindepth 1 2>/dev/null)" ] || fail "lock unpacked packages"
        # base-files is there only for the image's os-release, and marked so
        [ "$(jq -r '.packages[] | select(.for == "os-release") | .name' smith.lock)" = base-files ]
        run jq -r '.packages[] | select(.for == null) | "\(.name) \(.version) \(.arch)"' smith.lock
        [ "$output" = "base-thing 1.0 $ARCH
greeter-data 1.0 all
hello-bin 1.0 $ARCH
libgreet 1.2 $ARCH" ] || fail "packages: $output"
        [ "$(jq -r '(.packages[] | select(.name == "libgreet")).url' smith.lock)" = "$URL/pool/libgreet_1.2_$ARCH.deb" ]
        [ "$(jq -r '(.packages[] | select(.name == "libgreet")).digest' smith.lock)" = "sha256:$(sha256sum <"$REPO/pool/libgreet_1.2_$ARCH.deb" | cut -d' ' -f1)" ]
        [ "$(jq -r '(.packages[] | select(.name == "libgreet")).size' smith.lock)" = "$(stat -c %s "$REPO/pool/libgreet_1.2_$ARCH.deb")" ]
        [ "$(jq -r '(.packages[] | select(.name == "libgreet")).repository' smith.lock)" = "$URL updates main" ]
        [ "$(jq -r '.source' smith.lock)" = deb ]
        [ "$(jq -r '.version' smith.lock)" = 1 ]
        run jq -r '.repositories[] | "\(.name) \(.uri)"' smith.lock
        [ "$output" = "$URL stable main $URL
$URL updates main $URL" ] || fail "repositories: $output"
        [ "$(jq -r '.repositories[1].index' smith.lock)" = "sha256:$(sha256sum <"$REPO/dists/updates/main/binary-$ARCH/Packages.gz" | cut -d' ' -f1)" ]
        # pretty and sorted, so it diffs well; written again it is the same bytes
        [ "$(jq -S . smith.lock)" = "$(cat smith.lock)" ] || fail "not pretty-printed with sorted keys"
        cp smith.lock first.lock
        smith_user lock --update
        assert_status 0
        cmp first.lock smith.lock
}

@test "lock: a newer version in the repository changes nothing for a locked build; without the lock it wins; --update takes it" {
        write_yaml
        smith_user -b 1 -i before.tar.gz
        assert_status 0
        smith_user lock
        assert_status 0
        add_libgreet_13
        # another day, another machine: an empty cache, the repository moved on
        fresh_cache
        smith_user -b 1 -i locked.tar.gz
        assert_status 0
        cmp before.tar.gz locked.tar.gz || fail "the locked build is not the build before"
        packages_of locked.tar.gz | grep -qx "libgreet_1.2_$ARCH" || fail "packages: $(packages_of locked.tar.gz)"
        # without the lock the newest version is chosen
        mv smith.lock aside.lock
        smith_user -b 1 -i unlocked.tar.gz
        assert_status 0
        packages_of unlocked.tar.gz | grep -qx "libgreet_1.3_$ARCH" || fail "packages: $(packages_of unlocked.tar.gz)"
        mv aside.lock smith.lock
        # `smith lock` keeps a lock that covers smith.yaml; --update resolves again
        cp smith.lock old.lock
        smith_user lock
        assert_status 0
        cmp old.lock smith.lock
        smith_user lock --update
        assert_status 0
        [ "$(jq -r '.packages[] | select(.name == "libgreet") | .version' smith.lock)" = 1.3 ]
        smith_user -b 1 -i updated.tar.gz
        assert_status 0
        packages_of updated.tar.gz | grep -qx "libgreet_1.3_$ARCH" || fail "packages: $(packages_of updated.tar.gz)"
}

@test "lock: a locked build reads no metadata: it builds with the repository's dists/ gone" {
        write_yaml
        smith_user lock
        assert_status 0
        rm -rf "$REPO/dists"
        fresh_cache
        smith_user -b 1
        assert_status 0
        [ -z "$output" ] || fail "printed: $output"
        packages_of image.tar.gz | grep -qx "hello-bin_1.0_$ARCH"
}

@test "lock: smith.yaml changed without a new lock is one error line (exit 3) asking for 'smith lock'" {
        write_yaml
        smith_user lock
        assert_status 0
        write_yaml "[hello-bin, libgreet-alt]"
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "smith.lock: does not cover this smith.yaml"
        assert_output_contains "run 'smith lock'"
        assert_clean_failure
        # a change that does not touch the resolution is fine
        write_yaml
        sed -i 's|^cmd: .*|cmd: [/usr/bin/hello, again]|' smith.yaml
        smith_user
        assert_status 0
        rm image.tar.gz
        # and the lock follows once asked
        write_yaml "[hello-bin, libgreet-alt]"
        smith_user lock
        assert_status 0
        jq -e '.packages[] | select(.name == "libgreet-alt")' smith.lock >/dev/null
        smith_user
        assert_status 0
}

@test "lock: a locked package the server now serves differently (not cached) fails with one line, no image" {
        write_yaml
        smith_user lock
        assert_status 0
        # one byte changed
        local f="$REPO/pool/libgreet_1.2_$ARCH.deb"
        cp "$f" "$T/libgreet.deb"
        flip_byte "$f" 200
        fresh_cache
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "smith.lock: fetch libgreet: libgreet: checksum mismatch"
        assert_clean_failure
        [ -z "$(ls -A "$U/cache/smith/blobs/sha256" | grep "$(jq -r '(.packages[] | select(.name == "libgreet")).digest' smith.lock | cut -d: -f2)")" ]
        # same name, same place, rebuilt (and the index signed again): other bytes, another size
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" deb "$f" libgreet 1.2 "$ARCH" \
                "Provides: greeting-virtual" "Homepage: https://example.org/changed"
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" index "$REPO" updates
        chmod -R a+rX "$REPO"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "smith.lock: fetch libgreet"
        assert_clean_failure
        # gone altogether: one line too
        rm "$f"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "smith.lock: fetch libgreet: '$URL/pool/libgreet_1.2_$ARCH.deb' not found"
        assert_clean_failure
        # cached, the locked package needs no server
        cp "$T/libgreet.deb" "$f"
        smith_user -i first.tar.gz
        assert_status 0
        rm "$f"
        smith_user -i second.tar.gz
        assert_status 0
}

@test "lock: offline, a locked build takes everything from the cache without a word" {
        write_yaml
        smith_user lock
        assert_status 0
        smith_user -b 1 -i online.tar.gz
        assert_status 0
        smith_offline -b 1 -i offline.tar.gz
        assert_status 0
        [ -z "$output" ] || fail "printed: $output"
        cmp online.tar.gz offline.tar.gz
}

@test "lock: a local .deb is locked by its sha256; another file under that name is refused" {
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" deb "$W/local-tool.deb" local-tool 2.0 "$ARCH" "Depends: greeter-data"
        write_yaml "[./local-tool.deb, base-thing]"
        smith_user lock
        assert_status 0
        [ "$(jq -r '.packages[] | select(.name == "local-tool") | .local' smith.lock)" = ./local-tool.deb ]
        [ "$(jq -r '.packages[] | select(.name == "local-tool") | .url' smith.lock)" = null ]
        smith_user
        assert_status 0
        rm image.tar.gz
        "$SMITH_SRC/tests/fixtures/deb-repo.sh" deb "$W/local-tool.deb" local-tool 2.1 "$ARCH" "Depends: greeter-data"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "package './local-tool.deb' is not the file smith.lock records"
        assert_clean_failure
}

# hostile_check JQ_FILTER MESSAGE: good.lock edited by the filter is refused
hostile_check() {
        jq "$1" good.lock >smith.lock
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "$2"
        assert_clean_failure
}

@test "lock: a hostile smith.lock is refused before anything is fetched (exit 3, one line)" {
        write_yaml
        smith_user lock
        assert_status 0
        cp smith.lock good.lock
        local port log
        port=$(free_port)
        log="$T/evil.log"
        "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T" "$port" >"$log" 2>&1 &
        service_add $! evil-http
        # a URL on a host smith.yaml does not name, outside its repository, up and out of it
        hostile_check "(.packages[] | select(.name == \"libgreet\")).url = \"http://127.0.0.1:$port/libgreet.deb\"" "its URL is not inside repository"
        hostile_check "(.packages[] | select(.name == \"libgreet\")).url = \"$URL/../evil/libgreet.deb\"" "its URL is not inside repository"
        hostile_check "(.packages[] | select(.name == \"libgreet\")).url = \"$URL/pool/%2e%2e/x.deb\"" "its URL is not inside repository"
        # a repository smith.yaml does not name, with the package's URL moved along
        hostile_check ".repositories[1].uri = \"http://127.0.0.1:$port\" | (.packages[] | select(.name == \"libgreet\")).url = \"http://127.0.0.1:$port/pool/x.deb\"" \
                "repository '$URL updates main' is not one the configuration names"
        # forms: sha256, names, versions, unknown keys, sizes, references, the version
        hostile_check '(.packages[] | select(.name == "libgreet")).digest = "sha256:ABC"' "packages[4]: 'digest': not a sha256 digest"
        hostile_check '.packages[0].name = "../x"' "packages[0]: 'name': not valid here"
        hostile_check '.packages[0].version = "1.0\n2"' "packages[0]: 'version': not valid here"
        hostile_check '.packages[0].extra = 1' "packages[0]: unknown key 'extra'"
        hostile_check '.packages[0].size = -1' "packages[0]: 'size': not a size"
        hostile_check '.packages[0].repository = "nowhere"' "'repository' names no entry of 'repositories'"
        hostile_check '.version = 2' "not a version 1 lock file"
        printf '{"version": 1, "version": 1}' >good.lock
        hostile_check '.' "smith.lock"
        printf '{"version": 1, "version": 1}' >smith.lock
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "duplicate"
        head -c 17000000 /dev/zero >smith.lock
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "smith.lock: larger than"
        ! grep -q GET "$log" || fail "the other host was asked: $(cat "$log")"
}

@test "lock: rpm packages are locked and built from the lock with the metadata gone, signatures still checked" {
        cat >smith.yaml <<EOF
package: hello-rpm
repos:
- name: test
  baseurl: $RURL
  gpgkey: file://$FIX/rpm/key.asc
  repo_gpgcheck: true
paths:
- /usr/bin/hello-rpm
- /usr/share
cmd: [/usr/bin/hello-rpm]
EOF
        smith_user -b 1 -i before.tar.gz
        assert_status 0
        smith_user lock
        assert_status 0
        [ "$(jq -r '.source' smith.lock)" = rpm ]
        [ "$(jq -r '.packages[] | select(.name == "libgreet") | .version' smith.lock)" = 1.1-1 ]
        [ "$(jq -r '.repositories[0].name' smith.lock)" = test ]
        rm -rf "$RREPO/repodata"
        fresh_cache
        smith_user -b 1 -i locked.tar.gz
        assert_status 0
        cmp before.tar.gz locked.tar.gz
        # another package under a locked one's name: the lock's checksum stops it
        cp "$RREPO"/decoy-1.0-1.noarch.rpm "$RREPO"/greeter-data-1.0-1.noarch.rpm
        fresh_cache
        smith_user -b 1 -i bad.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "greeter-data"
        [ ! -e bad.tar.gz ]
}

# write_rpm_yaml [MOCK KEYS...]: hello-rpm from the rpm repository, with mock keys
write_rpm_yaml() {
        {
                echo "package: hello-rpm"
                echo "repos:"
                echo "- name: test"
                echo "  baseurl: $RURL"
                echo "  gpgkey: file://$FIX/rpm/key.asc"
                if [ $# -gt 0 ]; then
                        echo "mock:"
                        for k in "$@"; do echo "  $k"; done
                fi
                echo "paths:"
                echo "- ${RPM_PATHS:-/usr/bin/hello-rpm}"
                echo "cmd: [/usr/bin/hello-rpm]"
        } >smith.yaml
}

@test "lock: mock.debuginfo pins the debuginfo root, and a locked build with the metadata gone is the unlocked one" {
        local bid dbg_digest
        bid=$(cat "$FIX/rpm/hello-rpm.build-id")
        write_rpm_yaml "debuginfo: true" "debugdeps: [decoy]" "debugpaths: [/usr/share/decoy]"
        smith_user -b 1 -i before.tar.gz
        assert_status 0
        $OCI ls before.tar.gz | grep -q "usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug" || fail "no debug file unlocked"
        fresh_cache
        smith_user lock
        assert_status 0
        # the debuginfo root: what was asked for, the debuginfo package of the
        # copied program, the debugdeps; hello-rpm's and libgreet's ELF files were copied
        run jq -r '.packages[] | select(.for == "debuginfo") | .name' smith.lock
        [ "$output" = "decoy
greeter-data
hello-rpm
hello-rpm-debuginfo
libgreet" ] || fail "debuginfo packages: $output"
        run jq -r '.packages[] | select(.for == null) | .name' smith.lock
        [ "$output" = "greeter-data
hello-rpm
libgreet" ] || fail "packages: $output"
        [ "$(jq -c '."debuginfo-of"' smith.lock)" = '["hello-rpm","libgreet"]' ] || fail "$(jq -c '."debuginfo-of"' smith.lock)"
        dbg_digest=$(jq -r '.packages[] | select(.name == "hello-rpm-debuginfo") | .digest' smith.lock)
        [ "$dbg_digest" = "sha256:$(sha256sum <"$RREPO/hello-rpm-debuginfo-1.0-1.$(uname -m).rpm" | cut -d' ' -f1)" ]
        # the debuginfo packages are resolved, not fetched
        [ ! -e "$U/cache/smith/blobs/sha256/${dbg_digest#sha256:}" ] || fail "lock fetched the debuginfo package"
        [ "$(jq -S . smith.lock)" = "$(cat smith.lock)" ] || fail "not pretty-printed with sorted keys"
        # no metadata, an empty cache: the same image, byte for byte
        rm -rf "$RREPO/repodata"
        fresh_cache
        smith_user -b 1 -i locked.tar.gz
        assert_status 0
        cmp before.tar.gz locked.tar.gz || fail "the locked build is not the unlocked one"
        # and offline, with the repository gone, from the cache
        rm -rf "$RREPO"
        smith_offline -b 1 -i offline.tar.gz
        assert_status 0
        cmp before.tar.gz offline.tar.gz
}

@test "lock: mock.debuginfo turned on after locking, or ELF files from other packages, ask for a new lock (exit 3)" {
        write_rpm_yaml
        smith_user lock
        assert_status 0
        [ "$(jq -r '."debuginfo-of"' smith.lock)" = null ]
        write_rpm_yaml "debuginfo: true"
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "smith.lock: does not cover this smith.yaml"
        assert_output_contains "run 'smith lock'"
        assert_clean_failure
        smith_user lock
        assert_status 0
        smith_user -i ok.tar.gz
        assert_status 0
        # paths that copy no ELF file: the lock's debuginfo root is not this build's
        RPM_PATHS=/usr/share write_rpm_yaml "debuginfo: true"
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "smith.lock: mock.debuginfo: the image's ELF files are not from the packages it was locked for: run 'smith lock --update'"
        assert_clean_failure
        smith_user lock --update
        assert_status 0
        [ "$(jq -c '."debuginfo-of"' smith.lock)" = '[]' ]
        [ -z "$(jq -r '.packages[] | select(.for == "debuginfo") | .name' smith.lock)" ]
        smith_user
        assert_status 0
}

@test "lock: a registry image is locked by its manifest digest; the tag moving on does not move the build" {
        export SOURCE_DATE_EPOCH=0
        registry_start
        mkdir -p a/rootfs/read b/rootfs/read
        printf '%s\n' "package: /" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >a/smith.yaml
        cp a/smith.yaml b/smith.yaml
        echo A >a/rootfs/read/data
        echo B >b/rootfs/read/data
        run "$SMITH" -d a -b a -i "$T/a.tar.gz"
        assert_status 0
        run "$SMITH" -d b -b b -i "$T/b.tar.gz"
        assert_status 0
        run "$SMITH" upload -r "http://$REG/team/cat:1" -i "$T/a.tar.gz"
        assert_status 0
        printf '%s\n' "package: http://$REG/team/cat:1" "paths: [/read/data]" >smith.yaml
        XDG_CACHE_HOME="$T/lock-cache" run "$SMITH" lock
        assert_status 0
        # lock pulled nothing
        [ -z "$(ls -A "$T/lock-cache/smith/blobs/sha256" 2>/dev/null)" ] || fail "lock pulled blobs"
        [ "$(jq -r '.source' smith.lock)" = oci ]
        [ "$(jq -r '.image.digest' smith.lock)" = "$(layout_manifest_digest "$T/a.tar.gz")" ]
        [ "$(jq -r '.image.reference' smith.lock)" = "http://$REG/team/cat:1" ]
        run "$SMITH" upload -r "http://$REG/team/cat:1" -i "$T/b.tar.gz"
        assert_status 0
        run "$SMITH" -b 1 -i locked.tar.gz
        assert_status 0
        [ "$($OCI cat locked.tar.gz read/data)" = A ] || fail "the locked build took the new image"
        mv smith.lock aside.lock
        run "$SMITH" -b 1 -i unlocked.tar.gz
        assert_status 0
        [ "$($OCI cat unlocked.tar.gz read/data)" = B ]
        mv aside.lock smith.lock
        run "$SMITH" lock --update
        assert_status 0
        [ "$(jq -r '.image.digest' smith.lock)" = "$(layout_manifest_digest "$T/b.tar.gz")" ]
        # a locked digest the registry does not have: one line, no image
        jq '.image.digest = "sha256:'"$(printf x | sha256sum | cut -d' ' -f1)"'"' smith.lock >x.lock
        mv x.lock smith.lock
        rm -rf "$XDG_CACHE_HOME/smith"
        run "$SMITH" -i gone.tar.gz
        assert_status 5
        assert_one_error_line
        assert_output_contains "smith.lock"
        [ ! -e gone.tar.gz ]
}

@test "lock: from a multi-platform index the lock pins this platform's manifest, not the index" {
        export SOURCE_DATE_EPOCH=0
        registry_start
        mkdir -p a/rootfs/read b/rootfs/read
        printf '%s\n' "package: /" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >a/smith.yaml
        cp a/smith.yaml b/smith.yaml
        echo A >a/rootfs/read/data
        echo B >b/rootfs/read/data
        run "$SMITH" -d a -b a -i "$T/a.tar.gz"
        assert_status 0
        run "$SMITH" -d b -b b -i "$T/b.tar.gz"
        assert_status 0
        # one layout: an index with A for another architecture and B for this one (listed second)
        unpack_layout "$T/a.tar.gz" "$T/multi"
        unpack_layout "$T/b.tar.gz" "$T/bl"
        cp -n "$T/bl/blobs/sha256/"* "$T/multi/blobs/sha256/"
        "$PYTHON" - "$T/multi" "$(layout_manifest_digest "$T/a.tar.gz")" "$(layout_manifest_digest "$T/b.tar.gz")" \
                "$(oci_arch)" <<'EOF'
import hashlib, json, os, sys
d, a, b, arch = sys.argv[1:]
mt = "application/vnd.oci.image.manifest.v1+json"
size = lambda dg: os.path.getsize(os.path.join(d, "blobs/sha256", dg.split(":")[1]))
other = "riscv64" if arch != "riscv64" else "s390x"
idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": mt, "digest": a, "size": size(a), "platform": {"os": "linux", "architecture": other}},
    {"mediaType": mt, "digest": b, "size": size(b), "platform": {"os": "linux", "architecture": arch}}]}).encode()
h = hashlib.sha256(idx).hexdigest()
open(os.path.join(d, "blobs/sha256", h), "wb").write(idx)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
           "digest": "sha256:" + h, "size": len(idx),
           "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, open(os.path.join(d, "index.json"), "w"))
EOF
        run skopeo copy --all --dest-tls-verify=false "oci:$T/multi:latest" "docker://$REG/team/multi:1"
        assert_status 0
        printf '%s\n' "package: http://$REG/team/multi:1" "paths: [/read/data]" >smith.yaml
        run "$SMITH" lock
        assert_status 0
        [ "$(jq -r '.image.digest' smith.lock)" = "$(layout_manifest_digest "$T/b.tar.gz")" ] ||
                fail "locked $(jq -r '.image.digest' smith.lock)"
        run "$SMITH" -b 1
        assert_status 0
        [ "$($OCI cat image.tar.gz read/data)" = B ]
}

@test "lock: a directory source locks only its kind; usage errors are exit 2" {
        write_cat_example
        run "$SMITH" lock
        assert_status 0
        [ "$(jq -r '.source' smith.lock)" = dir ]
        [ "$(jq -r '.packages | length' smith.lock)" = 0 ]
        run "$SMITH"
        assert_status 0
        # -c NAME.yaml locks into NAME.lock, and messages name it
        cp smith.yaml other.yaml
        run "$SMITH" lock -c other.yaml
        assert_status 0
        [ -f other.lock ]
        sed -i 's|^package: /$|package: rootfs|' other.yaml
        run "$SMITH" -c other.yaml -i other.tar.gz
        assert_status 3
        assert_one_error_line
        assert_output_contains "smith: other.lock: does not cover this smith.yaml"
        run "$SMITH" lock --nope
        assert_status 2
        assert_one_error_line
        assert_output_contains "lock: unknown option '--nope'"
        run "$SMITH" lock -h
        assert_status 0
        assert_output_contains "--update"
}
