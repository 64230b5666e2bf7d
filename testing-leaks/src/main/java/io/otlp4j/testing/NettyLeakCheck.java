package io.otlp4j.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails tests on any Netty leak report ({@code @ExtendWith(NettyLeakCheck.class)}): Netty's leak
 * detector runs at {@code PARANOID} (every buffer tracked), every report is recorded, a test fails
 * if a report came in while it ran, and after the class the check collects garbage and allocates so
 * that buffers collected without release are reported, then fails the class if any was.
 *
 * <p>Reports are caught two ways, so that neither the order in which classes load nor the logging
 * backend can hide one: a {@link ResourceLeakDetectorFactory} whose detectors record every report
 * (installed before the first test class by {@link LeakCheckSessionListener}, a JUnit Platform
 * launcher-session listener registered in this jar, or else when this class loads; it covers every
 * detector created after it), and a handler on the detector's {@code java.util.logging} logger (for
 * detectors created earlier, when Netty logs through JUL). Best effort, as any leak detection: a
 * leak is seen only once its buffer was collected; never a false alarm.
 */
public final class NettyLeakCheck
    implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
  private static final Logger DETECTOR_LOG = Logger.getLogger(ResourceLeakDetector.class.getName());
  private static final ThreadLocal<Boolean> REPORTING = ThreadLocal.withInitial(() -> false);
  private static boolean installed;

  static {
    install();
  }

  /** Sets the level to PARANOID and starts recording reports; idempotent. */
  public static synchronized void install() {
    if (installed) {
      return;
    }
    installed = true;
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(
        new ResourceLeakDetectorFactory() {
          @Override
          @SuppressWarnings("deprecation")
          public <T> ResourceLeakDetector<T> newResourceLeakDetector(
              Class<T> resource, int samplingInterval, long maxActive) {
            return new ResourceLeakDetector<T>(resource, samplingInterval) {
              @Override
              protected void reportTracedLeak(String resourceType, String records) {
                LEAKS.add("LEAK: " + resourceType + records);
                REPORTING.set(true); // the log line below is this report: the JUL handler skips it
                try {
                  super.reportTracedLeak(resourceType, records);
                } finally {
                  REPORTING.set(false);
                }
              }

              @Override
              protected void reportUntracedLeak(String resourceType) {
                LEAKS.add("LEAK: " + resourceType);
                REPORTING.set(true);
                try {
                  super.reportUntracedLeak(resourceType);
                } finally {
                  REPORTING.set(false);
                }
              }
            };
          }
        });
    DETECTOR_LOG.addHandler(
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            String message = record.getMessage();
            if (message != null && message.contains("LEAK") && !REPORTING.get()) {
              LEAKS.add(message);
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
  }

  /** Leak reports so far (the recorded ones are kept until {@link #clear()}). */
  public static List<String> reports() {
    return new ArrayList<>(LEAKS);
  }

  /** Forgets the reports so far. */
  public static void clear() {
    LEAKS.clear();
  }

  /**
   * Collects garbage and allocates from Netty's allocators (pooled and unpooled, heap and direct),
   * so that the detectors poll for buffers collected without release, then fails if any leak was
   * reported.
   */
  public static void assertNoLeaks() {
    for (int round = 0; round < 3; round++) {
      System.gc();
      for (int i = 0; i < 64; i++) {
        for (ByteBufAllocator alloc :
            new ByteBufAllocator[] {
              ByteBufAllocator.DEFAULT,
              PooledByteBufAllocator.DEFAULT,
              UnpooledByteBufAllocator.DEFAULT
            }) {
          ByteBuf direct = alloc.directBuffer(16);
          direct.release();
          ByteBuf heap = alloc.heapBuffer(16);
          heap.release();
        }
      }
    }
    failIfReported("Netty leak reports");
  }

  private static void failIfReported(String what) {
    List<String> leaks = reports();
    if (!leaks.isEmpty()) {
      LEAKS.clear(); // one report fails one test or class, not every later one
      throw new AssertionError(what + " (" + leaks.size() + "):\n" + String.join("\n\n", leaks));
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    LEAKS.clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    failIfReported("Netty leak reports while " + context.getDisplayName() + " ran");
  }

  @Override
  public void afterAll(ExtensionContext context) {
    assertNoLeaks();
  }
}
