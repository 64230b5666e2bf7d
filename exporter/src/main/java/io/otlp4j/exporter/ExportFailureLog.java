package io.otlp4j.exporter;

import io.otlp4j.core.ThrottledLog;
import io.otlp4j.wire.Signal;
import java.lang.System.Logger.Level;
import java.time.Duration;

/**
 * Logs an exporter's partial successes and local failures, each at WARNING at most once per
 * interval and the rest at DEBUG, so that a flood of them does not flood the log. Thread-safe.
 */
final class ExportFailureLog {

  /** Logs under the exporter's name, where these lines were logged before. */
  private static final System.Logger LOG = System.getLogger(OtlpExporter.class.getName());

  /** Each kind is logged at WARNING at most once per this interval; the rest at DEBUG. */
  private static final Duration LOG_INTERVAL = Duration.ofSeconds(10);

  private final ExporterSettings settings;
  private final ExporterMetrics metrics;
  private final ThrottledLog partialSuccessLog;
  private final ThrottledLog localFailureLog;

  ExportFailureLog(ExporterSettings settings, ExporterMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
    this.partialSuccessLog = ThrottledLog.every(LOG_INTERVAL, settings.clock);
    this.localFailureLog = ThrottledLog.every(LOG_INTERVAL, settings.clock);
  }

  /**
   * Counts a failure in our own code and logs it at WARNING at most once per interval, else at
   * DEBUG.
   */
  void onLocalFailure(Signal signal, Throwable error) {
    metrics.localFailure();
    LOG.log(
        localFailureLog.level(Level.WARNING),
        () ->
            settings.name
                + ": exporting a "
                + signal.id()
                + " request failed in otlp4j's own code; the export is retried (counted in "
                + ExporterMetrics.LOCAL_FAILURES
                + "_total)",
        error);
  }

  void onPartialSuccess(Signal signal, long rejected, String message) {
    LOG.log(
        partialSuccessLog.level(Level.WARNING),
        "{0}: upstream partially accepted a {1} request: {2} {3} rejected: {4}",
        settings.name,
        signal.id(),
        rejected,
        ExporterMetrics.itemName(signal),
        message);
  }
}
