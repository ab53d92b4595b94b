#!/usr/bin/env bats
# The deb source against this machine's configured Debian mirror (its
# /etc/apt/sources.list.d, signed by debian-archive-keyring): the README's
# seed example verbatim (and from the same mirror behind a proxy that
# hides its InRelease: Release and Release.gpg), and nginx-light serving a
# page, each built by an
# unprivileged user and run with runc on a read-only root as non-root.
# Without the mirror (curl -sfI of its InRelease, 5 s) each test says so and
# is skipped: never a silent pass.

load helpers/common

setup_file() {
        MIRROR_PROBLEM=
        local uri suite
        uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
        suite=$(awk '/^Suites:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
        if [ -z "$uri" ] || [ -z "$suite" ]; then
                MIRROR_PROBLEM="no deb822 apt source on this machine"
        elif ! curl -sfI --max-time 5 "$uri/dists/$suite/InRelease" >/dev/null; then
                MIRROR_PROBLEM="$uri/dists/$suite/InRelease did not answer within 5 s"
        fi
        MIRROR_URI=$uri MIRROR_SUITE=$suite
        export MIRROR_PROBLEM MIRROR_URI MIRROR_SUITE
}

setup() {
        if [ -n "$MIRROR_PROBLEM" ]; then
                echo "# mirror unreachable: $MIRROR_PROBLEM" >&3
                skip "mirror unreachable: $MIRROR_PROBLEM"
        fi
        common_setup
        RUN="$T/run"
        U="$T/user"
        mkdir -p "$U/home" "$U/cache" "$U/tmp"
        cp "$SMITH" "$U/smith"
}

teardown() {
        [ -z "${PROXY_PID:-}" ] || kill "$PROXY_PID" 2>/dev/null || true
        [ -z "${RUN:-}" ] || "$HELPERS/run-image.sh" --stop "$RUN" || true
        common_teardown
}

smith_user() {
        chown -R 65534:65534 "$U" "$W"
        run setpriv --reuid=65534 --regid=65534 --clear-groups \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$U/home" XDG_CACHE_HOME="$U/cache" \
                TMPDIR="$U/tmp" SOURCE_DATE_EPOCH=0 "$U/smith" "$@"
}

@test "mirror: the seed example (package: coreutils) runs read-only as uid 10: Hello World!" {
        cat >smith.yaml <<'EOF'
package: coreutils
paths:
- /usr/bin/cat
cmd:
- /usr/bin/cat
- /read/data
EOF
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
        smith_user
        assert_status 0
        run run_image image.tar.gz
        assert_status 0
        [ "$output" = "Hello World!" ] || fail "got: $output"
        run $OCI blob image.tar.gz application/vnd.smith.packages
        grep -q '^coreutils_' <<<"$output" || fail "packages: $output"
        grep -q '^libc6_' <<<"$output" || fail "packages: $output"
        # only what coreutils needs: no Essential set (no dpkg, no bash)
        ! grep -qE '^(dpkg|bash|base-files)_' <<<"$output" || fail "essential packages pulled in: $output"
        [ "$($OCI config image.tar.gz | jq -r .config.User)" = "10:10" ]
        # yet the image says what it is: os-release and debian_version from the mirror's base-files, only those
        mkdir img
        tar -C img -xzf image.tar.gz
        umoci unpack --rootless --image img:latest bundle >/dev/null
        (. bundle/rootfs/etc/os-release && [ "$ID $VERSION_ID" = "debian 12" ]) ||
                fail "os-release: $(cat bundle/rootfs/etc/os-release)"
        grep -qE '^12\.' bundle/rootfs/etc/debian_version || fail "debian_version: $(cat bundle/rootfs/etc/debian_version)"
        [ ! -e bundle/rootfs/etc/issue ] && [ ! -e bundle/rootfs/usr/share/base-files ]
}

@test "mirror: nginx-light serves a page on 127.0.0.1, read-only, as uid 10" {
        local port body pid
        port=$(free_port)
        cat >smith.yaml <<EOF
package: nginx-light
paths:
- /usr/sbin/nginx
- /etc/nginx
- /usr/share/nginx
- /var/lib/nginx
mounts:
- /var/log/nginx
- /run
user: nginx
cmd: [/usr/sbin/nginx, -c, /read/nginx.conf, -e, stderr]
EOF
        mkdir -p rootfs/read/www
        cat >rootfs/read/nginx.conf <<EOF
daemon off;
master_process on;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path /run/body;
    proxy_temp_path /run/proxy;
    fastcgi_temp_path /run/fastcgi;
    uwsgi_temp_path /run/uwsgi;
    scgi_temp_path /run/scgi;
    server {
        listen 127.0.0.1:$port;
        root /read/www;
    }
}
EOF
        printf 'hello from a Debian microcontainer\n' >rootfs/read/www/index.html
        smith_user
        assert_status 0
        ! $OCI ls image.tar.gz | grep -qE '(^|/)(bin/(ba)?sh|bin/dash|usr/bin/apt)$' || fail "a shell or apt in the image"
        run $OCI blob image.tar.gz application/vnd.smith.packages
        grep -q '^nginx-light_' <<<"$output" || fail "packages: $output"

        "$HELPERS/run-image.sh" --detach "$RUN" image.tar.gz || fail "runc: $(cat "$RUN/log")"
        body=
        for _ in $(seq 100); do
                body=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null) && break
                sleep 0.1
        done
        [ "$body" = "hello from a Debian microcontainer" ] || fail "no page on port $port; nginx said: $(cat "$RUN/log")"
        pid=$(cat "$RUN/pid")
        [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 10 ]
        grep -qE '^[^ ]+ / [^ ]+ ro[, ]' "/proc/$pid/mounts" || fail "root not read-only: $(cat "/proc/$pid/mounts")"
        "$HELPERS/run-image.sh" --stop "$RUN"
}

