#!/bin/bash
# The seventh session's idle reruns: every open goal of #12, #15, #16, #17, #18, one after another on
# the otherwise idle 2-core machine, from the merged build (bench/target/benchmarks.jar).
# ANCHOR_JAR: the main job's anchor, relay/target/otlp4j.jar built at commit 9c75a7b (git worktree add /tmp/a 9c75a7b && cd /tmp/a && ./mvnw -q package -DskipTests).
cd "$(dirname "$0")/../../.."
J=bench/target/benchmarks.jar
O=${O:-/tmp/otlp4j-idle}; mkdir -p $O
step() { echo "== $1 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
step queue
java -jar $J "QueueAppendBenchmark.(append_64|append_64_pipelined|anchor_rawChunkedWrite)$" -bm thrpt -p recordBytes=4096 -p pipelineDepth=4,8 -p rawChunkKiB=1024 -f 2 -wi 3 -w 1s -i 5 -r 1s -rf json -rff $O/queue.json > $O/queue.txt 2>&1
step tail
java -cp $J io.otlp4j.bench.relay.RelayPassThroughBench --protocols grpc --middles relay,relay-tail,relay,relay-tail --fresh-trace-ids --iterations 3 --seconds 6 --warmup 8 --down-seconds 0 --latency-load 0 --tail-num-traces 250000 --out $O/tail > $O/tail.log 2>&1
step lb
java -cp $J io.otlp4j.bench.relay.RelayPassThroughBench --protocols grpc --middles relay,relay-lb4,relay,relay-lb4 --fresh-trace-ids --iterations 3 --seconds 6 --warmup 8 --down-seconds 0 --latency-load 0 --out $O/lb > $O/lb.log 2>&1
step mainjob
java -cp $J io.otlp4j.bench.relay.MainJobDefaultBench --rates 100,0 --seconds 15 --repeat 2 --anchor-jar ${ANCHOR_JAR:-/tmp/mainjob-anchor-9c75a7b.jar} --out $O/main-job > $O/mainjob.txt 2>&1
step sdk
java -cp $J io.otlp4j.bench.sdk.SdkPipelineScenario --threads 2 --rate 200000 --warmup 8s --duration 8s --repeat 3 --pipelines otlp4j-grpc,otlp4j-http,sdk-grpc,sdk-http > $O/sdk200k.txt 2>&1
step hostile-pinned
java -cp $J io.otlp4j.bench.relay.HostileClientsBench --rate 100 --seconds 15 --one-at-a-time true --attackers-jvm true --relay-cpus 0 --bench-cpus 1 --nice-attackers true --out $O/hostile-pinned > $O/hostile-pinned.txt 2>&1
step hostile-unpinned
java -cp $J io.otlp4j.bench.relay.HostileClientsBench --rate 100 --seconds 15 --out $O/hostile-unpinned > $O/hostile-unpinned.txt 2>&1
step kafka
java -cp $J io.otlp4j.bench.relay.KafkaConsumeBench --records 200000 --spans 10 --partitions 4 --iterations 2 --steady-from 0.5 --compression none > $O/kafka.txt 2>&1
step relay-unpinned
java -cp $J io.otlp4j.bench.relay.RelayPassThroughBench --protocols grpc,http --middles raw,naive,relay --ack-modes received --iterations 3 --seconds 6 --warmup 8 --down-seconds 0 --latency-load 0 --out $O/relay-unpinned > $O/relay-unpinned.log 2>&1
step relay-pinned
taskset -c 0 java -cp $J io.otlp4j.bench.relay.RelayPassThroughBench --protocols grpc,http --middles raw,naive,relay --ack-modes received --iterations 3 --seconds 6 --warmup 8 --down-seconds 0 --latency-load 0 --middle-cpus 1 --out $O/relay-pinned > $O/relay-pinned.log 2>&1
step bearer
java -jar $J BearerAuthBenchmark -f 2 -wi 2 -w 1s -i 4 -r 1s -rf json -rff $O/bearer.json > $O/bearer.txt 2>&1
step done
