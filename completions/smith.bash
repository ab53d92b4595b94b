# bash completion for smith(1): verbs, each verb's flags, and the values of
# --format, --compression and --platform.  Installed as
# share/bash-completion/completions/smith.

_smith() {
        local cur prev verb words_i
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        local verbs="build upload download inspect lock sbom"
        local platforms="linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/arm/v5 linux/386 linux/ppc64le linux/s390x linux/riscv64 linux/mips64le"
        verb=build
        for ((words_i = 1; words_i < COMP_CWORD; words_i++)); do
                case " $verbs " in
                *" ${COMP_WORDS[words_i]} "*) verb=${COMP_WORDS[words_i]}; break ;;
                esac
        done
        case $prev in
        --format | -f)
                if [ "$verb" = sbom ]; then
                        COMPREPLY=($(compgen -W "spdx cyclonedx" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "oci oci-tar oci-dir docker-archive" -- "$cur"))
                fi
                return ;;
        --compression)
                COMPREPLY=($(compgen -W "gzip zstd gzip:9 zstd:3 zstd:19" -- "$cur"))
                return ;;
        --platform)
                COMPREPLY=($(compgen -W "$platforms" -- "$cur"))
                [ "$verb" = download ] && COMPREPLY+=($(compgen -W "all" -- "$cur"))
                return ;;
        -c | --conf | -i | --image | --ca-file)
                COMPREPLY=($(compgen -f -- "$cur"))
                return ;;
        -d | --dir)
                COMPREPLY=($(compgen -d -- "$cur"))
                return ;;
        -b | --buildnumber | -r | --remote | --max-entry | --max-index | --max-unpacked | --timeout)
                return ;;
        esac
        local flags
        case $verb in
        build) flags="--buildnumber -b --compression --conf -c --dir -d --fast -f --format --image -i --insecure -k --max-entry --max-index --max-unpacked --platform --quiet -q --timeout --verbose -v --help -h --version -V" ;;
        upload) flags="--remote -r --image -i --docker -d --insecure -k --timeout --compression --ca-file --verbose -v --help -h --version -V" ;;
        download) flags="--remote -r --image -i --insecure -k --timeout --ca-file --platform --verbose -v --help -h --version -V" ;;
        inspect) flags="--json --help -h --version -V" ;;
        lock) flags="--conf -c --dir -d --insecure -k --platform --timeout --update -u --verbose -v --help -h --version -V" ;;
        sbom) flags="--format -f --help -h --version -V" ;;
        esac
        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        elif [ "$COMP_CWORD" = 1 ]; then
                COMPREPLY=($(compgen -W "$verbs $flags" -- "$cur"))
        else
                COMPREPLY=($(compgen -f -- "$cur"))
        fi
}
complete -F _smith smith
