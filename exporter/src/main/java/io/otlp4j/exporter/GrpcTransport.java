package io.otlp4j.exporter;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.otlp4j.core.OtlpRetryability;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.grpc.ByteBufMarshaller;
import io.otlp4j.grpc.RpcStatus;
import io.otlp4j.grpc.ZstdCodec;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * OTLP/gRPC on grpc-java: unary {@code Export} calls whose request is the caller's encoded bytes
 * ({@link ByteBufMarshaller}), spread round-robin over several channels per endpoint so that one
 * HTTP/2 connection and its event loop are not the limit.
 *
 * <h2>Outcomes</h2>
 *
 * As the OTLP specification says: {@code CANCELLED}, {@code DEADLINE_EXCEEDED}, {@code ABORTED},
 * {@code OUT_OF_RANGE}, {@code UNAVAILABLE} and {@code DATA_LOSS} are retryable; {@code
 * RESOURCE_EXHAUSTED} only when the server sent a {@code RetryInfo} (in {@code
 * grpc-status-details-bin}), whose delay is then honoured; every other code is permanent. {@code
 * OK} carries the response's {@code partial_success}.
 *
 * <p>Thread-safe; never blocks.
 */
final class GrpcTransport implements Transport {

  /** Largest response accepted; an Export*ServiceResponse is tiny. */
  static final int MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

  /**
   * Bytes a channel may hold unwritten before Netty calls it unwritable. Netty's HTTP/2 flow
   * controller hands the socket at most this many bytes per pass and then waits for the channel to
   * turn writable again; at Netty's default (64 KiB) every 64 KiB OTLP request costs at least one
   * such round trip through the event loop, and under load the gRPC exporter spent more CPU in
   * writability events and per-frame promise callbacks than in sending. 2 MiB lets one pass carry
   * many requests; it bounds nothing the in-flight limit does not already bound (every queued byte
   * belongs to an export in flight).
   */
  static final int WRITE_HIGH_WATER_MARK = 2 * 1024 * 1024;

  private final Map<Signal, Target> targets = new EnumMap<>(Signal.class);
  private final List<Target> distinct = new ArrayList<>();
  private final Map<Signal, MethodDescriptor<ByteBuf, byte[]>> methods =
      new EnumMap<>(Signal.class);
  private final Metadata headers;
  private final boolean hasHeaders;
  private final CallOptions baseOptions;
  private final EventLoopGroup group;

