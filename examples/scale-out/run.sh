#!/usr/bin/env bash
# Starts the scale-out example: a sink, two back-tier relays (one consumer group) and two front-tier
# relays, each an `otlp4j run` in the background, logs and pids in ./run/. A Kafka broker must be up
# (see README.md). Send OTLP to 127.0.0.1:4317 / :4417 (gRPC) or :4318 / :4418 (HTTP).
#
#   examples/scale-out/run.sh          # start everything
#   examples/scale-out/run.sh stop     # stop everything (SIGTERM: queues drain, offsets committed)
#
# Environment: KAFKA_BROKERS (localhost:9092), KAFKA_TOPIC (otlp_spans), SAMPLING_PERCENTAGE (10),
# DECISION_WAIT (5s).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
otlp4j="$here/../../otlp4j"
state="$here/run"
mkdir -p "$state"

if [ "${1:-}" = "stop" ]; then
  for f in "$state"/*.pid; do
    [ -e "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  exit 0
fi

start() { # name config VAR=value...
  local name="$1" config="$2"
  shift 2
  env "$@" "$otlp4j" run --config "$here/$config" >"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
  echo "started $name (pid $!, log $state/$name.log)"
}

# Build the jar once, before five relays would race to build it.
"$otlp4j" --version >/dev/null

start sink sink.yaml SINK_GRPC_PORT=14317 ADMIN_PORT=8894 SINK_FILE="$state/sink.jsonl"
start back-1 back.yaml BACK_NAME=back-1 ADMIN_PORT=8890 SINK_ENDPOINT=http://127.0.0.1:14317
start back-2 back.yaml BACK_NAME=back-2 ADMIN_PORT=8891 SINK_ENDPOINT=http://127.0.0.1:14317
start front-1 front.yaml FRONT_GRPC_PORT=4317 FRONT_HTTP_PORT=4318 ADMIN_PORT=8888
start front-2 front.yaml FRONT_GRPC_PORT=4417 FRONT_HTTP_PORT=4418 ADMIN_PORT=8889
echo "spans sampled by the back tier are written to $state/sink.jsonl"
