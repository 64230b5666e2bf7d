package io.otlp4j.bench.relay;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.component.ComponentContext;
import io.otlp4j.relay.component.ProcessorFactory;
import io.otlp4j.relay.component.RelayProcessor;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.wire.OtlpVisitor;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code tail_sampling} holding traces, built from its configuration as the relay builds it ({@code
 * decision_wait: 1h}, so nothing is decided while measuring; {@code num_traces: 50000}, so at the
 * steady state each request's new traces push the oldest out), against the anchor: the usual JVM
 * way, the request decoded with protobuf-java and its spans kept as objects grouped by trace in a
 * bounded map (what a Collector-like processor holds).
 *
 * <p>Each op is one {@code realisticTraces(spans)} request (8 spans a trace) with new trace ids, in
 * a pooled direct buffer as a receiver hands it over.
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar TailSamplingBenchmark -prof gc
 * # memory per held span with 50,000 traces in flight (otlp4j and the anchor):
 * java -Xmx2g -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.TailSamplingBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TailSamplingBenchmark {
  static final int NUM_TRACES = 50_000;

  @Param({"100"})
  public int spans;

  private FreshRequests requests;
  private RelayProcessor processor;
  private ObjectHolder anchor;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    requests = new FreshRequests(spans);
    processor = tailSampling(NUM_TRACES, MemoryBudget.builder(4L << 30).build());
    anchor = new ObjectHolder(NUM_TRACES);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    processor.shutdown();
  }

  @Benchmark
  public long tail_sampling() {
    ByteBuf request = requests.next();
    RelayProcessor.Result r = processor.process(Signal.TRACES, request, requests.summary);
    if (r instanceof RelayProcessor.Forward f) {
      f.request().release();
    }
    return r instanceof RelayProcessor.Held h ? h.items() : -1;
  }

  @Benchmark
  public long tail_sampling_anchor() throws Exception {
    ByteBuf request = requests.next();
    try {
      byte[] bytes = new byte[request.readableBytes()];
      request.getBytes(request.readerIndex(), bytes);
      return anchor.hold(ExportTraceServiceRequest.parseFrom(bytes));
    } finally {
      request.release();
    }
  }

  /** The processor as the relay builds it, emitting into nothing (nothing is decided). */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static RelayProcessor tailSampling(int numTraces, MemoryBudget budget) throws Exception {
    RelayConfig config =
        RelayConfig.parse(
            """
        receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
        processors:
          tail_sampling:
            decision_wait: 1h
            num_traces: %d
            policies: [{ name: all, type: always_sample }]
        exporters: { debug: }
        service:
          pipelines:
            traces: { receivers: [otlp], processors: [tail_sampling], exporters: [debug] }
        """
                .formatted(numTraces),
            v -> null,
            Path.of("."));
    ProcessorFactory factory = config.components().processor("tail_sampling");
    RelayProcessor p =
        factory.create(
            (ProcessorConfig) config.processors().get("tail_sampling"),
            new ComponentContext(MetricsRegistry.create(), budget));
    p.start(
        (request, summary) -> {
          request.release();
          return CompletableFuture.completedFuture(Outcome.accepted());
        });
    return p;
  }

  /** One request re-sent with new trace ids each time, as {@code LoadGenerator} does. */
  static final class FreshRequests {
    final byte[] payload;
    final int[] offsets;
    final WalkSummary summary;
    long sends;

    FreshRequests(int spans) {
      payload = OtlpGenerator.realisticTraces(spans).toByteArray();
      List<Integer> found = new ArrayList<>();
      summary =
          OtlpWalker.create()
              .walk(
                  Signal.TRACES,
                  ByteBuffer.wrap(payload),
                  new OtlpVisitor() {
                    @Override
                    public void traceId(int start, int end) {
                      found.add(start);
                    }
                  });
      offsets = found.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The next request in a pooled direct buffer; the caller owns it. */
    ByteBuf next() {
      long id = ++sends;
      for (int off : offsets) {
        for (int i = 0; i < 8; i++) {
          payload[off + i] = (byte) (id >>> (56 - 8 * i));
        }
      }
      return PooledByteBufAllocator.DEFAULT.directBuffer(payload.length).writeBytes(payload);
    }

    /** What the spans of one request take encoded: each span field, tag and length included. */
    long spanBytes() throws Exception {
      long n = 0;
      for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(payload).getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span s : ss.getSpansList()) {
            n += CodedOutputStream.computeMessageSize(2, s);
          }
        }
      }
      return n;
    }
  }

  /** The anchor: spans as protobuf-java objects, grouped by trace, the oldest trace evicted. */
  static final class ObjectHolder {
    record Held(Resource resource, InstrumentationScope scope, List<Span> spans) {}

    private final int numTraces;
    private final LinkedHashMap<ByteString, List<Held>> traces = new LinkedHashMap<>();

    ObjectHolder(int numTraces) {
      this.numTraces = numTraces;
    }

    @SuppressWarnings("ReferenceEquality") // the same parsed resource and scope objects, shared
    synchronized long hold(ExportTraceServiceRequest request) {
      long n = 0;
      for (ResourceSpans rs : request.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span s : ss.getSpansList()) {
            List<Held> parts = traces.get(s.getTraceId());
            if (parts == null) {
              if (traces.size() >= numTraces) {
                Iterator<Map.Entry<ByteString, List<Held>>> it = traces.entrySet().iterator();
                it.next();
                it.remove();
              }
              parts = new ArrayList<>(2);
              traces.put(s.getTraceId(), parts);
            }
            Held last = parts.isEmpty() ? null : parts.get(parts.size() - 1);
            if (last == null || last.resource != rs.getResource() || last.scope != ss.getScope()) {
              last = new Held(rs.getResource(), ss.getScope(), new ArrayList<>(8));
              parts.add(last);
            }
            last.spans.add(s);
            n++;
          }
        }
      }
      return n;
    }

    synchronized int size() {
      return traces.size();
    }
  }

  /**
   * Memory per held span with 50,000 traces in flight: heap (used after GC) and direct memory (the
   * pooled allocator's, and the bytes the processor reserved in its budget) before and after
   * holding them, divided by the spans' encoded size; for otlp4j and for the anchor.
   */
  public static void main(String[] args) throws Exception {
    int spans = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    FreshRequests requests = new FreshRequests(spans);
    int tracesPerRequest = countTraces(requests);
    int requestCount = (NUM_TRACES + tracesPerRequest - 1) / tracesPerRequest;
    long spanBytes = requests.spanBytes() * requestCount;
    long heldSpans = requests.summary.itemCount() * requestCount;
    System.out.printf(
        "%d requests of %d spans (%d traces, %d bytes each): %,d spans, %,d bytes of encoded spans%n",
        requestCount, spans, tracesPerRequest, requests.payload.length, heldSpans, spanBytes);
    for (int round = 0; round < 2; round++) {
      // otlp4j
      MemoryBudget budget = MemoryBudget.builder(4L << 30).build();
      RelayProcessor p = tailSampling(NUM_TRACES + 1, budget);
      long heap0 = usedHeap();
      long direct0 = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
      for (int i = 0; i < requestCount; i++) {
        RelayProcessor.Result r = p.process(Signal.TRACES, requests.next(), requests.summary);
        if (!(r instanceof RelayProcessor.Held)) {
          throw new IllegalStateException("not held: " + r);
        }
      }
      long heap = usedHeap() - heap0;
      long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - direct0;
      long reserved = budget.usedBytes();
      System.out.printf(
          "otlp4j tail_sampling: heap %,d B + direct %,d B (allocator; %,d B held copies) ="
              + " %.1f B per span for %.1f B encoded: %.2fx (held copies: %.2fx)%n",
          heap,
          direct,
          reserved,
          (double) (heap + direct) / heldSpans,
          (double) spanBytes / heldSpans,
          (double) (heap + direct) / spanBytes,
          (double) (heap + reserved) / spanBytes);
      p.shutdown();
      // anchor
      ObjectHolder anchor = new ObjectHolder(NUM_TRACES + 1);
      heap0 = usedHeap();
      for (int i = 0; i < requestCount; i++) {
        ByteBuf b = requests.next();
        byte[] bytes = new byte[b.readableBytes()];
        b.getBytes(0, bytes);
        b.release();
        anchor.hold(ExportTraceServiceRequest.parseFrom(bytes));
      }
      heap = usedHeap() - heap0;
      System.out.printf(
          "anchor (protobuf-java objects, %d traces): heap %,d B = %.1f B per span: %.2fx%n",
          anchor.size(), heap, (double) heap / heldSpans, (double) heap / spanBytes);
    }
  }

  private static int countTraces(FreshRequests r) throws Exception {
    return (int)
        ExportTraceServiceRequest.parseFrom(r.payload).getResourceSpansList().stream()
            .flatMap(rs -> rs.getScopeSpansList().stream())
            .flatMap(ss -> ss.getSpansList().stream())
            .map(Span::getTraceId)
            .distinct()
            .count();
  }

  private static long usedHeap() throws InterruptedException {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
