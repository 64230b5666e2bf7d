package io.otlp4j.bench.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.wire.AttributeList;
import io.otlp4j.wire.EditPolicy;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.EncodedAttribute;
import io.otlp4j.wire.RequestEditor;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * What the edits that the {@code attributes} and {@code filter} processors make cost with {@link
 * RequestEditor} on the encoded bytes, against the anchor: the same edit the usual JVM way
 * (protobuf-java {@code parseFrom}, change the objects through builders, {@code toByteArray}).
 *
 * <h2>What is measured</h2>
 *
 * On a realistic trace request of {@code spans} spans in a pooled direct {@code ByteBuf}:
 *
 * <ul>
 *   <li>{@code attributes_*}: on every span, {@code server.address} deleted and {@code
 *       processed.by} inserted (the Collector {@code attributes} processor's delete and insert
 *       actions);
 *   <li>{@code filter_*}: every span whose {@code app.cache.hit} attribute is true dropped (about
 *       half of them; the count is printed at setup), with scopes and resources left empty dropped
 *       too;
 *   <li>{@code *_editor}: {@link RequestEditor} with its validating walk (as for a request straight
 *       from a client); {@code *_editorWalked}: without it (as in the relay, where the receiver has
 *       walked the request already); {@code *_anchor}: protobuf-java. Each result is released
 *       (editor) or its size read (anchor).
 * </ul>
 *
 * {@code -prof gc} shows the allocation per op: the editor's is the output composite and its
 * slices, nothing per span beyond them; the anchor's is the object tree and the output array.
 *
 * <h2>How to run</h2>
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar EditorBenchmark -prof gc
 * # quick run:
 * java -jar bench/target/benchmarks.jar EditorBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class EditorBenchmark {
  private static final String DELETED = "server.address";
  private static final String INSERTED = "processed.by";
  private static final String FILTERED = "app.cache.hit";

  @Param({"512"})
  public int spans;

  private ByteBuf request;
  private final RequestEditor editor = RequestEditor.create();
  private final RequestEditor walkedEditor = RequestEditor.builder().validation(false).build();

  private final EditPolicy attributes =
      new EditPolicy() {
        private final byte[] deleted = DELETED.getBytes(StandardCharsets.UTF_8);
        private final EncodedAttribute inserted = EncodedAttribute.of(INSERTED, "otlp4j");

        @Override
        public boolean visits(ElementView.Kind kind) {
          return kind == ElementView.Kind.SPAN;
        }

        @Override
        public Decision span(ElementView span) {
          AttributeList list = span.attributes();
          list.removeAll(deleted);
          list.insert(inserted);
          return Decision.KEEP;
        }
      };

  private final EditPolicy filter =
      new EditPolicy() {
        private final byte[] key = FILTERED.getBytes(StandardCharsets.UTF_8);

        @Override
        public boolean visits(ElementView.Kind kind) {
          return kind == ElementView.Kind.SPAN;
        }

        @Override
        public Decision span(ElementView span) {
          return span.attribute(key).boolValue() ? Decision.DROP : Decision.KEEP;
        }
      };

  private static final KeyValue INSERTED_KV =
      KeyValue.newBuilder()
          .setKey(INSERTED)
          .setValue(AnyValue.newBuilder().setStringValue("otlp4j"))
          .build();

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    byte[] bytes = OtlpGenerator.realisticTraces(spans).toByteArray();
    request = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    ByteBuf filtered = editor.edit(Signal.TRACES, request, filter);
    int kept =
        ExportTraceServiceRequest.parseFrom(filtered.nioBuffer())
            .getResourceSpans(0)
            .getScopeSpans(0)
            .getSpansCount();
    filtered.release();
    System.out.println(
        "\nspans="
            + spans
            + ": bytes per op = "
            + bytes.length
            + "; filter keeps "
            + kept
            + " spans");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    request.release();
  }

  @Benchmark
  public int attributes_editor() {
    return release(editor.edit(Signal.TRACES, request, attributes));
  }

  @Benchmark
  public int attributes_editorWalked() {
    return release(walkedEditor.edit(Signal.TRACES, request, attributes));
  }

  @Benchmark
  public int attributes_anchor() throws IOException {
    ExportTraceServiceRequest.Builder b =
        ExportTraceServiceRequest.parseFrom(request.nioBuffer()).toBuilder();
    for (ResourceSpans.Builder rs : b.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
        for (Span.Builder span : ss.getSpansBuilderList()) {
          for (int i = span.getAttributesCount() - 1; i >= 0; i--) {
            if (span.getAttributes(i).getKey().equals(DELETED)) {
              span.removeAttributes(i);
            }
          }
          boolean present = false;
          for (KeyValue kv : span.getAttributesList()) {
            present |= kv.getKey().equals(INSERTED);
          }
          if (!present) {
            span.addAttributes(INSERTED_KV);
          }
        }
      }
    }
    return b.build().toByteArray().length;
  }

  @Benchmark
  public int filter_editor() {
    return release(editor.edit(Signal.TRACES, request, filter));
  }

  @Benchmark
  public int filter_editorWalked() {
    return release(walkedEditor.edit(Signal.TRACES, request, filter));
  }

  @Benchmark
  public int filter_anchor() throws IOException {
    ExportTraceServiceRequest.Builder b =
        ExportTraceServiceRequest.parseFrom(request.nioBuffer()).toBuilder();
    Iterator<ResourceSpans.Builder> resources = b.getResourceSpansBuilderList().iterator();
    List<ResourceSpans> keptResources = new ArrayList<>();
    while (resources.hasNext()) {
      ResourceSpans.Builder rs = resources.next();
      List<ScopeSpans> keptScopes = new ArrayList<>();
      for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
        List<Span> keptSpans = new ArrayList<>();
        for (Span span : ss.getSpansList()) {
          if (!cacheHit(span)) {
            keptSpans.add(span);
          }
        }
        if (!keptSpans.isEmpty() || ss.getSpansCount() == 0) {
          keptScopes.add(ss.clearSpans().addAllSpans(keptSpans).build());
        }
      }
      if (!keptScopes.isEmpty() || rs.getScopeSpansCount() == 0) {
        keptResources.add(rs.clearScopeSpans().addAllScopeSpans(keptScopes).build());
      }
    }
    return b.clearResourceSpans().addAllResourceSpans(keptResources).build().toByteArray().length;
  }

  private static boolean cacheHit(Span span) {
    for (KeyValue kv : span.getAttributesList()) {
      if (kv.getKey().equals(FILTERED)) {
        return kv.getValue().getBoolValue();
      }
    }
    return false;
  }

  private static int release(ByteBuf out) {
    int n = out.readableBytes();
    out.release();
    return n;
  }
}
