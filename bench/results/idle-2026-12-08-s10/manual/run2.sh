#!/usr/bin/env bash
# relay; first send (30 s, discarded); second fresh send measured (default warm-up)
set -uo pipefail
JAR=$1; OUT=$2; mkdir -p $OUT; D=$(mktemp -d /tmp/jitrelay.XXXX)
G=$((20000 + RANDOM % 20000)); H=$((G+1)); A=$((G+2))
(cd $D && exec java -jar $JAR run --grpc-endpoint 127.0.0.1:$G --http-endpoint 127.0.0.1:$H --admin-endpoint 127.0.0.1:$A > $OUT/relay.log 2>&1) &
RP=$!
for i in $(seq 1 120); do curl -sf http://127.0.0.1:$A/healthz >/dev/null 2>&1 && break; sleep 0.5; done
java -jar $JAR send --endpoint http://127.0.0.1:$G --rate 100 --duration 30s > $OUT/send1.log 2>&1
java -jar $JAR send --endpoint http://127.0.0.1:$G --rate 100 --duration 15s > $OUT/send2.log 2>&1
kill $RP; wait $RP; rm -rf $D
