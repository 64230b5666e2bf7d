package io.otlp4j.relay.component;

import io.otlp4j.relay.config.RelayConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The relay's lifecycle as the extensions that report on it see it ({@code health_check}, {@code
 * zpages}): its {@link State}, when it became ready, and the configuration it runs. The relay moves
 * it forward ({@link #running}, {@link #draining}, {@link #stopped}); it never goes back.
 *
 * <p>Thread-safe: the state is one volatile field, read without a lock.
 */
public final class ServiceStatus {

  /** Where the relay is in its life. */
  public enum State {
    /** Components are being built and bound: not ready for traffic. */
    STARTING,
    /** Every pipeline runs and every receiver is bound. */
    RUNNING,
    /** Shutting down: receivers stopped, queues draining. */
    DRAINING,
    /** Everything stopped. */
    STOPPED
  }

  private final Clock clock;
  private final RelayConfig config;
  private final Instant startedAt;
  private volatile State state = State.STARTING;
  private volatile Instant upSince;

  /**
   * A status in {@link State#STARTING} for a relay running {@code config} (may be null where no
   * relay configuration exists, such as a component tested alone).
   */
  public ServiceStatus(RelayConfig config, Clock clock) {
    this.config = config;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.startedAt = clock.instant();
  }

  /** A status with no configuration, on the system clock. */
  public static ServiceStatus standalone() {
    return new ServiceStatus(null, Clock.systemUTC());
  }

  public State state() {
    return state;
  }

  /** Whether every pipeline runs ({@link State#RUNNING}). */
  public boolean isRunning() {
    return state == State.RUNNING;
  }

  /** When the relay started building its components. */
  public Instant startedAt() {
    return startedAt;
  }

  /** When the relay became ready, or null before. */
  public Instant upSince() {
    return upSince;
  }

  /** How long the relay has been ready ({@link Duration#ZERO} before). */
  public Duration uptime() {
    Instant up = upSince;
    return up == null ? Duration.ZERO : Duration.between(up, clock.instant());
  }

  /** The configuration the relay runs, or null when there is none. */
  public RelayConfig config() {
    return config;
  }

  /** Every pipeline runs: {@link State#STARTING} → {@link State#RUNNING}. */
  public synchronized void running() {
    if (state == State.STARTING) {
      upSince = clock.instant();
      state = State.RUNNING;
    }
  }

  /** Shutdown began. */
  public synchronized void draining() {
    if (state == State.STARTING || state == State.RUNNING) {
      state = State.DRAINING;
    }
  }

  /** Shutdown finished. */
  public synchronized void stopped() {
    state = State.STOPPED;
  }
}
