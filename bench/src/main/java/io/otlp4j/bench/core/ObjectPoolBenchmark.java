package io.otlp4j.bench.core;

import io.otlp4j.core.ObjectPool;
import java.util.concurrent.TimeUnit;
import org.apache.commons.pool2.BasePooledObjectFactory;
import org.apache.commons.pool2.PooledObject;
import org.apache.commons.pool2.impl.DefaultPooledObject;
import org.apache.commons.pool2.impl.GenericObjectPool;
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
 * Borrow + return of one pooled object: otlp4j's {@link ObjectPool} against Apache commons-pool2's
 * {@link GenericObjectPool} in its default configuration (maxTotal 8, LIFO, block when exhausted,
 * no validation). Both pools hold 8 objects, so up to 8 threads never find them exhausted; the pooled
 * object is a small reusable scratch buffer whose reset clears its length.
 *
 * <p>Goal: otlp4j at least 10x commons-pool2's ops/s, and 0 B/op ({@code gc.alloc.rate.norm}).
 *
 * <p>Run (from the repository root):
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar ObjectPoolBenchmark -t 1 -prof gc
 * java -jar bench/target/benchmarks.jar ObjectPoolBenchmark -t 2 -prof gc
 * </pre>
 *
 * Smoke run: add {@code -f 1 -wi 1 -i 2 -w 1s -r 1s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ObjectPoolBenchmark {

  /** What is pooled: a scratch buffer with a fill level, reset on return. */
  public static final class Scratch {
    final byte[] bytes = new byte[256];
    int length;
  }

  private interface Pool {
    Scratch borrow() throws Exception;

    void giveBack(Scratch scratch);
  }

  private static final int MAX_TOTAL = 8; // commons-pool2's GenericObjectPoolConfig.DEFAULT_MAX_TOTAL

  @Param({"otlp4j", "commons-pool2"})
  public String implementation;

  private Pool pool;
  private GenericObjectPool<Scratch> commons;

  @Setup
  public void setUp() {
    switch (implementation) {
      case "otlp4j":
        ObjectPool<Scratch> otlp4j =
            ObjectPool.builder(Scratch::new)
                .reset(s -> s.length = 0)
                .maxTotal(MAX_TOTAL)
                .debug(false)
                .build();
        pool =
            new Pool() {
              @Override
              public Scratch borrow() {
                return otlp4j.tryBorrow();
              }

              @Override
              public void giveBack(Scratch scratch) {
                otlp4j.release(scratch);
              }
            };
        break;
      case "commons-pool2":
        commons =
            new GenericObjectPool<>(
                new BasePooledObjectFactory<Scratch>() {
                  @Override
                  public Scratch create() {
                    return new Scratch();
                  }

                  @Override
                  public PooledObject<Scratch> wrap(Scratch scratch) {
                    return new DefaultPooledObject<>(scratch);
                  }

                  @Override
                  public void passivateObject(PooledObject<Scratch> pooled) {
                    pooled.getObject().length = 0;
                  }
                });
        pool =
            new Pool() {
              @Override
              public Scratch borrow() throws Exception {
                return commons.borrowObject();
              }

              @Override
              public void giveBack(Scratch scratch) {
                commons.returnObject(scratch);
              }
            };
        break;
      default:
        throw new IllegalArgumentException("unknown implementation " + implementation);
    }
  }

  @TearDown
  public void tearDown() {
    if (commons != null) {
      commons.close();
    }
  }

  @Benchmark
  public int borrowAndReturn() throws Exception {
    Scratch scratch = pool.borrow();
    scratch.bytes[0] = 1;
    int length = ++scratch.length;
    pool.giveBack(scratch);
    return length;
  }
}
