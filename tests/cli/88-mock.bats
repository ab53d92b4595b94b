#!/usr/bin/env bats
# The mock keys, with smith's own RPM source (Debian has no mock to run):
# repositories read from a mock configuration (Python, read without
# running it: include(), triple-quoted dnf.conf), mock.pre-build and
# mock.post-build around the install, mock.debuginfo.  The repository is
# tests/fixtures/rpm-repo.sh's, over file://.  Every build runs as an
# unprivileged user (uid 65534) with a cache of its own.

load helpers/common

setup_file() {
        FIX=$(mktemp -d /tmp/smith-mock.XXXXXX)
        chmod 0755 "$FIX"
        "$SMITH_SRC/tests/fixtures/rpm-repo.sh" make "$FIX"
        chmod -R a+rX "$FIX"/repo "$FIX"/*.asc "$FIX"/*.rpm "$FIX"/hello-rpm.build-id
        export FIX
}

teardown_file() {
        rm -rf "$FIX"
}

setup() {
        common_setup
        U="$T/user"
        mkdir -p "$U/home" "$U/cache" "$U/tmp"
        cp "$SMITH" "$U/smith"
        ARCH=$(uname -m)
        # the repository as $releasever/$basearch would find it
        mkdir -p "$T/mirror/9"
        ln -s "$FIX/repo" "$T/mirror/9/$ARCH"
        chmod -R a+rX "$T/mirror"
        chmod a+x "$T"
}

teardown() {
        common_teardown
}

# write_cfg: cfg/fixture.cfg including cfg/templates/base.tpl, as
# mock-core-configs lays them out (METALINK=1: a repository with only a
# metalink is enabled).
write_cfg() {
        mkdir -p cfg/templates
        cat >cfg/templates/base.tpl <<EOF
# shared settings, as in mock-core-configs' templates
config_opts['chroot_setup_cmd'] = 'install bash coreutils'
config_opts['extra_chroot_dirs'] = [ '/run/lock',
                                     '/run/other' ]  # spans lines
config_opts['plugin_conf']['ccache_enable'] = False
config_opts['macros']['%_smp_mflags'] = "-j2"
config_opts['package_manager'] = 'dnf'
if config_opts['target_arch'] == 'i686':
    config_opts['legal_host_arches'] = ('i386', 'i586', 'i686', 'x86_64')

config_opts['dnf.conf'] = """
[main]
keepcache=1
reposdir=/dev/null
gpgcheck=0
user_agent={{ user_agent }}

[fixture]
name=Fixture {{ releasever }} - \$basearch
baseurl=file://$T/mirror/\$releasever/\$basearch/
gpgkey=file://$FIX/key.asc
gpgcheck=1
enabled=1

[fixture-metalink]
name=Only a metalink
metalink=https://mirrors.example/metalink?repo=f-\$releasever&arch=\$basearch
enabled=${METALINK:-0}

[fixture-disabled]
name=Disabled
baseurl=https://unreachable.invalid/\$basearch/
enabled=0
"""
EOF
        cat >cfg/fixture.cfg <<EOF
config_opts['root'] = 'fixture-{{ releasever }}-{{ target_arch }}'
config_opts['target_arch'] = '$ARCH'
config_opts['legacy_target_arch'] = 'ignored'
config_opts['releasever'] = '9'
include('templates/base.tpl')
EOF
}

# write_yaml [MOCK KEYS...]: hello-rpm from the fixture mock configuration.
write_yaml() {
        {
                echo "package: hello-rpm"
                echo "type: mock"
                echo "mock:"
                echo "  config: cfg/fixture.cfg"
                for k in "$@"; do echo "  $k"; done
                echo "paths:"
                echo "- /usr/bin/hello-rpm"
                echo "cmd: [/usr/bin/hello-rpm]"
        } >smith.yaml
}

packages_of() {
        $OCI blob "$1" application/vnd.smith.packages
}

assert_clean_failure() {
        [ ! -e image.tar.gz ] || fail "failed but left image.tar.gz"
        [ -z "$(ls -A "$U/cache/smith/tmp" 2>/dev/null)" ] || fail "left in the cache: $(ls -A "$U/cache/smith/tmp")"
        [ -z "$(ls -A "$U/tmp")" ] || fail "left in TMPDIR: $(ls -A "$U/tmp")"
        [ -z "$(leftovers "$W")" ] || fail "left behind: $(leftovers "$W")"
}

@test "mock: the repositories of a mock config with include() and a dnf.conf build the image" {
        METALINK=1 write_cfg
        write_yaml
        smith_user -v
        assert_status 0
        [ "$(packages_of image.tar.gz)" = "greeter-data-1.0-1.noarch
hello-rpm-1.0-1.$ARCH
libgreet-1.1-1.$ARCH" ] || fail "packages: $(packages_of image.tar.gz)"
        run $OCI ls image.tar.gz
        grep -qE '^f 0755 .* usr/bin/hello-rpm$' <<<"$output" || fail "no usr/bin/hello-rpm: $output"
        grep -q 'usr/lib64/libgreet.so.1' <<<"$output" || fail "no libgreet: $output"
        # the metalink-only repository is skipped with a warning naming its line
        smith_user -v
        assert_status 0
        assert_output_contains "cfg/templates/base.tpl:25: repository 'fixture-metalink' has only a mirrorlist or metalink"
        assert_output_contains "': 1 repositories"
        run $OCI blob image.tar.gz application/vnd.smith.spec+json
        [ "$(jq -r '.mock.config' <<<"$output")" = cfg/fixture.cfg ]
        ! $OCI ls image.tar.gz | grep -q usr/lib/debug || fail "debug files without mock.debuginfo"
        # without a type, mock.config's packages are RPM packages too (this machine has apt sources)
        sed -i '/^type: mock$/d' smith.yaml
        smith_user
        assert_status 0
        [ "$(packages_of image.tar.gz | head -n1)" = "greeter-data-1.0-1.noarch" ] || fail "packages: $(packages_of image.tar.gz)"
}

@test "mock: a mock config smith cannot read fails with file:line and one line" {
        write_cfg
        write_yaml
        # a broken ini line inside dnf.conf: the line of the mock file
        sed -i '33s/^enabled=0$/enabled=perhaps/' cfg/templates/base.tpl
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "cfg/templates/base.tpl:33: 'enabled' must be a boolean"
        # an unterminated string in the included file
        write_cfg
        printf "config_opts['dist'] = 'el9\n" >>cfg/templates/base.tpl
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "cfg/templates/base.tpl:35: unterminated string"
        # a kept key given something that is not a string literal
        write_cfg
        printf "config_opts['releasever'] = str(9)\n" >>cfg/fixture.cfg
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "cfg/fixture.cfg:6: config_opts['releasever']: only string literals are understood"
        # an include that includes itself, and one that is missing
        write_cfg
        echo "include('../fixture.cfg')" >>cfg/templates/base.tpl
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "includes itself"
        write_cfg
        echo "include('missing.tpl')" >>cfg/fixture.cfg
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "cfg/fixture.cfg:6: include: mock config '/etc/mock/missing.tpl'"
        # an unclosed bracket
        write_cfg
        echo "config_opts['yum_builddep_opts'] = [" >>cfg/fixture.cfg
        smith_user
        assert_status 3
        assert_one_error_line
        assert_output_contains "cfg/fixture.cfg:6: bracket not closed"
        assert_clean_failure
}

@test "mock: pre-build runs before the install, post-build after it and sees the root" {
        write_cfg
        cat >pre.sh <<'EOF'
#!/bin/sh
# runs in the build directory, before any package is unpacked
echo "pre $(ls -A "$XDG_CACHE_HOME/smith/roots" 2>/dev/null | wc -l) ${SMITH_ROOT:-noroot}" >>"$PWD/order"
EOF
        cat >post.sh <<'EOF'
#!/bin/sh
test -x "$SMITH_ROOT/usr/bin/hello-rpm" && r=root-ok || r=no-root
echo "post $r" >>"$PWD/order"
EOF
        chmod 0755 pre.sh post.sh
        write_yaml "pre-build: ./pre.sh" "post-build: ./post.sh"
        smith_user -v
        assert_status 0
        [ "$(cat order)" = "pre 0 noroot
post root-ok" ] || fail "order: $(cat order)"
        assert_output_contains "mock.pre-build: running './pre.sh'"
        $OCI ls image.tar.gz | grep -q 'usr/bin/hello-rpm' || fail "no hello-rpm"
}

@test "mock: a failing pre-build or post-build aborts the build with one line and leaves nothing" {
        write_cfg
        printf '#!/bin/sh\nexit 3\n' >pre.sh
        printf '#!/bin/sh\nkill -9 $$\n' >post.sh
        chmod 0755 pre.sh post.sh
        write_yaml "pre-build: ./pre.sh"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "mock.pre-build './pre.sh' failed with exit status 3"
        assert_clean_failure
        # nothing was fetched: the pre-build comes first
        [ -z "$(ls -A "$U/cache/smith/roots" 2>/dev/null)" ] || fail "a root was made"
        write_yaml "post-build: ./post.sh"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "mock.post-build './post.sh' was killed by signal 9"
        assert_clean_failure
        write_yaml "pre-build: no-such-program-here"
        smith_user
        assert_status 4
        assert_one_error_line
        assert_output_contains "mock.pre-build 'no-such-program-here': No such file or directory"
        assert_clean_failure
}

@test "mock: with a mock on PATH smith still installs natively and says so under -v" {
        write_cfg
        write_yaml
        mkdir -p "$U/bin"
        printf '#!/bin/sh\necho ran >"%s/mock-ran"\nexit 1\n' "$T" >"$U/bin/mock"
        chmod 0755 "$U/bin/mock"
        chown -R 65534:65534 "$U" "$W"
        run setpriv --reuid=65534 --regid=65534 --clear-groups \
                env -i PATH="$U/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$U/home" XDG_CACHE_HOME="$U/cache" \
                TMPDIR="$U/tmp" SOURCE_DATE_EPOCH=0 "$U/smith" -v
        assert_status 0
        assert_output_contains "'mock' is on PATH, but smith does not run it"
        [ ! -e "$T/mock-ran" ] || fail "mock was run"
        $OCI ls image.tar.gz | grep -q 'usr/bin/hello-rpm' || fail "no hello-rpm"
}

@test "mock: debuginfo brings the .debug file of the copied program by build-id, and nothing else" {
        local bid dbg
        bid=$(cat "$FIX/hello-rpm.build-id")
        write_cfg
        write_yaml "debuginfo: true"
        smith_user -v
        assert_status 0
        # libgreet's ELF files were copied too, but it has no debuginfo package
        assert_output_contains "no debuginfo package for 'libgreet'"
        run $OCI ls image.tar.gz
        local ls=$output
        grep -qE "^l .* usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug -> ../../usr/bin/hello-rpm-1.0-1.$ARCH.debug\$" <<<"$ls" ||
                fail "no .build-id .debug link: $ls"
        grep -qE "^l .* usr/lib/debug/.build-id/${bid:0:2}/${bid:2} -> ../../../../../usr/bin/hello-rpm\$" <<<"$ls" ||
                fail "no .build-id link: $ls"
        grep -qE "^f 0644 .* usr/lib/debug/usr/bin/hello-rpm-1.0-1.$ARCH.debug\$" <<<"$ls" || fail "no .debug file: $ls"
        # the .debug file is the one for this very program
        dbg="$T/hello.debug"
        $OCI cat image.tar.gz "usr/lib/debug/usr/bin/hello-rpm-1.0-1.$ARCH.debug" >"$dbg"
        [ "$(readelf -n "$dbg" | sed -n 's/.*Build ID: *//p')" = "$bid" ] || fail "wrong .debug file"
        readelf -S "$dbg" | grep -q '\.debug_info' || fail "no debug sections in the .debug file"
        # and the dwz file its .gnu_debugaltlink names, the same bytes as in the package, only that one
        readelf -p .gnu_debugaltlink "$dbg" | grep -q "/usr/lib/debug/.dwz/hello-rpm-1.0-1.$ARCH" ||
                fail "the fixture's .debug file names no dwz file"
        grep -qE "^f 0644 .* usr/lib/debug/.dwz/hello-rpm-1.0-1.$ARCH\$" <<<"$ls" || fail "no dwz file: $ls"
        ! grep -q 'unrelated-1.0' <<<"$ls" || fail "an unrelated dwz file was copied: $ls"
        $OCI cat image.tar.gz "usr/lib/debug/.dwz/hello-rpm-1.0-1.$ARCH" >"$T/dwz"
        readelf -S "$T/dwz" | grep -q '\.debug_info' || fail "the dwz file is not whole"
        # not the other debug file of the package, and no debuginfo package in the packages blob
        ! grep -q 'other-1.0' <<<"$ls" || fail "an unrelated .debug file was copied: $ls"
        ! grep -q '.build-id/ee' <<<"$ls" || fail "an unrelated build-id was copied: $ls"
        ! packages_of image.tar.gz | grep -q debuginfo || fail "debuginfo in the packages blob"
        # the program itself is the stripped one, with its debuglink
        $OCI cat image.tar.gz usr/bin/hello-rpm >"$T/hello"
        readelf -S "$T/hello" | grep -q gnu_debuglink || fail "hello-rpm has no debuglink"
        ! readelf -S "$T/hello" | grep -q '\.debug_info' || fail "hello-rpm is not stripped"

        # without debuginfo: nothing under /usr/lib/debug
        write_yaml
        smith_user
        assert_status 0
        ! $OCI ls image.tar.gz | grep -q usr/lib/debug || fail "debug files without mock.debuginfo"
}

