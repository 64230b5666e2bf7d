#!/usr/bin/env bash
# Exporter warm-up on vs off, interleaved, each case in a fresh JVM (issue #18).
set -u
jar=bench/target/benchmarks.jar
out=bench/results/sdk-warmup-2026-12-07
for round in 1 2; do
  for p in otlp4j-grpc otlp4j-http; do
    for w in on off; do
      echo "== timeline round $round $p warmup=$w $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
      java -cp $jar io.otlp4j.bench.sdk.SdkPipelineTimeline $p 6 warmup=$w
    done
  done
done > $out/timeline.txt 2>&1
for round in 1 2; do
  for p in otlp4j-grpc otlp4j-http; do
    for w in true false; do
      echo "== scenario round $round $p exporter-warmup=$w $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
      java -cp $jar io.otlp4j.bench.sdk.SdkPipelineScenario --threads 2 --rate 200000 --warmup 8s \
        --duration 8s --repeat 1 --pipelines $p --exporter-warmup $w
    done
  done
done > $out/scenario.txt 2>&1
# Then: the exporter built 2 s before the first span (an application's start-up), one round.
for p in otlp4j-grpc otlp4j-http; do
  for w in on off; do
    echo "== timeline gap $p warmup=$w $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
    java -cp $jar io.otlp4j.bench.sdk.SdkPipelineTimeline $p 6 warmup=$w gap=2000
  done
done > $out/timeline-gap2s.txt 2>&1
