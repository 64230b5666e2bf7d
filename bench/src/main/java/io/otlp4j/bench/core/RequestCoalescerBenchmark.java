package io.otlp4j.bench.core;

import io.otlp4j.core.GroupResult;
import io.otlp4j.core.RequestCoalescer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The overhead of coalescing per request: {@code submit} until the caller's future completes, with
 * a trivial synchronous operation (an already-completed {@link GroupResult}), so what is measured
 * is the coalescer itself — the queue, the hand-off to the dispatcher thread and back, the
 * grouping.
 *
 * <ul>
 *   <li>{@code coalescer}: {@link RequestCoalescer} with linger 0 (adaptive group commit), one
 *       operation in flight; each benchmark thread submits and waits ({@code join}) like a caller.
 *   <li>{@code direct}: the anchor, calling the operation with a one-payload list on the caller's
 *       thread: what a request costs without coalescing.
 * </ul>
 *
 * With one thread the coalescer's score is the dispatcher round trip (a wake-up each way); with
 * more threads requests share operations, which is where it pays for a real fsync or upstream call.
 *
 * <p>Run (from the repository root):
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar RequestCoalescerBenchmark -t 1
 * java -jar bench/target/benchmarks.jar RequestCoalescerBenchmark -t 4
 * </pre>
 *
 * Smoke run: add {@code -f 1 -wi 1 -i 2 -w 1s -r 1s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RequestCoalescerBenchmark {

  private static final CompletableFuture<GroupResult<Long>> DONE =
      CompletableFuture.completedFuture(GroupResult.uniform(1L));

  @Param({"coalescer", "direct"})
  public String implementation;

  private RequestCoalescer<Long, Long> coalescer;
  private final Long payload = 42L;

  @Setup
  public void setUp() {
    if (implementation.equals("coalescer")) {
      coalescer =
          RequestCoalescer.<Long, Long>builder(RequestCoalescerBenchmark::operation).build();
    } else if (!implementation.equals("direct")) {
      throw new IllegalArgumentException("unknown implementation " + implementation);
    }
  }

  @TearDown
  public void tearDown() {
    if (coalescer != null) {
      coalescer.shutdown(Duration.ofSeconds(10)).join();
    }
  }

  @Benchmark
  public Long submitAndWait() {
    if (coalescer != null) {
      return coalescer.submit(payload, 8).join();
    }
    return (long) operation(List.of(payload)).join().size();
  }

  private static CompletableFuture<GroupResult<Long>> operation(List<Long> payloads) {
    return DONE;
  }
}
