package io.otlp4j.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class ByteArrayMarshallerTest {

  /**
   * grpc-java's MessageFramer drains a Drainable into its frame in one call; any other stream it
   * copies through a new 8 KiB buffer, for every answer the receiver gives.
   */
  @Test
  void aStreamedMessageIsDrainedInOneWriteWithoutACopyBuffer() throws Exception {
    byte[] message = {10, 3, 1, 2, 3};
    InputStream stream = ByteArrayMarshaller.INSTANCE.stream(message);
    assertThat(stream).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
    assertThat(stream.available()).isEqualTo(message.length);

    int[] writes = {0};
    ByteArrayOutputStream target =
        new ByteArrayOutputStream() {
          @Override
          public synchronized void write(byte[] b, int off, int len) {
            writes[0]++;
            super.write(b, off, len);
          }
        };
    assertThat(((Drainable) stream).drainTo(target)).isEqualTo(message.length);
    assertThat(target.toByteArray()).isEqualTo(message);
    assertThat(writes[0]).isEqualTo(1);
    assertThat(stream.available()).isZero();
    assertThat(stream.read()).isEqualTo(-1);
  }

  @Test
  void anEmptyMessageDrainsNothingAndParsesBackEmpty() throws Exception {
    InputStream stream = ByteArrayMarshaller.INSTANCE.stream(new byte[0]);
    ByteArrayOutputStream target = new ByteArrayOutputStream();
    assertThat(((Drainable) stream).drainTo(target)).isZero();
    assertThat(target.size()).isZero();
    assertThat(ByteArrayMarshaller.INSTANCE.parse(new ByteArrayInputStream(new byte[0]))).isEmpty();
  }

  @Test
  void aPartlyReadStreamDrainsTheRest() throws Exception {
    InputStream stream = ByteArrayMarshaller.INSTANCE.stream(new byte[] {1, 2, 3, 4});
    assertThat(stream.read()).isEqualTo(1);
    ByteArrayOutputStream target = new ByteArrayOutputStream();
    assertThat(((Drainable) stream).drainTo(target)).isEqualTo(3);
    assertThat(target.toByteArray()).containsExactly(2, 3, 4);
  }
}
