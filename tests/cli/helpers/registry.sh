# shellcheck shell=bash disable=SC2034,SC2154
# Real registries for the registry tests: Debian's docker-registry
# (distribution 2.8) started on 127.0.0.1 with a free port, plus the small
# python services the tests put around it (a token issuer, a fault-injecting
# proxy).  Sourced by tests/cli/80-registry.bats after helpers/common.
#
# Every service started here is recorded in $T/services (one "pid name" per
# line) and killed by services_stop, which the tests' teardown calls.
#
#   registry_start [--tls] [--htpasswd USER PASS] [--token REALM_URL]
#       start a registry; sets REG (host:port), REG_PORT, REG_DIR.  --tls
#       makes a self-signed certificate for 127.0.0.1 ($REG_CERT, $REG_KEY);
#       --token needs token_keys first (the issuer's certificate is the
#       registry's rootcertbundle).
#   token_keys          make $T/token.key/$T/token.crt (RS256 signing key)
#   token_start USER PASS [REFRESH]   start the token issuer; sets TOKEN_URL,
#       TOKEN_LOG; REFRESH is the identity token its refresh grant accepts
#   proxy_start UPSTREAM ARGS...  start fault-proxy.py in front of UPSTREAM
#       (host:port); sets PROXY (host:port), PROXY_LOG
#   services_stop       kill everything started here

REG_PY=/usr/bin/python3 # Debian's python: python3-jwt and python3-cryptography live there

# service_add PID NAME
service_add() {
        echo "$1 $2" >>"$T/services"
}

services_stop() {
        local pid name
        [ -f "${T:-}/services" ] || return 0
        while read -r pid name; do
                kill "$pid" 2>/dev/null || true
        done <"$T/services"
        while read -r pid name; do
                for _ in $(seq 50); do
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -9 "$pid" 2>/dev/null || true
        done <"$T/services"
        rm -f "$T/services"
}

# wait_http URL [CURL_ARGS...]: until URL answers at all (any HTTP status).
wait_http() {
        local url=$1
        shift
        for _ in $(seq 100); do
                if curl -s -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null | grep -qv '^000$'; then
                        return 0
                fi
                sleep 0.1
        done
        echo "service at $url did not come up" >&2
        return 1
}

# make_cert DIR NAME: a self-signed certificate for 127.0.0.1 (SAN IP and
# DNS localhost), DIR/NAME.crt and DIR/NAME.key.
make_cert() {
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
                -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
                -keyout "$1/$2.key" -out "$1/$2.crt" >/dev/null 2>&1
}

registry_start() {
        local tls=0 user="" pass="" realm="" port dir scheme=http
        while [ $# -gt 0 ]; do
                case "$1" in
                --tls) tls=1; shift ;;
                --htpasswd) user=$2; pass=$3; shift 3 ;;
                --token) realm=$2; shift 2 ;;
                *) echo "registry_start: unknown option $1" >&2; return 2 ;;
                esac
        done
        port=$(free_port)
        dir=$(mktemp -d "$T/registry.XXXXXX")
        mkdir -p "$dir/storage"
        {
                printf 'version: 0.1\n'
                printf 'log:\n  level: warn\n  accesslog:\n    disabled: true\n'
                printf 'storage:\n  cache:\n    blobdescriptor: inmemory\n'
                printf '  filesystem:\n    rootdirectory: %s/storage\n' "$dir"
                printf '  delete:\n    enabled: true\n'
                printf 'http:\n  addr: 127.0.0.1:%s\n  secret: smith-test-secret\n' "$port"
                if [ "$tls" = 1 ]; then
                        make_cert "$dir" registry
                        printf '  tls:\n    certificate: %s/registry.crt\n    key: %s/registry.key\n' "$dir" "$dir"
                        scheme=https
                fi
                if [ -n "$user" ]; then
                        htpasswd -Bbn "$user" "$pass" >"$dir/htpasswd"
                        printf 'auth:\n  htpasswd:\n    realm: smith-test\n    path: %s/htpasswd\n' "$dir"
                elif [ -n "$realm" ]; then
                        printf 'auth:\n  token:\n    realm: %s\n    service: smith-test-registry\n' "$realm"
                        printf '    issuer: smith-test-issuer\n    rootcertbundle: %s/token.crt\n' "$T"
                fi
        } >"$dir/config.yml"
        docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 3>&- &
        service_add $! registry
        REG="127.0.0.1:$port"
        REG_PORT=$port
        REG_DIR=$dir
        REG_SCHEME=$scheme
        REG_CERT="$dir/registry.crt"
        REG_KEY="$dir/registry.key"
        wait_http "$scheme://$REG/v2/" -k || { cat "$dir/log" >&2; return 1; }
}

