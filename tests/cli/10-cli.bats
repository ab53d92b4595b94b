#!/usr/bin/env bats
# The command line itself: flags, version, usage and config errors, exit codes
# (0 ok, 1 I/O, 2 usage, 3 config, 4 source, 5 registry).

load helpers/common

setup() { common_setup; }
teardown() { common_teardown; }

@test "--help lists every flag" {
        run "$SMITH" --help
        assert_status 0
        for f in -c --conf -d --dir -i --image -b --buildnumber -f --fast \
                -v --verbose -V --version -k --insecure -h --help; do
                printf '%s\n' "$output" | grep -qE -- "(^|[^-[:alnum:]])$f([^-[:alnum:]]|$)" ||
                        fail "--help does not mention $f"
        done
}

@test "-h is --help" {
        run "$SMITH" --help
        local long=$output
        run "$SMITH" -h
        assert_status 0
        assert_output_contains "--help"
        [ "$output" = "$long" ] || fail "-h and --help differ"
}

@test "-V and --version print the version" {
        local want
        want=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SMITH_SRC/meson.build" | head -n1)
        [ -n "$want" ]
        run "$SMITH" -V
        assert_status 0
        assert_output_contains "$want"
        run "$SMITH" --version
        assert_status 0
        assert_output_contains "$want"
}

@test "an unknown flag is a usage error (exit 2), one line" {
        write_cat_example
        run "$SMITH" --bogus-flag
        assert_status 2
        assert_one_error_line
        assert_output_contains "bogus-flag"
        [ ! -e image.tar.gz ]
}

@test "an unknown short flag is a usage error (exit 2)" {
        write_cat_example
        run "$SMITH" -Z
        assert_status 2
        assert_one_error_line
        [ ! -e image.tar.gz ]
}

@test "extra arguments are a usage error (exit 2)" {
        write_cat_example
        run "$SMITH" extra-argument
        assert_status 2
        assert_one_error_line
        [ ! -e image.tar.gz ]
}

@test "a flag missing its value is a usage error (exit 2)" {
        write_cat_example
        run "$SMITH" -i
        assert_status 2
        assert_one_error_line
        [ ! -e image.tar.gz ]
}

@test "no smith.yaml: non-zero exit naming the file" {
        run "$SMITH"
        [ "$status" -ne 0 ] || fail "exit 0 without smith.yaml"
        [ "$status" -ne 2 ] || fail "a missing file is not a usage error"
        assert_one_error_line
        assert_output_contains "smith.yaml"
        [ ! -e image.tar.gz ]
}

@test "-c with a missing file names that file" {
        run "$SMITH" -c "$W/nowhere/other.yaml"
        [ "$status" -ne 0 ]
        assert_one_error_line
        assert_output_contains "$W/nowhere/other.yaml"
}

@test "'path:' typo is a config error (exit 3) with file:line:col and a suggestion" {
        cat >smith.yaml <<'EOF'
package: /
cmd: [/usr/bin/cat]
path:
- /usr/bin/cat
EOF
        run "$SMITH"
        assert_status 3
        [ "$output" = "smith: smith.yaml:3:1: unknown key 'path' (did you mean 'paths'?)" ] ||
                fail "got: $output"
        [ ! -e image.tar.gz ]
        [ -z "$(leftovers "$W" "$TMPDIR")" ] || fail "left behind: $(leftovers "$W" "$TMPDIR")"
}

@test "a YAML syntax error is a config error (exit 3) with file:line:col" {
        printf 'package: /\npaths: [/usr/bin/cat\n' >smith.yaml
        run "$SMITH"
        assert_status 3
        assert_one_error_line
        [[ "$output" =~ ^smith:\ smith\.yaml:[0-9]+:[0-9]+:\  ]] || fail "no file:line:col: $output"
        [ ! -e image.tar.gz ]
}

@test "a wrongly typed value is a config error (exit 3) naming the key" {
        printf 'package: /\npaths: /usr/bin/cat\n' >smith.yaml
        run "$SMITH"
        assert_status 3
        assert_one_error_line
        [[ "$output" =~ ^smith:\ smith\.yaml:2:[0-9]+:\  ]] || fail "no smith.yaml:2:col: $output"
        assert_output_contains "paths"
        [ ! -e image.tar.gz ]
}

@test "config errors name the file given with -c" {
        printf 'package: /\nbogus: 1\n' >other.yaml
        run "$SMITH" -c other.yaml
        assert_status 3
        assert_one_error_line
        assert_output_contains "other.yaml:2:1: unknown key 'bogus'"
}

