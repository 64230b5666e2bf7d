# compiler threads' CPU ms of pid $1
t=0; for f in /proc/$1/task/*; do n=$(cat $f/comm 2>/dev/null); case "$n" in C1\ Compiler*|C2\ Compiler*) s=($(sed 's/.*) //' $f/stat)); t=$((t + ${s[11]} + ${s[12]}));; esac; done; echo $((t*10))
