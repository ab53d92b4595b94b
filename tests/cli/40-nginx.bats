#!/usr/bin/env bats
# A real server as a microcontainer: nginx from the Debian image, run with
# runc on a read-only root as uid 10 (user nginx), listening on a free port on
# 127.0.0.1 (the container shares the host's network namespace), fetched with
# curl from the host, then stopped.

load helpers/common

setup_file() {
        DEB=$(fixture debian-image)
        export DEB
}

setup() {
        common_setup
        RUN="$T/run"
}

teardown() {
        [ -z "${RUN:-}" ] || "$HELPERS/run-image.sh" --stop "$RUN" || true
        common_teardown
}

write_nginx() {
        local port=$1
        cat >smith.yaml <<EOF
package: $DEB
paths:
- /usr/sbin/nginx
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
        printf 'hello from a microcontainer\n' >rootfs/read/www/index.html
}

@test "nginx microcontainer serves a page on 127.0.0.1, read-only, as uid 10" {
        local port body i
        port=$(free_port)
        write_nginx "$port"
        run "$SMITH"
        assert_status 0
        # no shell, no package manager: nginx and its libraries only
        ! $OCI ls image.tar.gz | grep -qE '(^|/)(bin/(ba)?sh|bin/dash|usr/bin/apt)$' || fail "a shell or apt in the image"

        "$HELPERS/run-image.sh" --detach "$RUN" image.tar.gz || fail "runc: $(cat "$RUN/log")"
        body=
        for i in $(seq 100); do
                body=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null) && break
                sleep 0.1
        done
        [ "$body" = "hello from a microcontainer" ] || fail "no page on port $port; nginx said: $(cat "$RUN/log")"

        # the master runs as uid 10 with a read-only root
        local pid
        pid=$(cat "$RUN/pid")
        [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 10 ]
        grep -qE '^[^ ]+ / [^ ]+ ro[, ]' "/proc/$pid/mounts" || fail "root not read-only: $(cat "/proc/$pid/mounts")"

        # a missing page is a 404 from nginx, not a dead server
        run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope"
        [ "$output" = 404 ]

        "$HELPERS/run-image.sh" --stop "$RUN"
        ! curl -fsS --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null || fail "still serving after stop"
        [ ! -e "$RUN" ]
}
