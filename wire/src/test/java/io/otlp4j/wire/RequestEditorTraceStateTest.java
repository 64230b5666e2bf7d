package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.CodedOutputStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.ElementView.Kind;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link ElementView#replaceTraceState}: the edited request equals the same change made with the
 * official builders, over the random generator's requests (unknown fields included), alone and
 * together with attribute edits and drops.
 */
@ExtendWith(NettyLeakCheck.class)
class RequestEditorTraceStateTest {
  private static final RequestEditor EDITOR = RequestEditor.create();

  /** What happens to span number {@code n} (in encoding order). */
  private static String newTraceState(int n) {
    return switch (n % 5) {
      case 0 -> "ot=th:" + Integer.toHexString(n % 16) + ";rv:0123456789abcd,vendor=x" + n;
      case 1 -> ""; // replaced by nothing: the field is left out
      case 2 -> null; // left alone
      case 3 -> "k" + n + "=v";
      default -> null;
    };
  }

  /** A policy that replaces trace states through one reused scratch array. */
  private static final class Replacing implements EditPolicy {
    private final byte[] scratch = new byte[64];
    private final boolean alsoEditAttributes;
    int n;

    Replacing(boolean alsoEditAttributes) {
      this.alsoEditAttributes = alsoEditAttributes;
    }

    @Override
    public boolean visits(Kind kind) {
      return kind == Kind.SPAN;
    }

    @Override
    public Decision span(ElementView span) {
      int i = n++;
      if (alsoEditAttributes && i % 7 == 6) {
        return Decision.DROP;
      }
      String ts = newTraceState(i);
      if (ts != null) {
        byte[] utf8 = ts.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(utf8, 0, scratch, 0, utf8.length);
        // garbage after the length must not leak into the output
        scratch[utf8.length] = 'X';
        span.replaceTraceState(scratch, utf8.length);
      }
      if (alsoEditAttributes && i % 3 == 0) {
        span.attributes().add(EncodedAttribute.of("edited", (long) i));
      }
      return Decision.KEEP;
    }
  }

  private static ExportTraceServiceRequest expected(
      ExportTraceServiceRequest request, boolean alsoEditAttributes) {
    ExportTraceServiceRequest.Builder out = request.toBuilder().clearResourceSpans();
    int n = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      ResourceSpans.Builder rsb = rs.toBuilder().clearScopeSpans();
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        ScopeSpans.Builder ssb = ss.toBuilder().clearSpans();
        for (Span span : ss.getSpansList()) {
          int i = n++;
          if (alsoEditAttributes && i % 7 == 6) {
            continue;
          }
          Span.Builder sb = span.toBuilder();
          String ts = newTraceState(i);
          if (ts != null) {
            sb.setTraceState(ts);
          }
          if (alsoEditAttributes && i % 3 == 0) {
            sb.addAttributes(
                KeyValue.newBuilder()
                    .setKey("edited")
                    .setValue(AnyValue.newBuilder().setIntValue(i)));
          }
          ssb.addSpans(sb);
        }
        if (ss.getSpansCount() == 0 || ssb.getSpansCount() > 0) {
          rsb.addScopeSpans(ssb);
        }
      }
      if (rs.getScopeSpansCount() == 0 || rsb.getScopeSpansCount() > 0) {
        out.addResourceSpans(rsb);
      }
    }
    return out.build();
  }

  @Test
  void replacedTraceStatesEqualTheSameChangeMadeWithTheOfficialBuilders() throws Exception {
    OtlpGenerator generator = new OtlpGenerator(4242).withUnknownFields(true);
    int spans = 0;
    for (int i = 0; i < 200; i++) {
      boolean alsoEdit = (i & 1) == 1;
      ExportTraceServiceRequest request = generator.traces();
      byte[] bytes = request.toByteArray();
      ByteBuf input = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
      Replacing policy = new Replacing(alsoEdit);
      ByteBuf edited = EDITOR.edit(Signal.TRACES, input, policy);
      try {
        ExportTraceServiceRequest parsed =
            ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(edited));
        assertThat(parsed).as("request %d", i).isEqualTo(expected(request, alsoEdit));
        spans += policy.n;
      } finally {
        edited.release();
        input.release();
      }
    }
    assertThat(spans).as("the generator made spans to replace").isGreaterThan(200);
  }

  @Test
  void aSpanThatArrivedWithSeveralTraceStatesLeavesWithOnlyTheNewOne() throws Exception {
    // trace_state twice (protobuf: the last wins), around the name
    ByteArrayOutputStream spanBytes = new ByteArrayOutputStream();
    CodedOutputStream span = CodedOutputStream.newInstance(spanBytes);
    span.writeBytes(1, com.google.protobuf.ByteString.copyFrom(new byte[16]));
    span.writeString(3, "first=1");
    span.writeString(5, "name");
    span.writeString(3, "second=2");
    span.flush();
    // Built by hand so that the span keeps its duplicate fields.
    byte[] spanField = field(2, spanBytes.toByteArray());
    byte[] scope = field(2, spanField);
    byte[] resource = field(1, scope);
    ExportTraceServiceRequest arrived = ExportTraceServiceRequest.parseFrom(resource);
    assertThat(arrived.getResourceSpans(0).getScopeSpans(0).getSpans(0).getTraceState())
        .isEqualTo("second=2");

    EditPolicy replace =
        new EditPolicy() {
          @Override
          public Decision span(ElementView s) {
            assertThat(s.traceState().toString()).isEqualTo("second=2");
            byte[] v = "ot=th:8".getBytes(StandardCharsets.UTF_8);
            s.replaceTraceState(v, v.length);
            return Decision.KEEP;
          }
        };
    ByteBuf edited = EDITOR.edit(Signal.TRACES, Unpooled.wrappedBuffer(resource), replace);
    try {
      byte[] out = ByteBufUtil.getBytes(edited);
      Span s =
          ExportTraceServiceRequest.parseFrom(out).getResourceSpans(0).getScopeSpans(0).getSpans(0);
      assertThat(s.getTraceState()).isEqualTo("ot=th:8");
      assertThat(s.getName()).isEqualTo("name");
      assertThat(new String(out, StandardCharsets.ISO_8859_1))
          .doesNotContain("first=1")
          .doesNotContain("second=2");
    } finally {
      edited.release();
    }
  }

  @Test
  void onlyASpanHasATraceState() {
    byte[] bytes = OtlpGenerator.realisticTraces(2).toByteArray();
    EditPolicy onScope =
        new EditPolicy() {
          @Override
          public Decision scope(ElementView scope) {
            assertThat(scope.traceState().isPresent()).isFalse();
            scope.replaceTraceState(new byte[1], 1);
            return Decision.KEEP;
          }
        };
    assertThatThrownBy(() -> EDITOR.edit(Signal.TRACES, Unpooled.wrappedBuffer(bytes), onScope))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("SCOPE");
    EditPolicy tooLong =
        new EditPolicy() {
          @Override
          public Decision span(ElementView span) {
            span.replaceTraceState(new byte[1], 2);
            return Decision.KEEP;
          }
        };
    assertThatThrownBy(() -> EDITOR.edit(Signal.TRACES, Unpooled.wrappedBuffer(bytes), tooLong))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  private static byte[] field(int number, byte[] content) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    CodedOutputStream o = CodedOutputStream.newInstance(b);
    o.writeByteArray(number, content);
    o.flush();
    return b.toByteArray();
  }
}
