package io.otlp4j.bench.wire;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.wire.EditPolicy;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.RequestEditor;
import io.otlp4j.wire.RequestPartitioner;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
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
 * The {@code loadbalancing} exporter's split of a batch by trace id into {@code backends} parts:
 * {@code onePass}, one {@link RequestPartitioner} walk writing every part at once (what the router
 * does now), against {@code nPlusOnePasses}, the router's earlier way: one {@link RequestEditor}
 * pass that hashes each span's trace id, then one edit per backend keeping its spans.
 *
 * <h2>What is measured</h2>
 *
 * A batch as the relay's {@code batch} processor hands it on: {@value #REQUESTS} requests of 100
 * realistic spans each (13 trace ids per request, fresh in every request, as {@code bench/run
 * relay-loadbalancing} sends them), 500 spans, concatenated, in one heap buffer (the exporter
 * copies a composite batch into one before it routes it). Each span's owner is its trace id's
 * CRC-32 placed on {@code backends} equal arcs (the same in both); the parts are released. Per op:
 * one batch split; {@code -prof gc} shows the allocation.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar PartitionBenchmark -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(2)
public class PartitionBenchmark {
  static final int REQUESTS = 5;
  private static final RequestPartitioner PARTITIONER =
      RequestPartitioner.builder().validation(false).build();
  private static final RequestEditor EDITOR = RequestEditor.builder().validation(false).build();

  @Param({"4"})
  public int backends;

  private ByteBuf batch;

  @Setup
  public void setUp() {
    ExportTraceServiceRequest.Builder all = ExportTraceServiceRequest.newBuilder();
    ExportTraceServiceRequest one = OtlpGenerator.realisticTraces(100);
    int trace = 0;
    for (int r = 0; r < REQUESTS; r++) {
      ResourceSpans.Builder resource = one.getResourceSpans(0).toBuilder();
      ScopeSpans.Builder scope = resource.getScopeSpans(0).toBuilder();
      for (int s = 0; s < scope.getSpansCount(); s++) {
        Span.Builder span = scope.getSpans(s).toBuilder();
        byte[] id = new byte[16];
        Arrays.fill(id, (byte) (trace + s * 13 / scope.getSpansCount()));
        id[0] = (byte) r;
        span.setTraceId(ByteString.copyFrom(id));
        scope.setSpans(s, span);
      }
      trace += 13;
      resource.setScopeSpans(0, scope);
      all.addResourceSpans(resource);
    }
    byte[] bytes = all.build().toByteArray();
    batch = PooledByteBufAllocator.DEFAULT.heapBuffer(bytes.length).writeBytes(bytes);
  }

  @TearDown
  public void tearDown() {
    batch.release();
  }

  @Benchmark
  public int onePass() {
    RequestPartitioner.Parts parts =
        PARTITIONER.partition(
            Signal.TRACES, batch, ElementView.Kind.SPAN, backends, new TraceIdOwner(backends));
    int n = parts.nonEmpty();
    parts.releaseAll();
    return n;
  }

  @Benchmark
  public int nPlusOnePasses() {
    Classifier c = new Classifier(new TraceIdOwner(backends));
    EDITOR.edit(Signal.TRACES, batch, c).release();
    int n = 0;
    for (int owner = 0; owner < backends; owner++) {
      if (c.units[owner] > 0) {
        EDITOR.edit(Signal.TRACES, batch, new Selector(c.assigned, owner)).release();
        n++;
      }
    }
    return n;
  }

  /** A span's trace id's CRC-32 on equal arcs: the router's hashing, without its ring. */
  static final class TraceIdOwner implements RequestPartitioner.Assigner {
    private final CRC32 crc = new CRC32();
    private final byte[] id = new byte[16];
    private final int backends;

    TraceIdOwner(int backends) {
      this.backends = backends;
    }

    @Override
    public int output(ElementView span) {
      long hi = span.traceIdHigh();
      long lo = span.traceIdLow();
      for (int i = 0; i < 8; i++) {
        id[i] = (byte) (hi >>> (56 - 8 * i));
        id[8 + i] = (byte) (lo >>> (56 - 8 * i));
      }
      crc.reset();
      crc.update(id, 0, 16);
      return (int) (crc.getValue() % 36_000 * backends / 36_000);
    }
  }

  /** The earlier router's first pass: each span's owner, in order. */
  static final class Classifier implements EditPolicy {
    final TraceIdOwner owners;
    final int[] units;
    int[] assigned = new int[64];
    int count;

    Classifier(TraceIdOwner owners) {
      this.owners = owners;
      this.units = new int[owners.backends];
    }

    @Override
    public boolean visits(ElementView.Kind kind) {
      return kind == ElementView.Kind.SPAN;
    }

    @Override
    public Decision span(ElementView span) {
      int owner = owners.output(span);
      if (count == assigned.length) {
        assigned = Arrays.copyOf(assigned, count * 2);
      }
      assigned[count++] = owner;
      units[owner]++;
      return Decision.KEEP;
    }
  }

  /** The earlier router's second pass, once per backend: keeps its spans, drops the others. */
  static final class Selector implements EditPolicy {
    private final int[] assigned;
    private final int owner;
    private int next;

    Selector(int[] assigned, int owner) {
      this.assigned = assigned;
      this.owner = owner;
    }

    @Override
    public boolean visits(ElementView.Kind kind) {
      return kind == ElementView.Kind.SPAN;
    }

    @Override
    public Decision span(ElementView span) {
      return assigned[next++] == owner ? Decision.KEEP : Decision.DROP;
    }
  }
}
