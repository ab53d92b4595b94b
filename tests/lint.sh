#!/usr/bin/env bash
# Style checks run by `meson test` (suite 'lint') from the source root:
#  1. no banned calls (strcpy strcat sprintf vsprintf strtok atoi atol gets)
#     in src/ or tests/unit C files;
#  2. every .c/.h under src/ opens with a comment paragraph saying what it is for;
#  3. clang-format --dry-run --Werror on src/, when the repo has a .clang-format.
# Prints every offence as FILE:LINE: message and exits 1 if there was one.
set -euo pipefail
cd "${SMITH_SRC:-$(dirname "$0")/..}"

fail=0
mapfile -d '' srcs < <(find src -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null | sort -z)
mapfile -d '' units < <(find tests/unit -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null | sort -z)

# 1. Banned calls: the name as a whole word followed by '(' — so strcpy_s,
#    my_atoi or a mention in a comment without parentheses do not count, and
#    neither does a line in a comment block or a poison pragma.
banned='strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets'
if [ ${#srcs[@]} -gt 0 ] || [ ${#units[@]} -gt 0 ]; then
        while IFS= read -r hit; do
                echo "$hit: banned call (unsafe; see the list in tests/lint.sh)"
                fail=1
        done < <(grep -nE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" "${srcs[@]}" "${units[@]}" 2>/dev/null |
                grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//|#[[:space:]]*pragma[[:space:]]+GCC[[:space:]]+poison)' || true)
fi

# 2. Each file under src/ starts with a comment paragraph.
for f in "${srcs[@]}"; do
        first=$(grep -m1 -v '^[[:space:]]*$' "$f" || true)
        case "$first" in
        /\**|//*) ;;
        *)
                echo "$f:1: does not start with a comment paragraph saying what it is for"
                fail=1
                ;;
        esac
done

# 3. Formatting, once the lead has chosen a style.
if [ -f .clang-format ] && [ ${#srcs[@]} -gt 0 ]; then
        if ! clang-format --dry-run --Werror "${srcs[@]}"; then
                echo "clang-format: run 'clang-format -i' on the files above"
                fail=1
        fi
fi

if [ "$fail" = 0 ]; then
        echo "lint: ${#srcs[@]} src and ${#units[@]} unit-test files clean"
fi
exit "$fail"
