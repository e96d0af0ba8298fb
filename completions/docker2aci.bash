# bash completion for docker2aci
_docker2aci() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        --compression) COMPREPLY=($(compgen -W "gzip none" -- "$cur")); return ;;
        --platform) COMPREPLY=($(compgen -W "linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/386 linux/ppc64le linux/s390x" -- "$cur")); return ;;
        -o|--output-dir|--cache-dir|--gpg-home|--cert-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --passphrase-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --batch) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --image|--username|--sign-key|--discovery-url|--shard|--jobs|--parallel|--threads|--compression-level|--max-*) return ;;
        --listen|--connections|--connections-per-client|--timeout) return ;;
    esac
    if [[ ${COMP_WORDS[1]} == serve ]]; then
        COMPREPLY=($(compgen -W "--listen --discovery-url --output-dir --connections
            --connections-per-client --timeout --help" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--image --nosquash --compression --compression-level --threads
            --output-dir --platform --json --quiet --debug --insecure-skip-verify
            --insecure-allow-http --username --password-stdin --cert-dir --parallel --batch
            --jobs --shard --cache-dir --force --known-manifest --sign-key --gpg-home --passphrase-file --discovery-url --experimental-oci
            --max-metadata-size --max-unpacked-size --max-compression-ratio --max-entries
            --version --help" -- "$cur"))
        return
    fi
    COMPREPLY=()
    [ "$COMP_CWORD" = 1 ] && [[ serve == "$cur"* ]] && COMPREPLY+=(serve)
    COMPREPLY+=($(compgen -f -- "$cur"))
    [[ docker:// == "$cur"* ]] && COMPREPLY+=("docker://")
}
complete -o filenames -F _docker2aci docker2aci
