package io.otlp4j.queue;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The child process of {@link CrashRecoveryTest}: opens the queue, then appends from several
 * producer threads until it is killed, writing "producer seq" to the ack log (one write(2) per
 * line, so the line survives SIGKILL in the page cache) only after the append's future completed
 * with {@link AppendResult.Appended}.
 *
 * <p>Arguments: queue directory, ack log, first producer id, producers, payload size.
 */
public final class CrashingAppender {

  private CrashingAppender() {}

  public static void main(String[] args) throws Exception {
    Path directory = Path.of(args[0]);
    Path ackLog = Path.of(args[1]);
    int firstProducer = Integer.parseInt(args[2]);
    int producers = Integer.parseInt(args[3]);
    int size = Integer.parseInt(args[4]);
    DurableQueue queue =
        DurableQueue.builder(directory)
            .consumers(CrashRecoveryTest.CONSUMER)
            .segmentBytes(CrashRecoveryTest.SEGMENT_BYTES)
            .open();
    FileChannel acks =
        FileChannel.open(
            ackLog, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    System.out.println("READY");
    System.out.flush();
    Thread[] threads = new Thread[producers];
    for (int p = 0; p < producers; p++) {
      int producer = firstProducer + p;
      threads[p] =
          new Thread(
              () -> {
                try {
                  for (long seq = 0; ; seq++) {
                    ByteBuf payload = TestRecords.buffer(producer, seq, size + (int) (seq % 97));
                    AppendResult result;
                    try {
                      result = queue.append((byte) 1, seq, payload).get(60, TimeUnit.SECONDS);
                    } finally {
                      payload.release();
                    }
                    if (!result.appended()) {
                      throw new IllegalStateException("refused: " + result);
                    }
                    byte[] line = (producer + " " + seq + "\n").getBytes(StandardCharsets.US_ASCII);
                    synchronized (acks) {
                      acks.write(ByteBuffer.wrap(line));
                    }
                  }
                } catch (Exception e) {
                  e.printStackTrace();
                  System.exit(3);
                }
              },
              "producer-" + producer);
      threads[p].start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
  }
}
