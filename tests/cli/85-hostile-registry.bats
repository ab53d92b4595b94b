#!/usr/bin/env bats
# Registries and token realms that try to get credentials out of smith: an
# https registry whose challenge names a plain http realm, and an https
# realm that redirects the token request to plain http.  The user's
# credentials (Basic, or an identity token in the refresh grant's body) must
# never travel over plain http when the registry is https, -k or not (-k
# only skips certificate checks).  The realms are helpers/token-server.py,
# which records every request's headers (--headers-log).  See
# helpers/registry.sh.

load helpers/common
# shellcheck source=helpers/registry.sh
source "$BATS_TEST_DIRNAME/helpers/registry.sh"

setup_file() {
        local d="$BATS_FILE_TMPDIR/cat-src"
        mkdir -p "$d"
        printf '%s\n' "package: /" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat]" >"$d/smith.yaml"
        XDG_CACHE_HOME="$BATS_FILE_TMPDIR/cache" "$SMITH" -d "$d" -b hostile-registry -i "$BATS_FILE_TMPDIR/cat.tar.gz"
        CAT="$BATS_FILE_TMPDIR/cat.tar.gz"
        export CAT
}

setup() {
        common_setup
        export SMITH_REGISTRY_RETRY_BASE_MS=10
        mkdir -p "$T/docker" "$T/run"
        export DOCKER_CONFIG="$T/docker" XDG_RUNTIME_DIR="$T/run"
        unset REGISTRY_AUTH_FILE SSL_CERT_FILE CRED_TEST_SERVER
}

teardown() {
        services_stop
        common_teardown
}

IDT='idt-3c2b1a/secret+token'

# realm_start NAME PORT [token-server options...]: one more token-server.py
# on 127.0.0.1:PORT (alice / s3cret!, identity token $IDT), logging to
# $T/NAME.log and every request's headers to $T/NAME.headers.
realm_start() {
        local name=$1 port=$2 scheme=http
        shift 2
        case " $* " in *" --tls "*) scheme=https ;; esac
        : >"$T/$name.log"
        : >"$T/$name.headers"
        "$REG_PY" "$HELPERS/token-server.py" --listen "127.0.0.1:$port" --key "$T/token.key" --cert "$T/token.crt" \
                --issuer smith-test-issuer --service smith-test-registry --user alice --password 's3cret!' \
                --refresh-token="$IDT" --log "$T/$name.log" --headers-log "$T/$name.headers" "$@" \
                >"$T/$name.out" 2>&1 3>&- &
        service_add $! "$name"
        wait_http "$scheme://127.0.0.1:$port/health" -k || { cat "$T/$name.out" >&2; return 1; }
}

# assert_no_credentials NAME: realm NAME got no Authorization header and no
# request body at all.
assert_no_credentials() {
        if grep -qi '^  authorization:' "$T/$1.headers"; then
                fail "the realm '$1' got credentials: $(grep -i '^  authorization:' "$T/$1.headers")"
        fi
        if grep -v '^  body-bytes=0$' "$T/$1.headers" | grep -q '^  body-bytes='; then
                fail "the realm '$1' got a request body: $(cat "$T/$1.headers")"
        fi
}

# An https registry (self-signed, $REG_CERT) with token auth at realm URL $1,
# holding the cat image as team/cat:1 (pushed by skopeo, which does not mind
# the http realm).
registry_with_cat() {
        registry_start --tls --token "$1"
        unpack_layout "$CAT" "$T/cat-layout"
        run skopeo copy --insecure-policy --dest-tls-verify=false --dest-creds 'alice:s3cret!' \
                "oci:$T/cat-layout:latest" "docker://$REG/team/cat:1"
        assert_status 0
}

yaml_pkg() {
        printf '%s\n' "package: $1" "paths: [/usr/bin/cat]" "cmd: [/usr/bin/cat]" >smith.yaml
}

