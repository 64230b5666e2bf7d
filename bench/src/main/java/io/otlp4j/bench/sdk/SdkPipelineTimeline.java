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
 * where a cold pipeline drops (issue #18). Arguments: pipelines (comma-separated), seconds each;
 * optionally {@code warmup=on|off} (otlp4j's exporter warm-up, default on) and {@code gap=<ms>}
 * (time between building the exporter and the first span, default 0: the spans start at once, as
 * hard a case as there is). 2 producers paced to 200,000 spans/s in total.
 *
 * <p>Each pipeline ends with a summary line: {@code firstDelivery} is the time from the first span
 * to the first 250 ms interval in which the sink received any span (the first export's stall),
 * {@code caughtUp} the first interval in which it received at least 90 % of what was created in it.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.sdk.SdkPipelineTimeline otlp4j-grpc 6 warmup=off
 * </pre>
 */
public final class SdkPipelineTimeline {

  private SdkPipelineTimeline() {}

  public static void main(String[] args) throws Exception {
    long seconds = Long.parseLong(args[1]);
    boolean warmUp = true;
    long gapMillis = 0;
    for (int i = 2; i < args.length; i++) {
      if (args[i].startsWith("warmup=")) {
        warmUp = args[i].substring("warmup=".length()).equals("on");
      } else if (args[i].startsWith("gap=")) {
        gapMillis = Long.parseLong(args[i].substring("gap=".length()));
      } else {
        throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    SdkPipelineScenario.exporterWarmUp = warmUp;
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
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(gapMillis));
        SdkPipelineScenario.Producers load =
            new SdkPipelineScenario.Producers(provider.get("io.otlp4j.bench"), 2, 200_000);
        long start = System.nanoTime();
        long base = sink.count();
        load.start();
        long lastCreated = 0;
        long lastReceived = 0;
        long lastDropped = 0;
        double firstDelivery = -1;
        double caughtUp = -1;
        while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(seconds)) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
          long created = load.created();
          long received = sink.count() - base;
          double t = (System.nanoTime() - start) / 1e9;
          if (firstDelivery < 0 && received > 0) {
            firstDelivery = t;
          }
          if (caughtUp < 0 && received - lastReceived >= 0.9 * (created - lastCreated)) {
            caughtUp = t;
          }
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
              t,
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
            "%s warmup=%s gap=%dms created=%d received=%d dropped=%.2f%% firstDelivery=%.2fs"
                + " caughtUp=%.2fs%n",
            pipeline,
            warmUp ? "on" : "off",
            gapMillis,
            load.created(),
            received,
            100.0 * (load.created() - received) / load.created(),
            firstDelivery,
            caughtUp);
      }
    }
  }
}
