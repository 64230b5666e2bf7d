#!/usr/bin/env bash
# The ninth session's idle reruns of the main job (nothing else running), this build against the
# session's start commit 733dd71 (its relay jar built with ./mvnw package; -DskipTests).
set -euo pipefail
J=bench/target/benchmarks.jar
A=${ANCHOR_JAR:-/tmp/mainjob-anchor-733dd71.jar}
O=${OUT:-bench/results/idle-2026-12-08}
# 1. The out-of-the-box scenario as before: send's default 3 s warm-up, so the relay is ~3 s old.
java -cp $J io.otlp4j.bench.relay.MainJobDefaultBench --rates 100,2000,0 --seconds 15 --repeat 2 --anchor-jar $A --out $O/main-job > $O/main-job.log 2>&1
# 2. Steady state: 30 s of warm-up, then 60 s measured at 10,000 spans/s (the kernel's 30 s write-back
#    expiry of the JSON files falls inside the measured minute).
[ "${STEADY:-1}" = 0 ] || java -cp $J io.otlp4j.bench.relay.MainJobDefaultBench --rates 100 --seconds 60 --repeat 1 --warmup 30 --anchor-jar $A --out $O/main-job-steady > $O/main-job-steady.log 2>&1
