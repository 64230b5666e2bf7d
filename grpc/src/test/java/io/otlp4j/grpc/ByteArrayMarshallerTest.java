package io.otlp4j.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@link ByteArrayMarshaller} costs per call. The round trip through grpc-java itself (the
 * exporter reading an answer, the receiver writing one) is tested against real grpc-java peers in
 * the exporter ({@code GrpcFaultTest}, {@code ExportMatrixTest}) and the receiver.
 */
class ByteArrayMarshallerTest {

  @Test
  void anAnswerIsDrainedIntoTheFramerWithOneBulkWrite() throws Exception {
    byte[] answer = {8, 1, 18, 3, 'b', 'a', 'd'};
    InputStream stream = ByteArrayMarshaller.INSTANCE.stream(answer);

    // grpc-java's MessageFramer writes a Drainable KnownLength stream straight into its frame
    // buffer; any other stream goes through ByteStreams.copy and its 8 KiB scratch array per call.
    assertThat(stream).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
    assertThat(stream.available()).isEqualTo(answer.length);
    RecordingOutputStream framer = new RecordingOutputStream();
    assertThat(((Drainable) stream).drainTo(framer)).isEqualTo(answer.length);
    assertThat(framer.writes).containsExactly(answer.length);
    assertThat(framer.toByteArray()).isEqualTo(answer);
    assertThat(stream.read()).as("drained").isEqualTo(-1);
  }

  @Test
  void aPartlyReadStreamDrainsTheRest() throws Exception {
    InputStream stream = ByteArrayMarshaller.INSTANCE.stream(new byte[] {1, 2, 3, 4});
    assertThat(stream.read()).isEqualTo(1);
    ByteArrayOutputStream target = new ByteArrayOutputStream();
    assertThat(((Drainable) stream).drainTo(target)).isEqualTo(3);
    assertThat(target.toByteArray()).containsExactly(2, 3, 4);
  }

  @Test
  void aKnownLengthMessageIsReadIntoAnArrayOfExactlyItsLength() {
    byte[] answer = {8, 1, 18, 3, 'b', 'a', 'd'};
    assertThat(ByteArrayMarshaller.INSTANCE.parse(new KnownLengthStream(answer))).isEqualTo(answer);
    assertThat(ByteArrayMarshaller.INSTANCE.parse(new KnownLengthStream(new byte[0]))).isEmpty();
  }

  @Test
  void aMessageOfUnknownLengthIsReadToItsEnd() {
    // what grpc-java hands over while decompressing: no KnownLength
    byte[] answer = new byte[20_000];
    answer[19_999] = 7;
    assertThat(ByteArrayMarshaller.INSTANCE.parse(new ByteArrayInputStream(answer)))
        .isEqualTo(answer);
  }

  @Test
  void parsingTheUsualEmptyAnswerAllocatesNothingPerCall() {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    byte[] empty = new byte[0];
    KnownLengthStream[] streams = new KnownLengthStream[10_000];
    for (int i = 0; i < streams.length; i++) {
      streams[i] = new KnownLengthStream(empty);
    }
    for (int i = 0; i < 1_000; i++) {
      ByteArrayMarshaller.INSTANCE.parse(streams[i]); // warm up
    }

    long before = threads.getThreadAllocatedBytes(thread);
    int total = 0;
    for (int i = 1_000; i < streams.length; i++) {
      total += ByteArrayMarshaller.INSTANCE.parse(streams[i]).length;
    }
    long allocated = threads.getThreadAllocatedBytes(thread) - before;

    assertThat(total).isZero();
    // InputStream.readAllBytes allocated a buffer of several KiB per call (9,000 calls: ~70 MB);
    // the bound leaves room for the measurement's own noise.
    assertThat(allocated).isLessThan(256 * 1024);
  }

  /**
   * Like grpc-java's own message stream ({@code ReadableBuffers.BufferInputStream}): known length,
   * and none of {@link ByteArrayInputStream}'s shortcuts for {@code readAllBytes}.
   */
  private static final class KnownLengthStream extends InputStream implements KnownLength {
    private final byte[] bytes;
    private int pos;

    KnownLengthStream(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int available() {
      return bytes.length - pos;
    }

    @Override
    public int read() {
      return pos < bytes.length ? bytes[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      int n = Math.min(len, available());
      if (n == 0) {
        return -1;
      }
      System.arraycopy(bytes, pos, b, off, n);
      pos += n;
      return n;
    }
  }

  private static final class RecordingOutputStream extends ByteArrayOutputStream {
    final List<Integer> writes = new ArrayList<>();

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      writes.add(len);
      super.write(b, off, len);
    }

    @Override
    public synchronized void write(int b) {
      writes.add(1);
      super.write(b);
    }
  }
}
