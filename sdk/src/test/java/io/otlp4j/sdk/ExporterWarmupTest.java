package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The exporters' background warm-up ({@link ExporterWarmup}) against a real grpc-java server and a
 * real Netty HTTP server that count connections and requests: it connects before the first export
 * and sends nothing, stops at shutdown, and a dead endpoint delays neither build nor shutdown.
 */
@ExtendWith(NettyLeakCheck.class)
class ExporterWarmupTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static CountingServers servers;

  @BeforeAll
  static void start() {
    servers = new CountingServers();
  }

  @AfterAll
  static void stop() throws Exception {
    servers.close();
  }

  /** The exporter of {@code signal} and its own export of the warm-up's data shape. */
  private record Built(
      ExporterWarmup warmup,
      Supplier<CompletableResultCode> exportOnce,
      Supplier<CompletableResultCode> shutdown) {}

  private static Built build(Signal signal, String protocol, String compression, String endpoint) {
    switch (signal) {
      case TRACES:
        Otlp4jSpanExporter spans =
            Otlp4jSpanExporter.builder()
                .protocol(protocol)
                .endpoint(endpoint)
                .compression(compression)
                .warmUpRounds(5)
                .build();
        return new Built(
            spans.warmup(), () -> spans.export(WarmupTelemetry.spans()), spans::shutdown);
      case METRICS:
        Otlp4jMetricExporter metrics =
            Otlp4jMetricExporter.builder()
                .protocol(protocol)
                .endpoint(endpoint)
                .compression(compression)
                .warmUpRounds(5)
                .build();
        return new Built(
            metrics.warmup(), () -> metrics.export(WarmupTelemetry.metrics()), metrics::shutdown);
      case LOGS:
        Otlp4jLogRecordExporter logs =
            Otlp4jLogRecordExporter.builder()
                .protocol(protocol)
                .endpoint(endpoint)
                .compression(compression)
                .warmUpRounds(5)
                .build();
        return new Built(logs.warmup(), () -> logs.export(WarmupTelemetry.logs()), logs::shutdown);
    }
    throw new AssertionError(signal);
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
    "TRACES, grpc, gzip",
    "TRACES, http/protobuf, none",
    "METRICS, http/json, zstd",
    "LOGS, grpc, zstd",
  })
  void connectsBeforeTheFirstExportAndSendsNothing(
      Signal signal, String protocol, String compression) throws Exception {
    boolean grpc = protocol.equals("grpc");
    int connectionsBefore = servers.connections(grpc);
    int requestsBefore = servers.requests(grpc);
    long httpBytesBefore = servers.httpBytes.get();
    Built exporter =
        build(
            signal, protocol, compression, grpc ? servers.grpcEndpoint() : servers.httpEndpoint());
    try {
      assertThat(exporter.warmup()).as("on by default").isNotNull();
      assertThat(exporter.warmup().rounds().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(5);
      assertThat(exporter.warmup().connected().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
      // gRPC: each of the default 2 channels; HTTP: the pool's first connection.
      int warmConnections = grpc ? 2 : 1;
      await()
          .atMost(WAIT)
          .until(() -> servers.connections(grpc) - connectionsBefore == warmConnections);
      assertThat(servers.requests(grpc) - requestsBefore).as("requests sent").isZero();
      assertThat(servers.httpBytes.get() - httpBytesBefore).as("HTTP bytes sent").isZero();

      assertThat(exporter.exportOnce().get().join(WAIT.toSeconds(), TimeUnit.SECONDS).isSuccess())
          .isTrue();
      assertThat(servers.requests(grpc) - requestsBefore).isEqualTo(1);
      assertThat(servers.connections(grpc) - connectionsBefore)
          .as("the first export went over the warm connection")
          .isEqualTo(warmConnections);
    } finally {
      assertThat(exporter.shutdown().get().join(WAIT.toSeconds(), TimeUnit.SECONDS).isSuccess())
          .isTrue();
    }
  }

  @Test
  void shutdownStopsTheWarmUpBeforeItsNextRound() throws Exception {
    GatedAllocator gated = new GatedAllocator();
    Otlp4jSpanExporter exporter =
        Otlp4jSpanExporter.builder()
            .protocol("grpc")
            .endpoint(servers.grpcEndpoint())
            .allocator(gated)
            .build(); // the full number of rounds: only shutdown ends it early
    ExporterWarmup warmup = exporter.warmup();
    assertThat(gated.entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    CompletableResultCode shutdown = exporter.shutdown();
    gated.release.countDown();
    warmup.thread().join(WAIT.toMillis());
    assertThat(warmup.thread().isAlive()).isFalse();
    assertThat(warmup.rounds().get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .as("rounds run")
        .isEqualTo(1);
    assertThat(shutdown.join(WAIT.toSeconds(), TimeUnit.SECONDS).isSuccess()).isTrue();
  }

  @Test
  void theWarmUpGoesWithTheTransportWhenAutoconfiguresProcessorIsReplaced() throws Exception {
    GatedAllocator gated = new GatedAllocator();
    Otlp4jSpanExporter original =
        Otlp4jSpanExporter.builder()
            .endpoint(servers.httpEndpoint())
            .allocator(gated)
            .warmUpRounds(3)
            .build();
    assertThat(gated.entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    Otlp4jSpanExporter owner = original.handOver();
    // What autoconfigure's swap does: the SDK's processor, shut down, shuts the original down.
    assertThat(original.shutdown().join(WAIT.toSeconds(), TimeUnit.SECONDS).isSuccess()).isTrue();
    gated.release.countDown();
    assertThat(owner.warmup()).isSameAs(original.warmup());
    assertThat(owner.warmup().rounds().get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .as("not cancelled by the original's shutdown")
        .isEqualTo(3);
    assertThat(owner.shutdown().join(WAIT.toSeconds(), TimeUnit.SECONDS).isSuccess()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void refusedConnectionIsQuietAndDelaysNothing(String protocol) throws Exception {
    int closedPort = MockOtlpServer.freePort(); // nothing listens there
    Otlp4jSpanExporter exporter =
        Otlp4jSpanExporter.builder()
            .protocol(protocol)
            .endpoint("http://127.0.0.1:" + closedPort)
            .warmUpRounds(2)
            .build();
    ExporterWarmup warmup = exporter.warmup();
    assertThat(warmup.connected().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isFalse();
    assertThat(warmup.rounds().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(2);
    assertThat(exporter.shutdown().join(WAIT.toSeconds(), TimeUnit.SECONDS).isSuccess()).isTrue();
  }

  @Test
  void endpointThatNeverAnswersDelaysNeitherBuildNorShutdown() throws Exception {
    // The kernel accepts the TCP connection; nothing ever answers gRPC's HTTP/2 preface, so the
    // channel stays CONNECTING until the exporter shuts down.
    try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      Otlp4jSpanExporter exporter =
          Otlp4jSpanExporter.builder()
              .protocol("grpc")
              .endpoint("http://127.0.0.1:" + silent.getLocalPort())
              .warmUpRounds(2)
              .build();
      ExporterWarmup warmup = exporter.warmup();
      assertThat(warmup.rounds().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(2);
      assertThat(warmup.connected()).as("build returned before the connect settled").isNotDone();
      assertThat(exporter.shutdown().join(WAIT.toSeconds(), TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(warmup.connected().get(WAIT.toSeconds(), TimeUnit.SECONDS)).isFalse();
      warmup.thread().join(WAIT.toMillis());
      assertThat(warmup.thread().isAlive()).isFalse();
    }
  }

  @Test
  void warmUpIsOnByDefaultAndTurnedOffByBuilderEnvironmentOrProperty() {
    assertThat(Otlp4jExporterBuilder.DEFAULT_WARM_UP).isTrue();
    assertThat(Otlp4jSpanExporter.builder().warmUp).isTrue();
    assertThat(Otlp4jSpanExporter.builder().warmUp(false).warmUp).isFalse();
    assertThat(
            Otlp4jSpanExporter.builder()
                .fromEnvironment(Map.of("OTEL_EXPORTER_OTLP4J_WARMUP_ENABLED", "false")::get)
                .warmUp)
        .isFalse();
    assertThat(
            Otlp4jConfig.configure(
                    Otlp4jMetricExporter.builder(),
                    DefaultConfigProperties.createFromMap(
                        Map.of("otel.exporter.otlp4j.warmup.enabled", "false")))
                .warmUp)
        .isFalse();
    assertThat(
            Otlp4jConfig.configure(
                    Otlp4jLogRecordExporter.builder().warmUp(false),
                    DefaultConfigProperties.createFromMap(
                        Map.of("otel.exporter.otlp4j.warmup.enabled", "true")))
                .warmUp)
        .isTrue();
    assertThatThrownBy(
            () ->
                Otlp4jConfig.configure(
                    Otlp4jSpanExporter.builder(),
                    DefaultConfigProperties.createFromMap(
                        Map.of("otel.exporter.otlp4j.warmup.enabled", "sometimes"))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("OTEL_EXPORTER_OTLP4J_WARMUP_ENABLED");

    Otlp4jSpanExporter off =
        Otlp4jSpanExporter.builder().endpoint(servers.httpEndpoint()).warmUp(false).build();
    try {
      assertThat(off.warmup()).isNull();
    } finally {
      off.shutdown().join(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  /**
   * Holds the first buffer allocated on a warm-up thread until released (bounded): a warm-up
   * stopped in its first round, deterministically.
   */
  private static final class GatedAllocator extends AbstractByteBufAllocator {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    GatedAllocator() {
      super(false);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    private void gate() {
      if (Thread.currentThread().getName().startsWith("otlp4j-warmup-") && entered.getCount() > 0) {
        entered.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      gate();
      return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      gate();
      return new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
    }
  }
}
