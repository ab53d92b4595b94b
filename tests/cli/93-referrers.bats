#!/usr/bin/env bats
# OCI 1.1 artifacts (SBOMs, provenance) with `smith upload` and `smith
# download`: the referrers API (helpers/oci-registry.py, a minimal OCI 1.1
# registry) and the sha256-<hex> tag schema where a registry lacks it
# (Debian's docker-registry, distribution 2.8).  The layouts with artifacts
# are made by helpers/oci.py (add-referrers) from an image smith built; the
# other side is checked with curl, jq and oci.py, never with smith itself.

load helpers/common
# shellcheck source=helpers/registry.sh
source "$BATS_TEST_DIRNAME/helpers/registry.sh"

setup_file() {
        local d="$BATS_FILE_TMPDIR/cat-src"
        mkdir -p "$d/rootfs/read"
        printf '%s\n' "package: /" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >"$d/smith.yaml"
        printf 'Hello World!\n' >"$d/rootfs/read/data"
        XDG_CACHE_HOME="$BATS_FILE_TMPDIR/cache" "$SMITH" -d "$d" -b referrers-test -i "$BATS_FILE_TMPDIR/built.tar.gz"
        # without the artifacts smith writes (spec, provenance, SBOMs): these tests make their own
        CAT="$BATS_FILE_TMPDIR/cat.tar.gz"
        $OCI strip-referrers "$BATS_FILE_TMPDIR/built.tar.gz" "$CAT"
        ARTS="$BATS_FILE_TMPDIR/cat-artifacts.tar.gz"
        $OCI add-referrers "$CAT" "$ARTS"
        IMG=$(layout_manifest_digest "$CAT")
        BUILT="$BATS_FILE_TMPDIR/built.tar.gz"
        export CAT ARTS IMG BUILT
}

setup() {
        common_setup
        export SMITH_NET_RETRY_BASE_MS=10
        mkdir -p "$T/docker" "$T/run"
        export DOCKER_CONFIG="$T/docker" XDG_RUNTIME_DIR="$T/run"
        unset REGISTRY_AUTH_FILE SSL_CERT_FILE
}

teardown() {
        services_stop
        common_teardown
}

# oci_registry_start [OPTIONS...]: helpers/oci-registry.py on a free port
# (with those options: --page-size N ...); sets OREG, OREG_DATA, OREG_LOG.
oci_registry_start() {
        local port
        port=$(free_port)
        OREG_DATA="$T/oci-registry"
        OREG_LOG="$T/oci-registry.log"
        : >"$OREG_LOG"
        "$REG_PY" "$HELPERS/oci-registry.py" --listen "127.0.0.1:$port" --data "$OREG_DATA" --log "$OREG_LOG" "$@" \
                >"$T/oci-registry.out" 2>&1 3>&- &
        service_add $! oci-registry
        OREG="127.0.0.1:$port"
        wait_http "http://$OREG/v2/" || { cat "$T/oci-registry.out" >&2; return 1; }
}

# fallback_index HOST REPO: the index tagged sha256-<hex of $IMG>, or nothing.
fallback_index() {
        curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' \
                "http://$1/v2/$2/manifests/sha256-${IMG#sha256:}"
}

# nested_index FILE.tar.gz: the nested index that lists the image's artifacts.
nested_index() {
        layout_blob "$1" "$(layout_index "$1" | jq -r '.manifests[] | select(.annotations["vnd.smith.referrers"]) | .digest')"
}

# The digests an index lists, one a line, in its order.
listed() {
        jq -r '.manifests[].digest'
}