@test "an https registry naming a plain http token realm gets no credentials: download and build refuse, exit 5" {
        local rport
        token_keys
        rport=$(free_port)
        realm_start realm "$rport"
        registry_with_cat "http://127.0.0.1:$rport/token"
        : >"$T/realm.headers" # skopeo's requests

        run "$SMITH" download --ca-file "$REG_CERT" -r "https://alice:s3cret%21@$REG/team/cat:1" -i out.tar.gz
        assert_status 5
        assert_one_error_line
        assert_output_contains "token realm 'http://127.0.0.1:$rport/token' is plain http but the registry is https"
        assert_output_contains "refusing to send credentials"
        [[ "$output" != *s3cret* ]] || fail "password printed: $output"
        [ ! -e out.tar.gz ]

        # -k does not allow the downgrade either
        yaml_pkg "https://alice:s3cret%21@$REG/team/cat:1"
        run "$SMITH" -k
        assert_status 5
        assert_one_error_line
        assert_output_contains "pull 'https://$REG/team/cat:1': token realm 'http://127.0.0.1:$rport/token' is plain http"
        [ ! -e image.tar.gz ]
        assert_no_credentials realm

        # credentials from a docker config.json: the same
        printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf 'alice:s3cret!' | base64 -w0)" \
                >"$DOCKER_CONFIG/config.json"
        run "$SMITH" download -k -r "https://$REG/team/cat:1" -i conf.tar.gz
        assert_status 5
        assert_one_error_line
        assert_output_contains "refusing to send credentials"
        assert_no_credentials realm

        # an identity token is not posted there either
        printf '{"auths":{"%s":{"identitytoken":"%s"}}}\n' "$REG" "$IDT" >"$DOCKER_CONFIG/config.json"
        run "$SMITH" download -k -r "https://$REG/team/cat:1" -i idt.tar.gz
        assert_status 5
        assert_one_error_line
        assert_output_contains "refusing to send credentials"
        [[ "$output" != *idt-* ]] || fail "identity token printed: $output"
        assert_no_credentials realm
        if grep -q '^POST' "$T/realm.headers"; then
                fail "the identity token was posted to the http realm: $(cat "$T/realm.headers")"
        fi
}

@test "an https token realm redirecting to plain http: refused with credentials, even with -k" {
        local rport hport
        token_keys
        hport=$(free_port)
        realm_start realm "$hport"
        rport=$(free_port)
        # no image needed: no token is ever issued
        registry_start --tls --token "https://127.0.0.1:$rport/token"
        # the https realm uses the registry's certificate (it is made for 127.0.0.1)
        realm_start redirector "$rport" --tls "$REG_CERT" "$REG_KEY" --redirect-to "http://127.0.0.1:$hport"

        yaml_pkg "https://alice:s3cret%21@$REG/team/cat:1"
        run "$SMITH" -k
        assert_status 5
        assert_one_error_line
        assert_output_contains "refusing the redirect from https to plain http 'http://127.0.0.1:$hport/token"
        [ ! -e image.tar.gz ]
        grep -qi '^  authorization: basic' "$T/redirector.headers" ||
                fail "the https realm was not asked with the credentials: $(cat "$T/redirector.headers")"
        [ ! -s "$T/realm.headers" ] || fail "the redirect was followed: $(cat "$T/realm.headers")"

        # the identity token's POST is not followed at all: its body stays at the https realm
        printf '{"auths":{"%s":{"identitytoken":"%s"}}}\n' "$REG" "$IDT" >"$DOCKER_CONFIG/config.json"
        run "$SMITH" download -k -r "https://$REG/team/cat:1" -i idt.tar.gz
        assert_status 5
        assert_one_error_line
        [[ "$output" != *idt-* ]] || fail "identity token printed: $output"
        [ ! -s "$T/realm.headers" ] || fail "the redirect was followed: $(cat "$T/realm.headers")"

        # without credentials nothing secret is at stake: the anonymous token
        # request may follow it with -k (and the issuer refuses anonymous users)
        rm "$DOCKER_CONFIG/config.json"
        run "$SMITH" download -k -r "https://$REG/team/cat:1" -i anon.tar.gz
        assert_status 5
        assert_one_error_line
        grep -q '^GET /token' "$T/realm.headers" || fail "the anonymous redirect was not followed"
        assert_no_credentials realm
}
