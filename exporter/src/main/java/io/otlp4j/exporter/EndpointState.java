package io.otlp4j.exporter;

import io.netty.channel.EventLoopGroup;
import io.otlp4j.core.CircuitBreaker;
import java.lang.System.Logger.Level;

/** Per endpoint: its circuit breaker and in-flight bound. */
final class EndpointState {
  /** Logs under the exporter's name, where the breaker transitions were logged before. */
  private static final System.Logger LOG = System.getLogger(OtlpExporter.class.getName());

  final String key;
  final CircuitBreaker breaker;
  final InFlightLimiter limiter;

  EndpointState(String key, ExporterSettings settings, EventLoopGroup group, Transport transport) {
    this.key = key;
    CircuitBreaker.Builder b =
        CircuitBreaker.builder(settings.name + " " + key)
            .clock(settings.clock)
            .addListener(
                (from, to) -> {
                  if (to == CircuitBreaker.State.HALF_OPEN) {
                    transport.probing(key);
                  }
                  LOG.log(
                      to == CircuitBreaker.State.OPEN ? Level.WARNING : Level.INFO,
                      "{0}: circuit for {1} went from {2} to {3}",
                      settings.name,
                      key,
                      from,
                      to);
                });
    this.breaker = settings.breakerConfig.apply(b).build();
    this.limiter = new InFlightLimiter(settings.maxInFlight, settings.maxQueued, group);
  }
}
