#!/usr/bin/env bats
# `smith upload`, `smith download` and `package:` from a registry, against
# real registries: Debian's docker-registry (distribution 2.8) on 127.0.0.1,
# plain http, TLS with a self-signed certificate, htpasswd Basic auth, token
# auth (helpers/token-server.py), and a fault-injecting proxy
# (helpers/fault-proxy.py).  skopeo is the reference client on the other
# side.  See helpers/registry.sh.

load helpers/common
# shellcheck source=helpers/registry.sh
source "$BATS_TEST_DIRNAME/helpers/registry.sh"

# One small runnable image for every test: cat from this machine, built by
# smith (one gzip layer, OCI media types).
setup_file() {
        local d="$BATS_FILE_TMPDIR/cat-src"
        mkdir -p "$d/rootfs/read"
        cat >"$d/smith.yaml" <<'EOF'
package: /
paths:
- /usr/bin/cat
cmd:
- /usr/bin/cat
- /read/data
EOF
        printf 'Hello World!\n' >"$d/rootfs/read/data"
        XDG_CACHE_HOME="$BATS_FILE_TMPDIR/cache" "$SMITH" -d "$d" -b registry-test -i "$BATS_FILE_TMPDIR/cat.tar.gz"
        CAT="$BATS_FILE_TMPDIR/cat.tar.gz"
        TINY=$(fixture tiny-image)
        export CAT TINY
}

setup() {
        common_setup
        export SMITH_NET_RETRY_BASE_MS=10
        # no credentials but the ones a test gives
        mkdir -p "$T/docker" "$T/run"
        export DOCKER_CONFIG="$T/docker" XDG_RUNTIME_DIR="$T/run"
        unset REGISTRY_AUTH_FILE SSL_CERT_FILE CRED_TEST_SERVER
}

teardown() {
        services_stop
        common_teardown
}

ok() {
        run "$@"
        assert_status 0
}

yaml_cat() {
        printf '%s\n' "package: $1" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat, /read/data]" >smith.yaml
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
}

# assert_runs IMAGE [TAG]: the image prints Hello World! with runc.
assert_runs() {
        run run_image ${2:+--ref "$2"} "$1"
        assert_status 0
        [ "$output" = "Hello World!" ] || fail "got: $output"
}

# assert_same_layers A B [TAG_A [TAG_B]]
assert_same_layers() {
        local a b
        a=$(layout_layers "$1" "${3:-latest}")
        b=$(layout_layers "$2" "${4:-latest}")
        [ -n "$a" ] || fail "no layers in $1"
        [ "$a" = "$b" ] || fail "layers differ: $a vs $b"
}

