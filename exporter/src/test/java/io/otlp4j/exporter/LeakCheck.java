package io.otlp4j.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector (paranoid in tests) reports a leaked buffer: it
 * listens to the detector's log, and after the class collects garbage and allocates, so that
 * buffers collected without release are reported, then asserts none was.
 */
public final class LeakCheck implements BeforeAllCallback, AfterAllCallback {

  private static final Logger DETECTOR = Logger.getLogger("io.netty.util.ResourceLeakDetector");
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
    DETECTOR.addHandler(new Handler() {
      @Override
      public void publish(LogRecord record) {
        String message = record.getMessage();
        if (message != null && message.contains("LEAK")) {
          LEAKS.add(message);
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    });
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    LEAKS.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    for (int round = 0; round < 3; round++) {
      System.gc();
      for (int i = 0; i < 64; i++) {
        // Tracking new buffers makes the detector report those collected without release.
        for (ByteBufAllocator alloc : new ByteBufAllocator[] {ByteBufAllocator.DEFAULT,
            PooledByteBufAllocator.DEFAULT}) {
          ByteBuf direct = alloc.directBuffer(64);
          direct.release();
          ByteBuf heap = alloc.heapBuffer(64);
          heap.release();
        }
      }
    }
    assertThat(LEAKS).as("Netty leak reports").isEmpty();
  }
}
