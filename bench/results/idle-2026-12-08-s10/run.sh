#!/usr/bin/env bash
# The tenth session's idle runs (nothing else running): this build against c3a1869 (the ninth
# session's last commit; its relay jar built with ./mvnw package -DskipTests), interleaved.
set -euo pipefail
J=bench/target/benchmarks.jar
A=${ANCHOR_JAR:-/tmp/jit/otlp4j-c3a1869.jar}
O=${OUT:-bench/results/idle-2026-12-08-s10}
# 1. Sustained 200,000 spans/s in steady state: 30 s of send's warm-up, then 60 s measured.
java -cp $J io.otlp4j.bench.relay.MainJobDefaultBench --rates 2000 --seconds 60 --repeat 2 --warmup 30 --anchor-jar $A --out $O/main-job-2000-steady > $O/main-job-2000-steady.log 2>&1
# 2. The out-of-the-box scenario at 10,000 spans/s: send's default 3 s warm-up, so the relay is ~3 s old.
java -cp $J io.otlp4j.bench.relay.MainJobDefaultBench --rates 100 --seconds 15 --repeat 3 --anchor-jar $A --out $O/main-job-100 > $O/main-job-100.log 2>&1
