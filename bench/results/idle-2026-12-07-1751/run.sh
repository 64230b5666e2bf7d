#!/bin/bash
cd /work/wt/integ
J=bench/target/benchmarks.jar
O=/tmp/idle; mkdir -p $O
echo "start $(date)"; uptime
java -jar $J 'ProcessorBenchmark|EditorBenchmark.(filter|attributes)_anchor' -f 2 -wi 5 -w 1s -i 8 -r 1s -prof gc -rf json -rff $O/processors.json > $O/processors.txt 2>&1
echo "processors done $(date)"; uptime
java -jar $J WalkerBenchmark -p signal=TRACES -p items=512 -f 2 -wi 3 -w 1s -i 5 -r 1s -rf json -rff $O/walker.json > $O/walker.txt 2>&1
echo "walker done $(date)"; uptime
java -jar $J ExporterThroughputBenchmark -p payloadBytes=65536 -f 2 -wi 3 -w 2s -i 4 -r 2s -prof gc -rf json -rff $O/exporter.json > $O/exporter.txt 2>&1
echo "exporter done $(date)"; uptime
java -jar $J "QueueAppendBenchmark.(append_64|append_64_pipelined|anchor_rawChunkedWrite)$" -bm thrpt -p recordBytes=4096 -p pipelineDepth=4,8 -p rawChunkKiB=1024 -f 2 -wi 3 -w 1s -i 5 -r 1s -rf json -rff $O/queue.json > $O/queue.txt 2>&1
echo "queue done $(date)"; uptime
java -cp $J io.otlp4j.bench.relay.MainJobDefaultBench --rates 100,0 --seconds 15 --repeat 2 --anchor-jar /tmp/anchor-main.jar --out $O/main-job > $O/mainjob.txt 2>&1
echo "mainjob done $(date)"; uptime
java -cp $J io.otlp4j.bench.relay.RelayPassThroughBench --protocols grpc,http --middles raw,relay --ack-modes received --iterations 3 --seconds 6 --warmup 8 --down-seconds 0 --latency-load 0 > $O/relay.txt 2>&1
echo "relay done $(date)"; uptime
java -cp $J io.otlp4j.bench.sdk.SdkPipelineScenario --threads 1 --warmup 8s --duration 8s --repeat 2 --pipelines otlp4j-grpc,otlp4j-http,sdk-grpc,sdk-http > $O/sdk.txt 2>&1
echo "sdk done $(date)"; uptime
