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
import java.util.concurrent.atomic.LongAdder;

/**
 * The loopback OTLP sink of {@link SdkPipelineScenario}, run in its own JVM so that its CPU and
 * allocation are not charged to the pipeline being measured: otlp4j's OTLP/gRPC and OTLP/HTTP
 * receivers on 127.0.0.1 (every request decompressed, validated and counted by the wire walker,
 * then released) answering every request with success.
 *
 * <p>Protocol on stdin/stdout: it prints {@code PORTS <grpc> <http>} once started; each line {@code
 * COUNT} is answered with the spans (items) and the requests received so far; {@code EXIT} (or end
 * of input) stops it.
 */
public final class LoopbackSink {

  private LoopbackSink() {}

  public static void main(String[] args) throws Exception {
    LongAdder items = new LongAdder();
    LongAdder requests = new LongAdder();
    ReceiverSink sink =
        (signal, request, summary) -> {
          requests.increment();
          items.add(summary.itemCount());
          request.release();
          return CompletableFuture.completedFuture(Outcome.accepted());
        };
    MemoryBudget budget = MemoryBudget.builder(1L << 30).build();
    GrpcReceiver grpc =
        GrpcReceiver.builder(sink).host("127.0.0.1").port(0).memoryBudget(budget).build().start();
    HttpReceiver http =
        HttpReceiver.builder(sink).host("127.0.0.1").port(0).memoryBudget(budget).build().start();
    System.out.println("PORTS " + grpc.address().getPort() + " " + http.address().getPort());
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.trim().equals("EXIT")) {
      if (line.trim().equals("COUNT")) {
        System.out.println(items.sum() + " " + requests.sum());
        System.out.flush();
      }
    }
    grpc.shutdown(Duration.ofSeconds(2));
    http.shutdown(Duration.ofSeconds(2));
    System.exit(0);
  }
}
