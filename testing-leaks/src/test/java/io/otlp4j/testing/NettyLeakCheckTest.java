package io.otlp4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

class NettyLeakCheckTest {

  @Test
  void aBufferCollectedWithoutReleaseFailsTheCheck() {
    NettyLeakCheck.install();
    NettyLeakCheck.clear();
    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    NettyLeakCheck.assertNoLeaks();

    leak();
    assertThatThrownBy(NettyLeakCheck::assertNoLeaks)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Netty leak reports (1)")
        .hasMessageContaining("LEAK");
    NettyLeakCheck.assertNoLeaks(); // a report fails once
  }

  private static void leak() {
    ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(32);
    leaked.writeLong(42);
  }
}
