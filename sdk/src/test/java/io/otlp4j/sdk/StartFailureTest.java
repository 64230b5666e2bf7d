package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whatever goes wrong when the SDK integration starts or runs (a class that cannot load, an
 * exporter that cannot be built, an exporter that throws or never answers), {@code forceFlush} and
 * {@code shutdown} complete, failed, within their timeouts, and the application gets one clear log
 * line.
 */
class StartFailureTest {

  private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (record.getLevel().intValue() >= Level.WARNING.intValue()
              && record.getLoggerName() != null
              && record.getLoggerName().startsWith("io.otlp4j")) {
            warnings.add(record);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void captureLogs() {
    Logger.getLogger("").addHandler(capture);
  }

  @AfterEach
  void stopCapturing() {
    Logger.getLogger("").removeHandler(capture);
  }

  /**
   * The test class path in a loader of its own (parent: the platform loader) that cannot load the
   * given classes, as a jar whose dependencies are missing or relocated would leave an application.
   */
  private static final class HidingClassLoader extends URLClassLoader {
    private final Set<String> hidden;

    HidingClassLoader(Set<String> hidden) {
      super(classPath(), ClassLoader.getPlatformClassLoader());
      this.hidden = hidden;
    }

    private static URL[] classPath() {
      List<URL> urls = new ArrayList<>();
      for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
        try {
          urls.add(new File(entry).toURI().toURL());
        } catch (java.net.MalformedURLException e) {
          throw new IllegalStateException(e);
        }
      }
      return urls.toArray(new URL[0]);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (hidden.contains(name)) {
        throw new ClassNotFoundException(name + " (hidden by the test)");
      }
      return super.loadClass(name, resolve);
    }
  }

  @Test
  void anExporterWhoseTransportClassCannotLoadFailsFlushAndShutdownAndSaysSoOnce()
      throws Exception {
    try (HidingClassLoader loader =
        new HidingClassLoader(Set.of("io.netty.channel.nio.NioIoHandler"))) {
      Class<?> scenario = loader.loadClass(StartFailureScenario.class.getName());
      assertThat(scenario.getClassLoader()).isSameAs(loader);
      Method run = scenario.getMethod("run", long.class);
      long start = System.nanoTime();
      Thread thread = Thread.currentThread();
      ClassLoader previous = thread.getContextClassLoader();
      thread.setContextClassLoader(loader); // the API's ServiceLoader lookups go through it
      String outcome;
      try {
        outcome = (String) run.invoke(null, 10_000L);
      } finally {
        thread.setContextClassLoader(previous);
      }
      assertThat(outcome).isEqualTo("flush failed, shutdown failed");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    }
    assertThat(warnings).hasSize(1);
    LogRecord line = warnings.get(0);
    String text = line.getMessage() + (line.getThrown() != null ? " " + line.getThrown() : "");
    assertThat(text)
        .contains("otlp4j span exporter")
        .contains("cannot start")
        .contains("io/netty/channel/nio/NioIoHandler");
  }

  /** An exporter that fails the way a missing class does, everywhere. */
  private static final class BrokenExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      throw new NoClassDefFoundError("io/otlp4j/shaded/io/netty/buffer/ByteBuf");
    }

    @Override
    public CompletableResultCode flush() {
      throw new NoClassDefFoundError("io/otlp4j/shaded/io/netty/buffer/ByteBuf");
    }

    @Override
    public CompletableResultCode shutdown() {
      throw new NoClassDefFoundError("io/otlp4j/shaded/io/netty/buffer/ByteBuf");
    }
  }

  /** An exporter whose results never complete (its I/O thread is gone). */
  private static final class SilentExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return new CompletableResultCode();
    }

    @Override
    public CompletableResultCode flush() {
      return new CompletableResultCode();
    }

    @Override
    public CompletableResultCode shutdown() {
      return new CompletableResultCode();
    }
  }

  @Test
  void anExporterThatThrowsLinkageErrorsFailsFlushAndShutdownInsteadOfHanging() {
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(new BrokenExporter())
            .exporterTimeout(Duration.ofMillis(300))
            .shutdownTimeout(Duration.ofMillis(300))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    provider.get("test").spanBuilder("span").startSpan().end();

    CompletableResultCode flush = provider.forceFlush().join(10, TimeUnit.SECONDS);
    assertThat(flush.isDone()).as("forceFlush completed").isTrue();
    assertThat(flush.isSuccess()).isFalse();
    CompletableResultCode shutdown = provider.shutdown().join(10, TimeUnit.SECONDS);
    assertThat(shutdown.isDone()).as("shutdown completed").isTrue();
    assertThat(shutdown.isSuccess()).isFalse();
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0).getMessage())
        .contains("Otlp4jBatchSpanProcessor")
        .contains("NoClassDefFoundError");
  }

  @Test
  void anExporterThatNeverAnswersFailsFlushWithinTheExportTimeoutAndShutdownWithinItsTimeout() {
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(new SilentExporter())
            .exporterTimeout(Duration.ofMillis(300))
            .shutdownTimeout(Duration.ofMillis(300))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    provider.get("test").spanBuilder("span").startSpan().end();

    CompletableResultCode flush = provider.forceFlush().join(10, TimeUnit.SECONDS);
    assertThat(flush.isDone()).as("forceFlush completed").isTrue();
    assertThat(flush.isSuccess()).isFalse();
    CompletableResultCode shutdown = provider.shutdown().join(10, TimeUnit.SECONDS);
    assertThat(shutdown.isDone()).as("shutdown completed").isTrue();
    assertThat(shutdown.isSuccess()).isFalse();
  }
}
