package io.otlp4j.bench.sdk;

import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.otlp4j.sdk.Otlp4jBatchSpanProcessor;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The first seconds of {@link SdkPipelineScenario}'s pipelines in a fresh JVM, every 250 ms: spans
 * created and received, and for otlp4j's processor its queue, exports in flight and drops. Shows
 * where a cold pipeline drops (issue #18). Arguments: pipelines (comma-separated), seconds each; 2
 * producers paced to 200,000 spans/s in total.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.sdk.SdkPipelineTimeline otlp4j-grpc,otlp4j-http 6
 * </pre>
 */
public final class SdkPipelineTimeline {

  private SdkPipelineTimeline() {}

  public static void main(String[] args) throws Exception {
    long seconds = Long.parseLong(args[1]);
    try (SdkPipelineScenario.Sink sink = SdkPipelineScenario.Sink.start()) {
      for (String pipeline : args[0].split(",")) {
        SpanProcessor processor =
            SdkPipelineScenario.processor(
                pipeline,
                SdkPipelineScenario.exporter(
                    pipeline,
                    "http://127.0.0.1:" + sink.grpcPort,
                    "http://127.0.0.1:" + sink.httpPort));
        SdkTracerProvider provider =
            SdkTracerProvider.builder().addSpanProcessor(processor).build();
        SdkPipelineScenario.Producers load =
            new SdkPipelineScenario.Producers(provider.get("io.otlp4j.bench"), 2, 200_000);
        long start = System.nanoTime();
        long base = sink.count();
        load.start();
        long lastCreated = 0;
        long lastReceived = 0;
        long lastDropped = 0;
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
          long created = load.created();
          long received = sink.count() - base;
          String extra = "";
          if (processor instanceof Otlp4jBatchSpanProcessor p) {
            long dropped = p.droppedCount();
            extra =
                String.format(
                    Locale.ROOT,
                    " queued=%d inFlight=%d dropped+=%d",
                    p.queuedCount(),
                    p.inFlightCount(),
                    dropped - lastDropped);
            lastDropped = dropped;
          }
          System.out.printf(
              Locale.ROOT,
              "%s t=%.2f created+=%d received+=%d%s%n",
              pipeline,
              (System.nanoTime() - start) / 1e9,
              created - lastCreated,
              received - lastReceived,
              extra);
          lastCreated = created;
          lastReceived = received;
        }
        load.stop();
        provider.shutdown().join(60, TimeUnit.SECONDS);
        long received = sink.awaitSettled() - base;
        System.out.printf(
            Locale.ROOT,
            "%s created=%d received=%d dropped=%.2f%%%n",
            pipeline,
            load.created(),
            received,
            100.0 * (load.created() - received) / load.created());
      }
    }
  }
}
