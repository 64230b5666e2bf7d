#!/usr/bin/env bash
# usage: run.sh JAR RATE SECONDS OUTDIR [extra relay jvm flags]
set -euo pipefail
JAR=$1; RATE=$2; SECS=$3; OUT=$4; shift 4
mkdir -p $OUT; D=$(mktemp -d /tmp/jitrelay.XXXX)
G=$((20000 + RANDOM % 20000)); H=$((G+1)); A=$((G+2))
(cd $D && exec java "$@" -jar $JAR run ${RELAYARGS:-} --grpc-endpoint 127.0.0.1:$G --http-endpoint 127.0.0.1:$H --admin-endpoint 127.0.0.1:$A > $OUT/relay.log 2>&1) &
RP=$!
for i in $(seq 1 120); do curl -sf http://127.0.0.1:$A/healthz >/dev/null 2>&1 && break; sleep 0.5; done
echo "healthy at $(date +%s.%N)" >> $OUT/marks
(sleep ${JITAT:-4}; echo "jit at measure start $(/tmp/jit/jitcpu.sh $RP)" >> $OUT/marks) &
/usr/bin/time -f "send cpu user %U sys %S wall %e" java -jar $JAR send --endpoint http://127.0.0.1:$G --rate $RATE --duration ${SECS}s ${SENDARGS:-} > $OUT/send.log 2>&1 || true
echo "send done at $(date +%s.%N)" >> $OUT/marks
echo "jit at end $(/tmp/jit/jitcpu.sh $RP)" >> $OUT/marks
curl -s http://127.0.0.1:$A/metrics > $OUT/metrics.txt
[ -n "${JFR:-}" ] && jcmd $RP JFR.dump filename=$OUT/rec.jfr
kill $RP; wait $RP || true
rm -rf $D
