package io.otlp4j.bench.wire;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Compression}'s bounded streaming codecs against the JDK's and zstd-jni's own streams (the
 * anchor a user would otherwise pick), on a realistic trace request of {@code spans} spans (about
 * 400 bytes each, {@link OtlpGenerator#realisticTraces(int)}).
 *
 * <ul>
 *   <li>{@code decompress}: {@link Compression#decompress(ByteBuf, ByteBufAllocator, long)} into
 *       pooled heap buffers, released each time; the anchor is {@code decompressReference} ({@code
 *       GZIPInputStream.readAllBytes()} / {@code ZstdInputStream.readAllBytes()}, no limit).
 *   <li>{@code compress}: {@link Compression#compress(ByteBuf, ByteBufAllocator)}; the anchor is
 *       {@code compressReference} ({@code GZIPOutputStream} / {@code Zstd.compress}, level 3).
 * </ul>
 *
 * <p>Run: {@code ./mvnw -B -q -pl bench -am package -DskipTests && java -jar
 * bench/target/benchmarks.jar CompressionBenchmark} (smoke: add {@code -f 1 -wi 1 -i 2 -w 1s -r
 * 1s}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 2, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CompressionBenchmark {

  @Param({"GZIP", "ZSTD"})
  public Compression codec;

  @Param({"100", "2000"})
  public int spans;

  private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
  private byte[] payload;
  private byte[] compressed;
  private ByteBuf payloadBuf;
  private ByteBuf compressedBuf;

  @Setup(Level.Trial)
  public void setUp() {
    payload = OtlpGenerator.realisticTraces(spans).toByteArray();
    compressed = codec.compress(payload);
    payloadBuf = Unpooled.wrappedBuffer(payload);
    compressedBuf = Unpooled.wrappedBuffer(compressed);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    payloadBuf.release();
    compressedBuf.release();
  }

  @Benchmark
  public int decompress() {
    ByteBuf out = codec.decompress(compressedBuf, alloc, 64 << 20);
    int n = out.readableBytes();
    out.release();
    return n;
  }

  @Benchmark
  public int decompressReference() throws IOException {
    try (InputStream in =
        codec == Compression.GZIP
            ? new GZIPInputStream(new ByteArrayInputStream(compressed))
            : new ZstdInputStream(new ByteArrayInputStream(compressed))) {
      return in.readAllBytes().length;
    }
  }

  @Benchmark
  public int compress() {
    ByteBuf out = codec.compress(payloadBuf, alloc);
    int n = out.readableBytes();
    out.release();
    return n;
  }

  @Benchmark
  public int compressReference() throws IOException {
    if (codec == Compression.ZSTD) {
      return Zstd.compress(payload, Compression.ZSTD_LEVEL).length;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(payload.length / 4);
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(payload);
    }
    return bytes.size();
  }
}
