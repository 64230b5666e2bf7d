package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.core.internal.FaultInjection;
import io.otlp4j.core.internal.FaultInjection.Stage;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every stage of the data path fails while traffic flows ({@link FaultInjection}: every second call
 * at the stage throws, every third of those an {@link OutOfMemoryError}), in every ack mode the
 * stage is on: clients send over OTLP/gRPC and OTLP/HTTP at once during the fault and after it.
 * Then no buffer leaked (Netty's paranoid detector, after a collection), no budget reservation is
 * left, every client got an answer in time that is either OK or retryable (our own failure is never
 * a permanent refusal), and every request answered OK reached the upstream.
 */
class RelayFaultInjectionTest extends RelayScenarioTest {

  private static final int DURING_FAULT = 8; // requests per client while the fault fires
  private static final int AFTER_FAULT = 2; // requests per client once it stopped
  private static final int SPANS_PER_REQUEST =
      3; // more than send_batch_max_size: every batch is split

  /** Each stage in each ack mode where it is on the data path. */
  static Stream<Arguments> stagesAndModes() {
    List<Arguments> all = new ArrayList<>();
    for (AckMode mode : List.of(AckMode.RECEIVED, AckMode.DELIVERED, AckMode.DURABLE)) {
      for (Stage stage : Stage.values()) {
        boolean durableOnly = stage == Stage.QUEUE_APPEND || stage == Stage.CHECKPOINT;
        boolean memoryOnly =
            stage == Stage.ENQUEUE; // a queue on disk has no in-memory queue to offer to
        if ((durableOnly && mode != AckMode.DURABLE) || (memoryOnly && mode == AckMode.DURABLE)) {
          continue;
        }
        all.add(Arguments.of(stage, mode));
      }
    }
    return all.stream();
  }

  private static String config(AckMode mode) {
    boolean durable = mode == AckMode.DURABLE;
    return """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        processors:
          batch: { send_batch_size: 2, send_batch_max_size: 2, timeout: 20ms }
          resource:
            attributes:
              - { key: relayed.by, value: otlp4j, action: upsert }
        %s
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            retry_on_failure: { initial_interval: 20ms, max_interval: 100ms, max_elapsed_time: 30s }
            %s
        service:
          %s
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [resource, batch], exporters: [otlp] }
        """
        .formatted(
            durable ? "extensions:\n  file_storage: { directory: queue }" : "",
            durable ? "sending_queue: { storage: file_storage }" : "",
            durable ? "extensions: [file_storage]" : "");
  }

  /**
   * Throws at {@code target}'s every second call while {@link #firing}; every third fault is an
   * Error.
   */
  private static final class Fault implements FaultInjection.Hook {
    final Stage target;
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger thrown = new AtomicInteger();
    volatile boolean firing = true;

    Fault(Stage target) {
      this.target = target;
    }

    @Override
    public void at(Stage stage) {
      if (stage != target || !firing || calls.incrementAndGet() % 2 == 0) {
        return;
      }
      int n = thrown.incrementAndGet();
      if (n % 3 == 0) {
        throw new InjectedError(stage);
      }
      throw new IllegalStateException("injected fault at " + stage);
    }
  }

  /** An out-of-memory that is not one: what our code must survive as it would a real one. */
  private static final class InjectedError extends OutOfMemoryError {
    InjectedError(Stage stage) {
      super("injected out-of-memory at " + stage);
    }
  }

  /** What became of one client request. */
  private record Sent(
      String transport, List<String> spanNames, String answer, boolean acknowledged) {}

  @ParameterizedTest(name = "{0} in {1} mode")
  @MethodSource("stagesAndModes")
  void aFaultAtEveryStageLeaksNothingAnswersEveryClientAndLosesNothingAcknowledged(
      Stage stage, AckMode mode) throws Exception {
    MockOtlpServer upstream = startUpstream();
    relay =
        RelayUnderTest.start(config(mode), Map.of("UPSTREAM", upstream.grpcEndpoint()), mode, dir);
    TraceServiceGrpc.TraceServiceBlockingStub grpc =
        TraceServiceGrpc.newBlockingStub(relay.grpcChannel());
    List<Sent> sent = Collections.synchronizedList(new ArrayList<>());
    Fault fault = new Fault(stage);
    ExecutorService clients = Executors.newFixedThreadPool(2);
    try (FaultInjection.Installed installed = FaultInjection.install(fault)) {
      List<CompletableFuture<Void>> running =
          List.of(
              CompletableFuture.runAsync(
                  () -> sendGrpc(grpc, "grpc-during", DURING_FAULT, sent), clients),
              CompletableFuture.runAsync(
                  () -> sendHttp("http-during", DURING_FAULT, sent), clients));
      CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      // A stage may run after the clients were answered (a checkpoint follows the export): keep the
      // fault armed until it has fired there, or a slow machine ends the phase before it ran once.
      await().atMost(Duration.ofSeconds(30)).until(() -> fault.thrown.get() > 0);
      fault.firing = false;
      running =
          List.of(
              CompletableFuture.runAsync(
                  () -> sendGrpc(grpc, "grpc-after", AFTER_FAULT, sent), clients),
              CompletableFuture.runAsync(() -> sendHttp("http-after", AFTER_FAULT, sent), clients));
      CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

      assertThat(fault.thrown.get()).as("faults injected at %s", stage).isPositive();
      assertThat(sent).as("every client call answered").hasSize(2 * (DURING_FAULT + AFTER_FAULT));
      assertThat(sent)
          .as("answers once the fault stopped")
          .filteredOn(s -> s.spanNames().get(0).contains("after"))
          .allMatch(Sent::acknowledged);
      List<String> acknowledged =
          sent.stream().filter(Sent::acknowledged).flatMap(s -> s.spanNames().stream()).toList();
      RelayUnderTest.promptly(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(upstream.spanNameCounts())
                      .as("acknowledged spans at the upstream")
                      .containsKeys(acknowledged.toArray(String[]::new)));
      RelayUnderTest.promptly(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(relay.metric("otlp4j_memory_used_bytes")).as("budget held").isZero());
    } finally {
      clients.shutdownNow();
    }
    relay.close();
    relay = null;
    NettyLeakCheck.assertNoLeaks();
  }

  private static void sendGrpc(
      TraceServiceGrpc.TraceServiceBlockingStub stub, String prefix, int count, List<Sent> sent) {
    for (int i = 0; i < count; i++) {
      ExportTraceServiceRequest request = OtlpRequests.spans(prefix + i, SPANS_PER_REQUEST);
      List<String> names = OtlpRequests.spanNames(request);
      try {
        stub.withDeadlineAfter(30, TimeUnit.SECONDS).export(request);
        sent.add(new Sent("grpc", names, "OK", true));
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        assertThat(code)
            .as("%s answered %s", prefix + i, e.getStatus())
            .isIn(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED);
        sent.add(new Sent("grpc", names, e.getStatus().toString(), false));
      }
    }
  }

  private void sendHttp(String prefix, int count, List<Sent> sent) {
    for (int i = 0; i < count; i++) {
      ExportTraceServiceRequest request = OtlpRequests.spans(prefix + i, SPANS_PER_REQUEST);
      List<String> names = OtlpRequests.spanNames(request);
      HttpResponse<byte[]> response = relay.post("/v1/traces", request.toByteArray());
      int status = response.statusCode();
      assertThat(status).as("%s answered %d", prefix + i, status).isIn(200, 429, 503);
      sent.add(new Sent("http", names, String.valueOf(status), status == 200));
    }
  }
}
