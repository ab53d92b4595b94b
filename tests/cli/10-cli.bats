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
