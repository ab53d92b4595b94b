#!/usr/bin/env bash
# Benchmark: the nginx microcontainer from Debian packages (package:
# nginx-light from this machine's apt sources), cold (empty cache: every
# index and package downloaded), warm (cache filled) and with smith.yaml
# edited (paths changed), wall time and peak RSS, next to the peer timed in
# the same run:
#   mmdebstrap --mode=unshare --variant=extract --include=nginx-light
#              (downloads and unpacks the same packages, rootless, nothing
#              run from them: the closest thing to what smith does)
# Needs the machine's Debian mirror.  Usage: bench/bench-deb.sh [smith]
# Targets: cold <= 0.5x mmdebstrap, warm <= 0.3 s, peak RSS <= 64 MiB.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
smith=$(realpath "${1:-$src/build/smith}")
runs=${BENCH_RUNS:-3}
suite=${BENCH_SUITE:-bookworm}

work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/smith-bench-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/nginx/rootfs/read/www"
echo hello >"$work/nginx/rootfs/read/www/index.html"
cat >"$work/nginx/smith.yaml" <<YAML
package: nginx-light
paths:
- /usr/sbin/nginx
- /etc/nginx
user: www-data
mounts: [/var/lib/nginx, /var/log/nginx]
cmd: [/usr/sbin/nginx, -g, daemon off;]
YAML

# measure CMD...: prints "seconds peak_kib"
measure() {
        /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
                cat "$work/err" >&2
                return 1
        }
        cat "$work/time"
}

cold_t=() cold_m=() warm_t=() warm_m=() edit_t=() edit_m=() mm_t=() mm_m=()
for i in $(seq "$runs"); do
        export XDG_CACHE_HOME=$work/cache
        rm -rf "$XDG_CACHE_HOME" "$work/mm"
        read -r t m < <(cd "$work/nginx" && measure "$smith" -b bench)
        cold_t+=("$t") cold_m+=("$m")
        read -r t m < <(cd "$work/nginx" && measure "$smith" -b bench)
        warm_t+=("$t") warm_m+=("$m")
        sed -i 's|^- /etc/nginx$|- /etc/nginx\n- /usr/share/nginx|' "$work/nginx/smith.yaml"
        read -r t m < <(cd "$work/nginx" && measure "$smith" -b bench)
        edit_t+=("$t") edit_m+=("$m")
        sed -i '/^- \/usr\/share\/nginx$/d' "$work/nginx/smith.yaml"
        read -r t m < <(measure mmdebstrap --quiet --mode=unshare --variant=extract --include=nginx-light \
                "$suite" "$work/mm")
        mm_t+=("$t") mm_m+=("$m")
done

best() { printf '%s\n' "$@" | sort -n | head -n 1; }
most() { printf '%s\n' "$@" | sort -n | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ct=$(best "${cold_t[@]}") wt=$(best "${warm_t[@]}") et=$(best "${edit_t[@]}") mt=$(best "${mm_t[@]}")

printf 'nginx-light from %s, best of %d runs (peak RSS: the largest)\n' "$suite" "$runs"
printf '  %-30s %7s s  %6s MiB\n' "smith, cold (empty cache)" "$ct" $(($(most "${cold_m[@]}") / 1024))
printf '  %-30s %7s s  %6s MiB\n' "smith, warm" "$wt" $(($(most "${warm_m[@]}") / 1024))
printf '  %-30s %7s s  %6s MiB\n' "smith, smith.yaml edited" "$et" $(($(most "${edit_m[@]}") / 1024))
printf '  %-30s %7s s  %6s MiB\n' "mmdebstrap extract (peer)" "$mt" $(($(most "${mm_m[@]}") / 1024))
printf 'ratios: cold/mmdebstrap %s, warm/mmdebstrap %s\n' "$(ratio "$ct" "$mt")" "$(ratio "$wt" "$mt")"