@test "mock: debugdeps are installed in the debuginfo root and debugpaths copied from it" {
        write_cfg
        write_yaml "debuginfo: true" "debugdeps: [decoy]" "debugpaths: [/usr/share/decoy, /usr/lib/debug/usr/bin/other-*]"
        smith_user
        assert_status 0
        run $OCI ls image.tar.gz
        grep -q 'usr/share/decoy/decoy.txt' <<<"$output" || fail "debugdeps/debugpaths not copied: $output"
        grep -q "usr/lib/debug/usr/bin/other-1.0-1.$ARCH.debug" <<<"$output" || fail "debugpaths glob not copied: $output"
        grep -q "usr/lib/debug/usr/bin/hello-rpm-1.0-1.$ARCH.debug" <<<"$output" || fail "no hello-rpm .debug: $output"
        ! packages_of image.tar.gz | grep -q decoy || fail "decoy in the packages blob"
        # a debugdeps package that does not exist is an error
        write_yaml "debuginfo: true" "debugdeps: [no-such-debug-thing]"
        rm image.tar.gz
        smith_user
        assert_status 4
        # after the selection's warnings (the fixture has no libc), one error line
        [ "$(grep -v '^smith: warning: ' <<<"$output")" = \
                "smith: mock.debuginfo: package 'no-such-debug-thing' not found in the repositories" ] ||
                fail "output: $output"
        assert_clean_failure
}
