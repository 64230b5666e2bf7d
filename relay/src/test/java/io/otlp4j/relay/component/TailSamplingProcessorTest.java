package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.component.TailSamplingProcessorFactory.TailSamplingConfig;
import io.otlp4j.relay.config.RelayConfigException;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tail_sampling} against requests built with the official classes: every policy, the
 * Collector's decision precedence, decision timing on a fake clock, the {@code num_traces} bound,
 * late spans and the decision caches, the memory budget, shutdown; every buffer released (leak
 * detector at paranoid, budget back to 0).
 */
@ExtendWith(NettyLeakCheck.class)
class TailSamplingProcessorTest {
  static final HexFormat HEX = HexFormat.of();
  final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
  final MetricsRegistry metrics = MetricsRegistry.create();
  MemoryBudget budget = MemoryBudget.builder(64 << 20).build();
  final List<ExportTraceServiceRequest> emitted = new ArrayList<>();
  final List<ExportTraceServiceRequest> forwarded = new ArrayList<>();
  TailSamplingProcessor processor;

  @AfterEach
  void stop() {
    if (processor != null) {
      processor.shutdown();
    }
    assertThat(budget.usedBytes()).as("every held byte given back").isZero();
  }

  // ------------------------------------------------------------------------------------ harness

  TailSamplingProcessor start(String body) throws RelayConfigException {
    TailSamplingConfig config =
        (TailSamplingConfig)
            ProcessorHarness.parse(ProcessorHarness.config("tail_sampling", body))
                .processors()
                .get("tail_sampling");
    processor =
        new TailSamplingProcessor(config, new ComponentContext(metrics, budget), clock::get, false);
    processor.start(
        (request, summary) -> {
          try {
            byte[] bytes = ByteBufUtil.getBytes(request);
            assertThat(OtlpWalker.create().walk(Signal.TRACES, bytes).itemCount())
                .isEqualTo(summary.itemCount());
            emitted.add(ExportTraceServiceRequest.parseFrom(bytes));
          } catch (Exception e) {
            throw new AssertionError(e);
          } finally {
            request.release();
          }
          return CompletableFuture.completedFuture(Outcome.accepted());
        });
    return processor;
  }

  RelayProcessor.Result send(ExportTraceServiceRequest request) throws Exception {
    byte[] in = request.toByteArray();
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(in.length);
    buf.writeBytes(in);
    WalkSummary summary = OtlpWalker.create().walk(Signal.TRACES, buf);
    RelayProcessor.Result r = processor.process(Signal.TRACES, buf, summary);
    assertThat(buf.refCnt()).as("the input is released").isZero();
    if (r instanceof RelayProcessor.Forward f) {
      try {
        byte[] out = ByteBufUtil.getBytes(f.request());
        assertThat(OtlpWalker.create().walk(Signal.TRACES, out).itemCount())
            .isEqualTo(f.summary().itemCount());
        forwarded.add(ExportTraceServiceRequest.parseFrom(out));
      } finally {
        f.request().release();
      }
    }
    return r;
  }

  void advance(Duration d) {
    clock.addAndGet(d.toNanos());
  }

  void decideAfter(Duration d) {
    advance(d);
    processor.tick();
  }

  static ByteString tid(int n) {
    byte[] b = new byte[16];
    b[0] = (byte) 0x10;
    b[14] = (byte) (n >> 8);
    b[15] = (byte) n;
    return ByteString.copyFrom(b);
  }

