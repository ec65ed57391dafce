_dltool_completion() {
    local IFS=$'\n'
    local -a words=()
    local i n=-1 cword=0 glue=0 w
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        w=${COMP_WORDS[i]}
        if ((n >= 0)) && { [[ $w == : ]] || ((glue)); }; then
            words[n]+=$w
        else
            words[++n]=$w
        fi
        if [[ $w == : ]]; then glue=1; else glue=0; fi
        ((i == COMP_CWORD)) && cword=$n
    done
    COMPREPLY=( $( env COMP_WORDS="${words[*]}" \
                   COMP_CWORD=$cword \
                   _DLTOOL_COMPLETE=complete_bash $1 ) )
    local cur=${words[cword]}
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local prefix=${cur%"${cur##*:}"}
        for ((i = 0; i < ${#COMPREPLY[@]}; i++)); do
            COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
        done
    fi
    return 0
}

complete -o default -F _dltool_completion dltool
