#!/bin/bash
# usage: trace.sh JAR OUTDIR [relay jvm opts...]
J=$1; O=$2; shift 2
mkdir -p $O; D=$(mktemp -d /tmp/p99/run.XXXX); cd $D
G=$((20000 + RANDOM % 20000)); H=$((G+1)); A=$((G+2))
java "$@" -Xlog:gc:file=$O/gc.log:timemillis $TRACE -jar $J run --grpc-endpoint 127.0.0.1:$G --http-endpoint 127.0.0.1:$H --admin-endpoint 127.0.0.1:$A > $O/relay.log 2>&1 &
R=$!
for i in $(seq 1 100); do curl -sf http://127.0.0.1:$A/healthz >/dev/null && break; sleep 0.2; done
date +%s%3N > $O/start
java -Xlog:gc:file=$O/send-gc.log:timemillis -cp /tmp/p99/bench-main.jar io.otlp4j.relay.Main send --endpoint http://127.0.0.1:$G --rate ${RATE:-100} --duration ${DUR:-20}s --json --quiet > $O/send.json 2>$O/send.err
date +%s%3N > $O/end
curl -s http://127.0.0.1:$A/metrics > $O/metrics.txt
python3 /tmp/p99/threads.py $R > $O/threads.txt
kill $R; wait $R
cd /; rm -rf $D
python3 -c "import json;j=json.load(open('$O/send.json'));print('p50',j['latency_ms']['p50'],'p99',j['latency_ms']['p99'],'lag99',j.get('send_lag_ms',{}).get('p99'),'fromsend99',j.get('latency_from_send_ms',{}).get('p99'))"
