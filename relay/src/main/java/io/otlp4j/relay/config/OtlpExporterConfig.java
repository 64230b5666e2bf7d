package io.otlp4j.relay.config;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.Map;

/**
 * An {@code otlp} or {@code otlphttp} exporter. {@code signalEndpoints} are otlphttp's {@code
 * traces_endpoint} etc.; {@code authorization} is the bearer token of its {@code
 * auth.authenticator} (null when none), sent as {@code Authorization: Bearer}. Immutable.
 */
public record OtlpExporterConfig(
    String id,
    boolean http,
    String endpoint,
    boolean insecure,
    Map<String, String> headers,
    Compression compression,
    Duration timeout,
    SendingQueueSettings sendingQueue,
    RetryPolicy retry,
    ClientTls tls,
    Map<Signal, String> signalEndpoints,
    Secret authorization)
    implements ExporterConfig {

  @Override
  public RetryPolicy retryOnFailure() {
    return retry;
  }
}
