#!/usr/bin/env bats
# `package: /`: the host's own root as the package.  The README's cat example
# built from this machine's /usr/bin/cat, checked with independent tools
# (oci-image-tool, umoci, skopeo, Python's tarfile) and run with runc.

load helpers/common

setup() {
        common_setup
        write_cat_example
}
teardown() { common_teardown; }

build() {
        run "$SMITH" "$@"
        assert_status 0
}

@test "builds image.tar.gz whose digests, sizes and diff_ids check out" {
        build
        [ -f image.tar.gz ]
        run $OCI verify image.tar.gz
        assert_status 0
}

@test "oci-image-tool validates the layout" {
        build
        mkdir layout
        tar -C layout -xzf image.tar.gz
        [ -f layout/oci-layout ]
        [ -f layout/index.json ]
        [ -d layout/blobs/sha256 ]
        run oci-image-tool validate --type image --ref name=latest layout
        assert_status 0
}

@test "index.json: manifest tagged latest, the smith spec an artifact referring to it" {
        build
        run $OCI index image.tar.gz
        assert_status 0
        local idx=$output
        [ "$(jq '[.manifests[] | select(.mediaType == "application/vnd.oci.image.manifest.v1+json"
                   and .annotations["org.opencontainers.image.ref.name"] == "latest")] | length' <<<"$idx")" = 1 ]
        run $OCI referrers image.tar.gz
        assert_status 0
        [ "$(jq '[.manifests[] | select(.artifactType == "application/vnd.smith.spec+json")] | length' <<<"$output")" = 1 ]
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        assert_status 0
        [ "$(jq -r .package <<<"$output")" = / ]
        [ "$(jq -c .paths <<<"$output")" = '["/usr/bin/cat"]' ]
}

@test "umoci unpacks it and runc runs it read-only as uid 10: Hello World!" {
        build
        run run_image image.tar.gz
        assert_status 0
        [ "$output" = "Hello World!" ] || fail "got: $output"
}

@test "the process runs as uid 10, gid 10 by default" {
        build
        [ "$($OCI config image.tar.gz | jq -r .config.User)" = "10:10" ]
        run run_image image.tar.gz /usr/bin/cat /proc/self/status
        assert_status 0
        printf '%s\n' "$output" | grep -qP '^Uid:\t10\t10\t10\t10$' || fail "not uid 10: $output"
        printf '%s\n' "$output" | grep -qP '^Gid:\t10\t10\t10\t10$' || fail "not gid 10: $output"
}

@test "the config carries cmd" {
        build
        run $OCI config image.tar.gz
        assert_status 0
        [ "$(jq -c '(.config.Entrypoint // []) + (.config.Cmd // [])' <<<"$output")" = '["/usr/bin/cat","/read/data"]' ]
        [ "$(jq -r .os <<<"$output")" = linux ]
        [ "$(jq -r .architecture <<<"$output")" = amd64 ]
}

@test "-i names the output" {
        build -i other.tar.gz
        [ -f other.tar.gz ]
        [ ! -e image.tar.gz ]
        run $OCI verify other.tar.gz
        assert_status 0
}

@test "-d builds the directory given; the image lands in the current directory" {
        mkdir "$T/elsewhere"
        cd "$T/elsewhere"
        build -d "$W"
        [ -f "$T/elsewhere/image.tar.gz" ]
        [ "$($OCI cat "$T/elsewhere/image.tar.gz" /read/data)" = "Hello World!" ]
}

@test "-c reads another config file" {
        mv smith.yaml other.yaml
        run "$SMITH"
        [ "$status" -ne 0 ]
        build -c other.yaml
        [ -f image.tar.gz ]
        run run_image image.tar.gz
        [ "$output" = "Hello World!" ]
}

@test "layer: owned 10:10, modes 0755/0644, mtime 0, the standard dirs" {
        build
        run $OCI ls image.tar.gz
        assert_status 0
        local listing=$output bad
        [ -n "$listing" ]
        bad=$(awk '$3 != "10:10" || $4 != 0' <<<"$listing")
        [ -z "$bad" ] || fail "entries not 10:10 at mtime 0: $bad"
        bad=$(awk '$1 == "f" && $2 != "0755" && $2 != "0644"' <<<"$listing")
        [ -z "$bad" ] || fail "files with other modes: $bad"
        bad=$(awk '$1 == "d" && $2 != "0755"' <<<"$listing")
        [ -z "$bad" ] || fail "dirs with other modes: $bad"
        bad=$(awk '$1 != "f" && $1 != "d" && $1 != "l" && $1 != "h"' <<<"$listing")
        [ -z "$bad" ] || fail "special files: $bad"
        for d in dev read write run proc sys; do
                grep -qE "^d 0755 10:10 0 (\./)?$d$" <<<"$listing" || fail "no dir $d"
        done
        grep -qE '^f 0755 10:10 0 (\./)?usr/bin/cat$' <<<"$listing" || fail "no usr/bin/cat 0755"
        grep -qE '^f 0644 10:10 0 (\./)?read/data$' <<<"$listing" || fail "no read/data 0644"
        # no entry escapes the root
        bad=$(awk '{print $5}' <<<"$listing" | grep -E '^/|(^|/)\.\.(/|$)' || true)
        [ -z "$bad" ] || fail "entries outside the root: $bad"
}

