#!/usr/bin/env bash
# Fuzzes with libFuzzer: builds the library with clang, ASan and UBSan in
# build-fuzz/, links every tests/fuzz/fuzz-*.c (or the ones named) as a
# libFuzzer target and runs each for FUZZ_SECONDS (default 60), starting
# from its seeds (tests/fuzz/seeds/<target>/, if any) and its own corpus in
# build-fuzz/corpus-<target>/.  A crash leaves crash-* files to replay with
# the plain build's target: build/tests/fuzz/<target> FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-fuzz
secs=${FUZZ_SECONDS:-60}

if [ ! -f "$B/build.ninja" ]; then
        CC=clang meson setup "$B" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
                -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
ninja -C "$B" libsmith.a >/dev/null
# the library's dependencies, as meson resolved them for it
libs=$(meson introspect --dependencies "$B" | python3 -c '
import json, sys
print(" ".join(a for d in json.load(sys.stdin) for a in d.get("link_args", [])))')

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cd tests/fuzz && ls fuzz-*.c | sed 's/\.c$//')
for t in "${targets[@]}"; do
        clang -fsanitize=fuzzer,address,undefined -DSMITH_LIBFUZZER -D_GNU_SOURCE -I. -Isrc/lib -I"$B" \
                "tests/fuzz/$t.c" "$B/libsmith.a" $libs -lpthread -o "$B/$t"
        mkdir -p "$B/corpus-$t"
        seeds=()
        [ -d "tests/fuzz/seeds/$t" ] && seeds=("tests/fuzz/seeds/$t")
        echo "== $t: ${secs}s" >&2
        (cd "$B" && "./$t" -max_total_time="$secs" -timeout=10 "corpus-$t" "${seeds[@]/#/../}") 2>&1 |
                grep -E '^(#[0-9]+.*DONE|==[0-9]+==|SUMMARY|Done)' || true
done
