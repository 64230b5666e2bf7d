package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.testing.OtlpGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The editor reuses each thread's views and arrays from edit to edit, and can copy its output into
 * one buffer: the results equal the official builders' edits either way, and a policy that edits
 * from inside its callback gets a working editor.
 */
@ExtendWith(NettyLeakCheck.class)
class RequestEditorReuseTest {
  private static final RequestEditor CONTIGUOUS =
      RequestEditor.builder().contiguousOutput(true).build();

  @Test
  void contiguousOutputIsOneBufferEqualToTheOfficialEdit() throws Exception {
    for (Signal signal : Signal.values()) {
      OtlpGenerator generator = new OtlpGenerator(31L * signal.ordinal()).withUnknownFields(true);
      EditScript script = new EditScript(97, 30, 30);
      EditPolicy policy = script.policy();
      for (int i = 0; i < 150; i++) {
        Message request = generator.request(signal);
        byte[] bytes = request.toByteArray();
        ByteBuf input = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        script.restart();
        ByteBuf edited = CONTIGUOUS.edit(signal, input, policy);
        try {
          assertThat(edited.nioBufferCount()).isEqualTo(1);
          assertThat(OfficialView.parse(signal, ByteBufUtil.getBytes(edited)))
              .as("%s request %d", signal, i)
              .isEqualTo(script.expected(signal, request));
        } finally {
          edited.release();
          input.release();
        }
      }
    }
  }

  @Test
  void aPolicyThatEditsInsideItsCallbackGetsItsOwnEdit() throws Exception {
    OtlpGenerator generator = new OtlpGenerator(5).withUnknownFields(true);
    Message inner = generator.request(Signal.TRACES);
    EditScript innerScript = new EditScript(3, 40, 40);
    EditScript outerScript = new EditScript(4, 20, 20);
    EditPolicy outerPolicy = outerScript.policy();
    Message[] innerResult = new Message[1];
    EditPolicy nesting =
        new EditPolicy() {
          @Override
          public Decision resource(ElementView resource) {
            if (innerResult[0] == null) {
              innerScript.restart();
              ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer();
              in.writeBytes(inner.toByteArray());
              ByteBuf out = RequestEditor.create().edit(Signal.TRACES, in, innerScript.policy());
              try {
                innerResult[0] = OfficialView.parse(Signal.TRACES, ByteBufUtil.getBytes(out));
              } catch (Exception e) {
                throw new AssertionError(e);
              } finally {
                out.release();
                in.release();
              }
            }
            return outerPolicy.resource(resource);
          }

          @Override
          public Decision scope(ElementView scope) {
            return outerPolicy.scope(scope);
          }

          @Override
          public Decision span(ElementView span) {
            return outerPolicy.span(span);
          }

          @Override
          public Decision spanEvent(ElementView event) {
            return outerPolicy.spanEvent(event);
          }

          @Override
          public Decision spanLink(ElementView link) {
            return outerPolicy.spanLink(link);
          }
        };
    Message outer = generator.request(Signal.TRACES);
    ByteBuf input = PooledByteBufAllocator.DEFAULT.directBuffer();
    input.writeBytes(outer.toByteArray());
    outerScript.restart();
    ByteBuf edited = RequestEditor.create().edit(Signal.TRACES, input, nesting);
    try {
      assertThat(OfficialView.parse(Signal.TRACES, ByteBufUtil.getBytes(edited)))
          .isEqualTo(outerScript.expected(Signal.TRACES, outer));
      assertThat(innerResult[0]).isEqualTo(innerScript.expected(Signal.TRACES, inner));
    } finally {
      edited.release();
      input.release();
    }
  }
}
