package io.otlp4j.wire.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class AllocationMeterTest {

  private static volatile Object sink;

  @Test
  void countsAnArrayTheActionAllocatesAndLittleElse() {
    assertThat(AllocationMeter.isSupported()).isTrue();
    long bytes = AllocationMeter.allocatedBytes(() -> sink = new byte[1 << 20]);
    assertThat(bytes).isBetween(1L << 20, (1L << 20) + 4096);
  }

  @Test
  void anActionThatAllocatesNothingMeasuresNearZero() {
    long bytes = AllocationMeter.allocatedBytes(() -> {});
    assertThat(bytes).isLessThan(1024);
  }

  @Test
  void measureReturnsTheValueWithItsAllocation() {
    AllocationMeter.Measured<int[]> measured = AllocationMeter.measure(() -> new int[100_000]);
    assertThat(measured.value()).hasSize(100_000);
    assertThat(measured.bytes()).isBetween(400_000L, 404_096L);
  }

  @Test
  void anExceptionFromTheActionPropagatesUnchanged() {
    assertThatThrownBy(
            () ->
                AllocationMeter.allocatedBytes(
                    () -> {
                      throw new IOException("boom");
                    }))
        .isInstanceOf(IOException.class)
        .hasMessage("boom");
  }
}
