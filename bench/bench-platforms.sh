#!/usr/bin/env bash
# Benchmark: a two-platform build (linux/amd64 + linux/arm64, one image
# index) against the sum of the two single-platform builds it stands for,
# timed in the same run, from the two-platform Debian layout of the tests
# (tests/fixtures/arm64-image.sh: made once, about 30 s) with a warm cache,
# as a release pipeline rebuilding an image for both platforms would.
#
# Usage: bench/bench-platforms.sh [SMITH]
#   SMITH       the binary to measure (default: build/smith)
#   BENCH_RUNS  repetitions (default 5); medians are reported
#
# The runs alternate (two-platform, then the two singles) so that a
# machine shared with others drifts for both alike.
# Target: two-platform <= 1.1x the two single builds.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
smith=$(realpath "${1:-$src/build/smith}")
runs=${BENCH_RUNS:-5}
images=$(SMITH_BUILD=$src/build "$src/tests/fixtures/arm64-image.sh")

work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/smith-bench-platforms-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/b/rootfs/read"
echo 'Hello World!' >"$work/b/rootfs/read/data"
printf '%s\n' "package: $images/two-platform.tar.gz" "paths: [/usr/bin/cat, /usr/bin/ls]" \
        "cmd: [/usr/bin/cat, /read/data]" >"$work/b/smith.yaml"
export XDG_CACHE_HOME="$work/cache" SOURCE_DATE_EPOCH=1700000000
cd "$work/b"
"$smith" --platform linux/amd64,linux/arm64 -b 1 -i warm.tar.gz # fills the cache

ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$work/multi" && : >"$work/singles"
for _ in $(seq "$runs"); do
        t=$(ms)
        "$smith" --platform linux/amd64,linux/arm64 -b 1 -i multi.tar.gz
        echo $(($(ms) - t)) >>"$work/multi"
        t=$(ms)
        "$smith" --platform linux/amd64 -b 1 -i amd64.tar.gz
        "$smith" --platform linux/arm64 -b 1 -i arm64.tar.gz
        echo $(($(ms) - t)) >>"$work/singles"
done
m=$(median <"$work/multi")
s=$(median <"$work/singles")
printf 'two-platform build   %6s ms (median of %s)\n' "$m" "$runs"
printf 'two single builds    %6s ms\n' "$s"
awk -v m="$m" -v s="$s" 'BEGIN { printf "ratio                %6.2fx (target <= 1.1x)\n", m / s }'
