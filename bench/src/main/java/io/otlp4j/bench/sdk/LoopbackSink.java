package io.otlp4j.bench.sdk;

import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.Outcome;
import io.otlp4j.receiver.GrpcReceiver;
import io.otlp4j.receiver.HttpReceiver;
import io.otlp4j.receiver.ReceiverSink;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The loopback OTLP sink of {@link SdkPipelineScenario}, run in its own JVM so that its CPU and
 * allocation are not charged to the pipeline being measured: otlp4j's OTLP/gRPC and OTLP/HTTP
 * receivers on 127.0.0.1 (every request decompressed, validated and counted by the wire walker,
 * then released) answering every request with success.
 *
 * <p>Protocol on stdin/stdout: it prints {@code PORTS <grpc> <http>} once started; each line {@code
 * COUNT} is answered with the spans (items) and the requests received so far and the requests
 * refused; {@code FAIL <fraction>} makes it refuse that fraction of the requests from now on with a
 * retryable answer (gRPC {@code UNAVAILABLE} with {@code RetryInfo}, HTTP 503 with {@code
 * Retry-After}); {@code DOWN} stops its servers and {@code UP} starts them again on the same ports
 * (each answered {@code OK}); {@code EXIT} (or end of input) stops it.
 */
public final class LoopbackSink {

  /** The fraction of requests refused: written by the command loop, read by receiver threads. */
  private static volatile double failFraction;

  private LoopbackSink() {}

  public static void main(String[] args) throws Exception {
    LongAdder items = new LongAdder();
    LongAdder requests = new LongAdder();
    LongAdder refused = new LongAdder();
    ReceiverSink sink =
        (signal, request, summary) -> {
          request.release();
          double f = failFraction;
          if (f > 0 && ThreadLocalRandom.current().nextDouble() < f) {
            refused.increment();
            return CompletableFuture.completedFuture(
                Outcome.retryable(Outcome.DEFAULT_RETRY_AFTER, "injected fault"));
          }
          requests.increment();
          items.add(summary.itemCount());
          return CompletableFuture.completedFuture(Outcome.accepted());
        };
    MemoryBudget budget = MemoryBudget.builder(1L << 30).build();
    GrpcReceiver grpc =
        GrpcReceiver.builder(sink).host("127.0.0.1").port(0).memoryBudget(budget).build().start();
    HttpReceiver http =
        HttpReceiver.builder(sink).host("127.0.0.1").port(0).memoryBudget(budget).build().start();
    int grpcPort = grpc.address().getPort();
    int httpPort = http.address().getPort();
    System.out.println("PORTS " + grpcPort + " " + httpPort);
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.trim().equals("EXIT")) {
      String command = line.trim();
      String answer;
      if (command.equals("COUNT")) {
        answer = items.sum() + " " + requests.sum() + " " + refused.sum();
      } else if (command.startsWith("FAIL ")) {
        failFraction = Double.parseDouble(command.substring(5).trim());
        answer = "OK";
      } else if (command.equals("DOWN")) {
        if (grpc != null) {
          grpc.shutdown(Duration.ofSeconds(2));
          http.shutdown(Duration.ofSeconds(2));
          grpc = null;
          http = null;
        }
        answer = "OK";
      } else if (command.equals("UP")) {
        answer = "OK";
        if (grpc == null) {
          try {
            grpc =
                startOnPort(
                    () ->
                        GrpcReceiver.builder(sink)
                            .host("127.0.0.1")
                            .port(grpcPort)
                            .memoryBudget(budget)
                            .build()
                            .start());
            http =
                startOnPort(
                    () ->
                        HttpReceiver.builder(sink)
                            .host("127.0.0.1")
                            .port(httpPort)
                            .memoryBudget(budget)
                            .build()
                            .start());
          } catch (RuntimeException e) {
            answer = "FAILED " + e;
          }
        }
      } else {
        answer = "UNKNOWN " + command;
      }
      System.out.println(answer);
      System.out.flush();
    }
    if (grpc != null) {
      grpc.shutdown(Duration.ofSeconds(2));
      http.shutdown(Duration.ofSeconds(2));
    }
    System.exit(0);
  }

  /**
   * Starts a server on a port that was in use a moment ago: tries for up to 5 s, as the old
   * listener's port may take a moment to be free again.
   */
  private static <T> T startOnPort(java.util.function.Supplier<T> start) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      try {
        return start.get();
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
  }
}
