package io.otlp4j.sdk;

import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An application as {@link StartFailureTest} runs it inside a class loader that cannot load some
 * class: autoconfigure with {@code otel.traces.exporter=otlp4j}, one span, then {@code forceFlush}
 * and {@code shutdown} of the tracer provider, each waited for at most {@code waitMillis}. Loaded
 * and run through reflection only; answers in a string so that no type crosses the class loaders.
 */
public final class StartFailureScenario {

  private StartFailureScenario() {}

  public static String run(long waitMillis) {
    OpenTelemetrySdk sdk;
    try {
      sdk =
          AutoConfiguredOpenTelemetrySdk.builder()
              .addPropertiesSupplier(
                  () ->
                      Map.of(
                          "otel.traces.exporter", "otlp4j",
                          "otel.metrics.exporter", "none",
                          "otel.logs.exporter", "none",
                          "otel.exporter.otlp.endpoint", "http://127.0.0.1:1"))
              .disableShutdownHook()
              .build()
              .getOpenTelemetrySdk();
    } catch (Throwable e) {
      return "start threw " + e;
    }
    sdk.getTracerProvider().get("scenario").spanBuilder("span").startSpan().end();
    CompletableResultCode flush =
        sdk.getSdkTracerProvider().forceFlush().join(waitMillis, TimeUnit.MILLISECONDS);
    CompletableResultCode shutdown =
        sdk.getSdkTracerProvider().shutdown().join(waitMillis, TimeUnit.MILLISECONDS);
    return "flush " + outcome(flush) + ", shutdown " + outcome(shutdown);
  }

  private static String outcome(CompletableResultCode code) {
    return !code.isDone() ? "pending" : code.isSuccess() ? "succeeded" : "failed";
  }
}
