package io.otlp4j.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.testing.logs.TestLogRecordData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.otlp4j.wire.ProtoWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OtlpMarshalerRobustnessTest {

  @Test
  void valuesNestedBeyondTheWriterBoundFailCleanlyAndTheNextBatchEncodes() {
    Value<?> deep = Value.of("leaf");
    for (int i = 0; i < ProtoWriter.MAX_DEPTH + 10; i++) {
      deep = Value.of(new Value<?>[] {deep});
    }
    LogRecordData tooDeep =
        TestLogRecordData.builder()
            .setResource(Fixtures.resource("deep"))
            .setInstrumentationScopeInfo(Fixtures.scope("deep"))
            .setBodyValue(deep)
            .build();
    List<LogRecordData> good = new RandomTelemetry(7).logs(5);
    byte[] expected = SdkReference.oursLogs(good);

    ByteBuf out = PooledByteBufAllocator.DEFAULT.buffer();
    try {
      out.writeByte(1);
      assertThatThrownBy(() -> OtlpMarshaler.encodeLogs(List.of(tooDeep), out))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(String.valueOf(ProtoWriter.MAX_DEPTH));
      assertThat(out.readableBytes()).as("nothing appended by the failed encode").isEqualTo(1);
      assertThatThrownBy(
              () -> OtlpMarshaler.encodeLogs(List.of(tooDeep), PooledByteBufAllocator.DEFAULT))
          .isInstanceOf(IllegalStateException.class);

      out.clear();
      OtlpMarshaler.encodeLogs(good, out);
      assertThat(ByteBufUtil.getBytes(out)).isEqualTo(expected);
      SdkReference.assertLogsMatch(good);
    } finally {
      out.release();
    }
  }

  @Test
  void threadsEncodingAtOnceEachGetTheirOwnCorrectRequest() throws Exception {
    int threads = 4;
    List<List<SpanData>> batches = new ArrayList<>();
    List<byte[]> expected = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      List<SpanData> batch = new RandomTelemetry(100 + t).spans(20);
      batches.add(batch);
      expected.add(SdkReference.oursSpans(batch));
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int index = t;
        done.add(
            CompletableFuture.runAsync(
                () -> {
                  for (int i = 0; i < 200; i++) {
                    assertThat(SdkReference.oursSpans(batches.get(index)))
                        .isEqualTo(expected.get(index));
                  }
                },
                pool));
      }
      CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void countDataPointsCountsEveryPointOfEveryMetric() {
    RandomTelemetry random = new RandomTelemetry(3);
    var metrics = random.metrics(20);
    long expected =
        SdkReference.normalize(SdkReference.assertMetricsMatch(metrics))
            .getResourceMetricsList()
            .stream()
            .flatMap(r -> r.getScopeMetricsList().stream())
            .flatMap(s -> s.getMetricsList().stream())
            .mapToLong(
                m ->
                    m.getGauge().getDataPointsCount()
                        + m.getSum().getDataPointsCount()
                        + m.getHistogram().getDataPointsCount()
                        + m.getExponentialHistogram().getDataPointsCount()
                        + m.getSummary().getDataPointsCount())
            .sum();
    assertThat(OtlpMarshaler.countDataPoints(metrics)).isEqualTo(expected);
  }
}