token_keys() {
        make_cert "$T" token
}

# token_start USER PASS [REFRESH]: the issuer accepts only these credentials
# (and, with REFRESH, that identity token in the OAuth2 refresh grant).
token_start() {
        local port
        port=$(free_port)
        TOKEN_LOG="$T/token.log"
        : >"$TOKEN_LOG"
        "$REG_PY" "$HELPERS/token-server.py" --listen "127.0.0.1:$port" --key "$T/token.key" --cert "$T/token.crt" \
                --issuer smith-test-issuer --service smith-test-registry --user "$1" --password "$2" \
                --log "$TOKEN_LOG" --refresh-token="${3:-}" >"$T/token.out" 2>&1 3>&- &
        service_add $! token-server
        TOKEN_URL="http://127.0.0.1:$port/token"
        wait_http "http://127.0.0.1:$port/health" || { cat "$T/token.out" >&2; return 1; }
}

# proxy_start UPSTREAM [fault-proxy options...]
proxy_start() {
        local port upstream=$1
        shift
        port=$(free_port)
        PROXY_LOG="$T/proxy.log"
        : >"$PROXY_LOG"
        "$REG_PY" "$HELPERS/fault-proxy.py" --listen "127.0.0.1:$port" --upstream "$upstream" --log "$PROXY_LOG" \
                "$@" >"$T/proxy.out" 2>&1 3>&- &
        service_add $! fault-proxy
        PROXY="127.0.0.1:$port"
        wait_http "http://$PROXY/v2/" || { cat "$T/proxy.out" >&2; return 1; }
}

# --- images and registry look-ups ---

# layout_index FILE.tar.gz: index.json of a packed layout.
layout_index() {
        tar -xzOf "$1" index.json
}

# layout_manifest_digest FILE.tar.gz [TAG]: the digest of the entry named TAG
# (default latest) in its index.json.
layout_manifest_digest() {
        layout_index "$1" | jq -r --arg t "${2:-latest}" \
                '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest'
}

# layout_blob FILE.tar.gz DIGEST: print a blob of a packed layout.
layout_blob() {
        tar -xzOf "$1" "blobs/sha256/${2#sha256:}"
}

# layout_layers FILE.tar.gz [TAG]: the layer digests of the image, one a line.
layout_layers() {
        layout_blob "$1" "$(layout_manifest_digest "$1" "${2:-latest}")" | jq -r '.layers[].digest'
}

# unpack_layout FILE.tar.gz DIR: a layout directory skopeo can read (oci:DIR:latest).
unpack_layout() {
        mkdir -p "$2"
        tar -C "$2" -xzf "$1"
}

# skopeo_raw docker://...: the raw manifest, from a plain-http or self-signed registry.
skopeo_raw() {
        skopeo inspect --raw --tls-verify=false "$@"
}

# sha256 of stdin as "sha256:<hex>".
sha256_stdin() {
        echo "sha256:$(sha256sum | cut -d' ' -f1)"
}

# The host's architecture in OCI naming (what smith picks from an index).
oci_arch() {
        case "$(uname -m)" in
        x86_64) echo amd64 ;;
        aarch64) echo arm64 ;;
        i?86) echo 386 ;;
        armv*) echo arm ;;
        *) uname -m ;;
        esac
}
