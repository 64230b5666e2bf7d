package io.otlp4j.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.KnownLength;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * What {@link ReceivedMessages} leaves alone. Taking grpc-java's own buffers is tested against a
 * real grpc-java server in the receiver ({@code GrpcZeroCopyTest}), where the streams come from.
 */
class ReceivedMessagesTest {

  private final UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(true, false);

  @Test
  void aStreamThatDoesNotExposeItsBuffersIsNotTakenAndNotRead() throws Exception {
    byte[] bytes = {1, 2, 3, 4};
    InputStream plain = new ByteArrayInputStream(bytes);
    InputStream known = new KnownLengthStream(bytes); // e.g. a stream of another transport

    for (InputStream s : new InputStream[] {plain, known}) {
      assertThat(ReceivedMessages.takeable(s)).isFalse();
      ByteBuf taken = ReceivedMessages.take(s, allocator);
      assertThat(taken).isNull();
      assertThat(s.available()).as("nothing read").isEqualTo(bytes.length);
    }
    assertThat(allocator.metric().usedDirectMemory()).as("nothing allocated").isZero();
  }

  private static final class KnownLengthStream extends ByteArrayInputStream implements KnownLength {
    KnownLengthStream(byte[] bytes) {
      super(bytes);
    }
  }
}
