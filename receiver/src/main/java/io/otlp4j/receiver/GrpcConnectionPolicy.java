package io.otlp4j.receiver;

import io.grpc.netty.NettyServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the OTLP/gRPC receiver allows a connection: the Collector's {@code configgrpc} server keys
 * {@code keepalive.server_parameters} ({@code max_connection_idle}, {@code max_connection_age},
 * {@code max_connection_age_grace}, {@code time}, {@code timeout}) and {@code
 * keepalive.enforcement_policy} ({@code min_time}, {@code permit_without_stream}), with gRPC's
 * defaults (grpc-go's and grpc-java's agree); and the HTTP/2 protections otlp4j adds: a bound on
 * open connections, on the header list of a call, on {@code RST_STREAM} frames per window (rapid
 * reset, CVE-2023-44487), on the streams a connection resets beyond the calls it was answered
 * (rapid reset again, from many short connections), on the frames a connection sends that carry no
 * call ({@code SETTINGS}, {@code PING}, {@code WINDOW_UPDATE}, {@code PRIORITY}, empty {@code
 * DATA}: see {@link Http2ControlFrameGuard}), and on the time a new connection has to finish its
 * TLS and HTTP/2 handshake.
 *
 * <p>At each limit: a connection over {@link #maxConnections()} is closed as soon as it is accepted
 * (see {@link ConnectionLimit}); a header list over {@link #maxHeaderListSize()} ends the call or,
 * far over it, the connection; more {@code RST_STREAM} frames than allowed, or pings more often
 * than {@link #permitKeepAliveTime()} (or without a call when {@link
 * #permitKeepAliveWithoutCalls()} is false), or more frames of no call than {@link
 * #maxControlFrames()}, or more resets than answered calls plus {@link #maxUnansweredResets()}, end
 * the connection with {@code GOAWAY ENHANCE_YOUR_CALM}; an idle, old or handshaking-too-long
 * connection is closed ({@code GOAWAY}, then close).
 *
 * <p>Immutable and thread-safe; built with {@link #builder()}.
 */
public final class GrpcConnectionPolicy {

  /** {@code keepalive.server_parameters.max_connection_idle}: zero, none (gRPC's default). */
  public static final Duration DEFAULT_MAX_CONNECTION_IDLE = Duration.ZERO;

  /** {@code keepalive.server_parameters.max_connection_age}: zero, none. */
  public static final Duration DEFAULT_MAX_CONNECTION_AGE = Duration.ZERO;

  /** {@code keepalive.server_parameters.max_connection_age_grace}: zero, unbounded. */
  public static final Duration DEFAULT_MAX_CONNECTION_AGE_GRACE = Duration.ZERO;

  /** {@code keepalive.server_parameters.time}: the server pings a quiet client after 2 hours. */
  public static final Duration DEFAULT_KEEPALIVE_TIME = Duration.ofHours(2);

  /**
   * {@code keepalive.server_parameters.timeout}: a ping unanswered for 20 s ends the connection.
   */
  public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);

  /** {@code keepalive.enforcement_policy.min_time}: clients may ping at most every 5 minutes. */
  public static final Duration DEFAULT_PERMIT_KEEPALIVE_TIME = Duration.ofMinutes(5);

  /** {@code keepalive.enforcement_policy.permit_without_stream}: false. */
  public static final boolean DEFAULT_PERMIT_KEEPALIVE_WITHOUT_CALLS = false;

  /** Open connections; one more is closed as soon as it is accepted. */
  public static final int DEFAULT_MAX_CONNECTIONS = 4096;

  /** The largest header list of a call, 8 KiB (grpc-java's default). */
  public static final int DEFAULT_MAX_HEADER_LIST_SIZE = 8192;

  /** {@code RST_STREAM} frames a connection may send per window: Netty's own default, 200. */
  public static final int DEFAULT_MAX_RST_FRAMES = 200;

  /** The window of {@link #DEFAULT_MAX_RST_FRAMES}: 30 s (Netty's default). */
  public static final Duration DEFAULT_RST_FRAMES_WINDOW = Duration.ofSeconds(30);

  /**
   * {@code RST_STREAM} frames a connection may send beyond the calls the server answered on it
   * (over its whole life): 20 (otlp4j's; neither grpc-java nor Netty nor the Collector has such a
   * limit).
   *
   * <p>Why: {@link #DEFAULT_MAX_RST_FRAMES} bounds one connection, but an attacker that opens a new
   * connection as soon as one is closed is served its 200 resets on each: at about 200 connections
   * a second (one thread, on loopback) the relay created and cancelled about 40,000 calls a second,
   * and a well-behaved client's p99 latency went to 2.45 times its p99 without the attack. Counting
   * a reset against the calls answered on the connection asks a connection to pay for each reset
   * with an answered call, which costs its client a full round trip and costs the server no more
   * than any call; a fresh connection that has been answered nothing gets 20. A real client (the
   * OpenTelemetry SDK, grpc-java, the Collector's exporter) keeps one connection, resets a call
   * only when its deadline passes or it is cancelled, and is answered far more often than that, so
   * it never comes near the limit; one that reaches it (more than 20 calls timed out, on a
   * connection answered nothing: a relay that answers nothing) is closed like any connection the
   * server ends and reconnects. Netty's {@link #DEFAULT_MAX_RST_FRAMES} per window still bounds
   * every connection, whatever its answered calls.
   */
  public static final int DEFAULT_MAX_UNANSWERED_RESETS = 20;

  /**
   * Frames that carry no call ({@code SETTINGS}, {@code PING}, {@code WINDOW_UPDATE}, {@code
   * PRIORITY}, empty {@code DATA}, unknown types) a connection may send per window, beyond a credit
   * of {@value Http2ControlFrameGuard#CREDIT_PER_CALL_FRAME} per {@code HEADERS} or non-empty
   * {@code DATA} frame: 200 (otlp4j's; grpc-java and Netty have no such limit).
   */
  public static final int DEFAULT_MAX_CONTROL_FRAMES = 200;

  /** The window of {@link #DEFAULT_MAX_CONTROL_FRAMES}: 10 s. */
  public static final Duration DEFAULT_CONTROL_FRAMES_WINDOW = Duration.ofSeconds(10);

  /** The time a new connection has to finish its TLS and HTTP/2 handshake (grpc-java's default). */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(120);

  private static final GrpcConnectionPolicy DEFAULTS = builder().build();

  private final Duration maxConnectionIdle;
  private final Duration maxConnectionAge;
  private final Duration maxConnectionAgeGrace;
  private final Duration keepAliveTime;
  private final Duration keepAliveTimeout;
  private final Duration permitKeepAliveTime;
  private final boolean permitKeepAliveWithoutCalls;
  private final int maxConnections;
  private final int maxHeaderListSize;
  private final int maxRstFrames;
  private final Duration rstFramesWindow;
  private final int maxUnansweredResets;
  private final int maxControlFrames;
  private final Duration controlFramesWindow;
  private final Duration handshakeTimeout;

  private GrpcConnectionPolicy(Builder b) {
    this.maxConnectionIdle = b.maxConnectionIdle;
    this.maxConnectionAge = b.maxConnectionAge;
    this.maxConnectionAgeGrace = b.maxConnectionAgeGrace;
    this.keepAliveTime = b.keepAliveTime;
    this.keepAliveTimeout = b.keepAliveTimeout;
    this.permitKeepAliveTime = b.permitKeepAliveTime;
    this.permitKeepAliveWithoutCalls = b.permitKeepAliveWithoutCalls;
    this.maxConnections = b.maxConnections;
    this.maxHeaderListSize = b.maxHeaderListSize;
    this.maxRstFrames = b.maxRstFrames;
    this.rstFramesWindow = b.rstFramesWindow;
    this.maxUnansweredResets = b.maxUnansweredResets;
    this.maxControlFrames = b.maxControlFrames;
    this.controlFramesWindow = b.controlFramesWindow;
    this.handshakeTimeout = b.handshakeTimeout;
  }

  /** The defaults listed above. */
  public static GrpcConnectionPolicy defaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  public Duration maxConnectionIdle() {
    return maxConnectionIdle;
  }

  public Duration maxConnectionAge() {
    return maxConnectionAge;
  }

  public Duration maxConnectionAgeGrace() {
    return maxConnectionAgeGrace;
  }

  public Duration keepAliveTime() {
    return keepAliveTime;
  }

  public Duration keepAliveTimeout() {
    return keepAliveTimeout;
  }

  public Duration permitKeepAliveTime() {
    return permitKeepAliveTime;
  }

  public boolean permitKeepAliveWithoutCalls() {
    return permitKeepAliveWithoutCalls;
  }

  public int maxConnections() {
    return maxConnections;
  }

  public int maxHeaderListSize() {
    return maxHeaderListSize;
  }

  /** {@code RST_STREAM} frames allowed per {@link #rstFramesWindow()}; 0: no limit. */
  public int maxRstFrames() {
    return maxRstFrames;
  }

  public Duration rstFramesWindow() {
    return rstFramesWindow;
  }

  /**
   * {@code RST_STREAM} frames a connection may send beyond the calls answered on it ({@code
   * HEADERS} or {@code DATA} frames with {@code END_STREAM} the server sent); 0: no limit.
   */
  public int maxUnansweredResets() {
    return maxUnansweredResets;
  }

  /**
   * Frames of no call allowed per {@link #controlFramesWindow()} (plus the credit); 0: no limit.
   */
  public int maxControlFrames() {
    return maxControlFrames;
  }

  public Duration controlFramesWindow() {
    return controlFramesWindow;
  }

  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /**
   * Sets everything but {@link #maxConnections()} (applied by the server channel) on {@code nb}.
   */
  void applyTo(NettyServerBuilder nb) {
    if (!maxConnectionIdle.isZero()) {
      nb.maxConnectionIdle(maxConnectionIdle.toNanos(), TimeUnit.NANOSECONDS);
    }
    if (!maxConnectionAge.isZero()) {
      nb.maxConnectionAge(maxConnectionAge.toNanos(), TimeUnit.NANOSECONDS);
      if (!maxConnectionAgeGrace.isZero()) {
        nb.maxConnectionAgeGrace(maxConnectionAgeGrace.toNanos(), TimeUnit.NANOSECONDS);
      }
    }
    nb.keepAliveTime(keepAliveTime.toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(keepAliveTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(permitKeepAliveTime.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(permitKeepAliveWithoutCalls)
        .maxInboundMetadataSize(maxHeaderListSize)
        .handshakeTimeout(handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS);
    if (maxRstFrames > 0) {
      nb.maxRstFramesPerWindow(maxRstFrames, (int) Math.max(1, rstFramesWindow.toSeconds()));
    }
  }

  @Override
  public String toString() {
    return "GrpcConnectionPolicy{maxConnections="
        + maxConnections
        + ", maxConnectionIdle="
        + maxConnectionIdle
        + ", maxConnectionAge="
        + maxConnectionAge
        + ", keepAliveTime="
        + keepAliveTime
        + ", permitKeepAliveTime="
        + permitKeepAliveTime
        + ", permitKeepAliveWithoutCalls="
        + permitKeepAliveWithoutCalls
        + ", maxHeaderListSize="
        + maxHeaderListSize
        + ", maxRstFrames="
        + maxRstFrames
        + "/"
        + rstFramesWindow
        + ", maxUnansweredResets="
        + maxUnansweredResets
        + ", maxControlFrames="
        + maxControlFrames
        + "/"
        + controlFramesWindow
        + ", handshakeTimeout="
        + handshakeTimeout
        + "}";
  }

  /** Configures a {@link GrpcConnectionPolicy}. Not thread-safe. */
  public static final class Builder {
    private Duration maxConnectionIdle = DEFAULT_MAX_CONNECTION_IDLE;
    private Duration maxConnectionAge = DEFAULT_MAX_CONNECTION_AGE;
    private Duration maxConnectionAgeGrace = DEFAULT_MAX_CONNECTION_AGE_GRACE;
    private Duration keepAliveTime = DEFAULT_KEEPALIVE_TIME;
    private Duration keepAliveTimeout = DEFAULT_KEEPALIVE_TIMEOUT;
    private Duration permitKeepAliveTime = DEFAULT_PERMIT_KEEPALIVE_TIME;
    private boolean permitKeepAliveWithoutCalls = DEFAULT_PERMIT_KEEPALIVE_WITHOUT_CALLS;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private int maxHeaderListSize = DEFAULT_MAX_HEADER_LIST_SIZE;
    private int maxRstFrames = DEFAULT_MAX_RST_FRAMES;
    private Duration rstFramesWindow = DEFAULT_RST_FRAMES_WINDOW;
    private int maxUnansweredResets = DEFAULT_MAX_UNANSWERED_RESETS;
    private int maxControlFrames = DEFAULT_MAX_CONTROL_FRAMES;
    private Duration controlFramesWindow = DEFAULT_CONTROL_FRAMES_WINDOW;
    private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;

    private Builder() {}

    /** Closes a connection without calls for this long (zero: never). */
    public Builder maxConnectionIdle(Duration d) {
      this.maxConnectionIdle = nonNegative(d, "maxConnectionIdle");
      return this;
    }

    /** Closes a connection this old, gracefully (zero: never). */
    public Builder maxConnectionAge(Duration d) {
      this.maxConnectionAge = nonNegative(d, "maxConnectionAge");
      return this;
    }

    /** The time calls get to finish after {@link #maxConnectionAge} (zero: unbounded). */
    public Builder maxConnectionAgeGrace(Duration d) {
      this.maxConnectionAgeGrace = nonNegative(d, "maxConnectionAgeGrace");
      return this;
    }

    /** The server pings a connection quiet this long (zero: gRPC's default, 2 hours). */
    public Builder keepAliveTime(Duration d) {
      this.keepAliveTime = orDefault(d, "keepAliveTime", DEFAULT_KEEPALIVE_TIME);
      return this;
    }

    /** The time a ping has to be answered (zero: gRPC's default, 20 s). */
    public Builder keepAliveTimeout(Duration d) {
      this.keepAliveTimeout = orDefault(d, "keepAliveTimeout", DEFAULT_KEEPALIVE_TIMEOUT);
      return this;
    }

    /** The shortest interval between a client's pings (zero: gRPC's default, 5 minutes). */
    public Builder permitKeepAliveTime(Duration d) {
      this.permitKeepAliveTime = orDefault(d, "permitKeepAliveTime", DEFAULT_PERMIT_KEEPALIVE_TIME);
      return this;
    }

    /** Whether a client may ping while it has no call. */
    public Builder permitKeepAliveWithoutCalls(boolean permit) {
      this.permitKeepAliveWithoutCalls = permit;
      return this;
    }

    /** Open TCP connections (positive). */
    public Builder maxConnections(int n) {
      if (n <= 0) {
        throw new IllegalArgumentException("maxConnections must be positive, was " + n);
      }
      this.maxConnections = n;
      return this;
    }

    /** The largest header list of a call in bytes (positive). */
    public Builder maxHeaderListSize(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxHeaderListSize must be positive, was " + bytes);
      }
      this.maxHeaderListSize = bytes;
      return this;
    }

    /**
     * At most {@code frames} {@code RST_STREAM} frames per {@code window} (whole seconds, at least
     * one) on a connection; 0 frames: no limit.
     */
    public Builder maxRstFramesPerWindow(int frames, Duration window) {
      if (frames < 0) {
        throw new IllegalArgumentException("maxRstFrames must not be negative, was " + frames);
      }
      if (window == null || window.toSeconds() < 1) {
        throw new IllegalArgumentException("the RST_STREAM window must be >= 1 s, was " + window);
      }
      this.maxRstFrames = frames;
      this.rstFramesWindow = window;
      return this;
    }

    /**
     * At most {@code resets} {@code RST_STREAM} frames on a connection beyond the calls the server
     * answered on it; past it, {@code GOAWAY ENHANCE_YOUR_CALM "too_many_unanswered_resets"} and
     * close. 0: no limit (then only {@link #maxRstFramesPerWindow} bounds resets).
     */
    public Builder maxUnansweredResets(int resets) {
      if (resets < 0) {
        throw new IllegalArgumentException(
            "maxUnansweredResets must not be negative, was " + resets);
      }
      this.maxUnansweredResets = resets;
      return this;
    }

    /**
     * At most {@code frames} frames of no call ({@code SETTINGS}, {@code PING}, {@code
     * WINDOW_UPDATE}, {@code PRIORITY}, empty {@code DATA}, unknown types) per {@code window} on a
     * connection, plus {@value Http2ControlFrameGuard#CREDIT_PER_CALL_FRAME} per {@code HEADERS} or
     * non-empty {@code DATA} frame in the window; past it, {@code GOAWAY ENHANCE_YOUR_CALM} and
     * close. 0 frames: no limit.
     */
    public Builder maxControlFramesPerWindow(int frames, Duration window) {
      if (frames < 0) {
        throw new IllegalArgumentException("maxControlFrames must not be negative, was " + frames);
      }
      if (window == null || window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException(
            "the control frame window must be positive, was " + window);
      }
      this.maxControlFrames = frames;
      this.controlFramesWindow = window;
      return this;
    }

    /** The time a new connection has to finish its TLS and HTTP/2 handshake (positive). */
    public Builder handshakeTimeout(Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("handshakeTimeout must be positive, was " + d);
      }
      this.handshakeTimeout = d;
      return this;
    }

    private static Duration nonNegative(Duration d, String name) {
      if (d == null || d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative, was " + d);
      }
      return d;
    }

    private static Duration orDefault(Duration d, String name, Duration fallback) {
      return nonNegative(d, name).isZero() ? fallback : d;
    }

    public GrpcConnectionPolicy build() {
      return new GrpcConnectionPolicy(this);
    }
  }
}