@test "layer: the ELF interpreter and the libraries cat needs are in" {
        build
        local listing lib base
        listing=$($OCI ls image.tar.gz | awk '{print $5}' | sed 's|^\./||')
        for lib in $(ldd /usr/bin/cat | grep -o '/[^ ]*'); do
                base=$(basename "$lib")
                grep -qE "(^|/)$base$" <<<"$listing" || fail "$lib missing from the layer"
        done
}

# listing: the top layer's entries in $output, checked to hold usr/bin/cat.
listing() {
        run $OCI ls image.tar.gz
        assert_status 0
        grep -qE ' (\./)?usr/bin/cat$' <<<"$output" || fail "no usr/bin/cat in: $output"
}

@test "root: true makes entries 0:0" {
        printf 'root: true\n' >>smith.yaml
        build
        listing
        local bad
        bad=$(awk '$3 != "0:0"' <<<"$output")
        [ -z "$bad" ] || fail "entries not 0:0: $bad"
}

@test "SOURCE_DATE_EPOCH sets every mtime" {
        SOURCE_DATE_EPOCH=1700000000 build
        listing
        local bad
        bad=$(awk '$4 != 1700000000' <<<"$output")
        [ -z "$bad" ] || fail "entries with another mtime: $bad"
}

@test "skopeo agrees with index.json on the manifest and layer digests" {
        build
        mkdir layout
        tar -C layout -xzf image.tar.gz
        run skopeo inspect "oci:layout:latest"
        assert_status 0
        local sk=$output man_digest layer
        man_digest=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' layout/index.json)
        layer=$($OCI layers image.tar.gz | tail -n1)
        [ "$(jq -r .Digest <<<"$sk")" = "$man_digest" ] || fail "skopeo digest $(jq -r .Digest <<<"$sk") != $man_digest"
        [ "$(jq -r '.Layers[-1]' <<<"$sk")" = "$layer" ] || fail "skopeo layer $(jq -r '.Layers[-1]' <<<"$sk") != $layer"
}

# --- NSS files: byte for byte what the original smith writes ---

passwd_default=$'root:x:0:0:root:/write:\ndaemon:x:1:1:daemon:/write:\nbin:x:2:2:bin:/write:\nsys:x:3:3:sys:/write:\nsmith:x:10:10:smith:/write'
group_default=$'root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\nsmith:x:10:'
nsswitch=$'passwd:     files\nshadow:     files\ngroup:      files\nhosts:      files dns'

# same_bytes FILE-IN-IMAGE EXPECTED: exact content, no trailing newline added.
same_bytes() {
        $OCI cat image.tar.gz "$1" >"$T/got"
        printf '%s' "$2" >"$T/want"
        cmp -s "$T/got" "$T/want" || fail "$1 differs: $(diff <(cat -A "$T/want") <(cat -A "$T/got"))"
}

@test "nss: true writes passwd, group, nsswitch.conf exactly" {
        printf 'nss: true\n' >>smith.yaml
        build
        same_bytes /etc/passwd "$passwd_default"
        same_bytes /etc/group "$group_default"
        same_bytes /etc/nsswitch.conf "$nsswitch"
        [ "$($OCI ls image.tar.gz | awk '$5 ~ /(^|\/)etc\/passwd$/ {print $2}')" = 0644 ]
}

@test "without nss there is no /etc/passwd" {
        build
        listing
        run $OCI cat image.tar.gz /etc/passwd
        [ "$status" -ne 0 ]
}

@test "groups: [a, b] are numbered after the user's gid, the user a member" {
        printf 'nss: true\ngroups: [a, b]\n' >>smith.yaml
        build
        same_bytes /etc/passwd "$passwd_default"
        same_bytes /etc/group "$group_default"$'\na:x:11:smith\nb:x:12:smith'
}

@test "user: nginx names the user and turns nss on" {
        printf 'user: nginx\n' >>smith.yaml
        build
        same_bytes /etc/passwd "${passwd_default%smith:x:10:10:smith:/write}nginx:x:10:10:nginx:/write"
        same_bytes /etc/group "$group_default"
        same_bytes /etc/nsswitch.conf "$nsswitch"
}

@test "user: nginx:www names the group too" {
        printf 'user: nginx:www\n' >>smith.yaml
        build
        same_bytes /etc/passwd "${passwd_default%smith:x:10:10:smith:/write}nginx:x:10:10:nginx:/write"
        same_bytes /etc/group "${group_default%smith:x:10:}www:x:10:"
}
