package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class MetricsRegistryTest {

  private static String scrape(MetricsRegistry registry) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    registry.writePrometheusText(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void scrapeWritesExactPrometheusTextForEveryMetricType() throws IOException {
    MetricsRegistry registry = MetricsRegistry.create();
    registry
        .counter("otelcol_exporter_sent_spans", "Spans sent.", "exporter", "otlp/backup")
        .add(42);
    registry.counter("otelcol_exporter_sent_spans", "Spans sent.", "exporter", "otlp").increment();
    registry.gauge("otelcol_exporter_queue_size", "Queue size.", "exporter", "otlp").set(7);
    registry.gauge("otlp4j_memory_used_bytes", "Bytes held.", () -> 1024);
    MetricsRegistry.Histogram h =
        registry.histogram("otlp4j_export_seconds", "Export latency.", new double[] {0.1, 1});
    h.record(0.05);
    h.record(0.1);
    h.record(0.5);
    h.record(3);

    assertThat(scrape(registry))
        .isEqualTo(
            "# HELP otelcol_exporter_queue_size Queue size.\n"
                + "# TYPE otelcol_exporter_queue_size gauge\n"
                + "otelcol_exporter_queue_size{exporter=\"otlp\"} 7.0\n"
                + "# HELP otelcol_exporter_sent_spans_total Spans sent.\n"
                + "# TYPE otelcol_exporter_sent_spans_total counter\n"
                + "otelcol_exporter_sent_spans_total{exporter=\"otlp\"} 1.0\n"
                + "otelcol_exporter_sent_spans_total{exporter=\"otlp/backup\"} 42.0\n"
                + "# HELP otlp4j_export_seconds Export latency.\n"
                + "# TYPE otlp4j_export_seconds histogram\n"
                + "otlp4j_export_seconds_bucket{le=\"0.1\"} 2\n"
                + "otlp4j_export_seconds_bucket{le=\"1.0\"} 3\n"
                + "otlp4j_export_seconds_bucket{le=\"+Inf\"} 4\n"
                + "otlp4j_export_seconds_count 4\n"
                + "otlp4j_export_seconds_sum 3.65\n"
                + "# HELP otlp4j_memory_used_bytes Bytes held.\n"
                + "# TYPE otlp4j_memory_used_bytes gauge\n"
                + "otlp4j_memory_used_bytes 1024.0\n");
  }

  @Test
  void labelValuesAreEscapedAndCallbackGaugesAreReadOnEachScrape() throws IOException {
    MetricsRegistry registry = MetricsRegistry.create();
    double[] value = {1};
    registry.gauge("otlp4j_g", "G.", () -> value[0], "path", "a\"b\\c\nd");
    assertThat(scrape(registry)).contains("otlp4j_g{path=\"a\\\"b\\\\c\\nd\"} 1.0\n");
    value[0] = 2.5;
    assertThat(scrape(registry)).contains("} 2.5\n");
    registry.gauge("otlp4j_g", "G.", () -> 3, "path", "a\"b\\c\nd"); // replaces the supplier
    assertThat(scrape(registry)).contains("} 3.0\n");
  }

  @Test
  void callbackCountersAreReadOnEachScrapeWithTheTotalSuffix() throws IOException {
    MetricsRegistry registry = MetricsRegistry.create();
    double[] cpu = {0.25};
    registry.counter("otelcol_process_cpu_seconds", "CPU seconds.", () -> cpu[0]);
    registry.counter("otlp4j_gc_total", "GCs.", () -> 3, "gc", "G1 Young");
    assertThat(scrape(registry))
        .contains(
            "# TYPE otelcol_process_cpu_seconds_total counter\n"
                + "otelcol_process_cpu_seconds_total 0.25\n")
        .contains("otlp4j_gc_total{gc=\"G1 Young\"} 3.0\n");
    cpu[0] = 1.5;
    assertThat(scrape(registry)).contains("otelcol_process_cpu_seconds_total 1.5\n");
    assertThatThrownBy(() -> registry.counter("otlp4j_gc", "GCs.", "gc", "G1 Young"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("read from a supplier");
  }

  @Test
  void aThrowingGaugeSupplierDoesNotBreakTheScrape() throws IOException {
    MetricsRegistry registry = MetricsRegistry.create();
    registry.gauge(
        "otlp4j_broken",
        "Broken.",
        () -> {
          throw new IllegalStateException("boom");
        });
    registry.counter("otlp4j_ok", "Ok.").increment();
    String text = scrape(registry);
    assertThat(text).contains("otlp4j_broken NaN\n").contains("otlp4j_ok_total 1.0\n");
  }

  @Test
  void aGaugeFamilyShowsWhatItsSupplierReturnsAndForgetsSeriesItNoLongerReturns()
      throws IOException {
    MetricsRegistry registry = MetricsRegistry.create();
    List<MetricsRegistry.Sample> alerts = new ArrayList<>();
    registry.gaugeFamily("ALERTS", "Active alerts.", () -> List.copyOf(alerts));
    assertThat(scrape(registry)).doesNotContain("ALERTS");
    alerts.add(
        new MetricsRegistry.Sample(
            java.util.Map.of("alertname", "A", "alertstate", "firing", "exporter", "otlp"), 1));
    alerts.add(new MetricsRegistry.Sample(java.util.Map.of("alertname", "B", "queue", "q"), 1));
    alerts.add(new MetricsRegistry.Sample(java.util.Map.of("bad-name", "x"), 1));
    String text = scrape(registry);
    assertThat(text)
        .contains("ALERTS{alertname=\"A\",alertstate=\"firing\",exporter=\"otlp\"} 1.0\n")
        .contains("ALERTS{alertname=\"B\",queue=\"q\"} 1.0\n")
        .doesNotContain("bad-name");
    alerts.remove(0);
    assertThat(scrape(registry)).doesNotContain("alertname=\"A\"").contains("alertname=\"B\"");
    assertThatThrownBy(() -> registry.gaugeFamily("ALERTS", "Active alerts.", List::of))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ALERTS");
    assertThatThrownBy(() -> registry.gauge("ALERTS", "Active alerts."))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sameNameAndLabelsReturnTheSameCell() {
    MetricsRegistry registry = MetricsRegistry.create();
    MetricsRegistry.Counter a = registry.counter("x_total", "h", "k", "v");
    assertThat(registry.counter("x", "h", "k", "v")).isSameAs(a);
    assertThat(registry.counter("x", "h", "k", "w")).isNotSameAs(a);
  }

  @Test
  void conflictingRegistrationIsRejectedNamingTheMetric() {
    MetricsRegistry registry = MetricsRegistry.create();
    registry.counter("x", "h", "k", "v");
    assertThatThrownBy(() -> registry.gauge("x", "h", "k", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metric x");
    assertThatThrownBy(() -> registry.counter("x", "h", "other", "v"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> registry.counter("bad-name", "h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad-name");
    assertThatThrownBy(() -> registry.counter("y", "h", "odd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pairs");
    assertThatThrownBy(() -> registry.histogram("z", "h", new double[] {1, 1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("strictly increasing");
  }

  @Test
  void countersAreExactAfterConcurrentIncrementsWhileAReaderScrapes() throws Exception {
    MetricsRegistry registry = MetricsRegistry.create();
    int threads = 8;
    int perThread = 20_000;
    MetricsRegistry.Counter counter = registry.counter("otlp4j_test_ops", "ops");
    MetricsRegistry.Histogram histogram =
        registry.histogram("otlp4j_test_values", "values", new double[] {1, 10});
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    try {
      CountDownLatch start = new CountDownLatch(1);
      AtomicBoolean writing = new AtomicBoolean(true);
      List<Future<?>> writers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        writers.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    counter.increment();
                    histogram.record(i % 20);
                  }
                  return null;
                }));
      }
      Future<Integer> reader =
          pool.submit(
              () -> {
                start.await();
                int scrapes = 0;
                long last = 0;
                while (writing.get() && scrapes < 10_000) {
                  String text = scrape(registry);
                  long seen = parseCounter(text, "\notlp4j_test_ops_total ");
                  assertThat(seen).isGreaterThanOrEqualTo(last);
                  last = seen;
                  scrapes++;
                }
                return scrapes;
              });
      start.countDown();
      for (Future<?> w : writers) {
        w.get(30, TimeUnit.SECONDS);
      }
      writing.set(false);
      assertThat(reader.get(30, TimeUnit.SECONDS)).isPositive();
    } finally {
      pool.shutdownNow();
    }
    long total = (long) threads * perThread;
    assertThat(counter.get()).isEqualTo(total);
    assertThat(histogram.count()).isEqualTo(total);
    String text = scrape(registry);
    assertThat(text).contains("otlp4j_test_ops_total " + (double) total + "\n");
    assertThat(text).contains("otlp4j_test_values_count " + total + "\n");
  }

  private static long parseCounter(String text, String prefix) {
    int i = text.indexOf(prefix);
    int end = text.indexOf('\n', i + 1);
    return (long) Double.parseDouble(text.substring(i + prefix.length(), end));
  }
}
