package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RequestSplitterTest {
  private static final int MESSAGES_PER_SIGNAL = 400;

  /** (maxItems, maxBytes): by items only, by bytes only (including below one item), and both. */
  private static final int[][] LIMITS = {
    {1, Integer.MAX_VALUE}, {3, Integer.MAX_VALUE}, {Integer.MAX_VALUE, 1},
    {Integer.MAX_VALUE, 300}, {7, 900}, {2, 4096}
  };

  @ParameterizedTest
  @EnumSource(Signal.class)
  void partsHoldTheOriginalItemsInOrderAndRespectTheirLimits(Signal signal) throws Exception {
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() * 31L + 5).withUnknownFields(true);
    for (int i = 0; i < MESSAGES_PER_SIGNAL; i++) {
      Message request = generator.request(signal);
      byte[] bytes = request.toByteArray();
      int[] limits = LIMITS[i % LIMITS.length];
      // Every third request is cut without the validating walk first, as for already-walked input.
      RequestSplitter splitter =
          RequestSplitter.builder()
              .maxItems(limits[0])
              .maxBytes(limits[1])
              .validation(i % 3 != 0)
              .build();
      ByteBuf input =
          (i & 1) == 0
              ? Unpooled.wrappedBuffer(bytes)
              : PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
      List<Long> counts = new java.util.ArrayList<>();
      List<ByteBuf> parts = splitter.split(signal, input, counts);
      try {
        assertThat(counts).as("one item count per part").hasSameSizeAs(parts);
        assertThat(input.readerIndex()).isZero();
        assertThat(input.readableBytes()).isEqualTo(bytes.length);
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        long items = 0;
        for (int p = 0; p < parts.size(); p++) {
          byte[] partBytes = ByteBufUtil.getBytes(parts.get(p));
          WalkSummary summary = OtlpWalker.create().walk(signal, partBytes);
          assertThat(counts.get(p))
              .as("the split's count is the walker's")
              .isEqualTo(summary.itemCount());
          items += summary.itemCount();
          assertThat(summary.itemCount()).isLessThanOrEqualTo(limits[0]);
          if (summary.byteCount() > limits[1]) {
            assertThat(summary.itemCount())
                .as("a part over the byte limit holds one item")
                .isLessThanOrEqualTo(1);
          }
          joined.writeBytes(partBytes);
        }
        WalkSummary whole = OtlpWalker.create().walk(signal, bytes);
        assertThat(items).isEqualTo(whole.itemCount());
        Message rejoined = OfficialView.parse(signal, joined.toByteArray());
        assertThat(RequestNormalizer.normalize(signal, rejoined))
            .isEqualTo(RequestNormalizer.normalize(signal, request));
      } finally {
        parts.forEach(ByteBuf::release);
        input.release();
      }
    }
  }

  @Test
  void aRequestWithinTheLimitsComesBackWholeAsOneSlice() {
    byte[] bytes = OtlpGenerator.realisticTraces(10).toByteArray();
    ByteBuf input = Unpooled.wrappedBuffer(bytes);
    List<ByteBuf> parts = RequestSplitter.builder().build().split(Signal.TRACES, input);
    assertThat(parts).hasSize(1);
    assertThat(ByteBufUtil.getBytes(parts.get(0))).isEqualTo(bytes);
    parts.get(0).release();
    assertThat(input.refCnt()).isEqualTo(1);
    input.release();
  }

  @Test
  void realisticTracesSplitIntoEqualPartsWithOneSliceOfSpansEach() throws Exception {
    byte[] bytes = OtlpGenerator.realisticTraces(512).toByteArray();
    ByteBuf input = Unpooled.wrappedBuffer(bytes);
    List<ByteBuf> parts =
        RequestSplitter.builder().maxItems(64).build().split(Signal.TRACES, input);
    try {
      assertThat(parts).hasSize(8);
      for (ByteBuf part : parts) {
        assertThat(OtlpWalker.create().walk(Signal.TRACES, part).itemCount()).isEqualTo(64);
        // headers before and after, and one slice holding the 64 consecutive spans
        assertThat(((CompositeByteBuf) part).numComponents()).isLessThanOrEqualTo(3);
      }
    } finally {
      parts.forEach(ByteBuf::release);
      input.release();
    }
  }

  @Test
  void aMetricWithMorePointsThanFitIsCutIntoMetricsWithItsOwnHeader() throws Exception {
    Sum.Builder sum = Sum.newBuilder().setAggregationTemporalityValue(2).setIsMonotonic(true);
    for (int i = 0; i < 10; i++) {
      sum.addDataPoints(NumberDataPoint.newBuilder().setAsInt(i).setTimeUnixNano(i));
    }
    ExportMetricsServiceRequest request =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(
                ResourceMetrics.newBuilder()
                    .setSchemaUrl("r")
                    .addScopeMetrics(
                        ScopeMetrics.newBuilder()
                            .setScope(InstrumentationScope.newBuilder().setName("s"))
                            .addMetrics(
                                Metric.newBuilder()
                                    .setName("requests")
                                    .setUnit("1")
                                    .setDescription("d")
                                    .setSum(sum))))
            .build();
    ByteBuf input = Unpooled.wrappedBuffer(request.toByteArray());
    List<ByteBuf> parts =
        RequestSplitter.builder().maxItems(4).build().split(Signal.METRICS, input);
    try {
      assertThat(parts).hasSize(3);
      int next = 0;
      for (ByteBuf part : parts) {
        ExportMetricsServiceRequest parsed =
            ExportMetricsServiceRequest.parseFrom(ByteBufUtil.getBytes(part));
        assertThat(parsed.getResourceMetrics(0).getSchemaUrl()).isEqualTo("r");
        assertThat(parsed.getResourceMetrics(0).getScopeMetrics(0).getScope().getName())
            .isEqualTo("s");
        Metric metric = parsed.getResourceMetrics(0).getScopeMetrics(0).getMetrics(0);
        assertThat(metric.toBuilder().setSum(metric.getSum().toBuilder().clearDataPoints()).build())
            .isEqualTo(
                request.getResourceMetrics(0).getScopeMetrics(0).getMetrics(0).toBuilder()
                    .setSum(sum.clone().clearDataPoints())
                    .build());
        for (NumberDataPoint point : metric.getSum().getDataPointsList()) {
          assertThat(point.getAsInt()).isEqualTo(next++);
        }
      }
      assertThat(next).isEqualTo(10);
    } finally {
      parts.forEach(ByteBuf::release);
      input.release();
    }
  }

  @Test
  void malformedInputIsRefusedAndNothingLeaks() {
    ByteBuf input = Unpooled.wrappedBuffer(new byte[] {0x0A, 0x05, 0x12});
    assertThatThrownBy(
            () -> RequestSplitter.builder().maxItems(1).build().split(Signal.LOGS, input))
        .isInstanceOf(WireFormatException.class);
    assertThat(input.refCnt()).isEqualTo(1);
    input.release();
  }

  @Test
  void limitsAreValidated() {
    assertThatThrownBy(() -> RequestSplitter.builder().maxItems(0))
        .hasMessageContaining("maxItems");
    assertThatThrownBy(() -> RequestSplitter.builder().maxBytes(0))
        .hasMessageContaining("maxBytes");
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void mergedRequestsParseToTheConcatenation(Signal signal) throws Exception {
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() + 99L).withUnknownFields(true);
    for (int i = 0; i < 300; i++) {
      Message a = generator.request(signal);
      Message b = generator.request(signal);
      ByteBuf first = Unpooled.wrappedBuffer(a.toByteArray());
      ByteBuf second = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(b.toByteArray());
      CompositeByteBuf merged = RequestMerger.merge(PooledByteBufAllocator.DEFAULT, first, second);
      try {
        byte[] bytes = ByteBufUtil.getBytes(merged);
        assertThat(OfficialView.parse(signal, bytes)).isEqualTo(a.toBuilder().mergeFrom(b).build());
        WalkSummary summary = OtlpWalker.create().walk(signal, merged);
        assertThat(summary.itemCount())
            .isEqualTo(
                OtlpWalker.create().walk(signal, a.toByteArray()).itemCount()
                    + OtlpWalker.create().walk(signal, b.toByteArray()).itemCount());
      } finally {
        merged.release();
        assertThat(first.refCnt()).as("the merge holds its own references").isEqualTo(1);
        first.release();
        second.release();
      }
    }
  }
}
