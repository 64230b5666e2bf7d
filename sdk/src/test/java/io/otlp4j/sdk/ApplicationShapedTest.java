package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An application's shape: several threads create nested spans through a real SdkTracerProvider with
 * the otlp4j processor and exporter in front of a real OTLP server; every span arrives exactly
 * once.
 */
@ExtendWith(NettyLeakCheck.class)
class ApplicationShapedTest {

  private static final int THREADS = 4;
  private static final int REQUESTS_PER_THREAD =
      1_000; // a request is a server span with 2 children

  private static MockOtlpServer server;

  @BeforeAll
  static void start() throws Exception {
    server = MockOtlpServer.started();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void everySpanOfSeveralThreadsArrivesExactlyOnce(String protocol) throws Exception {
    server.clear();
    Otlp4jSpanExporter exporter =
        Otlp4jSpanExporter.builder()
            .protocol(protocol)
            .endpoint(protocol.equals("grpc") ? server.grpcEndpoint() : server.httpEndpoint())
            .build();
    int total = THREADS * REQUESTS_PER_THREAD * 3;
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter)
            .maxQueueSize(total) // no drops by construction: every span must arrive
            .scheduleDelay(Duration.ofMillis(50))
            .maxConcurrentExports(3)
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    Tracer tracer = provider.get("app");
    CountDownLatch go = new CountDownLatch(1);
    AtomicLong created = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int id = t;
      Thread thread =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
                for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
                  Span request =
                      tracer
                          .spanBuilder("GET /item")
                          .setAttribute("thread", id)
                          .setAttribute("i", i)
                          .startSpan();
                  try (Scope ignored = request.makeCurrent()) {
                    tracer.spanBuilder("db").startSpan().end();
                    tracer.spanBuilder("cache").startSpan().end();
                  } finally {
                    request.end();
                  }
                  created.addAndGet(3);
                }
              },
              "app-" + t);
      threads.add(thread);
      thread.start();
    }
    go.countDown();
    for (Thread thread : threads) {
      thread.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(thread.isAlive()).isFalse();
    }
    assertThat(created.get()).isEqualTo(total);

    // Delivered without a flush (the schedule delay sends the tail), then shut down cleanly.
    await().atMost(Duration.ofSeconds(30)).until(() -> server.spanCount() >= total);
    assertThat(provider.shutdown().join(20, TimeUnit.SECONDS).isSuccess()).isTrue();

    assertThat(processor.droppedCount()).isZero();
    assertThat(server.spanCount()).isEqualTo(total);
    Map<ByteString, Long> spansById =
        server.spans().stream()
            .collect(
                Collectors.groupingBy(
                    io.opentelemetry.proto.trace.v1.Span::getSpanId, Collectors.counting()));
    assertThat(spansById).hasSize(total);
    assertThat(spansById.values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
    assertThat(exporter.transport().sentItems(io.otlp4j.wire.Signal.TRACES)).isEqualTo(total);
  }
}
