#!/bin/bash
# The eighth session's idle reruns: every goal this session's merges touched (#12, #16, #17, #18, the
# wire walk), one after another on the otherwise idle 2-core machine, from the merged build
# (bench/target/benchmarks.jar). Anchors built at 0a0b2fa, the session's start:
#   BEFORE_JAR = bench/target/benchmarks.jar and ANCHOR_JAR = relay/target/otlp4j.jar of
#   `git worktree add /tmp/a 0a0b2fa && cd /tmp/a && ./mvnw -q package -DskipTests -pl bench -am`.
cd "$(dirname "$0")/../../.."
J=bench/target/benchmarks.jar
B=${BEFORE_JAR:-/tmp/bench-before-0a0b2fa.jar}
A=${ANCHOR_JAR:-/tmp/mainjob-anchor-0a0b2fa.jar}
O=${O:-/tmp/otlp4j-idle8}; mkdir -p $O
step() { echo "== $1 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
step mainjob
java -cp $J io.otlp4j.bench.relay.MainJobDefaultBench --rates 100,2000,0 --seconds 15 --repeat 2 --anchor-jar $A --out $O/main-job > $O/mainjob.txt 2>&1
step sdk-warmup
for round in 1 2; do for p in otlp4j-grpc otlp4j-http; do for w in true false; do
  echo "== round $round $p exporter-warmup=$w $(date -u +%T)"
  java -cp $J io.otlp4j.bench.sdk.SdkPipelineScenario --threads 2 --rate 200000 --warmup 8s --duration 8s --repeat 1 --pipelines $p --exporter-warmup $w
done; done; done > $O/sdk-warmup.txt 2>&1
step hostile-pinned-on
java -cp $J io.otlp4j.bench.relay.HostileClientsBench --rate 100 --seconds 15 --one-at-a-time true --attackers-jvm true --relay-cpus 0 --bench-cpus 1 --nice-attackers true --out $O/hostile-on > $O/hostile-on.txt 2>&1
step hostile-pinned-off
java -cp $J io.otlp4j.bench.relay.HostileClientsBench --rate 100 --seconds 15 --one-at-a-time true --attackers-jvm true --relay-cpus 0 --bench-cpus 1 --nice-attackers true --max-unanswered-resets 0 --out $O/hostile-off > $O/hostile-off.txt 2>&1
step kafka-consume
java -cp $J io.otlp4j.bench.relay.KafkaConsumeBench --records 200000 --spans 10 --partitions 4 --iterations 2 --steady-from 0.5 --compression none > $O/kafka.txt 2>&1
step kafka-consume-before
java -cp $B io.otlp4j.bench.relay.KafkaConsumeBench --records 200000 --spans 10 --partitions 4 --iterations 2 --steady-from 0.5 --compression none > $O/kafka-before.txt 2>&1
step kafka-export
java -cp $J io.otlp4j.bench.relay.KafkaExportBench --record-bytes 32768 --records 4000 --repeat 5 --in-flight 64 > $O/kafka-export.txt 2>&1
step file-exporter
java -jar $J FileExporterBenchmark -f 2 -wi 3 -w 2s -i 5 -r 2s -p transcodeThreads=1,2 -rf json -rff $O/file-exporter.json > $O/file-exporter.txt 2>&1
step wire-walk
for r in 1 2; do for jar in $J $B; do
  echo "== round $r $jar"
  java -jar $jar "PartitionBenchmark|ProcessorBenchmark.(filter|attributes|probabilistic_sampler)_processor" -f 1 -wi 3 -w 1s -i 5 -r 1s
done; done > $O/wire-walk.txt 2>&1
step done
# Run after it, on the same idle machine (00:00 UTC):
#   java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.MainJobDefaultBench --rates 2000 --seconds 15 --repeat 2 --concurrency 256 --anchor-jar $A --out $O/main-job-c256
#   for p in otlp4j-grpc otlp4j-http; do for w in on off; do java -cp $J io.otlp4j.bench.sdk.SdkPipelineTimeline $p 6 warmup=$w gap=2000; done; done > $O/timeline-gap.txt