@test "upload: a registry without the referrers API gets the sha256-<hex> tag listing the artifacts" {
        registry_start
        run "$SMITH" upload -r "http://$REG/t/cat:1" -i "$ARTS"
        assert_status 0
        fallback_index "$REG" t/cat >idx.json || fail "no tag sha256-${IMG#sha256:}"
        [ "$(jq -r .mediaType idx.json)" = application/vnd.oci.image.index.v1+json ] || fail "$(cat idx.json)"
        # exactly what the layout lists, in its order, with artifactType and annotations
        nested_index "$ARTS" | jq -S .manifests >want.json
        jq -S .manifests idx.json >got.json
        diff want.json got.json || fail "tag index differs from the layout's"
        [ "$(listed <idx.json | wc -l)" = 3 ] || fail "$(cat idx.json)"
        # every artifact manifest is there, byte for byte, naming the image as its subject
        for d in $(listed <idx.json); do
                curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
                        "http://$REG/v2/t/cat/manifests/$d" >m.json || fail "artifact $d not in the registry"
                [ "$(sha256_stdin <m.json)" = "$d" ] || fail "artifact $d differs"
                [ "$(jq -r .subject.digest m.json)" = "$IMG" ] || fail "artifact $d subject"
                for b in $(jq -r '.config.digest, .layers[].digest' m.json); do
                        [ "$(curl -sf "http://$REG/v2/t/cat/blobs/$b" | sha256_stdin)" = "$b" ] || fail "blob $b"
                done
        done
        # the image itself as without artifacts
        [ "$(skopeo_raw "docker://$REG/t/cat:1" | sha256_stdin)" = "$IMG" ] || fail "image manifest differs"
}

@test "upload: twice adds nothing; other artifacts of the image are added after the ones the tag has" {
        registry_start
        run "$SMITH" upload -r "http://$REG/t/cat:1" -i "$ARTS"
        assert_status 0
        fallback_index "$REG" t/cat | listed >first
        run "$SMITH" upload -r "http://$REG/t/cat:1" -i "$ARTS"
        assert_status 0
        fallback_index "$REG" t/cat | listed >second
        diff first second || fail "a second upload changed the tag"
        [ "$(wc -l <second)" = 3 ] || fail "$(cat second)"
        $OCI add-referrers "$CAT" other.tar.gz latest --name other-documents
        run "$SMITH" upload -r "http://$REG/t/cat:2" -i other.tar.gz
        assert_status 0
        fallback_index "$REG" t/cat | listed >third
        [ "$(wc -l <third)" = 6 ] || fail "$(cat third)"
        [ "$(head -3 third)" = "$(cat first)" ] || fail "the existing entries were not kept first: $(cat third)"
        [ "$(sort -u third | wc -l)" = 6 ] || fail "duplicates: $(cat third)"
}

@test "download: the artifacts come back from the sha256-<hex> tag, byte-identical, as the layout keeps them" {
        registry_start
        run "$SMITH" upload -r "http://$REG/t/cat:latest" -i "$ARTS"
        assert_status 0
        run "$SMITH" download -r "http://$REG/t/cat:latest" -i got.tar.gz
        assert_status 0
        [ "$(layout_manifest_digest got.tar.gz)" = "$IMG" ] || fail "image digest differs"
        $OCI artifacts "$ARTS" >want
        $OCI artifacts got.tar.gz >got || fail "$(cat got)"
        diff want got || fail "artifacts differ"
        [ "$(wc -l <got)" = 3 ] || fail "$(cat got)"
        run $OCI verify got.tar.gz
        assert_status 0
        # index.json: the image, then the nested index annotated with its digest
        [ "$(layout_index got.tar.gz | jq -r '.manifests[1].annotations["vnd.smith.referrers"]')" = "$IMG" ] &&
                [ "$(layout_index got.tar.gz | jq -r '.manifests[0].digest')" = "$IMG" ] ||
                fail "$(layout_index got.tar.gz)"
        # and it goes up again as it came
        run "$SMITH" upload -r "http://$REG/t/again:1" -i got.tar.gz
        assert_status 0
        diff <(fallback_index "$REG" t/cat | jq -S .manifests) <(fallback_index "$REG" t/again | jq -S .manifests) ||
                fail "re-upload lists other artifacts"
}

@test "a smith build's SBOMs and provenance go up with the image and come back with it, byte for byte" {
        registry_start
        run "$SMITH" upload -r "http://$REG/t/built:1" -i "$BUILT"
        assert_status 0
        local img
        img=$(layout_manifest_digest "$BUILT")
        run curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' \
                "http://$REG/v2/t/built/manifests/sha256-${img#sha256:}"
        assert_status 0
        for t in application/spdx+json application/vnd.cyclonedx+json application/vnd.smith.provenance+json; do
                jq -e --arg t "$t" '.manifests[] | select(.artifactType == $t)' <<<"$output" >/dev/null ||
                        fail "the tag lists no $t: $output"
        done
        run "$SMITH" download -r "http://$REG/t/built:1" -i got.tar.gz
        assert_status 0
        for f in spdx cyclonedx; do
                "$SMITH" sbom -f "$f" "$BUILT" >"want.$f"
                "$SMITH" sbom -f "$f" got.tar.gz >"got.$f" || fail "no $f SBOM after download"
                cmp "want.$f" "got.$f"
        done
        run "$SMITH" inspect got.tar.gz /usr/bin/cat
        assert_status 0
        assert_output_contains "paths"
}

@test "upload and download: an image without artifacts behaves as before (no tag, no nested index)" {
        registry_start
        run "$SMITH" upload -r "http://$REG/t/plain:1" -i "$CAT"
        assert_status 0
        [ -z "$output" ] || fail "$output"
        run fallback_index "$REG" t/plain
        [ "$status" -ne 0 ] || fail "a sha256-<hex> tag was written: $output"
        run "$SMITH" download -r "http://$REG/t/plain:1" -i got.tar.gz
        assert_status 0
        [ -z "$output" ] || fail "$output"
        [ "$(layout_index got.tar.gz | jq '.manifests | length')" = 1 ] || fail "$(layout_index got.tar.gz)"
}

@test "upload -d: the artifacts name the OCI manifest, so they are left out with a warning" {
        registry_start
        run "$SMITH" upload -d -r "http://$REG/t/docker:1" -i "$ARTS"
        assert_status 0
        assert_output_contains "3 artifacts not uploaded"
        run fallback_index "$REG" t/docker
        [ "$status" -ne 0 ] || fail "a sha256-<hex> tag was written: $output"
}

@test "upload: a layout artifact whose subject is another manifest is refused before anything is pushed" {
        oci_registry_start
        $OCI add-referrers "$CAT" bad.tar.gz latest --subject "sha256:$(printf x | sha256sum | cut -d' ' -f1)"
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i bad.tar.gz
        assert_status 4
        assert_one_error_line
        assert_output_contains "not to the image '$IMG'"
        ! grep -q '^PUT' "$OREG_LOG" || fail "pushed: $(cat "$OREG_LOG")"
}

@test "referrers API: upload pushes the artifacts and writes no sha256-<hex> tag" {
        oci_registry_start
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$ARTS"
        assert_status 0
        [ "$(grep -c '^PUT /v2/t/cat/manifests/sha256:' "$OREG_LOG")" = 3 ] || fail "$(cat "$OREG_LOG")"
        ! grep -q "manifests/sha256-" "$OREG_LOG" || fail "the tag schema was used: $(cat "$OREG_LOG")"
        [ ! -e "$OREG_DATA/tags/t_cat/sha256-${IMG#sha256:}" ] || fail "fallback tag written"
        curl -sf "http://$OREG/v2/t/cat/referrers/$IMG" | listed >got
        nested_index "$ARTS" | listed >want
        diff want got || fail "the registry lists other referrers"
}

@test "referrers API: download keeps the artifacts, byte-identical, without asking for the tag" {
        oci_registry_start
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$ARTS"
        assert_status 0
        : >"$OREG_LOG"
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_status 0
        grep -q "^GET /v2/t/cat/referrers/$IMG 200" "$OREG_LOG" || fail "$(cat "$OREG_LOG")"
        ! grep -q "manifests/sha256-" "$OREG_LOG" || fail "the tag schema was asked: $(cat "$OREG_LOG")"
        $OCI artifacts "$ARTS" >want
        $OCI artifacts got.tar.gz 1 >got || fail "$(cat got)"
        diff want got || fail "artifacts differ"
        run $OCI verify got.tar.gz
        assert_status 0
        # the nested index is no second image: the only one is picked without a tag
        run "$SMITH" upload -r "http://$OREG/t/copy:1" -i got.tar.gz
        assert_status 0
        [ "$(curl -sf "http://$OREG/v2/t/copy/referrers/$IMG" | listed | wc -l)" = 3 ] || fail "not re-uploaded"
}

@test "referrers API: an image nobody refers to downloads without a nested index" {
        oci_registry_start
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$CAT"
        assert_status 0
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_status 0
        [ "$(layout_index got.tar.gz | jq '.manifests | length')" = 1 ] || fail "$(layout_index got.tar.gz)"
}

@test "referrers API: an answer in three pages (Link rel=next) is read whole, every artifact kept" {
        oci_registry_start --page-size 1
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$ARTS"
        assert_status 0
        [ "$(curl -sf "http://$OREG/v2/t/cat/referrers/$IMG" | listed | wc -l)" = 1 ] || fail "the registry does not page"
        : >"$OREG_LOG"
        run "$SMITH" download -v -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_status 0
        [ "$(grep -c "^GET /v2/t/cat/referrers/$IMG.* 200$" "$OREG_LOG")" = 3 ] || fail "$(cat "$OREG_LOG")"
        grep -q "^GET /v2/t/cat/referrers/$IMG?n=1&last=sha256:[0-9a-f]* 200" "$OREG_LOG" || fail "$(cat "$OREG_LOG")"
        ! grep -q "manifests/sha256-" "$OREG_LOG" || fail "the tag schema was asked: $(cat "$OREG_LOG")"
        $OCI artifacts "$ARTS" >want
        $OCI artifacts got.tar.gz 1 >got || fail "$(cat got)"
        diff want got || fail "artifacts differ"
        run $OCI verify got.tar.gz
        assert_status 0
}

@test "referrers API: a next page on another host is not followed (credentials stay home); the first page is kept" {
        local port log
        port=$(free_port)
        log="$T/elsewhere.log"
        "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T" "$port" >"$log" 2>&1 &
        service_add $! elsewhere
        wait_http "http://127.0.0.1:$port/"
        : >"$log"
        oci_registry_start --page-size 1 --next-base "http://127.0.0.1:$port"
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$ARTS"
        assert_status 0
        run "$SMITH" download -r "http://user:secret@$OREG/t/cat:1" -i got.tar.gz
        assert_status 0
        assert_output_contains "warning: referrers: the next page is not on 'http://$OREG' ('http://127.0.0.1:$port/v2/t/cat/referrers/$IMG?n=1&last="
        assert_output_contains "not followed"
        ! grep -q "GET" "$log" || fail "the other host was asked: $(cat "$log")"
        [ "$(nested_index got.tar.gz | listed)" = "$(nested_index "$ARTS" | listed | head -n1)" ] ||
                fail "not the first page's artifact: $(nested_index got.tar.gz)"
}

@test "hostile: referrers pages that link back to an earlier one are refused" {
        oci_registry_start --page-size 1 --link-loop
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$ARTS"
        assert_status 0
        : >"$OREG_LOG"
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_refused "referrers: page 1 links back to a page read before"
        [ "$(grep -c "/referrers/" "$OREG_LOG")" = 1 ] || fail "$(cat "$OREG_LOG")"
}

@test "hostile: 256 artifacts at most, all pages together" {
        oci_registry_start --page-size 100
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$CAT"
        assert_status 0
        $PYTHON -c '
import hashlib, json, sys
m = [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json",
      "digest": "sha256:" + hashlib.sha256(str(i).encode()).hexdigest(), "size": 100} for i in range(300)]
json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": m}, sys.stdout)
' >"$OREG_DATA/override/${IMG#sha256:}"
        : >"$OREG_LOG"
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_refused "referrers: more than 256 artifacts"
        [ "$(grep -c "/referrers/" "$OREG_LOG")" = 3 ] || fail "$(cat "$OREG_LOG")"
        ! grep -q "/manifests/sha256:" "$OREG_LOG" || fail "a manifest was fetched: $(cat "$OREG_LOG")"
}

# assert_refused MESSAGE: the last download failed with exit 5 and one line
# holding MESSAGE, and wrote nothing.
assert_refused() {
        assert_status 5
        assert_one_error_line
        assert_output_contains "$1"
        [ ! -e got.tar.gz ] || fail "got.tar.gz was written"
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
}

@test "hostile: a referrers answer listing an artifact of another image is refused" {
        oci_registry_start
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$ARTS"
        assert_status 0
        # an artifact manifest the registry has, whose subject is another digest
        other="sha256:$(printf x | sha256sum | cut -d' ' -f1)"
        $OCI add-referrers "$CAT" bad.tar.gz latest --subject "$other" --name bad
        nested_index bad.tar.gz >answer.json
        d=$(jq -r '.manifests[0].digest' answer.json)
        layout_blob bad.tar.gz "$d" >"$OREG_DATA/manifests/${d#sha256:}"
        cp answer.json "$OREG_DATA/override/${IMG#sha256:}"
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_refused "artifact '$d' refers to '$other', not to the image '$IMG'"
}

@test "hostile: an artifact manifest that does not match its digest is refused" {
        oci_registry_start
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$ARTS"
        assert_status 0
        d=$(curl -sf "http://$OREG/v2/t/cat/referrers/$IMG" | jq -r '.manifests[1].digest')
        f="$OREG_DATA/manifests/${d#sha256:}"
        # the same subject, one annotation changed: another digest
        jq -c '.annotations["org.opencontainers.image.created"] = "2000-01-01T00:00:00Z"' "$f" >tampered
        size=$(stat -c %s "$f")
        head -c "$size" tampered >"$f"
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_refused "does not match its digest"
}

@test "hostile: a referrers answer with too many artifacts is refused" {
        oci_registry_start
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$CAT"
        assert_status 0
        $PYTHON -c '
import hashlib, json, sys
m = [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json",
      "digest": "sha256:" + hashlib.sha256(str(i).encode()).hexdigest(), "size": 100} for i in range(300)]
json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": m}, sys.stdout)
' >"$OREG_DATA/override/${IMG#sha256:}"
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_refused "more than 256 artifacts"
}

@test "hostile: artifacts whose blobs claim more than 4 GiB together are refused before any is fetched" {
        oci_registry_start
        run "$SMITH" upload -r "http://$OREG/t/cat:1" -i "$CAT"
        assert_status 0
        : >"$OREG_LOG"
        IMG="$IMG" DATA="$OREG_DATA" $PYTHON -c '
import hashlib, json, os
img, data = os.environ["IMG"], os.environ["DATA"]
listed = []
for i in range(5):
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "artifactType": "application/spdx+json",
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                               "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                               "size": 2},
                    "layers": [{"mediaType": "application/spdx+json",
                                "digest": "sha256:" + hashlib.sha256(b"%d" % i).hexdigest(), "size": 1 << 30}],
                    "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": img,
                                "size": 1}}).encode()
    d = hashlib.sha256(m).hexdigest()
    open(os.path.join(data, "manifests", d), "wb").write(m)
    listed.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + d,
                   "size": len(m), "artifactType": "application/spdx+json"})
json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": listed},
          open(os.path.join(data, "override", img.split(":")[1]), "w"))
'
        run "$SMITH" download -r "http://$OREG/t/cat:1" -i got.tar.gz
        assert_refused "more than 4294967296 bytes of blobs"
        ! grep -q "blobs/sha256:44136fa" "$OREG_LOG" || fail "a blob was fetched: $(cat "$OREG_LOG")"
}