# The blob files of the cache's store, each checked against its name.
assert_cache_blobs_valid() {
        local f
        for f in "$XDG_CACHE_HOME"/smith/blobs/sha256/*; do
                [ -e "$f" ] || continue
                [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || fail "cache blob $f is corrupt"
        done
}

# --- plain http ---

@test "upload then download over http: same digests, quiet, the download runs and builds" {
        registry_start
        run "$SMITH" upload -r "http://$REG/smith/cat:1.0" -i "$CAT"
        assert_status 0
        [ -z "$output" ] || fail "upload printed (not a TTY, no -v): $output"
        # the registry holds the file's manifest byte for byte
        [ "$(skopeo_raw "docker://$REG/smith/cat:1.0" | sha256_stdin)" = "$(layout_manifest_digest "$CAT")" ]

        run "$SMITH" download -r "http://$REG/smith/cat:1.0" -i got.tar.gz
        assert_status 0
        [ -z "$output" ] || fail "download printed: $output"
        assert_same_layers "$CAT" got.tar.gz latest 1.0
        [ "$(layout_manifest_digest got.tar.gz 1.0)" = "$(layout_manifest_digest "$CAT")" ]
        layout_index got.tar.gz | jq -e --arg a "$(oci_arch)" \
                '.manifests | length == 2 and .[0].platform.architecture == $a and .[0].platform.os == "linux"
                 and .[0].mediaType == "application/vnd.oci.image.manifest.v1+json"
                 and .[1].annotations["vnd.smith.referrers"] == .[0].digest' >/dev/null ||
                fail "index.json: the image, then its artifacts: $(layout_index got.tar.gz)"
        mkdir layout
        tar -C layout -xzf got.tar.gz
        ok oci-image-tool validate --type image --ref name=1.0 layout
        assert_runs got.tar.gz 1.0

        # the download is a package: like a build's output
        mkdir b && cd b
        yaml_cat ../got.tar.gz:1.0
        ok "$SMITH"
        assert_runs image.tar.gz
}

@test "package: http://host/repo:tag builds from the registry; the tag and the default latest" {
        registry_start
        ok "$SMITH" upload -r "http://$REG/team/cat:2" -i "$CAT"
        ok "$SMITH" upload -r "http://$REG/team/cat" -i "$CAT"
        yaml_cat "http://$REG/team/cat:2"
        ok "$SMITH"
        assert_runs image.tar.gz
        rm image.tar.gz
        yaml_cat "http://$REG/team/cat"
        ok "$SMITH" -i latest.tar.gz
        assert_runs latest.tar.gz
        # a tag that is not there: a registry error naming it
        yaml_cat "http://$REG/team/cat:nope"
        run "$SMITH" -i nope.tar.gz
        assert_status 5
        assert_one_error_line
        assert_output_contains "nope"
        [ ! -e nope.tar.gz ]
}

@test "package: from a registry keeps the unpack limits: a bomb is exit 4, nothing of it left" {
        registry_start
        "$PYTHON" "$SMITH_SRC/tests/fixtures/bombs.py" "$T/bombs" >/dev/null
        ok "$SMITH" upload -r "http://$REG/team/bomb" -i "$T/bombs/entry.tar"
        printf '%s\n' "package: http://$REG/team/bomb" "paths: [/etc/hostname]" >smith.yaml
        SMITH_MAX_ENTRY=100M run "$SMITH"
        assert_status 4
        assert_one_error_line
        assert_output_contains "entry 'big' is larger than the 100 MiB limit (--max-entry, SMITH_MAX_ENTRY)"
        [ -z "$(ls -A "$XDG_CACHE_HOME/smith/tmp")$(ls -A "$XDG_CACHE_HOME/smith/roots")" ] || fail "left in the cache"
        [ ! -e image.tar.gz ]
        run "$SMITH" --max-unpacked 100M
        assert_status 4
        assert_output_contains "the image unpacks to more than 100 MiB (--max-unpacked, SMITH_MAX_UNPACKED)"
}

@test "-f rebuilds from the image the last pull resolved to, without the registry" {
        export SOURCE_DATE_EPOCH=0 # the same created annotation, whatever the clock says between builds
        registry_start
        ok "$SMITH" upload -r "http://$REG/team/cat:f" -i "$CAT"
        yaml_cat "http://$REG/team/cat:f"
        ok "$SMITH" -b 1 -i first.tar.gz
        services_stop
        # the registry is gone: a plain build must ask it and fail ...
        run "$SMITH" -b 1 -i gone.tar.gz
        assert_status 5
        [ ! -e gone.tar.gz ]
        # ... while -f uses what the last pull left in the cache
        ok "$SMITH" -f -b 1 -i fast.tar.gz
        cmp first.tar.gz fast.tar.gz || fail "-f built different bytes"
}

@test "-v prints one line per blob; without a scheme https is implied (plain http registry fails)" {
        registry_start
        run "$SMITH" upload -v -r "http://$REG/v/cat:1" -i "$CAT"
        assert_status 0
        local n
        n=$(printf '%s\n' "$output" | grep -c . || true)
        [ "$n" -ge 2 ] || fail "expected a line per blob (layer, config), got: $output"
        run "$SMITH" download -v -r "http://$REG/v/cat:1" -i got.tar.gz
        assert_status 0
        n=$(printf '%s\n' "$output" | grep -c . || true)
        [ "$n" -ge 2 ] || fail "expected a line per blob, got: $output"
        # "host:port/repo:tag" means https: this registry speaks http only
        run "$SMITH" download -r "$REG/v/cat:1" -i https.tar.gz
        assert_status 5
        assert_one_error_line
        [ ! -e https.tar.gz ]
}

@test "on a terminal, download shows per-blob progress (bytes and rate)" {
        registry_start
        ok "$SMITH" upload -r "http://$REG/team/cat:tty" -i "$CAT"
        # a cache of its own, so the blobs are fetched; script(1) gives smith a
        # pseudo-terminal (piped, as in every other test, it is quiet)
        export XDG_CACHE_HOME="$T/tty-cache"
        run script -qefc "$SMITH download -r http://$REG/team/cat:tty -i tty.tar.gz" /dev/null
        assert_status 0
        assert_output_contains "sha256:"
        assert_output_contains "/s"
        [ -f tty.tar.gz ]
}

@test "upload -i file:tag picks the tagged image; an unknown tag is exit 4" {
        registry_start
        local L="$T/two"
        umoci init --layout "$L"
        umoci new --image "$L:a"
        umoci new --image "$L:b"
        umoci config --image "$L:b" --config.cmd /marker-b
        tar -C "$L" -czf two.tar.gz oci-layout index.json blobs
        ok "$SMITH" upload -r "http://$REG/two/img:x" -i two.tar.gz:b
        [ "$(skopeo_raw "docker://$REG/two/img:x" | sha256_stdin)" = "$(layout_manifest_digest two.tar.gz b)" ]
        [ "$(layout_manifest_digest two.tar.gz a)" != "$(layout_manifest_digest two.tar.gz b)" ]
        run "$SMITH" upload -r "http://$REG/two/img:y" -i two.tar.gz:c
        assert_status 4
        assert_one_error_line
        assert_output_contains "'c'"
}

@test "usage errors are exit 2 with one line; -h prints the flags" {
        run "$SMITH" upload -i x.tar.gz
        assert_status 2
        assert_one_error_line
        run "$SMITH" download
        assert_status 2
        assert_one_error_line
        run "$SMITH" download -r http://127.0.0.1:1/x --platform amd64
        assert_status 2
        assert_one_error_line
        run "$SMITH" upload --bogus
        assert_status 2
        assert_one_error_line
        run "$SMITH" upload -h
        assert_status 0
        assert_output_contains "--docker"
        assert_output_contains "--ca-file"
        run "$SMITH" download --help
        assert_status 0
        assert_output_contains "--platform"
        run "$SMITH" download -r 'https:///nothing'
        assert_status 2
        assert_one_error_line
        # the same in smith.yaml is a bad package (exit 4)
        printf '%s\n' 'package: "https:///nothing"' 'paths: [/x]' >smith.yaml
        run "$SMITH"
        assert_status 4
        assert_one_error_line
}

@test "an 80 MB layer streams through: upload (chunked) and download stay under 64 MiB RSS" {
        registry_start
        local L="$T/big"
        umoci init --layout "$L"
        umoci new --image "$L:latest"
        mkdir -p "$T/l/data"
        head -c $((80 * 1024 * 1024)) /dev/urandom >"$T/l/data/random"
        tar -C "$T/l" -cf "$T/l.tar" data
        umoci raw add-layer --image "$L:latest" "$T/l.tar"
        rm -rf "$T/l" "$T/l.tar"
        tar -C "$L" -cf big.tar oci-layout index.json blobs
        run /usr/bin/time -f '%M' -o "$T/up.rss" "$SMITH" upload -r "http://$REG/big/img:1" -i big.tar
        assert_status 0
        [ "$(skopeo_raw "docker://$REG/big/img:1" | sha256_stdin)" = "$(jq -r '.manifests[0].digest' "$L/index.json")" ]
        run env XDG_CACHE_HOME="$T/cache2" /usr/bin/time -f '%M' -o "$T/down.rss" "$SMITH" download \
                -r "http://$REG/big/img:1" -i got.tar.gz
        assert_status 0
        [ "$(layout_layers got.tar.gz 1)" = "$(tar -xOf big.tar "blobs/sha256/$(jq -r '.manifests[0].digest' "$L/index.json" | cut -d: -f2)" | jq -r '.layers[].digest')" ]
        [ "$(tail -n 1 "$T/up.rss")" -lt 65536 ] || fail "upload peak RSS $(tail -n 1 "$T/up.rss") KiB"
        [ "$(tail -n 1 "$T/down.rss")" -lt 65536 ] || fail "download peak RSS $(tail -n 1 "$T/down.rss") KiB"
}

# --- TLS and Basic auth ---

@test "TLS: self-signed needs -k, --ca-file or SSL_CERT_FILE; Basic auth with a percent-encoded password" {
        local pass='p@ss:w/rd%1' enc='p%40ss%3Aw%2Frd%251'
        registry_start --tls --htpasswd smith "$pass"
        local url="https://smith:$enc@$REG/team/cat:1.0"

        # not trusted: a clear TLS error, exit 5, nothing uploaded
        run "$SMITH" upload -r "$url" -i "$CAT"
        assert_status 5
        assert_one_error_line
        grep -qi 'certificate' <<<"$output" || fail "no TLS/certificate error: $output"
        [[ "$output" != *"$enc"* && "$output" != *"$pass"* ]] || fail "password printed: $output"

        ok "$SMITH" upload -k -r "$url" -i "$CAT"
        ok "$SMITH" download --ca-file "$REG_CERT" -r "$url" -i ca.tar.gz
        assert_same_layers "$CAT" ca.tar.gz latest 1.0
        run env SSL_CERT_FILE="$REG_CERT" "$SMITH" download -r "$url" -i env.tar.gz
        assert_status 0
        assert_same_layers "$CAT" env.tar.gz latest 1.0
        run "$SMITH" download -r "$url" -i none.tar.gz
        assert_status 5
        grep -qi 'certificate' <<<"$output" || fail "no TLS/certificate error: $output"
        [ ! -e none.tar.gz ]

        # no credentials, or wrong ones: refused, exit 5, the password never shown
        run "$SMITH" download -k -r "https://$REG/team/cat:1.0" -i anon.tar.gz
        assert_status 5
        assert_one_error_line
        [ ! -e anon.tar.gz ]
        run "$SMITH" download -k -r "https://smith:wrong-secret@$REG/team/cat:1.0" -i wrong.tar.gz
        assert_status 5
        assert_one_error_line
        [[ "$output" != *wrong-secret* ]] || fail "password printed: $output"

        # skopeo sees what smith pushed
        [ "$(skopeo_raw --creds "smith:$pass" "docker://$REG/team/cat:1.0" | sha256_stdin)" = "$(layout_manifest_digest "$CAT")" ]
}

@test "TLS: docker-style package: host:port/repo:tag with -k and credentials from a docker config.json" {
        registry_start --tls --htpasswd smith s3cret
        ok "$SMITH" upload -k -r "https://smith:s3cret@$REG/team/cat:1.0" -i "$CAT"
        printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf smith:s3cret | base64 -w0)" >"$DOCKER_CONFIG/config.json"
        yaml_cat "$REG/team/cat:1.0"
        # verification is on by default for a build too
        run "$SMITH"
        assert_status 5
        assert_one_error_line
        [ ! -e image.tar.gz ]
        ok "$SMITH" -k
        assert_runs image.tar.gz
}

# --- token auth ---

@test "token auth: credentials from the URL, a docker config.json and a credential helper" {
        token_keys
        token_start alice 's3cret!'
        registry_start --token "$TOKEN_URL"

        ok "$SMITH" upload -r "http://alice:s3cret%21@$REG/team/cat:1" -i "$CAT"
        grep -q 'user=alice scopes=repository:team/cat:.*push.* status=200' "$TOKEN_LOG" ||
                fail "no push token issued: $(cat "$TOKEN_LOG")"

        # anonymous: the issuer refuses, so does smith
        run "$SMITH" download -r "http://$REG/team/cat:1" -i anon.tar.gz
        assert_status 5
        assert_one_error_line
        [ ! -e anon.tar.gz ]

        # docker config.json "auths"
        printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf 'alice:s3cret!' | base64 -w0)" >"$DOCKER_CONFIG/config.json"
        ok "$SMITH" download -r "http://$REG/team/cat:1" -i conf.tar.gz
        assert_same_layers "$CAT" conf.tar.gz latest 1

        # "credHelpers": docker-credential-test on PATH
        printf '{"credHelpers":{"%s":"test"}}\n' "$REG" >"$DOCKER_CONFIG/config.json"
        export CRED_TEST_LOG="$T/cred.log" CRED_TEST_USER=alice CRED_TEST_SECRET='s3cret!'
        ok env PATH="$HELPERS:$PATH" "$SMITH" download -r "http://$REG/team/cat:1" -i helper.tar.gz
        assert_same_layers "$CAT" helper.tar.gz latest 1
        grep -q "^get .*$REG" "$CRED_TEST_LOG" || fail "helper not asked: $(cat "$CRED_TEST_LOG" 2>/dev/null)"
        # the helper's wrong secret is refused
        run env CRED_TEST_SECRET=nope PATH="$HELPERS:$PATH" "$SMITH" download -r "http://$REG/team/cat:1" -i bad.tar.gz
        assert_status 5
        [ ! -e bad.tar.gz ]

        # and a build pulls with the token too
        printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf 'alice:s3cret!' | base64 -w0)" >"$DOCKER_CONFIG/config.json"
        yaml_cat "http://$REG/team/cat:1"
        ok "$SMITH"
        assert_runs image.tar.gz
}

# The identity token of the tests below: characters that must be
# percent-encoded in the form, and a prefix no message would contain by chance.
IDT='idt-9f8e/7d+6c=5b&a%4'

# token_log_refresh_only: every token request so far was the refresh grant
# from client_id smith, without any Authorization header.
token_log_refresh_only() {
        ! grep -v '^POST grant=refresh_token client_id=smith auth=- ' "$TOKEN_LOG" ||
                fail "a token request other than the refresh grant: $(cat "$TOKEN_LOG")"
}

@test "identity token: config.json identitytoken is exchanged at the realm (POST refresh grant) for push and pull" {
        token_keys
        token_start alice 's3cret!' "$IDT"
        registry_start --token "$TOKEN_URL"
        printf '{"auths":{"%s":{"identitytoken":"%s"}}}\n' "$REG" "$IDT" >"$DOCKER_CONFIG/config.json"

        run "$SMITH" upload -r "http://$REG/team/cat:idt" -i "$CAT"
        assert_status 0
        [ -z "$output" ] || fail "upload printed: $output"
        grep -q '^POST grant=refresh_token client_id=smith auth=- scopes=repository:team/cat:.*push.* status=200$' \
                "$TOKEN_LOG" || fail "no push token from the refresh grant: $(cat "$TOKEN_LOG")"
        token_log_refresh_only
        [ "$(skopeo_raw --creds 'alice:s3cret!' "docker://$REG/team/cat:idt" | sha256_stdin)" = "$(layout_manifest_digest "$CAT")" ]

        : >"$TOKEN_LOG"
        ok "$SMITH" download -r "http://$REG/team/cat:idt" -i idt.tar.gz
        assert_same_layers "$CAT" idt.tar.gz latest idt
        grep -q '^POST grant=refresh_token .* scopes=repository:team/cat:pull status=200$' "$TOKEN_LOG" ||
                fail "no pull token from the refresh grant: $(cat "$TOKEN_LOG")"
        token_log_refresh_only

        # a build pulls with it too
        yaml_cat "http://$REG/team/cat:idt"
        ok "$SMITH"
        assert_runs image.tar.gz

        # a wrong identity token: refused by the realm, exit 5, one line, the
        # token never shown, and no falling back to the GET flow
        local wrong='idt-WRONG-5e4d3c2b1a'
        printf '{"auths":{"%s":{"identitytoken":"%s"}}}\n' "$REG" "$wrong" >"$DOCKER_CONFIG/config.json"
        : >"$TOKEN_LOG"
        run "$SMITH" download -r "http://$REG/team/cat:idt" -i wrong.tar.gz
        assert_status 5
        assert_one_error_line
        assert_output_contains "token"
        [[ "$output" != *idt-* && "$output" != *WRONG* ]] || fail "identity token printed: $output"
        [ ! -e wrong.tar.gz ]
        grep -q '^POST grant=refresh_token .* status=400$' "$TOKEN_LOG" || fail "no refused grant: $(cat "$TOKEN_LOG")"
        token_log_refresh_only
        run "$SMITH" upload -r "http://$REG/team/cat:wrong" -i "$CAT"
        assert_status 5
        assert_one_error_line
        [[ "$output" != *idt-* && "$output" != *WRONG* ]] || fail "identity token printed: $output"
}

@test "identity token: a credential helper answering Username <token> gives one" {
        token_keys
        token_start alice 's3cret!' "$IDT"
        registry_start --token "$TOKEN_URL"
        printf '{"credHelpers":{"%s":"test"}}\n' "$REG" >"$DOCKER_CONFIG/config.json"
        export CRED_TEST_LOG="$T/cred.log" CRED_TEST_USER='<token>' CRED_TEST_SECRET="$IDT"

        ok env PATH="$HELPERS:$PATH" "$SMITH" upload -r "http://$REG/team/cat:helper" -i "$CAT"
        ok env PATH="$HELPERS:$PATH" "$SMITH" download -r "http://$REG/team/cat:helper" -i helper.tar.gz
        assert_same_layers "$CAT" helper.tar.gz latest helper
        grep -q "^get .*$REG" "$CRED_TEST_LOG" || fail "helper not asked: $(cat "$CRED_TEST_LOG" 2>/dev/null)"
        grep -q '^POST grant=refresh_token client_id=smith auth=- scopes=repository:team/cat:.*push.* status=200$' \
                "$TOKEN_LOG" || fail "no push token from the refresh grant: $(cat "$TOKEN_LOG")"
        grep -q '^POST grant=refresh_token .* scopes=repository:team/cat:pull status=200$' "$TOKEN_LOG" ||
                fail "no pull token from the refresh grant: $(cat "$TOKEN_LOG")"
        # "<token>" is no username: it never reaches the GET flow's Basic credentials
        token_log_refresh_only

        # the helper's wrong identity token is refused, and not printed
        run env CRED_TEST_SECRET=idt-helper-WRONG PATH="$HELPERS:$PATH" "$SMITH" download \
                -r "http://$REG/team/cat:helper" -i bad.tar.gz
        assert_status 5
        assert_one_error_line
        [[ "$output" != *idt-* && "$output" != *WRONG* ]] || fail "identity token printed: $output"
        [ ! -e bad.tar.gz ]
}

# --- interoperability with skopeo ---

@test "skopeo pushes, smith downloads and builds from it: digests agree" {
        registry_start
        unpack_layout "$CAT" "$T/cat-layout"
        ok skopeo copy --insecure-policy --dest-tls-verify=false "oci:$T/cat-layout:latest" "docker://$REG/sk/cat:v1"
        local d
        d=$(skopeo_raw "docker://$REG/sk/cat:v1" | sha256_stdin)
        [ "$(skopeo inspect --tls-verify=false "docker://$REG/sk/cat:v1" | jq -r .Digest)" = "$d" ]
        ok "$SMITH" download -r "http://$REG/sk/cat:v1" -i got.tar.gz
        [ "$(layout_manifest_digest got.tar.gz v1)" = "$d" ] || fail "digest differs from skopeo's $d"
        assert_same_layers "$CAT" got.tar.gz latest v1
        assert_runs got.tar.gz v1
        yaml_cat "http://$REG/sk/cat:v1"
        ok "$SMITH"
        assert_runs image.tar.gz
}

@test "smith pushes, skopeo pulls: same manifest digest and layers" {
        registry_start
        ok "$SMITH" upload -r "http://$REG/sm/cat:v2" -i "$CAT"
        [ "$(skopeo inspect --tls-verify=false "docker://$REG/sm/cat:v2" | jq -r .Digest)" = "$(layout_manifest_digest "$CAT")" ]
        ok skopeo copy --insecure-policy --src-tls-verify=false "docker://$REG/sm/cat:v2" "oci:$T/pulled:v2"
        [ "$(jq -r '.manifests[0].digest' "$T/pulled/index.json")" = "$(layout_manifest_digest "$CAT")" ]
        tar -C "$T/pulled" -czf pulled.tar.gz oci-layout index.json blobs
        assert_same_layers "$CAT" pulled.tar.gz latest v2
        assert_runs pulled.tar.gz v2
}

@test "upload -d pushes Docker v2 media types; download turns them back into OCI" {
        registry_start
        ok "$SMITH" upload -d -r "http://$REG/dk/cat:1" -i "$CAT"
        skopeo_raw "docker://$REG/dk/cat:1" >"$T/raw"
        jq -e '.mediaType == "application/vnd.docker.distribution.manifest.v2+json"
               and .config.mediaType == "application/vnd.docker.container.image.v1+json"
               and ([.layers[].mediaType] | all(. == "application/vnd.docker.image.rootfs.diff.tar.gzip"))' \
                "$T/raw" >/dev/null || fail "not docker media types: $(cat "$T/raw")"
        # the registry serves it with that content type
        curl -sfI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
                "http://$REG/v2/dk/cat/manifests/1" | grep -qi '^content-type: application/vnd.docker.distribution.manifest.v2+json'

        ok "$SMITH" download -r "http://$REG/dk/cat:1" -i got.tar.gz
        layout_blob got.tar.gz "$(layout_manifest_digest got.tar.gz 1)" >"$T/m"
        jq -e '.mediaType == "application/vnd.oci.image.manifest.v1+json"
               and .config.mediaType == "application/vnd.oci.image.config.v1+json"
               and ([.layers[].mediaType] | all(. == "application/vnd.oci.image.layer.v1.tar+gzip"))' \
                "$T/m" >/dev/null || fail "not OCI media types: $(cat "$T/m")"
        assert_same_layers "$CAT" got.tar.gz latest 1
        assert_runs got.tar.gz 1
}

@test "a multi-arch index: the host's image by default, --platform linux/<other> picks the other" {
        registry_start
        local host other L="$T/other"
        host=$(oci_arch)
        other=arm64
        [ "$host" != arm64 ] || other=amd64
        # a tiny image whose config says the other architecture
        unpack_layout "$TINY" "$L"
        umoci config --image "$L:latest" --architecture "$other" --tag other
        unpack_layout "$CAT" "$T/cat-layout"
        ok skopeo copy --insecure-policy --dest-tls-verify=false "oci:$T/cat-layout:latest" "docker://$REG/multi/img:host"
        ok skopeo copy --insecure-policy --dest-tls-verify=false "oci:$L:other" "docker://$REG/multi/img:other"
        local hd hs od os
        skopeo_raw "docker://$REG/multi/img:host" >"$T/hm"
        skopeo_raw "docker://$REG/multi/img:other" >"$T/om"
        hd=$(sha256_stdin <"$T/hm")
        hs=$(stat -c %s "$T/hm")
        od=$(sha256_stdin <"$T/om")
        os=$(stat -c %s "$T/om")
        jq -n --arg hd "$hd" --argjson hs "$hs" --arg ha "$host" --arg od "$od" --argjson os "$os" --arg oa "$other" \
                '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
                   {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $od, size: $os,
                    platform: {architecture: $oa, os: "linux"}},
                   {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $hd, size: $hs,
                    platform: {architecture: $ha, os: "linux"}}]}' >"$T/index.json"
        run curl -sf -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
                --data-binary @"$T/index.json" "http://$REG/v2/multi/img/manifests/latest"
        assert_status 0
        [ "$output" = 201 ] || fail "index PUT: $output"

        ok "$SMITH" download -r "http://$REG/multi/img" -i host.tar.gz
        [ "$(layout_manifest_digest host.tar.gz)" = "$hd" ] || fail "not the host's image"
        layout_index host.tar.gz | jq -e --arg a "$host" '.manifests[0].platform.architecture == $a' >/dev/null
        assert_runs host.tar.gz

        ok "$SMITH" download --platform "linux/$other" -r "http://$REG/multi/img:latest" -i other.tar.gz
        [ "$(layout_manifest_digest other.tar.gz)" = "$od" ] || fail "not the $other image"
        layout_index other.tar.gz | jq -e --arg a "$other" '.manifests[0].platform.architecture == $a' >/dev/null

        run "$SMITH" download --platform linux/s390x -r "http://$REG/multi/img" -i none.tar.gz
        assert_status 5
        assert_one_error_line
        [ ! -e none.tar.gz ]

        # an index inside the index is not followed, and the error says so:
        # named by its platform, or without one
        local id is nd plat
        jq -n --arg hd "$hd" --argjson hs "$hs" --arg ha "$host" \
                '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
                   {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $hd, size: $hs,
                    platform: {architecture: $ha, os: "linux"}}]}' >"$T/inner.json"
        id=$(sha256_stdin <"$T/inner.json")
        is=$(stat -c %s "$T/inner.json")
        run curl -sf -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
                --data-binary @"$T/inner.json" "http://$REG/v2/multi/img/manifests/inner"
        [ "$output" = 201 ] || fail "inner index PUT: $output"
        for plat in "{\"architecture\": \"$host\", \"os\": \"linux\"}" null; do
                jq -n --arg id "$id" --argjson is "$is" --argjson p "$plat" \
                        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
                           {mediaType: "application/vnd.oci.image.index.v1+json", digest: $id, size: $is}
                           + (if $p then {platform: $p} else {} end)]}' >"$T/outer.json"
                nd=$(sha256_stdin <"$T/outer.json")
                run curl -sf -o /dev/null -w '%{http_code}' -X PUT \
                        -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
                        --data-binary @"$T/outer.json" "http://$REG/v2/multi/img/manifests/nested"
                [ "$output" = 201 ] || fail "outer index PUT: $output"
                run "$SMITH" download -r "http://$REG/multi/img:nested" -i nested.tar.gz
                assert_status 5
                assert_one_error_line
                assert_output_contains "index '$nd' -> index '$id': nested indexes are not followed (depth 2)"
                [ ! -e nested.tar.gz ]
        done

        yaml_cat "http://$REG/multi/img"
        ok "$SMITH"
        assert_runs image.tar.gz
}

# --- faults ---

# upload_elsewhere ARGS...: smith upload with a cache of its own, so that the
# test's cache is cold and a download fetches every blob.
upload_elsewhere() {
        run env XDG_CACHE_HOME="$T/upload-cache" "$SMITH" upload "$@"
        assert_status 0
}

@test "a connection dropped mid-blob is retried" {
        registry_start
        upload_elsewhere -r "http://$REG/f/cat:1" -i "$CAT"
        proxy_start "$REG" --drop-once
        ok "$SMITH" download -r "http://$PROXY/f/cat:1" -i got.tar.gz
        grep -q '^FAULT drop' "$PROXY_LOG" || fail "no drop happened: $(cat "$PROXY_LOG")"
        assert_same_layers "$CAT" got.tar.gz latest 1
        assert_cache_blobs_valid
        assert_runs got.tar.gz 1
}

@test "a 500 is retried" {
        registry_start
        upload_elsewhere -r "http://$REG/f/cat:1" -i "$CAT"
        proxy_start "$REG" --error-once 500
        ok "$SMITH" download -r "http://$PROXY/f/cat:1" -i got.tar.gz
        grep -q '^FAULT error 500' "$PROXY_LOG" || fail "no 500 happened: $(cat "$PROXY_LOG")"
        assert_same_layers "$CAT" got.tar.gz latest 1
        assert_cache_blobs_valid
}

@test "a flipped byte in a layer is detected: no output, nothing in the cache's blobs" {
        registry_start
        upload_elsewhere -r "http://$REG/f/cat:1" -i "$CAT"
        local layer
        layer=$(layout_layers "$CAT" | head -n 1)
        proxy_start "$REG" --flip "$layer"
        run "$SMITH" download -r "http://$PROXY/f/cat:1" -i got.tar.gz
        [ "$status" -ne 0 ] || fail "corrupt blob accepted"
        assert_status 5
        assert_one_error_line
        grep -q '^FAULT flip' "$PROXY_LOG" || fail "no flip happened: $(cat "$PROXY_LOG")"
        [ ! -e got.tar.gz ] || fail "output written"
        [ ! -e "$XDG_CACHE_HOME/smith/blobs/sha256/${layer#sha256:}" ] || fail "corrupt layer in the cache"
        assert_cache_blobs_valid
        [ -z "$(leftovers . "$TMPDIR")" ] || fail "left behind: $(leftovers . "$TMPDIR")"
        [ -z "$(ls -A "$XDG_CACHE_HOME/smith/tmp" 2>/dev/null)" ] || fail "left in the cache's tmp/: $(ls -A "$XDG_CACHE_HOME/smith/tmp")"
        # a build from it fails the same way
        yaml_cat "http://$PROXY/f/cat:1"
        run "$SMITH"
        assert_status 5
        [ ! -e image.tar.gz ]
        [ ! -e "$XDG_CACHE_HOME/smith/blobs/sha256/${layer#sha256:}" ] || fail "corrupt layer in the cache"
}

@test "a blob redirected to another host is fetched without the Authorization header" {
        registry_start --htpasswd smith s3cret
        upload_elsewhere -r "http://smith:s3cret@$REG/f/cat:1" -i "$CAT"
        local port
        port=$(free_port)
        proxy_start "$REG" --redirect "127.0.0.2:$port"
        ok "$SMITH" download -r "http://smith:s3cret@$PROXY/f/cat:1" -i got.tar.gz
        grep -q '^REDIRECT-TARGET GET /blob/' "$PROXY_LOG" || fail "no redirect followed: $(cat "$PROXY_LOG")"
        ! grep '^REDIRECT-TARGET' "$PROXY_LOG" | grep -qv 'authorization=-$' ||
                fail "credentials sent to the redirect target: $(grep '^REDIRECT-TARGET' "$PROXY_LOG")"
        assert_same_layers "$CAT" got.tar.gz latest 1
        assert_runs got.tar.gz 1
}