  static Span.Builder span(int trace, String name) {
    return Span.newBuilder()
        .setTraceId(tid(trace))
        .setSpanId(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) name.hashCode()}))
        .setName(name)
        .setStartTimeUnixNano(1_000_000_000L)
        .setEndTimeUnixNano(1_001_000_000L);
  }

  static KeyValue str(String k, String v) {
    return KeyValue.newBuilder()
        .setKey(k)
        .setValue(AnyValue.newBuilder().setStringValue(v))
        .build();
  }

  static KeyValue num(String k, long v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setIntValue(v)).build();
  }

  static KeyValue bool(String k, boolean v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setBoolValue(v)).build();
  }

  static ExportTraceServiceRequest request(Resource resource, Span.Builder... spans) {
    ScopeSpans.Builder scope =
        ScopeSpans.newBuilder()
            .setScope(InstrumentationScope.newBuilder().setName("lib").setVersion("1.0"))
            .setSchemaUrl("https://opentelemetry.io/schemas/1.21.0");
    for (Span.Builder s : spans) {
      scope.addSpans(s);
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .setResource(resource)
                .addScopeSpans(scope)
                .setSchemaUrl("https://opentelemetry.io/schemas/1.21.0"))
        .build();
  }

  static ExportTraceServiceRequest request(Span.Builder... spans) {
    return request(Resource.newBuilder().addAttributes(str("service.name", "svc")).build(), spans);
  }

  /** The traces (last two bytes of the id) of every span emitted or forwarded. */
  Set<Integer> sampled() {
    Set<Integer> ids = new TreeSet<>();
    for (List<ExportTraceServiceRequest> l : List.of(emitted, forwarded)) {
      for (ExportTraceServiceRequest r : l) {
        for (ResourceSpans rs : r.getResourceSpansList()) {
          for (ScopeSpans ss : rs.getScopeSpansList()) {
            for (Span s : ss.getSpansList()) {
              byte[] b = s.getTraceId().toByteArray();
              ids.add((b[14] & 0xFF) << 8 | (b[15] & 0xFF));
            }
          }
        }
      }
    }
    return ids;
  }

  long counter(String name, String... labels) {
    String help =
        switch (name) {
          case "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early" ->
              "Count of traces that needed to be dropped before the configured wait time";
          case "otelcol_processor_tail_sampling_new_trace_id_received" ->
              "Counts the arrival of new traces";
          case "otelcol_processor_tail_sampling_count_traces_sampled" ->
              "Count of traces that were sampled or not per sampling policy";
          case "otelcol_processor_tail_sampling_global_count_traces_sampled" ->
              "Global count of traces that were sampled or not by at least one policy";
          default ->
              ProcessorCounts.INCOMING.equals(name)
                  ? ProcessorCounts.INCOMING_HELP
                  : ProcessorCounts.OUTGOING_HELP;
        };
    return metrics.counter(name, help, labels).get();
  }

  // --------------------------------------------------------------------------------- behaviour

  @Test
  void spansAreHeldForDecisionWaitThenEmittedAsTheyWereReceived() throws Exception {
    start(
        """
        decision_wait: 10s
        policies: [{ name: all, type: always_sample }]
        """);
    Resource r1 = Resource.newBuilder().addAttributes(str("service.name", "a")).build();
    Resource r2 = Resource.newBuilder().addAttributes(str("service.name", "b")).build();
    ExportTraceServiceRequest first =
        request(r1, span(1, "a1"), span(2, "b1").addAttributes(num("n", 7)), span(1, "a2"));
    assertThat(send(first)).isEqualTo(new RelayProcessor.Held(3));
    advance(Duration.ofSeconds(4));
    ExportTraceServiceRequest second = request(r2, span(1, "a3"), span(3, "c1"));
    assertThat(send(second)).isEqualTo(new RelayProcessor.Held(2));
    decideAfter(Duration.ofMillis(5_999)); // trace 1 and 2 arrived 9.999 s ago
    assertThat(emitted).isEmpty();
    decideAfter(Duration.ofMillis(1)); // 10 s: traces 1 and 2, not yet 3
    assertThat(sampled()).containsExactly(1, 2);
    decideAfter(Duration.ofSeconds(4));
    assertThat(sampled()).containsExactly(1, 2, 3);
    // Every span exactly as sent, under its own resource and scope.
    List<String> got = new ArrayList<>();
    for (ExportTraceServiceRequest e : emitted) {
      for (ResourceSpans rs : e.getResourceSpansList()) {
        assertThat(rs.getSchemaUrl()).isEqualTo("https://opentelemetry.io/schemas/1.21.0");
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          assertThat(ss.getScope())
              .isEqualTo(first.getResourceSpans(0).getScopeSpans(0).getScope());
          assertThat(ss.getSchemaUrl()).isEqualTo("https://opentelemetry.io/schemas/1.21.0");
          for (Span s : ss.getSpansList()) {
            ExportTraceServiceRequest from =
                s.getName().equals("a3") || s.getName().equals("c1") ? second : first;
            assertThat(rs.getResource()).isEqualTo(from.getResourceSpans(0).getResource());
            assertThat(from.getResourceSpans(0).getScopeSpans(0).getSpansList()).contains(s);
            got.add(s.getName());
          }
        }
      }
    }
    assertThat(got).containsExactlyInAnyOrder("a1", "a2", "a3", "b1", "c1");
    assertThat(
            counter(
                ProcessorCounts.INCOMING, "processor", "tail_sampling", "otel_signal", "traces"))
        .isEqualTo(5);
    assertThat(
            counter(
                ProcessorCounts.OUTGOING, "processor", "tail_sampling", "otel_signal", "traces"))
        .isEqualTo(5);
    assertThat(
            counter(
                "otelcol_processor_tail_sampling_new_trace_id_received",
                "processor",
                "tail_sampling"))
        .isEqualTo(3);
  }

  @Test
  void latencyUsesEarliestStartAndLatestEndWithTheCollectorsRunningWindow() throws Exception {
    start(
        """
        decision_wait: 1s
        policies:
          - { name: slow, type: latency, latency: { threshold_ms: 5000 } }
          - { name: band, type: latency, latency: { threshold_ms: 100, upper_threshold_ms: 200 } }
        """);
    long s = 1_000_000_000_000L;
    // trace 1: 6 s across two spans in two requests (each span alone is short)
    send(request(span(1, "x").setStartTimeUnixNano(s).setEndTimeUnixNano(s + 1_000_000_000L)));
    send(
        request(
            span(1, "y")
                .setStartTimeUnixNano(s + 5_000_000_000L)
                .setEndTimeUnixNano(s + 6_000_000_000L)));
    // trace 2: 1 s: neither
    send(request(span(2, "z").setStartTimeUnixNano(s).setEndTimeUnixNano(s + 1_000_000_000L)));
    // trace 3: its first span (150 ms) is in the band; the whole trace (1 s) is not: sampled, as
    // the Collector's running window decides at the first span in range
    send(
        request(
            span(3, "a").setStartTimeUnixNano(s).setEndTimeUnixNano(s + 150_000_000L),
            span(3, "b").setStartTimeUnixNano(s).setEndTimeUnixNano(s + 1_000_000_000L)));
    // trace 4: 250 ms: above the band
    send(request(span(4, "c").setStartTimeUnixNano(s).setEndTimeUnixNano(s + 250_000_000L)));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1, 3);
  }

  @Test
  void statusCodeSamplesTracesWithAnySpanInTheListedCodes() throws Exception {
    start(
        """
        decision_wait: 1s
        policies: [{ name: errors, type: status_code, status_code: { status_codes: [ERROR] } }]
        """);
    send(
        request(
            span(1, "ok"),
            span(1, "bad")
                .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR))));
    send(
        request(
            span(2, "ok")
                .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_OK))));
    send(request(span(3, "unset")));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1);
  }

  @Test
  void probabilisticHashAndThresholdAreTheCollectors() throws Exception {
    // Vectors computed with an independent FNV-1a and Go big.Float (64-bit, half-even) threshold,
    // from sampling_percentage / 100 as the Collector divides it.
    assertThat(TailSamplingPolicy.Probabilistic.threshold(0.1 / 100)).isEqualTo(0x4189374bc6a7efL);
    assertThat(TailSamplingPolicy.Probabilistic.threshold(1.0 / 100)).isEqualTo(0x28f5c28f5c28f5fL);
    assertThat(TailSamplingPolicy.Probabilistic.threshold(10.0 / 100))
        .isEqualTo(0x19999999999999ffL);
    assertThat(TailSamplingPolicy.Probabilistic.threshold(33.3 / 100))
        .isEqualTo(0x553f7ced91686fffL);
    assertThat(TailSamplingPolicy.Probabilistic.threshold(50.0 / 100))
        .isEqualTo(0x7fffffffffffffffL);
    assertThat(TailSamplingPolicy.Probabilistic.threshold(99.9 / 100))
        .isEqualTo(0xffbe76c8b4395fffL);
    assertThat(TailSamplingPolicy.Probabilistic.threshold(100.0 / 100)).isEqualTo(-1L);
    byte[] salt = "default-hash-seed".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(hash(salt, "000102030405060708090a0b0c0d0e0f")).isEqualTo(0xa6622cfe5bfb0e0dL);
    assertThat(hash(salt, "4bf92f3577b34da6a3ce929d0e0e4736")).isEqualTo(0xa54533ba2e4970b5L);
    assertThat(hash(salt, "ffffffffffffffffffffffffffffffff")).isEqualTo(0x17bec3739634fe2dL);
    byte[] mine = "my-salt".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(hash(mine, "0af7651916cd43dd8448eb211c80319c")).isEqualTo(0x6f989241965191dbL);

    // my-salt at 50 %: hashes 0x496a.. 0xdd37.. 0x73da.. 0x6f98..: all but the second sampled
    start(
        """
        decision_wait: 1s
        policies: [{ name: half, type: probabilistic, probabilistic: { hash_salt: my-salt, sampling_percentage: 50 } }]
        """);
    String[] ids = {
      "000102030405060708090a0b0c0d0e0f",
      "4bf92f3577b34da6a3ce929d0e0e4736",
      "ffffffffffffffffffffffffffffffff",
      "0af7651916cd43dd8448eb211c80319c"
    };
    for (String id : ids) {
      send(request(span(0, id).setTraceId(ByteString.copyFrom(HEX.parseHex(id)))));
    }
    decideAfter(Duration.ofSeconds(1));
    List<String> names = new ArrayList<>();
    emitted.forEach(
        e ->
            e.getResourceSpansList()
                .forEach(
                    rs -> rs.getScopeSpans(0).getSpansList().forEach(s -> names.add(s.getName()))));
    assertThat(names).containsExactlyInAnyOrder(ids[0], ids[2], ids[3]);
  }

  private static long hash(byte[] salt, String id) {
    byte[] b = HEX.parseHex(id);
    java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b);
    return TailSamplingPolicy.Probabilistic.hash(salt, bb.getLong(), bb.getLong());
  }

  @Test
  void stringAttributeMatchesResourceOrSpanExactlyOrByRegex() throws Exception {
    start(
        """
        decision_wait: 1s
        policies:
          - { name: exact, type: string_attribute, string_attribute: { key: route, values: [/a, /b] } }
          - { name: regex, type: string_attribute, string_attribute: { key: team, values: ["^pay"], enabled_regex_matching: true, cache_max_size: 10 } }
        """);
    send(request(span(1, "x").addAttributes(str("route", "/b"))));
    send(request(span(2, "x").addAttributes(str("route", "/c"))));
    send(
        request(
            Resource.newBuilder().addAttributes(str("team", "payments")).build(), span(3, "x")));
    send(request(span(4, "x").addAttributes(str("team", "repay"))));
    // only the first occurrence of a key counts, as pdata's Get
    send(request(span(5, "x").addAttributes(str("route", "/z")).addAttributes(str("route", "/a"))));
    // another type reads as "" (pdata's Str())
    send(request(span(6, "x").addAttributes(num("route", 1))));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1, 3);
  }

  @Test
  void invertedDecisionsFollowTheCollectorsPrecedence() throws Exception {
    start(
        """
        decision_wait: 1s
        policies:
          - { name: not-health, type: string_attribute, string_attribute: { key: route, values: [/health], invert_match: true } }
          - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
        """);
    Status error = Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).build();
    // 1: inverted sampled, but errors says not sampled: not sampled
    send(request(span(1, "x").addAttributes(str("route", "/api"))));
    // 2: inverted not sampled beats errors' sampled
    send(request(span(2, "x").addAttributes(str("route", "/health")).setStatus(error)));
    // 3: inverted sampled and sampled
    send(request(span(3, "x").addAttributes(str("route", "/api")).setStatus(error)));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(3);
  }

  @Test
  void invertedSampledAloneSamples() throws Exception {
    start(
        """
        decision_wait: 1s
        policies:
          - { name: not-health, type: string_attribute, string_attribute: { key: route, values: [/health], invert_match: true } }
        """);
    send(request(span(1, "x").addAttributes(str("route", "/api"))));
    send(request(span(2, "x").addAttributes(str("route", "/health"))));
    send(request(span(3, "x")));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1, 3);
  }

  @Test
  void numericAndBooleanAttributesWithTheCollectorsConversions() throws Exception {
    start(
        """
        decision_wait: 1s
        policies:
          - { name: big, type: numeric_attribute, numeric_attribute: { key: size, min_value: 100 } }
          - { name: forced, type: boolean_attribute, boolean_attribute: { key: force, value: true } }
        """);
    send(request(span(1, "x").addAttributes(num("size", 100))));
    send(request(span(2, "x").addAttributes(num("size", 99))));
    send(
        request(
            span(3, "x")
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("size")
                        .setValue(AnyValue.newBuilder().setDoubleValue(500)))));
    send(request(Resource.newBuilder().addAttributes(bool("force", true)).build(), span(4, "x")));
    send(request(span(5, "x").addAttributes(bool("force", false))));
    send(request(span(6, "x").addAttributes(num("size", Long.MAX_VALUE))));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1, 4, 6);
  }

  @Test
  void rateLimitingCountsSpansPerSecondOfTheDecisionClock() throws Exception {
    start(
        """
        decision_wait: 1s
        policies: [{ name: rate, type: rate_limiting, rate_limiting: { spans_per_second: 5 } }]
        """);
    for (int t = 1; t <= 3; t++) {
      send(request(span(t, "a"), span(t, "b")));
    }
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1, 2); // 2 < 5, 4 < 5, 6 is not
    for (int t = 4; t <= 5; t++) {
      send(request(span(t, "a"), span(t, "b")));
    }
    decideAfter(Duration.ofSeconds(1)); // a new second
    assertThat(sampled()).containsExactly(1, 2, 4, 5);
  }

  @Test
  void spanCountAndAndAndDrop() throws Exception {
    start(
        """
        decision_wait: 1s
        policies:
          - { name: few, type: span_count, span_count: { min_spans: 2, max_spans: 3 } }
          - name: api-and-big
            type: and
            and:
              and_sub_policy:
                - { name: api, type: string_attribute, string_attribute: { key: route, values: [/api] } }
                - { name: big, type: numeric_attribute, numeric_attribute: { key: size, min_value: 10 } }
          - name: no-health
            type: drop
            drop:
              drop_sub_policy:
                - { name: health, type: string_attribute, string_attribute: { key: route, values: [/health] } }
        """);
    send(request(span(1, "a"), span(1, "b"))); // span_count
    send(request(span(2, "a"), span(2, "b"), span(2, "c"), span(2, "d"))); // 4: too many
    send(request(span(3, "a").addAttributes(str("route", "/api")).addAttributes(num("size", 11))));
    send(request(span(4, "a").addAttributes(str("route", "/api")).addAttributes(num("size", 9))));
    // dropped although span_count samples it: drop wins
    send(request(span(5, "a").addAttributes(str("route", "/health")), span(5, "b")));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1, 3);
    assertThat(
            counter(
                "otelcol_processor_tail_sampling_global_count_traces_sampled",
                "processor",
                "tail_sampling",
                "sampled",
                "false",
                "decision",
                "dropped"))
        .isEqualTo(1);
    assertThat(
            counter(
                "otelcol_processor_tail_sampling_count_traces_sampled",
                "processor",
                "tail_sampling",
                "policy",
                "few",
                "sampled",
                "true",
                "decision",
                "sampled"))
        .isEqualTo(1); // trace 5 stopped at the drop policy, evaluated first
  }

  @Test
  void numTracesBoundsTheTracesHeldAndCountsTracesDroppedTooEarlyWithoutBlockOnOverflow()
      throws Exception {
    start(
        """
        decision_wait: 10s
        num_traces: 2
        block_on_overflow: false
        policies: [{ name: all, type: always_sample }]
        """);
    send(request(span(1, "a")));
    long oneRequest = budget.usedBytes();
    assertThat(oneRequest).isPositive();
    send(request(span(2, "a")));
    send(request(span(3, "a")));
    assertThat(processor.tracesInMemory()).isEqualTo(2);
    assertThat(budget.usedBytes()).isEqualTo(2 * oneRequest); // trace 1's request freed
    assertThat(
            counter(
                "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early",
                "processor",
                "tail_sampling"))
        .isEqualTo(1);
    decideAfter(Duration.ofSeconds(10));
    assertThat(sampled()).containsExactly(2, 3);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void lateSpansFollowTheDecisionWhileTheTraceIsKnownThenTheCache() throws Exception {
    start(
        """
        decision_wait: 1s
        num_traces: 2
        decision_cache: { sampled_cache_size: 100_000 }
        policies: [{ name: errors, type: status_code, status_code: { status_codes: [ERROR] } }]
        """);
    send(
        request(
            span(1, "a")
                .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR))));
    send(request(span(2, "a")));
    decideAfter(Duration.ofSeconds(1));
    assertThat(sampled()).containsExactly(1);
    // trace 1 (sampled) left memory for the cache; trace 2 (not sampled, no cache) stays known
    assertThat(processor.tracesInMemory()).isEqualTo(1);
    RelayProcessor.Result late = send(request(span(1, "late"), span(2, "late")));
    assertThat(late).isInstanceOf(RelayProcessor.Forward.class);
    assertThat(forwarded).hasSize(1);
    assertThat(forwarded.get(0).getResourceSpans(0).getScopeSpans(0).getSpansList())
        .extracting(Span::getName)
        .containsExactly("late");
    assertThat(send(request(span(2, "later")))).isEqualTo(new RelayProcessor.Dropped(1));
    // two new traces push trace 2 out: its late span then starts a new trace
    send(request(span(3, "a")));
    send(request(span(4, "a")));
    // traces 3 and 4 undecided fill num_traces: a new trace waits for room (block_on_overflow)
    assertThat(send(request(span(2, "again")))).isInstanceOf(RelayProcessor.Refused.class);
    decideAfter(Duration.ofSeconds(1));
    assertThat(send(request(span(2, "again")))).isEqualTo(new RelayProcessor.Held(1));
    assertThat(send(request(span(1, "cached")))).isInstanceOf(RelayProcessor.Forward.class);
    assertThat(budget.usedBytes()).isPositive();
  }

  @Test
  void aRequestBeyondTheMemoryBudgetIsRefusedRetryablyAndNothingIsHeld() throws Exception {
    budget = MemoryBudget.builder(1000).build();
    start(
        """
        decision_wait: 1s
        policies: [{ name: all, type: always_sample }]
        """);
    Span.Builder[] spans = new Span.Builder[20];
    for (int i = 0; i < spans.length; i++) {
      spans[i] = span(i, "a-long-enough-span-name-" + i);
    }
    RelayProcessor.Result r = send(request(spans));
    assertThat(r).isInstanceOf(RelayProcessor.Refused.class);
    assertThat(processor.tracesInMemory()).isZero();
    assertThat(send(request(span(1, "small")))).isEqualTo(new RelayProcessor.Held(1));
  }

  @Test
  void shutdownDecidesWhatIsPendingUnlessToldToDropIt() throws Exception {
    start(
        """
        decision_wait: 30s
        policies: [{ name: all, type: always_sample }]
        """);
    send(request(span(1, "a")));
    processor.shutdown();
    assertThat(sampled()).containsExactly(1);
    assertThat(budget.usedBytes()).isZero();
    processor = null;
    emitted.clear();
    start(
        """
        decision_wait: 30s
        drop_pending_traces_on_shutdown: true
        policies: [{ name: all, type: always_sample }]
        """);
    send(request(span(1, "a")));
    processor.shutdown();
    assertThat(emitted).isEmpty();
  }

  @Test
  void theReadmeExampleSamplesAllButTheDroppedHealthChecks() throws Exception {
    start(TailSamplingConfigTest.README_SUPPORTED);
    send(request(span(1, "a").addAttributes(str("url.path", "/health"))));
    send(request(span(2, "a").addAttributes(str("url.path", "/api"))));
    send(request(span(3, "a")));
    decideAfter(Duration.ofSeconds(10));
    assertThat(sampled()).containsExactly(2, 3);
  }

  /**
   * The README's practical example (rules 1 to 7). Its rule 7 puts {@code key} and {@code value}
   * under {@code string_attribute} for a {@code boolean_attribute} policy, which the Collector's
   * strict decoding rejects (StringAttributeCfg has no {@code value}); here under {@code
   * boolean_attribute}.
   */
  @Test
  void theReadmePracticalExampleBehaves() throws Exception {
    start(
        """
        decision_wait: 10s
        num_traces: 100
        expected_new_traces_per_sec: 10
        policies: [
            {
              name: backwards-compatibility-policy,
              type: and,
              and: { and_sub_policy: [
                  { name: services-using-tail_sampling-policy, type: string_attribute,
                    string_attribute: { key: service.name, values: [list, of, services, using, tail_sampling], invert_match: true } },
                  { name: sample-all-policy, type: always_sample } ] }
            },
            {
              name: team_a-probe, type: and,
              and: { and_sub_policy: [
                  { name: service-name-policy, type: string_attribute, string_attribute: { key: service.name, values: [service-1, service-2, service-3] } },
                  { name: route-live-ready-policy, type: string_attribute, string_attribute: { key: http.route, values: [/live, /ready], enabled_regex_matching: true } },
                  { name: probabilistic-policy, type: probabilistic, probabilistic: { sampling_percentage: 0.1 } } ] }
            },
            {
              name: team_a-noisy-endpoint-1, type: and,
              and: { and_sub_policy: [
                  { name: service-name-policy, type: string_attribute, string_attribute: { key: service.name, values: [service-1] } },
                  { name: route-name-policy, type: string_attribute, string_attribute: { key: http.route, values: [/v1/name/.+], enabled_regex_matching: true } },
                  { name: probabilistic-policy, type: probabilistic, probabilistic: { sampling_percentage: 1 } } ] }
            },
            {
              name: team_a-service-1, type: and,
              and: { and_sub_policy: [
                  { name: service-name-policy, type: string_attribute, string_attribute: { key: service.name, values: [service-1] } },
                  { name: route-name-policy, type: string_attribute, string_attribute: { key: http.route, values: [/v1/name/.+], enabled_regex_matching: true, invert_match: true } },
                  { name: probabilistic-policy, type: probabilistic, probabilistic: { sampling_percentage: 100 } } ] }
            },
            {
              name: team_a-status-policy, type: and,
              and: { and_sub_policy: [
                  { name: service-name-policy, type: string_attribute, string_attribute: { key: service.name, values: [list, of, services, using, tail_sampling] } },
                  { name: trace-status-policy, type: status_code, status_code: { status_codes: [ERROR] } } ] }
            },
            { name: team_a-force-sample, type: boolean_attribute, boolean_attribute: { key: app.force_sample, value: true } },
            {
              name: do-not-sample, type: drop,
              drop: { drop_sub_policy: [
                  { name: team_a-do-not-sample, type: boolean_attribute, boolean_attribute: { key: app.do_not_sample, value: true } } ] }
            },
          ]
        """);
    Status error = Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).build();
    // 1: a service not using tail sampling: rule 1
    send(request(service("other"), span(1, "a")));
    // 2: a service using it, no error, nothing forced: not sampled
    send(request(service("tail_sampling"), span(2, "a").addAttributes(str("http.route", "/api"))));
    // 3: the same with an error: rule 5
    send(request(service("tail_sampling"), span(3, "a").setStatus(error)));
    // 4: forced by rule 6
    send(
        request(
            service("tail_sampling"), span(4, "a").addAttributes(bool("app.force_sample", true))));
    // 5: rule 1 would sample it, rule 7 drops it
    send(request(service("other"), span(5, "a").addAttributes(bool("app.do_not_sample", true))));
    // 6: a service using it on a route outside rules 2 to 4: not sampled
    send(request(service("services"), span(6, "a").addAttributes(str("http.route", "/v1/name/7"))));
    decideAfter(Duration.ofSeconds(10));
    assertThat(sampled()).containsExactly(1, 3, 4);
  }

  static Resource service(String name) {
    return Resource.newBuilder().addAttributes(str("service.name", name)).build();
  }

  @Test
  void otherSignalsPassUnchanged() throws Exception {
    start("policies: [{ name: all, type: always_sample }]\n");
    byte[] in =
        io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.newBuilder()
            .addResourceLogs(io.opentelemetry.proto.logs.v1.ResourceLogs.getDefaultInstance())
            .build()
            .toByteArray();
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(in.length);
    buf.writeBytes(in);
    WalkSummary summary = OtlpWalker.create().walk(Signal.LOGS, buf);
    RelayProcessor.Result r = processor.process(Signal.LOGS, buf, summary);
    assertThat(r).isInstanceOf(RelayProcessor.Forward.class);
    ((RelayProcessor.Forward) r).request().release();
  }
}
