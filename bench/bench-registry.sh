#!/usr/bin/env bash
# Benchmark: `smith upload` and `smith download` of a ~300 MB multi-layer
# image against a fresh local registry (Debian's docker-registry on
# 127.0.0.1, plain http), side by side with skopeo in the same run, and print
# wall time, the smith/skopeo ratio and peak RSS (/usr/bin/time -f '%e %M').
#
# The image: the test fixtures' debootstrapped Debian layer plus four layers
# of 60 MB of random data (incompressible, so ~310 MB of blobs), as an OCI
# layout packed in a plain tar (outer tar, gzip layers) that both tools read:
# smith as `-i image.tar`, skopeo as `oci-archive:image.tar`.  Downloads go
# to one file each: smith's OCI tar.gz, skopeo's oci-archive tar.
#
# Every timed run starts cold: a new registry (so no blob exists and no
# cross-repository mount applies), an empty smith cache, and a fresh HOME for
# skopeo (no blob-info cache).
#
# Usage: bench/bench-registry.sh [path/to/smith]   (default build/smith)
# Targets: smith/skopeo <= 1.0 both ways, smith's peak RSS < 64 MiB.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
smith=${1:-$src/build/smith}
smith=$(realpath "$smith")
fixtures=${SMITH_FIXTURES:-$src/build/fixtures}
export SMITH_FIXTURES=$fixtures
runs=${BENCH_RUNS:-3}
python=/usr/bin/python3

work=$(mktemp -d /tmp/smith-bench-registry-XXXXXX)
reg_pid=
cleanup() {
        [ -z "$reg_pid" ] || kill "$reg_pid" 2>/dev/null || true
        rm -rf "$work"
}
trap cleanup EXIT

# --- the image (made once, kept with the fixtures) ---

image=$fixtures/bench-registry.tar
if [ ! -e "$image" ]; then
        deb=$("$src/tests/fixtures/debian-image.sh")
        L=$work/layout
        mkdir -p "$L"
        tar -C "$L" -xzf "$deb"
        for i in 1 2 3 4; do
                mkdir -p "$work/l$i/data"
                head -c $((60 * 1000 * 1000)) /dev/urandom >"$work/l$i/data/random-$i"
                tar -C "$work/l$i" -cf "$work/l$i.tar" data
                umoci raw add-layer --image "$L:latest" "$work/l$i.tar"
                rm -rf "$work/l$i" "$work/l$i.tar"
        done
        umoci gc --layout "$L"
        tar -C "$L" -cf "$image.tmp" oci-layout index.json blobs
        mv "$image.tmp" "$image"
        rm -rf "$L"
fi
size=$(stat -c %s "$image")
manifest=$(tar -xOf "$image" index.json |
        jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest')
layers=$(tar -xOf "$image" "blobs/sha256/${manifest#sha256:}" | jq '.layers | length')

# --- a fresh registry ---

free_port() { $python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

registry_up() {
        local port
        [ -z "$reg_pid" ] || registry_down
        port=$(free_port)
        rm -rf "$work/reg"
        mkdir -p "$work/reg/storage"
        cat >"$work/reg/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $work/reg/storage
http:
  addr: 127.0.0.1:$port
  secret: bench
EOF
        docker-registry serve "$work/reg/config.yml" >"$work/reg/log" 2>&1 &
        reg_pid=$!
        REG=127.0.0.1:$port
        for _ in $(seq 100); do
                curl -sf -o /dev/null "http://$REG/v2/" && return 0
                sleep 0.1
        done
        cat "$work/reg/log" >&2
        return 1
}

registry_down() {
        kill "$reg_pid" 2>/dev/null || true
        wait "$reg_pid" 2>/dev/null || true
        reg_pid=
}

# measure CMD...: prints "seconds peak_kib"
measure() {
        /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
                cat "$work/err" >&2
                return 1
        }
        cat "$work/time"
}

fresh() {
        rm -rf "${work:?}/cache" "${work:?}/home" "${work:?}/out"
        mkdir -p "$work/cache" "$work/home" "$work/out"
}

skopeo_() { HOME=$work/home skopeo "$@"; }

su_t=() su_m=() ku_t=() ku_m=() sd_t=() sd_m=() kd_t=() kd_m=()
for _ in $(seq "$runs"); do
        # upload, each tool to a registry of its own
        registry_up
        fresh
        read -r t m < <(XDG_CACHE_HOME=$work/cache measure "$smith" upload -r "http://$REG/bench/img:1" -i "$image")
        su_t+=("$t") su_m+=("$m")
        registry_up
        fresh
        read -r t m < <(measure env HOME="$work/home" skopeo copy --insecure-policy --dest-tls-verify=false \
                "oci-archive:$image:latest" "docker://$REG/bench/img:1")
        ku_t+=("$t") ku_m+=("$m")

        # download from the registry skopeo just filled
        fresh
        read -r t m < <(XDG_CACHE_HOME=$work/cache measure "$smith" download -r "http://$REG/bench/img:1" \
                -i "$work/out/smith.tar.gz")
        sd_t+=("$t") sd_m+=("$m")
        fresh
        read -r t m < <(measure env HOME="$work/home" skopeo copy --insecure-policy --src-tls-verify=false \
                "docker://$REG/bench/img:1" "oci-archive:$work/out/skopeo.tar:latest")
        kd_t+=("$t") kd_m+=("$m")
        registry_down
done

best() { printf '%s\n' "$@" | sort -n | head -n 1; }
peak() { printf '%s\n' "$@" | sort -n | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { echo $(($1 / 1024)); }

sut=$(best "${su_t[@]}") kut=$(best "${ku_t[@]}") sdt=$(best "${sd_t[@]}") kdt=$(best "${kd_t[@]}")
printf 'image: %s (%d MB, %s layers), local docker-registry over http, best of %d runs\n' \
        "$image" $((size / 1000000)) "$layers" "$runs"
printf '%-22s %8s s  %6s MiB peak RSS\n' "smith upload" "$sut" "$(mib "$(peak "${su_m[@]}")")"
printf '%-22s %8s s  %6s MiB peak RSS\n' "skopeo copy (upload)" "$kut" "$(mib "$(peak "${ku_m[@]}")")"
printf '%-22s %8s s  %6s MiB peak RSS\n' "smith download" "$sdt" "$(mib "$(peak "${sd_m[@]}")")"
printf '%-22s %8s s  %6s MiB peak RSS\n' "skopeo copy (download)" "$kdt" "$(mib "$(peak "${kd_m[@]}")")"
printf 'ratio smith/skopeo: upload %s  download %s\n' "$(ratio "$sut" "$kut")" "$(ratio "$sdt" "$kdt")"
