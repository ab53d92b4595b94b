#!/usr/bin/env bash
# Benchmark: build an nginx microcontainer from a large local OCI image (a
# debootstrapped Debian with nginx-light, perl and python3, made by
# make-image.sh) and print wall time and peak RSS, cold (empty cache) and
# warm (cache filled, smith.yaml edited), next to peers timed in the same
# run on the same image:
#   umoci unpack   unpacking the layout with the reference OCI tool (what a
#                  cold build must at least do: read and unpack the image)
#   tar -xzf       extracting the layer with GNU tar (no verification at all)
#
# Usage: bench/bench-build.sh [path/to/smith]   (default build/smith)
# Targets on a 2-core machine for a ~350 MB base: cold < 2 s, warm < 0.3 s,
# peak RSS < 64 MiB.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
smith=$(realpath "${1:-$src/build/smith}")
runs=${BENCH_RUNS:-3}
image=$("$src/bench/make-image.sh")

work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/smith-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/nginx/rootfs/read/www" "$work/layout"
echo hello >"$work/nginx/rootfs/read/www/index.html"
cat >"$work/nginx/smith.yaml" <<YAML
package: $image
paths:
- /usr/sbin/nginx
- /etc/nginx
user: www-data
cmd: [/usr/sbin/nginx, -g, daemon off;]
YAML
tar -C "$work/layout" -xzf "$image"
layer=$(find "$work/layout/blobs/sha256" -type f -size +1M | head -n 1)
unpacked=$(gzip -dc "$layer" | wc -c)

# measure CMD...: prints "seconds peak_kib"
measure() {
        /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
                cat "$work/err" >&2
                return 1
        }
        cat "$work/time"
}

cold_t=() cold_m=() warm_t=() warm_m=() umoci_t=() tar_t=()
for i in $(seq "$runs"); do
        export XDG_CACHE_HOME=$work/cache
        rm -rf "$XDG_CACHE_HOME" "$work/bundle" "$work/tarx"
        sync
        read -r t m < <(cd "$work/nginx" && measure "$smith" -b bench)
        cold_t+=("$t") cold_m+=("$m")
        echo "env: [BENCH=$i]" >>"$work/nginx/smith.yaml"
        read -r t m < <(cd "$work/nginx" && measure "$smith" -b bench)
        warm_t+=("$t") warm_m+=("$m")
        sed -i '$d' "$work/nginx/smith.yaml"
        sync
        read -r t _ < <(measure umoci unpack --image "$work/layout:latest" "$work/bundle")
        umoci_t+=("$t")
        mkdir -p "$work/tarx"
        sync
        read -r t _ < <(measure tar -C "$work/tarx" -xzf "$layer")
        tar_t+=("$t")
done

best() { printf '%s\n' "$@" | sort -n | head -n 1; }
most() { printf '%s\n' "$@" | sort -n | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ct=$(best "${cold_t[@]}") wt=$(best "${warm_t[@]}") ut=$(best "${umoci_t[@]}") tt=$(best "${tar_t[@]}")
cm=$(most "${cold_m[@]}") wm=$(most "${warm_m[@]}")

printf 'base image: %s: %d MB, one layer of %d MB unpacked\n' "$image" \
        $(($(stat -c %s "$image") / 1000000)) $((unpacked / 1000000))
printf 'best of %d runs (peak RSS: the largest)\n' "$runs"
printf '  %-26s %7s s  %6s MiB\n' "smith build, cold" "$ct" $((cm / 1024))
printf '  %-26s %7s s  %6s MiB\n' "smith build, warm" "$wt" $((wm / 1024))
printf '  %-26s %7s s\n' "umoci unpack (peer)" "$ut"
printf '  %-26s %7s s\n' "tar -xzf of the layer" "$tt"
printf 'ratios: cold/umoci %s, cold/tar %s\n' "$(ratio "$ct" "$ut")" "$(ratio "$ct" "$tt")"
