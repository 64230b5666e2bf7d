#!/bin/bash
# warm.sh OUT fresh|warmed: p99 at 100 req/s of a fresh relay, or of one warmed flat out for 20 s first
O=$1; M=$2; mkdir -p $O; D=$(mktemp -d /tmp/p99/run.XXXX); cd $D
G=$((20000 + RANDOM % 20000)); H=$((G+1)); A=$((G+2))
java -Xlog:gc:file=$O/gc.log:timemillis -jar /tmp/p99/anchor.jar run --grpc-endpoint 127.0.0.1:$G --http-endpoint 127.0.0.1:$H --admin-endpoint 127.0.0.1:$A > $O/relay.log 2>&1 &
R=$!
for i in $(seq 1 100); do curl -sf http://127.0.0.1:$A/healthz >/dev/null && break; sleep 0.2; done
[ $M = warmed ] && java -cp /tmp/p99/bench-main.jar io.otlp4j.relay.Main send --endpoint http://127.0.0.1:$G --rate 0 --duration 20s --warmup 0s --json --quiet > $O/warm.json 2>/dev/null
j0=$(python3 /tmp/p99/threads.py $R | grep -i compiler | awk '{s+=$1} END {print s+0}')
java -cp /tmp/p99/bench-main.jar io.otlp4j.relay.Main send --endpoint http://127.0.0.1:$G --rate 100 --duration 20s --json --quiet > $O/send.json 2>/dev/null
j1=$(python3 /tmp/p99/threads.py $R | grep -i compiler | awk '{s+=$1} END {print s+0}')
kill $R; wait $R; cd /; rm -rf $D
python3 -c "import json;j=json.load(open('$O/send.json'));print('$M p50',j['latency_ms']['p50'],'p99',j['latency_ms']['p99'],'lag99',j['send_lag_ms']['p99'],'errors',j['errors'],'relay JIT CPU during the rate-100 send: $((j1-j0)) ms')"
