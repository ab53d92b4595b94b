#!/usr/bin/env bash
# Run an OCI image (a layout packed as .tar.gz, as smith writes it) with runc,
# the way a microcontainer is meant to run: read-only root, the image's own
# user (umoci copies config.User into process.user), no terminal, and tmpfs on
# /run and /write owned by that user (the only writable places of a
# microcontainer; runc copies the mode of the image's directory, so the owner
# is what makes them writable).  The network
# namespace is dropped so a server inside is reachable on the host's 127.0.0.1.
#
#   run-image.sh [--ref TAG] [--keep DIR] IMAGE.tar.gz [ARGS...]
#       run in the foreground; ARGS replace the image's command; exit with the
#       container's status.  Everything is removed afterwards, unless --keep DIR
#       names a directory to work in (it is then left for the caller).
#   run-image.sh --detach DIR [--ref TAG] IMAGE.tar.gz [ARGS...]
#       start in the background, working in DIR (created); the container's
#       stdout/stderr go to DIR/log; its id is in DIR/id.
#   run-image.sh --stop DIR
#       kill and delete the container started with --detach DIR, remove DIR.
#
# Needs root (runc, and umoci unpack keeping the layer's owners).
set -euo pipefail

ref=latest
mode="fg"
work=
keep=0
while [ $# -gt 0 ]; do
        case "$1" in
        --ref) ref=$2; shift 2 ;;
        --keep) work=$2; keep=1; shift 2 ;;
        --detach) work=$2; mode=detach; keep=1; shift 2 ;;
        --stop) work=$2; mode=stop; shift 2 ;;
        --) shift; break ;;
        -*) echo "run-image.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
        esac
done

runc_() { runc --root "$work/state" "$@"; }

stop() {
        local id
        id=$(cat "$work/id" 2>/dev/null || true)
        if [ -n "$id" ]; then
                runc_ kill "$id" KILL >/dev/null 2>&1 || true
                for _ in $(seq 50); do
                        runc_ state "$id" 2>/dev/null | grep -q '"status": "running"' || break
                        sleep 0.1
                done
                runc_ delete -f "$id" >/dev/null 2>&1 || true
        fi
        rm -rf "$work"
}

if [ "$mode" = stop ]; then
        stop
        exit 0
fi

[ $# -ge 1 ] || { echo "usage: run-image.sh [--detach DIR] IMAGE.tar.gz [ARGS...]" >&2; exit 2; }
image=$(readlink -f "$1")
shift

if [ -z "$work" ]; then
        work=$(mktemp -d "${TMPDIR:-/tmp}/run-image.XXXXXX")
fi
mkdir -p "$work/layout" "$work/state"
id="smith-test-$$-$RANDOM"
echo "$id" >"$work/id"
if [ "$mode" = fg ] && [ "$keep" = 0 ]; then
        trap stop EXIT
fi

tar -C "$work/layout" -xzf "$image"
umoci unpack --image "$work/layout:$ref" "$work/bundle" >/dev/null

args_json=null
if [ $# -gt 0 ]; then
        # One jq per argument: jq would take "-c" after --args as its own option.
        args_json=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -cs .)
fi
jq --argjson args "$args_json" '
        .root.readonly = true
        | .process.terminal = false
        | .linux.namespaces |= map(select(.type != "network"))
        | .process.user as $u
        | ["nosuid", "nodev", "uid=\($u.uid // 0)", "gid=\($u.gid // 0)"] as $o
        | .mounts += [{destination: "/run", type: "tmpfs", source: "tmpfs", options: $o},
                      {destination: "/write", type: "tmpfs", source: "tmpfs", options: $o}]
        | if $args != null then .process.args = $args else . end
' "$work/bundle/config.json" >"$work/bundle/config.json.new"
mv "$work/bundle/config.json.new" "$work/bundle/config.json"

if [ "$mode" = detach ]; then
        runc_ run -d --pid-file "$work/pid" -b "$work/bundle" "$id" \
                </dev/null >"$work/log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
        exit 0
fi
set +e
runc_ run -b "$work/bundle" "$id" </dev/null
rc=$?
set -e
runc_ delete -f "$id" >/dev/null 2>&1 || true
exit $rc
