package io.otlp4j.exporter;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.otlp4j.core.OtlpRetryability;
import io.otlp4j.core.RetryAfterHeader;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * OTLP/HTTP on a Netty HTTP/1.1 client: {@code POST} of the encoded request (protobuf as it came,
 * or transcoded to OTLP/JSON), optionally gzip or zstd compressed, with {@code Content-Length}
 * known up front, over a {@link ConnectionPool} per endpoint.
 *
 * <h2>Outcomes</h2>
 *
 * As the OTLP specification says: 2xx is success (its body's {@code partial_success} is read); 429,
 * 502, 503 and 504 are retryable, honouring {@code Retry-After} (seconds or an HTTP date); every
 * other status is permanent. A connection that fails or closes before the response is retryable.
 *
 * <h2>Buffer ownership</h2>
 *
 * The payload is borrowed (see {@link Transport#send}); an uncompressed protobuf body is a retained
 * slice of it (no copy), released by Netty once written.
 *
 * <p>Thread-safe; never blocks.
 */
final class HttpTransport implements Transport {

  /** Largest response body read; longer ones fail the exchange. */
  static final int MAX_RESPONSE_BYTES = 1024 * 1024;

  private final Map<Signal, Target> targets = new EnumMap<>(Signal.class);
  private final List<ConnectionPool> pools = new ArrayList<>();
  private final Map<String, ConnectionPool> poolsByAuthority;
  private final Compression compression;
  private final boolean json;
  private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
  private final Clock wallClockForRetryAfter;

  HttpTransport(ExporterSettings settings, EventLoopGroup group, SslContext sslContext) {
    this.compression = settings.compression;
    this.json = settings.protocol == Protocol.HTTP_JSON;
    this.wallClockForRetryAfter = settings.wallClock;
    Map<String, ConnectionPool> byAuthority = new LinkedHashMap<>();
    for (Signal signal : Signal.values()) {
      Endpoint endpoint = settings.endpoint(signal);
      ConnectionPool pool =
          byAuthority.computeIfAbsent(
              endpoint.authority(),
              a -> newPool(settings, endpoint, group, endpoint.tls ? sslContext : null));
      targets.put(
          signal, new Target(endpoint, pool, headers(settings, endpoint, json, compression)));
    }
    pools.addAll(byAuthority.values());
    this.poolsByAuthority = byAuthority;
  }

  /** Publishes each connection pool's gauges, labelled with its scheme://host:port. */
  void registerMetrics(ExporterMetrics metrics) {
    poolsByAuthority.forEach(metrics::connectionPool);
  }

  private static ConnectionPool newPool(
      ExporterSettings settings, Endpoint endpoint, EventLoopGroup group, SslContext sslContext) {
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(
                ChannelOption.TCP_NODELAY, true) // a 512-span export's p90 falls from 42 ms to 3 ms
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int)
                    Math.max(
                        1,
                        Math.min(
                            Integer.MAX_VALUE,
                            TimeUnit.NANOSECONDS.toMillis(settings.acquireTimeoutNanos))));
    ConnectionPool[] self = new ConnectionPool[1];
    bootstrap.handler(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ChannelPipeline p = ch.pipeline();
            if (sslContext != null) {
              p.addLast(sslContext.newHandler(ch.alloc(), endpoint.host, endpoint.port));
            }
            p.addLast(new HttpClientCodec());
            p.addLast(new HttpObjectAggregator(MAX_RESPONSE_BYTES));
            p.addLast(new HttpConnection(ch, self[0]));
          }
        });
    self[0] =
        new ConnectionPool(
            bootstrap,
            endpoint,
            settings.maxConnections,
            settings.acquireTimeoutNanos,
            settings.idleTimeoutNanos,
            settings.maxLifetimeNanos,
            group,
            settings.clock);
    return self[0];
  }

  private static HttpHeaders headers(
      ExporterSettings settings, Endpoint endpoint, boolean json, Compression compression) {
    HttpHeaders h = new DefaultHttpHeaders();
    h.set(HttpHeaderNames.HOST, endpoint.hostHeader());
    h.set(HttpHeaderNames.USER_AGENT, ExporterSettings.USER_AGENT);
    h.set(HttpHeaderNames.CONTENT_TYPE, json ? "application/json" : "application/x-protobuf");
    if (compression != Compression.NONE) {
      h.set(HttpHeaderNames.CONTENT_ENCODING, compression.encoding());
    }
    settings.headers.forEach(h::set);
    return h;
  }

  /** The pool for {@code signal}'s endpoint (tests look at it). */
  ConnectionPool pool(Signal signal) {
    return targets.get(signal).pool;
  }

  @Override
  public String endpointKey(Signal signal) {
    return targets.get(signal).endpoint.authority();
  }

  @Override
  public void send(
      Signal signal, ByteBuf payload, long timeoutNanos, Consumer<AttemptOutcome> done) {
    Target target = targets.get(signal);
    ByteBuf body;
    try {
      body = encode(signal, payload);
    } catch (io.otlp4j.wire.WireFormatException e) {
      // The payload itself is not a valid request: sending it again cannot help.
      done.accept(
          AttemptOutcome.permanent(
              "cannot encode the " + signal.id() + " request: " + e.getMessage(), e, false));
      return;
    } catch (RuntimeException e) {
      done.accept(
          AttemptOutcome.localFailure("cannot encode the " + signal.id() + " request: " + e, e));
      return;
    }
    target.pool.acquire(
        (connection, error) -> {
          if (error != null) {
            body.release();
            // Waiting for a busy pool is not the endpoint's fault; failing to connect is.
            boolean endpointFault =
                !(error instanceof TimeoutException) && !(error instanceof IllegalStateException);
            String what =
                error instanceof TimeoutException || error instanceof javax.net.ssl.SSLException
                    ? error.getMessage()
                    : "cannot connect to " + target.endpoint.authority() + ": " + error;
            done.accept(
                AttemptOutcome.retryable(what, error, AttemptOutcome.NO_DELAY_HINT, endpointFault));
            return;
          }
          FullHttpRequest request =
              new DefaultFullHttpRequest(
                  HttpVersion.HTTP_1_1,
                  HttpMethod.POST,
                  target.endpoint.path,
                  body,
                  target.headers.copy(),
                  HttpHeaders.EMPTY_HEADERS);
          request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
          connection.execute(
              request,
              timeoutNanos,
              new HttpConnection.Exchange() {
                @Override
                public void onResponse(
                    FullHttpResponse response, byte[] responseBody, boolean reusable) {
                  done.accept(
                      outcome(
                          response.status().code(),
                          response.headers(),
                          responseBody,
                          wallClockForRetryAfter));
                }

                @Override
                public void onFailure(String what, Throwable cause, boolean timedOut) {
                  done.accept(
                      AttemptOutcome.retryable(
                          what + " from " + target.endpoint.authority(),
                          cause,
                          AttemptOutcome.NO_DELAY_HINT,
                          true));
                }
              });
        });
  }

  /** The body to send; the caller owns (and releases, or hands to Netty) the result. */
  private ByteBuf encode(Signal signal, ByteBuf payload) {
    if (!json) {
      return compression.compress(payload, alloc); // NONE: a retained slice, no copy
    }
    ByteBuf text = alloc.buffer(Math.max(256, payload.readableBytes() * 2));
    try {
      OtlpJson.toJson(signal, payload, text);
      return compression == Compression.NONE ? text.retain() : compression.compress(text, alloc);
    } finally {
      text.release();
    }
  }

  static AttemptOutcome outcome(int status, HttpHeaders headers, byte[] body, Clock wallClock) {
    String contentType = headers.get(HttpHeaderNames.CONTENT_TYPE, "").toLowerCase(Locale.ROOT);
    boolean jsonBody = contentType.startsWith("application/json");
    if (status >= 200 && status < 300) {
      return AttemptOutcome.success(
          jsonBody
              ? ResponseParsing.partialSuccessFromJson(body)
              : ResponseParsing.partialSuccessFromProtobuf(body));
    }
    String detail = describe(body, contentType);
    String message = "HTTP " + status + (detail.isEmpty() ? "" : ": " + detail);
    HttpStatusException cause = new HttpStatusException(status, message);
    if (!OtlpRetryability.isRetryableHttpStatus(status)) {
      return AttemptOutcome.permanent(message, cause, status >= 500);
    }
    long retryAfter =
        RetryAfterHeader.parseDelayNanos(headers.get(HttpHeaderNames.RETRY_AFTER), wallClock);
    return AttemptOutcome.retryable(message, cause, retryAfter, status != 429);
  }

  /**
   * The server's explanation: google.rpc.Status.message for protobuf, a short text excerpt
   * otherwise.
   */
  private static String describe(byte[] body, String contentType) {
    if (body == null || body.length == 0) {
      return "";
    }
    if (contentType.startsWith("application/x-protobuf")
        || contentType.startsWith("application/protobuf")) {
      return ResponseParsing.statusMessage(body);
    }
    String text = new String(body, 0, Math.min(body.length, 512), StandardCharsets.UTF_8).strip();
    return text.replaceAll("\\s+", " ");
  }

  /**
   * Opens one connection in each endpoint's pool and leaves it idle there, where the first request
   * finds it (it ages out as any idle connection does); completes when each is open (true) or
   * failed.
   */
  @Override
  public CompletableFuture<Boolean> connect() {
    List<CompletableFuture<Boolean>> all = new ArrayList<>();
    for (ConnectionPool pool : pools) {
      CompletableFuture<Boolean> f = new CompletableFuture<>();
      all.add(f);
      pool.acquire(
          (connection, error) -> {
            if (connection != null) {
              pool.release(connection);
            }
            f.complete(connection != null);
          });
    }
    return GrpcTransport.allTrue(all);
  }

  @Override
  public CompletableFuture<Void> shutdown() {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (ConnectionPool pool : pools) {
      all.add(pool.close());
    }
    return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
  }

  @Override
  public void shutdownNow() {
    for (ConnectionPool pool : pools) {
      pool.closeNow();
    }
  }

  /** An HTTP status other than 2xx, as the cause of a failed result. */
  static final class HttpStatusException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;

    HttpStatusException(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    int status() {
      return status;
    }
  }

  private static final class Target {
    final Endpoint endpoint;
    final ConnectionPool pool;
    final HttpHeaders headers;

    Target(Endpoint endpoint, ConnectionPool pool, HttpHeaders headers) {
      this.endpoint = endpoint;
      this.pool = pool;
      this.headers = headers;
    }
  }
}
