#!/usr/bin/env bash
# The loadbalancing scale-out example on one machine: a sink, two back-tier relays (tail_sampling),
# and a front relay whose loadbalancing exporter routes by trace id. Sends synthetic traces to the
# front, then shows what each back relay received and what the sink got, and stops everything.
#
#   examples/scale-out/loadbalancing/run.sh [REQUESTS]     (default 200 requests of 100 spans)
#   CONCURRENCY=1 ...   requests in flight (default 8)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
otlp4j="$here/../../../otlp4j"
requests="${1:-200}"
work="$(mktemp -d)"
export SINK_FILE="$work/sink.jsonl"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "logs and sink file in $work"
}
trap cleanup EXIT

start() { # name config
  "$otlp4j" run --config "$here/$2" --data-dir "$work/$1" >"$work/$1.log" 2>&1 &
  pids+=($!)
}
ready() { # admin port
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
    sleep 0.5
  done
  echo "relay on admin port $1 did not start; see $work" >&2
  exit 1
}
accepted_spans() { # admin port
  curl -sf "http://127.0.0.1:$1/metrics" |
    awk '/^otelcol_receiver_accepted_spans_total/ { s += $2 } END { printf "%d", s }'
}

"$otlp4j" --version >/dev/null 2>&1 || true # builds the jar once, before the relays start
start sink sink.yaml && ready 38888
start back-1 back-1.yaml && ready 18888
start back-2 back-2.yaml && ready 28888
start front front.yaml && ready 8888

echo "sending $requests requests of 100 spans (10 spans per trace) to the front relay ..."
"$otlp4j" send --endpoint 127.0.0.1:4317 --insecure --count "$requests" --items-per-request 100 \
  --rate 0 --concurrency "${CONCURRENCY:-8}" --warmup 0 --quiet

sleep 5 # tail_sampling's decision_wait (2s) and the export to the sink
b1=$(accepted_spans 18888)
b2=$(accepted_spans 28888)
sink=$(accepted_spans 38888)
echo "back-1 received $b1 spans, back-2 received $b2 spans (total $((b1 + b2)) of $((requests * 100)))"
echo "the sink received $sink sampled spans (whole traces)"
curl -sf http://127.0.0.1:8888/metrics | grep '^otelcol_loadbalancer_' | grep -v '_bucket' || true
