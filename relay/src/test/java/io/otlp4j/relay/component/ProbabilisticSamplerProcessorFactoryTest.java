package io.otlp4j.relay.component;

import static io.otlp4j.relay.component.ProbabilisticSamplerCollectorVectorsTest.harness;
import static io.otlp4j.relay.component.ProbabilisticSamplerCollectorVectorsTest.keptSpans;
import static io.otlp4j.relay.component.ProbabilisticSamplerCollectorVectorsTest.kv;
import static io.otlp4j.relay.component.ProbabilisticSamplerCollectorVectorsTest.oneSpan;
import static io.otlp4j.relay.component.ProbabilisticSamplerCollectorVectorsTest.onlySpan;
import static io.otlp4j.relay.component.ProbabilisticSamplerCollectorVectorsTest.request;
import static io.otlp4j.relay.component.ProbabilisticSamplerCollectorVectorsTest.stringValue;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code probabilistic_sampler} beyond the Collector's own vectors: its decisions against a
 * plain reference implementation over many trace ids and seeds, the Collector README's examples,
 * trace states from other vendors, counts, what it allocates, and configuration errors with lines.
 */
@ExtendWith(NettyLeakCheck.class)
class ProbabilisticSamplerProcessorFactoryTest {

  @Test
  void hashSeedDecisionsEqualTheReferenceImplementationOverManyTraceIds() throws Exception {
    Random random = new Random(7);
    int[] seeds = {0, 1, 22, 4312, -1};
    float[] percents = {0.01f, 1f, 10f, 15.5f, 33.333f, 50f, 99.99f};
    long kept = 0;
    long total = 0;
    for (int seed : seeds) {
      for (float pct : percents) {
        ProcessorHarness h =
            harness(
                "sampling_percentage: "
                    + pct
                    + "\nhash_seed: "
                    + Integer.toUnsignedString(seed)
                    + "\n");
        List<Span> spans = new ArrayList<>();
        boolean[] expected = new boolean[400];
        for (int i = 0; i < expected.length; i++) {
          byte[] tid = ProbabilisticSamplerCollectorVectorsTest.randomBytes(random, 16);
          tid[0] |= 1; // never the empty trace id
          expected[i] = ReferenceSampler.sampled(tid, seed, pct);
          spans.add(
              Span.newBuilder()
                  .setTraceId(ByteString.copyFrom(tid))
                  .setName(Integer.toString(i))
                  .build());
        }
        ProcessorHarness.Outcome o = h.run(Signal.TRACES, request(spans.toArray(new Span[0])));
        boolean[] actual = new boolean[expected.length];
        if (o.bytes() != null) {
          for (Span s :
              ExportTraceServiceRequest.parseFrom(o.bytes())
                  .getResourceSpans(0)
                  .getScopeSpans(0)
                  .getSpansList()) {
            actual[Integer.parseInt(s.getName())] = true;
            // the Collector writes the hashed randomness and the threshold into the trace state
            long rv = ReferenceSampler.randomnessFromBytes(s.getTraceId().toByteArray(), seed);
            assertThat(s.getTraceState())
                .startsWith("ot=rv:" + ReferenceSampler.rValue(rv) + ";th:");
          }
        }
        assertThat(actual).as("seed %d, %s%%", seed, pct).isEqualTo(expected);
        for (boolean b : expected) {
          kept += b ? 1 : 0;
        }
        total += expected.length;
      }
    }
    assertThat(kept).isBetween(total / 5, total / 2);
  }