  GrpcTransport(ExporterSettings settings, EventLoopGroup group, SslContext sslContext) {
    Map<String, Target> byAuthority = new LinkedHashMap<>();
    for (Signal signal : Signal.values()) {
      Endpoint endpoint = settings.endpoint(signal);
      Target target =
          byAuthority.computeIfAbsent(
              endpoint.authority(),
              a -> new Target(a, openChannels(settings, endpoint, group, sslContext)));
      targets.put(signal, target);
      methods.put(
          signal,
          MethodDescriptor.<ByteBuf, byte[]>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(
                  MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
              .setRequestMarshaller(ByteBufMarshaller.INSTANCE)
              .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
              .build());
    }
    distinct.addAll(byAuthority.values());
    headers = new Metadata();
    settings.headers.forEach(
        (k, v) -> headers.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    hasHeaders = !settings.headers.isEmpty();
    baseOptions =
        settings.compression == Compression.NONE
            ? CallOptions.DEFAULT
            : CallOptions.DEFAULT.withCompression(settings.compression.encoding());
    this.group = group;
  }

  private static ManagedChannel[] openChannels(
      ExporterSettings settings, Endpoint endpoint, EventLoopGroup group, SslContext sslContext) {
    ManagedChannel[] channels = new ManagedChannel[settings.grpcChannels];
    for (int i = 0; i < channels.length; i++) {
      NettyChannelBuilder builder =
          NettyChannelBuilder.forAddress(endpoint.host, endpoint.port)
              .eventLoopGroup(group)
              .channelType(NioSocketChannel.class)
              .withOption(ChannelOption.TCP_NODELAY, true)
              .withOption(
                  ChannelOption.WRITE_BUFFER_WATER_MARK,
                  new WriteBufferWaterMark(WRITE_HIGH_WATER_MARK / 2, WRITE_HIGH_WATER_MARK))
              .compressorRegistry(ZstdCodec.compressors())
              .decompressorRegistry(ZstdCodec.decompressors())
              .userAgent(ExporterSettings.USER_AGENT)
              .maxInboundMessageSize(MAX_RESPONSE_BYTES)
              .directExecutor() // listeners only complete futures: no hop to another pool
              .disableRetry() // ExportCall retries, as OTLP says, with the breaker in the loop
              .keepAliveTime(settings.keepAliveNanos, TimeUnit.NANOSECONDS)
              .keepAliveTimeout(settings.keepAliveTimeoutNanos, TimeUnit.NANOSECONDS)
              .keepAliveWithoutCalls(false);
      if (endpoint.tls) {
        builder.sslContext(sslContext).negotiationType(io.grpc.netty.NegotiationType.TLS);
      } else {
        builder.usePlaintext();
      }
      channels[i] = builder.build();
    }
    return channels;
  }

  @Override
  public String endpointKey(Signal signal) {
    return targets.get(signal).authority;
  }

  @Override
  public void send(
      Signal signal, ByteBuf payload, long timeoutNanos, Consumer<AttemptOutcome> done) {
    Target target = targets.get(signal);
    CallOptions options = baseOptions.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    ClientCall<ByteBuf, byte[]> call = target.next().newCall(methods.get(signal), options);
    Metadata callHeaders = new Metadata();
    if (hasHeaders) {
      callHeaders.merge(headers); // start() adds to the headers it is given: never share one
    }
    try {
      call.start(new ResponseListener(done), callHeaders);
      call.request(1);
      call.sendMessage(payload);
      call.halfClose();
    } catch (RuntimeException e) {
      call.cancel("exporter failed to send", e); // onClose reports the outcome
    }
  }

  /** Maps the call's close to an outcome; runs once, on a gRPC executor thread. */
  private static final class ResponseListener extends ClientCall.Listener<byte[]> {
    private final Consumer<AttemptOutcome> done;
    private byte[] response;

    ResponseListener(Consumer<AttemptOutcome> done) {
      this.done = done;
    }

    @Override
    public void onMessage(byte[] message) {
      response = message;
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      done.accept(outcome(status, trailers, response));
    }
  }

  static AttemptOutcome outcome(Status status, Metadata trailers, byte[] response) {
    Status.Code code = status.getCode();
    if (code == Status.Code.OK) {
      return AttemptOutcome.success(ResponseParsing.partialSuccessFromProtobuf(response));
    }
    byte[] details = trailers == null ? null : trailers.get(RpcStatus.DETAILS_KEY);
    long retryAfter = ResponseParsing.retryInfoDelayNanos(details);
    String message =
        "gRPC " + code + (status.getDescription() == null ? "" : ": " + status.getDescription());
    Throwable root = status.getCause();
    while (root != null && root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != null) {
      message += " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }
    Throwable cause = status.asRuntimeException(trailers);
    boolean endpointFault =
        code == Status.Code.UNAVAILABLE
            || code == Status.Code.DEADLINE_EXCEEDED
            || code == Status.Code.INTERNAL
            || code == Status.Code.UNKNOWN
            || code == Status.Code.DATA_LOSS;
    if (!OtlpRetryability.isRetryableGrpcStatus(code.value(), retryAfter >= 0)) {
      return AttemptOutcome.permanent(message, cause, endpointFault);
    }
    return AttemptOutcome.retryable(message, cause, retryAfter, endpointFault);
  }

  @Override
  public void probing(String key) {
    for (Target t : distinct) {
      if (t.authority.equals(key)) {
        for (ManagedChannel channel : t.channels) {
          channel.resetConnectBackoff();
        }
      }
    }
  }

  /**
   * Asks every channel to connect (a channel is idle until its first call otherwise) and completes
   * when each has reached {@code READY} (true), {@code TRANSIENT_FAILURE} or {@code SHUTDOWN}. A
   * channel that cannot connect goes on with its own reconnect backoff, as after a lost connection.
   */
  @Override
  public CompletableFuture<Boolean> connect() {
    List<CompletableFuture<Boolean>> all = new ArrayList<>();
    for (Target t : distinct) {
      for (ManagedChannel channel : t.channels) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        all.add(f);
        awaitSettled(channel, channel.getState(true), f);
      }
    }
    return allTrue(all);
  }

  /** True when every future completed true. */
  static CompletableFuture<Boolean> allTrue(List<CompletableFuture<Boolean>> all) {
    return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
        .thenApply(v -> all.stream().allMatch(CompletableFuture::join));
  }

  /** Completes {@code f} once the channel's state is one that connecting ends in. */
  private static void awaitSettled(
      ManagedChannel channel, ConnectivityState state, CompletableFuture<Boolean> f) {
    if (state == ConnectivityState.READY
        || state == ConnectivityState.TRANSIENT_FAILURE
        || state == ConnectivityState.SHUTDOWN) {
      f.complete(state == ConnectivityState.READY);
      return;
    }
    // The callback runs once, on the channel's executor (direct here): it only reads the state and
    // registers again.
    channel.notifyWhenStateChanged(state, () -> awaitSettled(channel, channel.getState(false), f));
  }

  @Override
  public CompletableFuture<Void> shutdown() {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (Target t : distinct) {
      for (ManagedChannel channel : t.channels) {
        channel.shutdown();
        CompletableFuture<Void> f = new CompletableFuture<>();
        all.add(f);
        awaitTermination(channel, f, group);
      }
    }
    return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
  }

  /** Completes {@code f} when the channel has terminated, without blocking a thread. */
  private static void awaitTermination(
      ManagedChannel channel, CompletableFuture<Void> f, EventLoopGroup group) {
    if (channel.isTerminated()) {
      f.complete(null);
      return;
    }
    // A shut-down channel changes state no more, so poll (cheaply, on the event loop) until it
    // terminates.
    group.schedule(() -> awaitTermination(channel, f, group), 5, TimeUnit.MILLISECONDS);
  }

  @Override
  public void shutdownNow() {
    for (Target t : distinct) {
      for (ManagedChannel channel : t.channels) {
        channel.shutdownNow();
      }
    }
  }

  /** One endpoint's channels, used round-robin. */
  private static final class Target {
    final String authority;
    final ManagedChannel[] channels;
    final AtomicInteger next = new AtomicInteger();

    Target(String authority, ManagedChannel[] channels) {
      this.authority = authority;
      this.channels = channels;
    }

    ManagedChannel next() {
      return channels[(next.getAndIncrement() & Integer.MAX_VALUE) % channels.length];
    }
  }
}
