package io.otlp4j.bench.queue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.otlp4j.queue.AppendResult;
import io.otlp4j.queue.DurableQueue;
import io.otlp4j.queue.FsyncPolicy;
import io.otlp4j.queue.FullPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The durable queue's append path with {@link FsyncPolicy#perBatch()} — each append completes only
 * after the {@code force} covering it — against the disk's own limits, measured in the same run:
 *
 * <ul>
 *   <li>{@code append_1}, {@code append_8}, {@code append_64}: that many producer threads each
 *       append a {@code recordBytes} record and wait for its acknowledgement (group commit shares
 *       one write and one force among the records that arrive together). Throughput mode gives
 *       records/s per per millisecond and, through the {@code bytes} counter, payload bytes per
 *       millisecond (= kB/s; divide by 1000 for MB/s); SampleTime mode gives the append-to-ack
 *       latency percentiles in ms.
 *   <li>{@code append_64_pipelined}: 64 producer threads each keep {@code pipelineDepth} (default
 *       4) appends in flight (an operation appends one record and then waits for the oldest of its
 *       in-flight appends), as a relay does with the concurrent requests of its clients: up to 64 x
 *       {@code pipelineDepth} x {@code recordBytes} (1 MiB with 4 KiB records, the anchor's chunk)
 *       can share one force. {@code bytes} counts acknowledged payload only.
 *   <li>{@code anchor_rawChunkedWrite}: one thread writes the same payload bytes with a plain
 *       {@link FileChannel} in {@code rawChunkKiB} chunks (default 1 MiB) and forces after each
 *       chunk — the disk's durable-write bandwidth (compare {@code bytes}/s with {@code append_64};
 *       goal: at least 80%).
 *   <li>{@code anchor_writeForceOneRecord}: one thread writes one framed record and forces — the
 *       latency of the cheapest durable write (compare with {@code append_1}'s SampleTime
 *       percentiles; goal: within 1.2x).
 * </ul>
 *
 * Files go to a fresh directory under {@code -p directory=...} (default: {@code bench/target} or
 * {@code target} if present in the working directory, else {@code java.io.tmpdir}; avoid a tmpfs,
 * where force is free) and are deleted after each trial. The queue uses 64 MiB segments, 1 GiB
 * maxBytes and {@link FullPolicy#DROP_OLDEST}, so that it never refuses during a long run (dropping
 * deletes a whole segment, as a consumer's commit would); the anchors rotate their file every 64
 * MiB likewise.
 *
 * <p>Run (from the repository root):
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar QueueAppendBenchmark -bm thrpt -bm sample -f 2 -wi 3 -w 2s -i 5 -r 2s
 * </pre>
 *
 * Do not pass {@code -t}: each method declares its thread count. Smoke run: add {@code -f 1 -wi 1
 * -i 2 -w 1s -r 1s}. With 4 KiB records at most 64 x 4 KiB = 256 KiB can wait for one force in
 * {@code append_64} (each producer has one append in flight), so on a disk whose force costs a
 * fixed few milliseconds that rate is bounded below the 1 MiB-chunk anchor by construction; {@code
 * append_64_pipelined} lifts that bound to the anchor's 1 MiB (goal: at least 80% of the anchor
 * with 4 KiB records); 64 KiB records give groups of up to 4 MiB and show the queue's own overhead
 * against the disk.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class QueueAppendBenchmark {

  private static final long SEGMENT_BYTES = 64L * 1024 * 1024;

  /**
   * Appends each producer of {@code append_64_pipelined} keeps in flight (only that method reads
   * it): 4 puts at most 1 MiB of 4 KiB records in flight, about half of it in each force (the other
   * half gathers meanwhile); {@code -p pipelineDepth=4,8} shows what a deeper pipeline gives.
   */
  @Param({"4"})
  public int pipelineDepth;

  /**
   * The raw anchor's chunk, KiB (only {@code anchor_rawChunkedWrite} reads it): {@code -p
   * rawChunkKiB=512,1024} measures the disk at the force size the pipelined queue reaches (about
   * half its bytes in flight) next to the 1 MiB goal anchor.
   */
  @Param({"1024"})
  public int rawChunkKiB;

  private static final int CHUNK_BYTES = 1024 * 1024;

  /** The queue's per-record header, so the one-record anchor writes as many bytes as a record. */
  private static final int RECORD_HEADER_BYTES = 26;

  @Param({"4096", "65536"})
  public int recordBytes;

  @Param({""})
  public String directory;

  Path root;
  DurableQueue queue;
  FileChannel rawChannel;
  long rawWritten;
  ByteBuffer chunk;
  ByteBuffer oneRecord;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Path parent;
    if (!directory.isEmpty()) {
      parent = Path.of(directory);
    } else if (Files.isDirectory(Path.of("bench", "target"))) {
      parent = Path.of("bench", "target");
    } else if (Files.isDirectory(Path.of("target"))) {
      parent = Path.of("target");
    } else {
      parent = Path.of(System.getProperty("java.io.tmpdir"));
    }
    root = Files.createTempDirectory(parent.toAbsolutePath(), "queue-bench-");
    queue =
        DurableQueue.builder(root.resolve("queue"))
            .consumers("bench")
            .segmentBytes(SEGMENT_BYTES)
            .maxBytes(1024L * 1024 * 1024)
            .whenFull(FullPolicy.DROP_OLDEST)
            .fsyncPolicy(FsyncPolicy.perBatch())
            .open();
    int chunkBytes = rawChunkKiB * 1024;
    byte[] bytes = randomBytes(Math.max(chunkBytes, CHUNK_BYTES));
    chunk = ByteBuffer.allocateDirect(chunkBytes - chunkBytes % recordBytes);
    chunk.put(bytes, 0, chunk.capacity()).flip();
    oneRecord = ByteBuffer.allocateDirect(recordBytes + RECORD_HEADER_BYTES);
    oneRecord.put(bytes, 0, oneRecord.capacity()).flip();
    rotateRaw();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    queue.close();
    rawChannel.close();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  private void rotateRaw() throws IOException {
    if (rawChannel != null) {
      rawChannel.close();
      Files.deleteIfExists(root.resolve("raw"));
    }
    rawChannel =
        FileChannel.open(
            root.resolve("raw"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING);
    rawWritten = 0;
  }

  static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    new SplittableRandom(42).nextBytes(bytes);
    return bytes;
  }

  /** One producer's payload, reused: the queue only reads it. */
  @State(Scope.Thread)
  public static class Producer {
    ByteBuf payload;

    /** Appends in flight, oldest first ({@code append_64_pipelined}); all read {@code payload}. */
    final ArrayDeque<CompletableFuture<AppendResult>> inFlight = new ArrayDeque<>();

    @Setup(Level.Trial)
    public void setUp(QueueAppendBenchmark benchmark) {
      payload = Unpooled.directBuffer(benchmark.recordBytes);
      payload.writeBytes(randomBytes(benchmark.recordBytes));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      while (!inFlight.isEmpty()) {
        inFlight.poll().join(); // the queue reads the payload until then
      }
      payload.release();
    }
  }

  /** Payload bytes made durable, reported as a rate next to the operations. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
      bytes = 0;
    }
  }

  private AppendResult append(Producer producer, Bytes counter) {
    AppendResult result = queue.append((byte) 0, 1, producer.payload).join();
    if (!result.appended()) {
      throw new IllegalStateException("append refused: " + result);
    }
    counter.bytes += recordBytes;
    return result;
  }

  @Benchmark
  @Threads(1)
  public AppendResult append_1(Producer producer, Bytes counter) {
    return append(producer, counter);
  }

  @Benchmark
  @Threads(8)
  public AppendResult append_8(Producer producer, Bytes counter) {
    return append(producer, counter);
  }

  @Benchmark
  @Threads(64)
  public AppendResult append_64(Producer producer, Bytes counter) {
    return append(producer, counter);
  }

  @Benchmark
  @Threads(64)
  public AppendResult append_64_pipelined(Producer producer, Bytes counter) {
    producer.inFlight.add(queue.append((byte) 0, 1, producer.payload));
    if (producer.inFlight.size() < pipelineDepth) {
      return null;
    }
    AppendResult result = producer.inFlight.poll().join();
    if (!result.appended()) {
      throw new IllegalStateException("append refused: " + result);
    }
    counter.bytes += recordBytes;
    return result;
  }

  @Benchmark
  @Threads(1)
  public long anchor_rawChunkedWrite(Bytes counter) throws IOException {
    ByteBuffer buffer = chunk.duplicate();
    while (buffer.hasRemaining()) {
      rawChannel.write(buffer);
    }
    rawChannel.force(false);
    rawWritten += chunk.capacity();
    counter.bytes += chunk.capacity();
    if (rawWritten >= SEGMENT_BYTES) {
      rotateRaw();
    }
    return rawWritten;
  }

  @Benchmark
  @Threads(1)
  public long anchor_writeForceOneRecord(Bytes counter) throws IOException {
    ByteBuffer buffer = oneRecord.duplicate();
    while (buffer.hasRemaining()) {
      rawChannel.write(buffer);
    }
    rawChannel.force(false);
    rawWritten += oneRecord.capacity();
    counter.bytes += recordBytes;
    if (rawWritten >= SEGMENT_BYTES) {
      rotateRaw();
    }
    return rawWritten;
  }
}