  /** The Collector README's examples, adapted only in being this harness's processor section. */
  @Test
  void readmeExamplesLoadAndBehave() throws Exception {
    // "Sample 15% of log records according to trace ID" (and spans alike)
    ProcessorHarness fifteen = harness("sampling_percentage: 15\n");
    Random random = new Random(15);
    List<Span> spans = new ArrayList<>();
    int expected = 0;
    for (int i = 0; i < 2000; i++) {
      byte[] tid = ProbabilisticSamplerCollectorVectorsTest.randomBytes(random, 16);
      tid[15] |= 1;
      expected += ReferenceSampler.sampled(tid, 0, 15) ? 1 : 0;
      spans.add(Span.newBuilder().setTraceId(ByteString.copyFrom(tid)).build());
    }
    assertThat(keptSpans(fifteen.run(Signal.TRACES, request(spans.toArray(new Span[0])))))
        .isEqualTo(expected)
        .isBetween(200, 400);

    // "Sample logs according to their logID attribute"
    ProcessorHarness byLogId =
        harness(
            """
            sampling_percentage: 15
            attribute_source: record # possible values: one of record or traceID
            from_attribute: logID # value is required if the source is not traceID
            """);
    ScopeLogs.Builder scope = ScopeLogs.newBuilder();
    int expectedLogs = 0;
    for (int i = 0; i < 1000; i++) {
      String id = "log-" + i;
      expectedLogs +=
          ReferenceSampler.sampled(id.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, 15)
              ? 1
              : 0;
      scope.addLogRecords(LogRecord.newBuilder().addAttributes(kv("logID", stringValue(id))));
    }
    scope.addLogRecords(LogRecord.newBuilder().setSeverityText("no logID: fails closed"));
    assertThat(keptLogs(byLogId.run(Signal.LOGS, logs(scope)))).isEqualTo(expectedLogs);

    // "Give sampling priority to log records according to the attribute named priority"
    ProcessorHarness byPriority =
        harness(
            """
            sampling_percentage: 15
            sampling_priority: priority
            """);
    ScopeLogs.Builder prioritised = ScopeLogs.newBuilder();
    for (int i = 0; i < 100; i++) {
      prioritised.addLogRecords(
          LogRecord.newBuilder()
              .setTraceId(
                  ByteString.copyFrom(
                      new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, (byte) i}))
              .addAttributes(
                  kv("priority", ProbabilisticSamplerCollectorVectorsTest.intValue(100))));
    }
    assertThat(keptLogs(byPriority.run(Signal.LOGS, logs(prioritised))))
        .as("priority 100 samples every record")
        .isEqualTo(100);
  }

  @Test
  void otherVendorsTraceStateIsKeptAndTheOtMemberComesFirst() throws Exception {
    ProcessorHarness h = harness("sampling_percentage: 100\nmode: proportional\n");
    Span span =
        onlySpan(
            h.run(
                Signal.TRACES,
                oneSpan(
                    ProbabilisticSamplerCollectorVectorsTest.DEFAULT_TID,
                    "congo=t61rcWkgMzE , ot=x:y;rv:abcdefabcdef01,rojo=00f067aa0ba902b7",
                    null)));
    assertThat(span.getTraceState())
        .isEqualTo("ot=rv:abcdefabcdef01;th:0;x:y,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  }

  @Test
  void malformedTraceStatesAreErrors() throws Exception {
    ProcessorHarness closed = harness("sampling_percentage: 100\nmode: proportional\n");
    String tid = ProbabilisticSamplerCollectorVectorsTest.DEFAULT_TID;
    for (String bad :
        List.of(
            " a=b", // leading white space
            "a=b ", // trailing
            "A=b", // upper-case key
            "a=", // empty value
            "a=b=c",
            "ot=th:8;", // empty ot member
            "ot=TH:8",
            "ot=th:",
            "ot=th:123456789abcdef", // 15 digits
            "ot=rv:123",
            "x".repeat(1025) + "=1",
            "ot=" + "a:b;".repeat(70) + "c:d", // ot over 256 characters
            "a=1," + "b=2,".repeat(31) + "c=3")) { // 33 members
      assertThat(keptSpans(closed.run(Signal.TRACES, oneSpan(tid, bad, null))))
          .as("'%s' fails closed", bad.length() > 40 ? bad.substring(0, 40) : bad)
          .isZero();
    }
    for (String good :
        List.of(
            "", "a=b,c=d", "a=b , c=d", "a=b,,c=d", "a=b,", "t@s=x", "ot=th:0;rv:00000000000000")) {
      assertThat(keptSpans(closed.run(Signal.TRACES, oneSpan(tid, good, null))))
          .as("'%s' is valid", good)
          .isEqualTo(1);
    }
  }

  @Test
  void metricsPassThroughAndCountsNameWhatWasSampled() throws Exception {
    ProcessorHarness h = harness("sampling_percentage: 50\n");
    ExportMetricsServiceRequest metrics =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(
                ResourceMetrics.newBuilder()
                    .addScopeMetrics(
                        ScopeMetrics.newBuilder()
                            .addMetrics(
                                Metric.newBuilder()
                                    .setName("m")
                                    .setGauge(
                                        Gauge.newBuilder()
                                            .addDataPoints(
                                                NumberDataPoint.newBuilder().setAsInt(1))))))
            .build();
    assertThat(h.run(Signal.METRICS, metrics).bytes()).isEqualTo(metrics.toByteArray());

    Random random = new Random(3);
    List<Span> spans = new ArrayList<>();
    int expected = 0;
    for (int i = 0; i < 300; i++) {
      byte[] tid = ProbabilisticSamplerCollectorVectorsTest.randomBytes(random, 16);
      tid[15] |= 1;
      expected += ReferenceSampler.sampled(tid, 0, 50) ? 1 : 0;
      spans.add(Span.newBuilder().setTraceId(ByteString.copyFrom(tid)).build());
    }
    spans.add(Span.newBuilder().build()); // no trace id: missing randomness, fails closed
    ProcessorHarness.Outcome o = h.run(Signal.TRACES, request(spans.toArray(new Span[0])));
    assertThat(keptSpans(o)).isEqualTo(expected);
    assertThat(h.counter(ProcessorCounts.INCOMING, "traces")).isEqualTo(301);
    assertThat(h.counter(ProcessorCounts.OUTGOING, "traces")).isEqualTo(expected);
    assertThat(sampledCount(h, "trace_id_hash", true)).isEqualTo(expected);
    assertThat(sampledCount(h, "trace_id_hash", false)).isEqualTo(300 - expected);
    assertThat(sampledCount(h, "missing_randomness", false)).isEqualTo(1);

    // Nothing left: the request is dropped (answered as exported), not refused.
    ProcessorHarness none = harness("sampling_percentage: 0\n");
    ProcessorHarness.Outcome dropped = none.run(Signal.TRACES, request(spans.toArray(new Span[0])));
    assertThat(dropped.bytes()).isNull();
    assertThat(dropped.dropped()).isEqualTo(301);
  }

  /**
   * The hash_seed path allocates nothing per span: deciding 512 spans that are all dropped costs
   * what deciding one does (the per-request objects), and keeping 512 (each re-encoded with its new
   * trace state) costs no more than the output buffer's growth.
   */
  @Test
  void hashSeedAllocatesNothingPerSpan() throws Exception {
    ProcessorHarness h = harness("sampling_percentage: 50\nhash_seed: 4312\n");
    Random random = new Random(11);
    List<Span> droppedSpans = new ArrayList<>();
    List<Span> keptSpans = new ArrayList<>();
    while (droppedSpans.size() < 512 || keptSpans.size() < 512) {
      byte[] tid = ProbabilisticSamplerCollectorVectorsTest.randomBytes(random, 16);
      tid[15] |= 1;
      Span s =
          Span.newBuilder()
              .setTraceId(ByteString.copyFrom(tid))
              .setName("span")
              .setTraceState("vendor=abc")
              .addAttributes(kv("http.method", stringValue("GET")))
              .build();
      (ReferenceSampler.sampled(tid, 4312, 50) ? keptSpans : droppedSpans).add(s);
    }
    long oneSpan = minAllocation(h, request(droppedSpans.get(0)));
    long dropCost = minAllocation(h, request(droppedSpans.subList(0, 512).toArray(new Span[0])));
    assertThat(dropCost - oneSpan)
        .as("512 dropped spans cost what 1 does (%d bytes per request)", oneSpan)
        .isLessThan(1024);
    ExportTraceServiceRequest keep = request(keptSpans.subList(0, 512).toArray(new Span[0]));
    long keepCost = minAllocation(h, keep);
    // The output's new bytes (the kept spans, re-encoded with their new trace state) go into one
    // heap buffer that grows by doubling: at most 4 times their size in all.
    int output = h.run(Signal.TRACES, keep).bytes().length;
    assertThat(keepCost)
        .as("512 kept spans (request of %d bytes)", keep.getSerializedSize())
        .isLessThan(oneSpan + 4L * output);
  }

  private static long minAllocation(ProcessorHarness h, ExportTraceServiceRequest request) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    ByteBuf buf = Unpooled.wrappedBuffer(request.toByteArray());
    WalkSummary summary = OtlpWalker.create().walk(Signal.TRACES, buf);
    long[] perRequest = new long[40];
    for (int i = 0; i < perRequest.length; i++) {
      long before = threads.getCurrentThreadAllocatedBytes();
      RelayProcessor.Result r = h.processor.process(Signal.TRACES, buf.retain(), summary);
      perRequest[i] = threads.getCurrentThreadAllocatedBytes() - before;
      if (r instanceof RelayProcessor.Forward f) {
        f.request().release();
      }
    }
    buf.release();
    return Arrays.stream(perRequest).min().getAsLong();
  }

  @Test
  void configurationErrorsNameTheirLines() {
    List<String> errors =
        ProcessorHarness.errors(
            "probabilistic_sampler",
            """
            sampling_percentage: -1
            hash_seed: 4294967296
            mode: random
            fail_closed: maybe
            sampling_precision: 15
            attribute_source: span
            sampling_ratio: 3
            """);
    assertThat(errors)
        .contains(
            "line 7: processors.probabilistic_sampler.sampling_percentage: sampling rate is negative: -1%",
            "line 8: processors.probabilistic_sampler.hash_seed: must be a 32-bit unsigned integer (at most 4294967295), was 4294967296",
            "line 9: processors.probabilistic_sampler.mode: unsupported sampler mode \"random\" (one of hash_seed, proportional, equalizing)",
            "line 10: processors.probabilistic_sampler.fail_closed: must be true or false, was 'maybe'",
            "line 11: processors.probabilistic_sampler.sampling_precision: sampling precision is too great, should be <= 14: 15",
            "line 12: processors.probabilistic_sampler.attribute_source: invalid attribute source: span. Expected: traceID or record")
        .anyMatch(
            e ->
                e.startsWith(
                    "line 13: processors.probabilistic_sampler.sampling_ratio: unknown key 'sampling_ratio'"));
    assertThat(ProcessorHarness.errors("probabilistic_sampler", "sampling_precision: 0\n"))
        .contains(
            "line 7: processors.probabilistic_sampler.sampling_precision: invalid sampling precision: 0");
    assertThat(ProcessorHarness.errors("probabilistic_sampler", "sampling_percentage: .nan\n"))
        .anyMatch(
            e -> e.startsWith("line 7: processors.probabilistic_sampler.sampling_percentage:"));
    assertThat(ProcessorHarness.errors("probabilistic_sampler", "sampling_percentage: 1e-16\n"))
        .contains(
            "line 7: processors.probabilistic_sampler.sampling_percentage: sampling rate is too small: 1e-16%");
    assertThat(ProcessorHarness.errors("probabilistic_sampler", "")).isEmpty();
  }

  private static long sampledCount(ProcessorHarness h, String policy, boolean sampled) {
    return h.metrics
        .counter(
            ProbabilisticSamplerProcessorFactory.SamplerCounts.TRACES,
            "Count of traces that were sampled or not",
            "policy",
            policy,
            "sampled",
            Boolean.toString(sampled))
        .get();
  }

  private static ExportLogsServiceRequest logs(ScopeLogs.Builder scope) {
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(scope))
        .build();
  }

  private static int keptLogs(ProcessorHarness.Outcome o) throws Exception {
    if (o.bytes() == null) {
      return 0;
    }
    return ExportLogsServiceRequest.parseFrom(o.bytes())
        .getResourceLogs(0)
        .getScopeLogs(0)
        .getLogRecordsCount();
  }
}