@test "every verb answers -h and -V alike; 'smith build' is the default verb" {
        local want
        want=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SMITH_SRC/meson.build" | head -n1)
        for verb in build upload download; do
                run "$SMITH" "$verb" --version
                assert_status 0
                assert_output_contains "$want"
                run "$SMITH" "$verb" -h
                assert_status 0
                assert_output_contains "--help"
        done
        write_cat_example
        run "$SMITH" build -i verb.tar.gz
        assert_status 0
        [ -s verb.tar.gz ] || fail "smith build wrote no image"
}

@test "bundled short flags report the one that is unknown" {
        write_cat_example
        run "$SMITH" -kx
        assert_status 2
        assert_one_error_line
        assert_output_contains "'-x'"
        run "$SMITH" upload -kx -r localhost:5000/x
        assert_status 2
        assert_output_contains "'-x'"
}

# zsh_block VERB: the part of completions/_smith that completes VERB
zsh_block() {
        if [ "$1" = build ]; then
                sed -n '/^_smith_build() {/,/^}/p' "$SMITH_SRC/completions/_smith"
        else
                sed -n "/^$1)\$/,/;;/p" "$SMITH_SRC/completions/_smith"
        fi
}

@test "cli: every flag of every verb's --help is in its man page and in the bash and zsh completions" {
        local verb page flags f
        for verb in build upload download inspect lock sbom; do
                if [ "$verb" = build ]; then
                        page=smith
                        run "$SMITH" --help
                else
                        page=smith-$verb
                        run "$SMITH" "$verb" --help
                fi
                assert_status 0
                flags=$(grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' <<<"$output" | grep -oE -- '--[a-z-]+|-[a-zA-Z]')
                [ -n "$flags" ] || fail "$verb: no flags read from --help"
                for f in $flags; do
                        grep -qF -- "*$f*" "$SMITH_SRC/man/$page.1.scd" || fail "$verb: '$f' is not in man/$page.1.scd"
                        awk -v v="$verb)" '$1 == v' "$SMITH_SRC/completions/smith.bash" | grep -qw -- "$f" ||
                                fail "$verb: '$f' is not in completions/smith.bash"
                        case $f in
                        -h | --help | -V | --version) grep -qF -- "$f" "$SMITH_SRC/completions/_smith" ;;
                        *) zsh_block "$verb" | grep -qF -- "$f" ;;
                        esac || fail "$verb: '$f' is not in completions/_smith"
                done
        done
        # the completions complete the values too, and both shells read them
        run bash -c ". '$SMITH_SRC/completions/smith.bash'; COMP_WORDS=(smith --format ''); COMP_CWORD=2; _smith; echo \"\${COMPREPLY[*]}\""
        [ "$output" = "oci oci-tar oci-dir docker-archive" ] || fail "bash --format: $output"
        run bash -c ". '$SMITH_SRC/completions/smith.bash'; COMP_WORDS=(smith sbom -f ''); COMP_CWORD=3; _smith; echo \"\${COMPREPLY[*]}\""
        [ "$output" = "spdx cyclonedx" ] || fail "bash sbom -f: $output"
        run bash -c ". '$SMITH_SRC/completions/smith.bash'; COMP_WORDS=(smith --platform linux/arm); COMP_CWORD=2; _smith; echo \"\${COMPREPLY[*]}\""
        [ "$output" = "linux/arm64 linux/arm/v7 linux/arm/v6 linux/arm/v5" ] || fail "bash --platform: $output"
        run zsh -n "$SMITH_SRC/completions/_smith"
        assert_status 0
}

@test "cli: make install's files: bin/smith, a man page per verb that man renders, both completions" {
        local d="$T/dest" p
        run meson install -C "$SMITH_BUILD" --destdir "$d" --no-rebuild
        assert_status 0
        p=$(find "$d" -path '*/bin/smith')
        [ -x "$p" ] || fail "no bin/smith: $(find "$d" -type f)"
        p=${p%/bin/smith}
        for page in smith smith-upload smith-download smith-inspect smith-lock smith-sbom; do
                [ -s "$p/share/man/man1/$page.1" ] || fail "no $page.1"
                run man -l "$p/share/man/man1/$page.1"
                assert_status 0
                assert_output_contains "$page"
        done
        [ -s "$p/share/bash-completion/completions/smith" ] && [ -s "$p/share/zsh/site-functions/_smith" ] ||
                fail "completions: $(find "$d" -type f)"
}
