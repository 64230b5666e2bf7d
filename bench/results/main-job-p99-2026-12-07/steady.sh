#!/bin/bash
# steady.sh OUT [jvm opts]: relay CPU per span flat out, after a 20 s warm-up send
O=$1; shift; mkdir -p $O; D=$(mktemp -d /tmp/p99/run.XXXX); cd $D
G=$((20000 + RANDOM % 20000)); H=$((G+1)); A=$((G+2))
java "$@" -jar /tmp/p99/anchor.jar run --grpc-endpoint 127.0.0.1:$G --http-endpoint 127.0.0.1:$H --admin-endpoint 127.0.0.1:$A > $O/relay.log 2>&1 &
R=$!
for i in $(seq 1 100); do curl -sf http://127.0.0.1:$A/healthz >/dev/null && break; sleep 0.2; done
java -cp /tmp/p99/bench-main.jar io.otlp4j.relay.Main send --endpoint http://127.0.0.1:$G --rate 0 --duration 20s --warmup 0s --json --quiet > $O/warm.json 2>/dev/null
c0=$(awk '{print $14+$15}' /proc/$R/stat)
java -cp /tmp/p99/bench-main.jar io.otlp4j.relay.Main send --endpoint http://127.0.0.1:$G --rate 0 --duration 15s --warmup 0s --json --quiet > $O/send.json 2>/dev/null
c1=$(awk '{print $14+$15}' /proc/$R/stat)
python3 /tmp/p99/threads.py $R > $O/threads.txt
kill $R; wait $R; cd /; rm -rf $D
python3 -c "import json;j=json.load(open('$O/send.json'));s=j['items'];print('spans/s',round(j['items_per_second']),'relay us/span',round(($c1-$c0)*10000/s,2),'errors',j['errors'])"