@test "mirror: the seed example builds from a repository with only Release and Release.gpg" {
        helper_serve no-inrelease-proxy.py --log "$T/proxy.log" "$MIRROR_URI"
        PROXY_PID=$HELPER_PID
        cat >smith.yaml <<EOF
package: coreutils
repos:
- deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://127.0.0.1:$HELPER_PORT $MIRROR_SUITE main
paths:
- /usr/bin/cat
cmd:
- /usr/bin/cat
- /read/data
EOF
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
        smith_user
        assert_status 0
        grep -q "^GET /dists/$MIRROR_SUITE/InRelease 404" "$T/proxy.log" || fail "InRelease was not asked for: $(cat "$T/proxy.log")"
        grep -q "^GET /dists/$MIRROR_SUITE/Release.gpg 200" "$T/proxy.log" || fail "no Release.gpg: $(cat "$T/proxy.log")"
        run run_image image.tar.gz
        assert_status 0
        [ "$output" = "Hello World!" ] || fail "got: $output"
}

# cross_build PLATFORM MACHINE QEMU: the seed example for PLATFORM from the
# mirror's packages, built on this machine; every ELF file in the image is
# for MACHINE, and the program prints Hello World! under qemu-QEMU-static.
cross_build() {
        cat >smith.yaml <<'EOF'
package: coreutils
paths:
- /usr/bin/cat
cmd:
- /usr/bin/cat
- /read/data
EOF
        mkdir -p rootfs/read
        printf 'Hello World!\n' >rootfs/read/data
        smith_user --platform "$1" -i "$3.tar.gz"
        assert_status 0
        assert_qemu_hello "$3.tar.gz" "$2" "$3"
}

@test "mirror: the seed example for linux/arm64 and linux/ppc64le, built here without emulation, runs under qemu" {
        local idx
        cross_build linux/arm64 AArch64 aarch64
        # the image says what it is for, in the config and in the index
        [ "$($OCI config aarch64.tar.gz | jq -r '.architecture + "/" + .variant')" = "arm64/v8" ]
        idx=$(tar -xzOf aarch64.tar.gz ./index.json 2>/dev/null || tar -xzOf aarch64.tar.gz index.json)
        [ "$(jq -r '.manifests[0].platform | .os + "/" + .architecture + "/" + .variant' <<<"$idx")" = "linux/arm64/v8" ]
        # the packages are arm64's (and all's)
        run $OCI blob aarch64.tar.gz application/vnd.smith.packages
        grep -q '^coreutils_.*_arm64$' <<<"$output" || fail "packages: $output"
        ! grep -q '_amd64$' <<<"$output" || fail "amd64 packages: $output"
        cross_build linux/ppc64le "PowerPC64" ppc64le
        [ "$($OCI config ppc64le.tar.gz | jq -r .architecture)" = ppc64le ]
        # bit-identical again, with the same build number
        smith_user --platform linux/arm64 -b 1 -i one.tar.gz
        smith_user --platform linux/arm64 -b 1 -i two.tar.gz
        cmp one.tar.gz two.tar.gz
        # smith.yaml's platform: is the same as --platform; the flag wins
        echo "platform: linux/ppc64le" >>smith.yaml
        smith_user --platform linux/arm64 -b 1 -i three.tar.gz
        assert_status 0
        [ "$($OCI config three.tar.gz | jq -r .architecture)" = arm64 ]
        smith_user -b 1 -i four.tar.gz
        assert_status 0
        [ "$($OCI config four.tar.gz | jq -r .architecture)" = ppc64le ]
        # smith lock pins the platform's packages, and a build for it uses them
        smith_user lock
        assert_status 0
        [ "$(jq -r '[.packages[].arch] | unique - ["all"] | join(",")' smith.lock)" = "ppc64el" ] ||
                fail "locked arches: $(jq -c '[.packages[].arch] | unique' smith.lock)"
        smith_user -v -b 1 -i five.tar.gz
        assert_status 0
        assert_output_contains "using 'smith.lock'"
        cmp four.tar.gz five.tar.gz
        # for another platform the lock does not cover the build
        smith_user --platform linux/arm64 -b 1 -i six.tar.gz
        assert_status 3
        assert_output_contains "does not cover this smith.yaml"
        # several platforms: one lock each, which their builds use
        rm smith.lock
        sed -i 's|^platform: .*|platforms: [linux/amd64, linux/arm64]|' smith.yaml
        smith_user -b 1 -i multi.tar.gz
        assert_status 0
        smith_user lock
        assert_status 0
        [ "$(jq -r '[.packages[].arch] | unique - ["all"] | join(",")' smith.linux-amd64.lock)" = amd64 ] ||
                fail "amd64 lock: $(ls)"
        [ "$(jq -r '[.packages[].arch] | unique - ["all"] | join(",")' smith.linux-arm64-v8.lock)" = arm64 ]
        smith_user -v -b 1 -i multi-locked.tar.gz
        assert_status 0
        assert_output_contains "using 'smith.linux-amd64.lock'"
        assert_output_contains "using 'smith.linux-arm64-v8.lock'"
        cmp multi.tar.gz multi-locked.tar.gz
}
