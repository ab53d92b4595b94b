#!/usr/bin/env bash
# Benchmark: the nginx microcontainer from Debian packages (package:
# nginx-light from this machine's apt sources), cold (empty cache: every
# index and package downloaded), warm (cache filled) and with smith.yaml
# edited (paths changed), wall time and peak RSS, next to the peer timed in
# the same run:
#   mmdebstrap --mode=unshare --variant=extract --include=nginx-light
#              (downloads and unpacks the same packages, rootless, nothing
#              run from them: the closest thing to what smith does)
# Needs the machine's Debian mirror.
#
# Usage: bench/bench-deb.sh [SMITH [BASELINE_SMITH]]
#   SMITH           the binary to measure (default: build/smith; use a
#                   release build: meson setup build-rel --buildtype=release)
#   BASELINE_SMITH  another smith (an older build) measured in the same
#                   runs, for before/after ratios
#   BENCH_RUNS      repetitions (default 5); medians are reported, and the
#                   largest peak RSS
#
# The runs alternate (smith, the baseline, mmdebstrap in turn) so that a
# machine shared with others drifts for all of them alike; compare the
# ratios, not the seconds.  Every cold run gets an empty cache of its own
# and nothing is deleted until the end: deleting thousands of files just
# before a cold run makes ext4 (without a journal) skip the just-freed
# inodes one by one on every file created next, which would time the file
# system's recovery rather than the tools.
# Targets: cold <= 0.5x mmdebstrap, warm <= 0.3 s, peak RSS <= 64 MiB.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
smith=$(realpath "${1:-$src/build/smith}")
base=${2:+$(realpath "$2")}
runs=${BENCH_RUNS:-5}
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

# measure NAME CMD...: appends "seconds peak_kib cpu_seconds" to $work/NAME
measure() {
        local name=$1
        shift
        /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
                cat "$work/err" >&2
                return 1
        }
        awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$work/time" >>"$work/$name"
}

# one_smith LABEL BINARY I: cold, warm and edited builds with a fresh cache
one_smith() {
        local label=$1 bin=$2 i=$3
        export XDG_CACHE_HOME=$work/cache-$label-$i
        (cd "$work/nginx" && measure "$label-cold" "$bin" -b bench)
        (cd "$work/nginx" && measure "$label-warm" "$bin" -b bench)
        sed -i 's|^- /etc/nginx$|- /etc/nginx\n- /usr/share/nginx|' "$work/nginx/smith.yaml"
        (cd "$work/nginx" && measure "$label-edit" "$bin" -b bench)
        sed -i '/^- \/usr\/share\/nginx$/d' "$work/nginx/smith.yaml"
}

for i in $(seq "$runs"); do
        one_smith smith "$smith" "$i"
        [ -z "$base" ] || one_smith base "$base" "$i"
        measure mm mmdebstrap --quiet --mode=unshare --variant=extract --include=nginx-light "$suite" "$work/mm-$i"
done

# col NAME N: column N of the measurements of NAME, one a line
col() { awk -v n="$2" '{ print $n }' "$work/$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
largest() { sort -n | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() {
        local t m c
        t=$(col "$2" 1 | median)
        m=$(($(col "$2" 2 | largest) / 1024))
        c=$(col "$2" 3 | median)
        printf '  %-30s %6.2f s %4s MiB %6.2f s cpu  (%s x mmdebstrap)\n' "$1" "$t" "$m" "$c" "$(ratio "$t" "$mt")"
}

mt=$(col mm 1 | median)
printf 'nginx-light from %s, median of %d runs: wall, peak RSS (the largest), cpu (user+sys)\n' "$suite" "$runs"
row "smith, cold (empty cache)" smith-cold
row "smith, warm" smith-warm
row "smith, smith.yaml edited" smith-edit
if [ -n "$base" ]; then
        row "baseline, cold" base-cold
        row "baseline, warm" base-warm
        row "baseline, smith.yaml edited" base-edit
fi
row "mmdebstrap extract (peer)" mm
if [ -n "$base" ]; then
        printf 'smith/baseline: cold %s, warm %s, edited %s\n' \
                "$(ratio "$(col smith-cold 1 | median)" "$(col base-cold 1 | median)")" \
                "$(ratio "$(col smith-warm 1 | median)" "$(col base-warm 1 | median)")" \
                "$(ratio "$(col smith-edit 1 | median)" "$(col base-edit 1 | median)")"
fi
