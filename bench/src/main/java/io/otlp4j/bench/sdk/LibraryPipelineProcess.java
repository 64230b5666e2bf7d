package io.otlp4j.bench.sdk;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The application side of {@link LibraryScenario}, in its own JVM so that its CPU time and RSS are
 * its own: an {@code SdkTracerProvider} with one of {@link SdkPipelineScenario}'s pipelines ({@code
 * sdk-grpc}: the SDK's {@code BatchSpanProcessor} + {@code OtlpGrpcSpanExporter}; {@code
 * otlp4j-grpc}: otlp4j's processor + exporter), its exporter wrapped to count export calls and
 * failed ones, and {@link SdkPipelineScenario.Producers} threads creating the spans.
 *
 * <p>Protocol on standard streams, one line each way: it prints {@code READY} once built. {@code
 * RATE <spans/s>} starts producers at that total rate (0: flat out), replacing running ones; {@code
 * STOP} stops them; {@code STATS} answers {@code STATS <created> <exports> <failed exports> <p50>
 * <p90> <p99> <p99.9> <max> <count> <completed exports>} with the latencies (ns) of {@code
 * span.end()} since the last {@code STATS}; {@code FLUSH <ms>} flushes the provider (answers {@code
 * FLUSHED <ok>}); {@code EXIT} shuts the provider down and exits. Every command but EXIT is
 * answered with one line.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.sdk.LibraryPipelineProcess \
 *     --pipeline otlp4j-grpc --grpc-port 4317 --http-port 4318 [--threads 2]
 * </pre>
 */
public final class LibraryPipelineProcess {

  private LibraryPipelineProcess() {}

  /**
   * Counts export calls, the ones whose result came, and those of them that failed (after the
   * exporter's own retries).
   */
  static final class CountingSpanExporter implements SpanExporter {
    final LongAdder exports = new LongAdder();
    final LongAdder completed = new LongAdder();
    final LongAdder failed = new LongAdder();
    private final SpanExporter delegate;

    CountingSpanExporter(SpanExporter delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      exports.increment();
      CompletableResultCode result = delegate.export(spans);
      result.whenComplete(
          () -> {
            if (!result.isSuccess()) {
              failed.increment();
            }
            completed.increment();
          });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }
  }

  public static void main(String[] args) throws Exception {
    String pipeline = null;
    int grpcPort = -1;
    int httpPort = -1;
    int threads = 2;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--pipeline" -> pipeline = args[i + 1];
        case "--grpc-port" -> grpcPort = Integer.parseInt(args[i + 1]);
        case "--http-port" -> httpPort = Integer.parseInt(args[i + 1]);
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (pipeline == null || grpcPort < 0 || httpPort < 0) {
      throw new IllegalArgumentException("--pipeline, --grpc-port and --http-port are required");
    }
    CountingSpanExporter exporter =
        new CountingSpanExporter(
            SdkPipelineScenario.exporter(
                pipeline, "http://127.0.0.1:" + grpcPort, "http://127.0.0.1:" + httpPort));
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(AttributeKey.stringKey("service.name"), "bench"))))
            .addSpanProcessor(SdkPipelineScenario.processor(pipeline, exporter))
            .build();
    Tracer tracer = provider.get("io.otlp4j.bench");
    Recorder latency = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
    long createdBefore = 0; // by producers that were stopped
    SdkPipelineScenario.Producers producers = null;
    System.out.println("READY");
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.trim().equals("EXIT")) {
      String[] command = line.trim().split(" ");
      String answer;
      switch (command[0]) {
        case "RATE", "STOP" -> {
          if (producers != null) {
            producers.stop();
            createdBefore += producers.created();
            producers = null;
          }
          if (command[0].equals("RATE")) {
            producers =
                new SdkPipelineScenario.Producers(
                    tracer, threads, Long.parseLong(command[1]), latency);
            producers.start();
          }
          answer = "OK";
        }
        case "STATS" -> {
          Histogram h = latency.getIntervalHistogram();
          long created = createdBefore + (producers == null ? 0 : producers.created());
          answer =
              String.format(
                  Locale.ROOT,
                  "STATS %d %d %d %d %d %d %d %d %d %d",
                  created,
                  exporter.exports.sum(),
                  exporter.failed.sum(),
                  h.getValueAtPercentile(50),
                  h.getValueAtPercentile(90),
                  h.getValueAtPercentile(99),
                  h.getValueAtPercentile(99.9),
                  h.getMaxValue(),
                  h.getTotalCount(),
                  exporter.completed.sum());
        }
        case "FLUSH" -> {
          CompletableResultCode flushed =
              provider.forceFlush().join(Long.parseLong(command[1]), TimeUnit.MILLISECONDS);
          answer = "FLUSHED " + flushed.isSuccess();
        }
        default -> answer = "UNKNOWN " + line;
      }
      System.out.println(answer);
      System.out.flush();
    }
    if (producers != null) {
      producers.stop();
    }
    provider.shutdown().join(10, TimeUnit.SECONDS);
    System.exit(0);
  }
}
