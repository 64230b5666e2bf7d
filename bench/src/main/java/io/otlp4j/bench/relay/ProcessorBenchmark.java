package io.otlp4j.bench.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.component.ComponentContext;
import io.otlp4j.relay.component.ProcessorFactory;
import io.otlp4j.relay.component.RelayProcessor;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.nio.file.Path;
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
 * The relay's {@code attributes} and {@code filter} processors, built from their configuration as
 * the relay builds them, on the same request and edits as {@code EditorBenchmark} (whose {@code
 * *_anchor} methods are the protobuf-java anchor: run both in one invocation):
 *
 * <ul>
 *   <li>{@code attributes}: {@code - {key: server.address, action: delete}} and {@code - {key:
 *       processed.by, value: otlp4j, action: insert}} on every span;
 *   <li>{@code filter}: {@code traces: span: ['attributes["app.cache.hit"] == true']} (about half
 *       the spans), the new bytes walked for the summary the processor passes on;
 *   <li>{@code probabilistic_sampler}: {@code sampling_percentage: 50} (mode {@code hash_seed}):
 *       about half the spans dropped, the kept ones with the trace state {@code ot=rv:…;th:8}
 *       written; {@code probabilistic_sampler_anchor} does the same with protobuf-java (parse, hash
 *       each trace id, remove the dropped spans, set the kept ones' trace state, serialize).
 * </ul>
 *
 * Each op gives the processor a retained reference to the request (the processor releases it) and
 * releases what it forwards.
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar 'ProcessorBenchmark|EditorBenchmark.*_anchor' -prof gc
 * bench/run processors
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class ProcessorBenchmark {
  @Param({"512"})
  public int spans;

  private ByteBuf request;
  private WalkSummary summary;
  private RelayProcessor attributes;
  private RelayProcessor filter;
  private RelayProcessor sampler;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    byte[] bytes = OtlpGenerator.realisticTraces(spans).toByteArray();
    request = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    summary = OtlpWalker.create().walk(Signal.TRACES, request);
    RelayConfig config =
        RelayConfig.parse(
            """
        receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
        processors:
          attributes:
            actions:
              - { key: server.address, action: delete }
              - { key: processed.by, value: otlp4j, action: insert }
          filter:
            traces:
              span: ['attributes["app.cache.hit"] == true']
          probabilistic_sampler:
            sampling_percentage: 50
        exporters: { debug: }
        service:
          pipelines:
            traces:
              receivers: [otlp]
              processors: [attributes, filter, probabilistic_sampler]
              exporters: [debug]
        """,
            v -> null,
            Path.of("."));
    attributes = create(config, "attributes");
    filter = create(config, "filter");
    sampler = create(config, "probabilistic_sampler");
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static RelayProcessor create(RelayConfig config, String id) {
    ProcessorFactory factory = config.components().processor(id);
    return factory.create(
        (ProcessorConfig) config.processors().get(id),
        new ComponentContext(MetricsRegistry.create()));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    request.release();
  }

  @Benchmark
  public long attributes_processor() {
    return release(attributes.process(Signal.TRACES, request.retain(), summary));
  }

  @Benchmark
  public long filter_processor() {
    return release(filter.process(Signal.TRACES, request.retain(), summary));
  }

  @Benchmark
  public long probabilistic_sampler_processor() {
    return release(sampler.process(Signal.TRACES, request.retain(), summary));
  }

  /** The same sampling the usual JVM way: decode, change the objects, re-encode. */
  @Benchmark
  public int probabilistic_sampler_anchor() throws IOException {
    ExportTraceServiceRequest.Builder b =
        ExportTraceServiceRequest.parseFrom(request.nioBuffer()).toBuilder();
    for (ResourceSpans.Builder rs : b.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
        for (int i = ss.getSpansCount() - 1; i >= 0; i--) {
          byte[] traceId = ss.getSpans(i).getTraceId().toByteArray();
          int h = 0x811c9dc5;
          for (int k = 0; k < 4; k++) {
            h = (h ^ 0) * 0x01000193; // seed 0, little-endian
          }
          for (byte x : traceId) {
            h = (h ^ (x & 0xff)) * 0x01000193;
          }
          if ((h & 0x3fff) >= 8192) {
            ss.removeSpans(i);
            continue;
          }
          long hashed = h & 0x3fff;
          long unused = (h & 0xffffffffL) >>> 14;
          long rnd = ((0x3fff - hashed) << 42) | ((unused ^ (unused << 10)) << 14) | hashed;
          ss.getSpansBuilder(i).setTraceState(String.format("ot=rv:%014x;th:8", rnd));
        }
      }
    }
    return b.build().toByteArray().length;
  }

  private static long release(RelayProcessor.Result result) {
    if (result instanceof RelayProcessor.Forward f) {
      long n = f.summary().itemCount();
      f.request().release();
      return n;
    }
    return ((RelayProcessor.Dropped) result).items();
  }
}
