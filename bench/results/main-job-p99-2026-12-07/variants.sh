#!/bin/bash
for round in ${ROUNDS:-1 2}; do
 for v in ${VARS:-default parallel serial c1}; do
  case $v in default) o="";; parallel) o="-XX:+UseParallelGC";; serial) o="-XX:+UseSerialGC";; c1) o="-XX:TieredStopAtLevel=1";; esac
  r=$(DUR=15 /tmp/p99/trace.sh /tmp/p99/anchor.jar /tmp/p99/v/$v.$round $o 2>&1 | tail -1)
  echo "$v.$round $r load $(cut -d' ' -f1 /proc/loadavg) gc $(grep -c Pause /tmp/p99/v/$v.$round/gc.log) jit $(grep -i compiler /tmp/p99/v/$v.$round/threads.txt | awk '{s+=$1} END {print s}') ms"
 done
done
