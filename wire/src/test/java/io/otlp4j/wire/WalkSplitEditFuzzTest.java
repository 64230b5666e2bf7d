package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Coverage-guided fuzzing of the zero-copy protobuf path: {@link OtlpWalker}, {@link
 * RequestSplitter} and {@link RequestEditor}, with and without their validating walk.
 *
 * <p>Input: the request bytes, then (read from the end by {@link FuzzedDataProvider}) the signal,
 * the splitter's limits and the edit script's seed and percentages. Properties, for every input:
 *
 * <ul>
 *   <li>the walker accepts or throws {@link WireFormatException} (offset inside the input), nothing
 *       else; what it accepts, protobuf-java parses, and its counts are the official view's;
 *   <li>the validating splitter and editor refuse exactly what the walker refuses; on accepted
 *       input the splitter's parts, concatenated, parse to the same (normalized) request, each part
 *       within the limits, and the editor's output parses to what the same edits made with the
 *       official builders give ({@link EditScript#expected});
 *   <li>without validation, splitter and editor end in a result or {@link WireFormatException};
 *   <li>no buffer is leaked or over-released, and the input's indexes are unchanged.
 * </ul>
 *
 * Regression inputs (seeds from the official OTLP/JSON examples and the random generator, and every
 * finding) live in {@code WalkSplitEditFuzzTestInputs/walkSplitEdit/}; see docs/reliability.md.
 */
class WalkSplitEditFuzzTest {
  private static final OtlpWalker WALKER = OtlpWalker.create();
  private static final RequestEditor EDITOR = RequestEditor.create();
  private static final RequestEditor UNCHECKED_EDITOR =
      RequestEditor.builder().validation(false).build();

  @FuzzTest(maxDuration = "5m")
  void walkSplitEdit(FuzzedDataProvider data) {
    Signal signal = Signal.values()[data.consumeInt(0, 2)];
    int maxItems = data.consumeInt(1, 64);
    int maxBytes = data.consumeInt(1, 1 << 16);
    long scriptSeed = data.consumeLong();
    int dropPercent = data.consumeInt(0, 60);
    int editPercent = data.consumeInt(0, 40);
    boolean composite = data.consumeBoolean();
    byte[] input = data.consumeRemainingAsBytes();
    check(
        signal,
        input,
        maxItems,
        maxBytes,
        new EditScript(scriptSeed, dropPercent, editPercent),
        composite);
  }

  /**
   * Every property above for one input; also called with hand-made inputs ({@code
   * DuplicateAndOutOfOrderFieldsTest}).
   */
  static void check(
      Signal signal,
      byte[] input,
      int maxItems,
      int maxBytes,
      EditScript script,
      boolean composite) {
    ByteBuf buf = composite ? twoComponents(input) : Unpooled.wrappedBuffer(input);
    try {
      Message official = walk(signal, input, buf);
      boolean accepted = official != null;
      split(signal, buf, accepted, official, maxItems, maxBytes, input);
      edit(signal, buf, accepted, official, script);
      assertThat(buf.refCnt()).isEqualTo(1);
      assertThat(buf.readerIndex()).isZero();
      assertThat(buf.readableBytes()).isEqualTo(input.length);
    } finally {
      buf.release();
    }
  }

  /** Walks; returns the official parse of an accepted input, or null when the walker refused. */
  static Message walk(Signal signal, byte[] input, ByteBuf buf) {
    WalkSummary summary;
    try {
      summary = WALKER.walk(signal, buf);
    } catch (WireFormatException e) {
      assertThat(e.offset()).isBetween(-1L, (long) input.length);
      return null;
    }
    Message official;
    try {
      official = OfficialView.parse(signal, input);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(
          "the walker accepted what protobuf-java refuses (" + e.getMessage() + "): " + hex(input),
          e);
    }
    assertThat(summary.byteCount()).isEqualTo(input.length);
    OfficialView view = OfficialView.of(signal, official, null);
    assertThat(summary.resourceCount()).as("Resource*").isEqualTo(view.resourceEntries.size());
    assertThat(summary.scopeCount()).as("Scope*").isEqualTo(view.scopeEntries.size());
    long items = signal == Signal.METRICS ? view.dataPoints.size() : view.items.size();
    assertThat(summary.itemCount()).as("items").isEqualTo(items);
    return official;
  }

  private static void split(
      Signal signal,
      ByteBuf buf,
      boolean accepted,
      Message official,
      int maxItems,
      int maxBytes,
      byte[] input) {
    RequestSplitter splitter =
        RequestSplitter.builder().maxItems(maxItems).maxBytes(maxBytes).build();
    List<ByteBuf> parts = null;
    try {
      List<Long> counts = new ArrayList<>();
      parts = splitter.split(signal, buf, counts);
      assertThat(accepted).as("the splitter accepted what the walker refuses").isTrue();
      assertThat(counts).hasSameSizeAs(parts);
      ByteArrayOutputStream joined = new ByteArrayOutputStream();
      for (int i = 0; i < parts.size(); i++) {
        byte[] part = ByteBufUtil.getBytes(parts.get(i));
        WalkSummary summary = WALKER.walk(signal, part);
        assertThat(summary.itemCount()).isEqualTo(counts.get(i));
        assertThat(summary.itemCount()).isLessThanOrEqualTo(maxItems);
        if (summary.byteCount() > maxBytes) {
          assertThat(summary.itemCount()).as("a part over the byte limit").isLessThanOrEqualTo(1);
        }
        joined.writeBytes(part);
      }
      Message rejoined = OfficialView.parse(signal, joined.toByteArray());
      assertThat(RequestNormalizer.normalize(signal, rejoined))
          .as("split and rejoined: %s", hex(input))
          .isEqualTo(RequestNormalizer.normalize(signal, official));
    } catch (WireFormatException e) {
      assertThat(accepted).as("the splitter refused what the walker accepts: %s", e).isFalse();
    } catch (InvalidProtocolBufferException e) {
      fail("the split parts do not parse: " + hex(input), e);
    } finally {
      release(parts);
    }
    List<ByteBuf> unchecked = null;
    try {
      unchecked =
          RequestSplitter.builder()
              .maxItems(maxItems)
              .maxBytes(maxBytes)
              .validation(false)
              .build()
              .split(signal, buf);
    } catch (WireFormatException e) {
      assertThat(accepted).as("the unchecked splitter refused a valid request: %s", e).isFalse();
    } finally {
      release(unchecked);
    }
  }

  private static void edit(
      Signal signal, ByteBuf buf, boolean accepted, Message official, EditScript script) {
    EditPolicy policy = script.policy();
    for (RequestEditor editor : new RequestEditor[] {EDITOR, UNCHECKED_EDITOR}) {
      script.restart();
      ByteBuf edited = null;
      try {
        edited = editor.edit(signal, buf, policy);
        if (editor == EDITOR) {
          assertThat(accepted).as("the editor accepted what the walker refuses").isTrue();
        }
        if (accepted) {
          byte[] out = ByteBufUtil.getBytes(edited);
          Message parsed;
          try {
            parsed = OfficialView.parse(signal, out);
          } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("an edit of a valid request does not parse: " + hex(out), e);
          }
          assertThat(parsed)
              .as("edited request (input %s)", hex(ByteBufUtil.getBytes(buf)))
              .isEqualTo(script.expected(signal, official));
          assertThat(WALKER.walk(signal, out).byteCount()).isEqualTo(out.length);
        }
      } catch (WireFormatException e) {
        assertThat(accepted).as("the editor refused what the walker accepts: %s", e).isFalse();
      } finally {
        if (edited != null) {
          edited.release();
        }
      }
    }
  }

  /** The input in two components, so that every read crosses a component boundary somewhere. */
  private static ByteBuf twoComponents(byte[] input) {
    int half = input.length / 2;
    CompositeByteBuf c = Unpooled.compositeBuffer(2);
    c.addComponent(true, Unpooled.wrappedBuffer(input, 0, half));
    c.addComponent(true, Unpooled.wrappedBuffer(input, half, input.length - half));
    return c;
  }

  private static void release(List<ByteBuf> parts) {
    if (parts != null) {
      parts.forEach(ByteBuf::release);
    }
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
