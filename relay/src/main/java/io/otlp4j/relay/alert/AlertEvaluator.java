package io.otlp4j.relay.alert;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.alert.ExprEvaluator.Sample;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Evaluates alerting rules against the relay's own metrics, as Prometheus evaluates a rule group:
 * every {@code evaluation_interval} it reads the {@link MetricsRegistry} (as a scrape of {@code
 * /metrics} would), evaluates each rule's expression, and moves each alert through Prometheus's
 * states: a new result is <i>pending</i>, <i>firing</i> once it has held for the rule's {@code
 * for}, and <i>resolved</i> (inactive) when it is gone; a pending alert that goes away is simply
 * dropped. Each transition is logged once.
 *
 * <p>The pending and firing alerts are published as {@code ALERTS{alertname, alertstate, …} 1} and
 * {@code ALERTS_FOR_STATE{alertname, …} <active since, unix seconds>} in the same registry (gone
 * when the alert is), and notified: to an Alertmanager (every firing alert when it starts firing
 * and again every resend delay, 1 minute, while it fires; a resolved one with its {@code endsAt}
 * for 15 minutes after, as Prometheus does), and to a webhook in Alertmanager's webhook shape (one
 * message per rule when an alert starts firing or resolves, repeated every 4 hours while firing).
 *
 * <p><b>Concurrency:</b> rules are evaluated on one daemon thread ({@link #start}); {@link
 * #evaluate} is also callable directly (tests, with a fake {@link Clock}) and is synchronized. The
 * published alerts are an immutable list in a volatile field, read by scrapes without locking.
 * Notifications are queued to {@link HttpNotifier}s and sent from their own threads: evaluation
 * never waits on the network.
 */
public final class AlertEvaluator implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AlertEvaluator.class.getName());

  /** How long a resolved alert is still sent to Alertmanager (Prometheus's resolvedRetention). */
  static final Duration RESOLVED_RETENTION = Duration.ofMinutes(15);

  /** How often a firing alert is sent to Alertmanager again (Prometheus's resend delay). */
  static final Duration DEFAULT_RESEND_DELAY = Duration.ofMinutes(1);

  /** How often a webhook hears of an alert that keeps firing (Alertmanager's repeat_interval). */
  static final Duration WEBHOOK_REPEAT_INTERVAL = Duration.ofHours(4);

  /** At most this many series keep the history that rate() reads. */
  static final int MAX_SERIES_WITH_HISTORY = 10_000;

  /** The state of an alert that {@link #alerts()} lists. */
  public enum State {
    PENDING,
    FIRING
  }

  /**
   * A pending or firing alert.
   *
   * @param labels its labels, {@code alertname} included
   * @param annotations its annotations, templates rendered
   * @param state pending or firing
   * @param value the value of the rule's expression at the last evaluation
   * @param activeAt when it became pending
   */
  public record Alert(
      SortedMap<String, String> labels,
      Map<String, String> annotations,
      State state,
      double value,
      Instant activeAt) {
    /** The alert's name. */
    public String name() {
      return labels.get("alertname");
    }
  }

  private final List<RuleAlerts> rules = new ArrayList<>();
  private final MetricsRegistry metrics;
  private final java.util.function.Supplier<MetricSnapshots> source;
  private final Clock clock;
  private final Duration interval;
  private final Duration resendDelay;
  private final String externalUrl;
  private final SeriesStore store;
  private final HttpNotifier alertmanager;
  private final HttpNotifier webhook;
  private final MetricsRegistry.Counter evaluationFailures;
  private volatile List<Alert> published = List.of();
  private ScheduledExecutorService executor;

  private AlertEvaluator(Builder b) {
    this.metrics = b.metrics;
    this.source = b.source != null ? b.source : b.metrics::scrape;
    this.clock = b.clock;
    this.interval = b.config.evaluationInterval();
    this.resendDelay = b.resendDelay;
    this.externalUrl = b.externalUrl;
    List<Expr.MatrixSelector> ranges = new ArrayList<>();
    for (AlertRule r : b.config.rules()) {
      rules.add(new RuleAlerts(r));
      collectRanges(r.expr(), ranges);
    }
    store = new SeriesStore(ranges, b.maxSeries);
    evaluationFailures =
        metrics.counter(
            "otlp4j_alert_rule_evaluation_failures",
            "Rule evaluations that failed (the rule's alerts kept their state)");
    metrics.gaugeFamily(
        "ALERTS",
        "The pending and firing alerts of the relay's alerting rules.",
        this::alertsSeries);
    metrics.gaugeFamily(
        "ALERTS_FOR_STATE",
        "When each pending or firing alert became active, in seconds since the epoch.",
        this::forStateSeries);
    URI am = b.config.alertmanager();
    alertmanager =
        am == null ? null : b.notifier("alertmanager", am.resolve(alertmanagerPath(am)), metrics);
    webhook =
        b.config.webhook() == null ? null : b.notifier("webhook", b.config.webhook(), metrics);
  }

  private static String alertmanagerPath(URI base) {
    String path = base.getPath() == null ? "" : base.getPath();
    if (path.endsWith("/api/v2/alerts")) {
      return path;
    }
    return (path.endsWith("/") ? path : path + "/") + "api/v2/alerts";
  }

  /** A builder for an evaluator of {@code config} over {@code metrics}. */
  public static Builder builder(AlertsConfig config, MetricsRegistry metrics) {
    return new Builder(config, metrics);
  }

  /** Starts evaluating every evaluation interval on a daemon thread; returns this. */
  public synchronized AlertEvaluator start() {
    if (executor == null && !rules.isEmpty()) {
      executor =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "otlp4j-alerts");
                t.setDaemon(true);
                return t;
              });
      long period = interval.toMillis();
      executor.scheduleAtFixedRate(this::evaluateSafely, period, period, TimeUnit.MILLISECONDS);
      LOG.log(
          System.Logger.Level.INFO,
          () ->
              "evaluating "
                  + rules.size()
                  + " alert rules every "
                  + RulesFile.duration(interval)
                  + (alertmanager == null ? "" : "; alerts to Alertmanager " + alertmanager.uri())
                  + (webhook == null ? "" : "; alerts to webhook " + webhook.uri()));
    }
    return this;
  }

  private void evaluateSafely() {
    try {
      evaluate();
    } catch (RuntimeException e) {
      evaluationFailures.increment();
      LOG.log(System.Logger.Level.WARNING, "alert evaluation failed", e);
    }
  }

  /** The pending and firing alerts as of the last evaluation. */
  public List<Alert> alerts() {
    return published;
  }

  /** The rules evaluated. */
  public List<AlertRule> rules() {
    return rules.stream().map(r -> r.rule).toList();
  }

  /** Evaluates every rule once, at the clock's now. */
  public synchronized void evaluate() {
    long now = clock.millis();
    store.update(source.get(), now);
    List<Notice> toAlertmanager = new ArrayList<>();
    List<Alert> active = new ArrayList<>();
    for (RuleAlerts r : rules) {
      List<Sample> result;
      try {
        result = ExprEvaluator.vector(r.rule.expr(), store, now);
        r.update(result, now);
        r.lastError = null;
      } catch (ExprEvaluator.EvalException e) {
        evaluationFailures.increment();
        if (!e.getMessage().equals(r.lastError)) {
          LOG.log(
              System.Logger.Level.WARNING,
              () -> "alert rule " + r.rule.name() + " cannot be evaluated: " + e.getMessage());
        }
        r.lastError = e.getMessage();
      }
      for (ActiveAlert a : r.active.values()) {
        if (a.state != null) {
          active.add(a.snapshot());
        }
      }
      if (alertmanager != null) {
        r.alertmanagerNotices(now, toAlertmanager);
      }
      if (webhook != null) {
        List<Notice> group = r.webhookNotices(now);
        if (!group.isEmpty()) {
          webhook.offer(NotificationJson.webhook("webhook", r.rule.name(), group, externalUrl));
        }
      }
    }
    published = List.copyOf(active);
    if (!toAlertmanager.isEmpty()) {
      // Alertmanager takes any number per request; Prometheus sends batches of at most 64
      for (int i = 0; i < toAlertmanager.size(); i += 64) {
        alertmanager.offer(
            NotificationJson.alertmanager(
                toAlertmanager.subList(i, Math.min(toAlertmanager.size(), i + 64))));
      }
    }
  }

  /** Series whose history is kept for rate() now (for tests of the bound). */
  int seriesWithHistory() {
    return store.seriesWithHistory();
  }

  /** Samples held for rate() now, all series together. */
  int samplesInHistory() {
    return store.samplesInHistory();
  }

  private List<MetricsRegistry.Sample> alertsSeries() {
    List<MetricsRegistry.Sample> out = new ArrayList<>();
    for (Alert a : published) {
      Map<String, String> labels = new TreeMap<>(a.labels());
      labels.put("alertstate", a.state() == State.FIRING ? "firing" : "pending");
      out.add(new MetricsRegistry.Sample(labels, 1));
    }
    return out;
  }

  private List<MetricsRegistry.Sample> forStateSeries() {
    List<MetricsRegistry.Sample> out = new ArrayList<>();
    for (Alert a : published) {
      out.add(new MetricsRegistry.Sample(a.labels(), a.activeAt().toEpochMilli() / 1000.0));
    }
    return out;
  }

  private static void collectRanges(Expr e, List<Expr.MatrixSelector> out) {
    if (e instanceof Expr.Call c) {
      out.add(c.argument());
    } else if (e instanceof Expr.Aggregate a) {
      collectRanges(a.argument(), out);
    } else if (e instanceof Expr.Binary b) {
      collectRanges(b.left(), out);
      collectRanges(b.right(), out);
    }
  }

  @Override
  public void close() {
    ScheduledExecutorService e;
    synchronized (this) {
      e = executor;
      executor = null;
    }
    if (e != null) {
      e.shutdownNow();
      try {
        e.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
      }
    }
    if (alertmanager != null) {
      alertmanager.close();
    }
    if (webhook != null) {
      webhook.close();
    }
  }

  // ------------------------------------------------------------------------------ one rule

  /** One alert of a rule; {@code state} null means inactive (resolved, kept for notifications). */
  private static final class ActiveAlert {
    final SortedMap<String, String> labels;
    Map<String, String> annotations;
    double value;
    State state = State.PENDING;
    final long activeAt;
    long firedAt;
    long resolvedAt;
    long lastSentAt;
    boolean webhookFiring;
    long lastWebhookAt;

    ActiveAlert(
        SortedMap<String, String> labels, Map<String, String> annotations, double value, long at) {
      this.labels = labels;
      this.annotations = annotations;
      this.value = value;
      this.activeAt = at;
    }

    Alert snapshot() {
      return new Alert(labels, annotations, state, value, Instant.ofEpochMilli(activeAt));
    }
  }

  /** A rule and its alerts, keyed by label set. Used by the evaluating thread only. */
  private final class RuleAlerts {
    final AlertRule rule;
    final Map<SortedMap<String, String>, ActiveAlert> active = new LinkedHashMap<>();
    String lastError;

    RuleAlerts(AlertRule rule) {
      this.rule = rule;
    }

    void update(List<Sample> result, long now) {
      // First the alerts' labels, all of them: a duplicate fails the evaluation before any change.
      Map<SortedMap<String, String>, Sample> current = new LinkedHashMap<>();
      Map<SortedMap<String, String>, Map<String, String>> annotations = new LinkedHashMap<>();
      for (Sample s : result) {
        SortedMap<String, String> sampleLabels = Labels.withoutName(s.labels());
        TreeMap<String, String> labels = new TreeMap<>(sampleLabels);
        rule.labels()
            .forEach(
                (k, v) -> {
                  String rendered = Templates.render(v, sampleLabels, s.value());
                  if (rendered.isEmpty()) {
                    labels.remove(k);
                  } else {
                    labels.put(k, rendered);
                  }
                });
        labels.put("alertname", rule.name());
        SortedMap<String, String> key = Labels.of(labels);
        if (current.put(key, s) != null) {
          throw new ExprEvaluator.EvalException(
              "vector contains metrics with the same labelset after applying alert labels: "
                  + Labels.format(key));
        }
        Map<String, String> ann = new LinkedHashMap<>();
        rule.annotations()
            .forEach((k, v) -> ann.put(k, Templates.render(v, sampleLabels, s.value())));
        annotations.put(key, ann);
      }
      current.forEach(
          (labels, s) -> {
            ActiveAlert a = active.get(labels);
            if (a != null && a.state != null) {
              a.value = s.value();
              a.annotations = annotations.get(labels);
              return;
            }
            ActiveAlert fresh = new ActiveAlert(labels, annotations.get(labels), s.value(), now);
            active.put(labels, fresh);
            log(fresh, a == null ? "inactive" : "resolved", "pending");
          });
      for (var it = active.entrySet().iterator(); it.hasNext(); ) {
        ActiveAlert a = it.next().getValue();
        if (!current.containsKey(a.labels)) {
          if (a.state == State.PENDING) {
            it.remove();
            log(a, "pending", "inactive");
          } else if (a.state == null) {
            if (now - a.resolvedAt > RESOLVED_RETENTION.toMillis()) {
              it.remove();
            }
          } else {
            a.state = null;
            a.resolvedAt = now;
            log(a, "firing", "resolved");
          }
          continue;
        }
        if (a.state == State.PENDING && now - a.activeAt >= rule.holdDuration().toMillis()) {
          a.state = State.FIRING;
          a.firedAt = now;
          log(a, "pending", "firing");
        }
      }
    }

    /** Prometheus's needsSending: firing alerts every resend delay, resolved ones once more. */
    void alertmanagerNotices(long now, List<Notice> out) {
      for (ActiveAlert a : active.values()) {
        if (a.state == State.PENDING) {
          continue;
        }
        boolean resolvedSinceSent = a.state == null && a.resolvedAt > a.lastSentAt;
        if (!resolvedSinceSent && a.lastSentAt + resendDelay.toMillis() >= now) {
          continue;
        }
        a.lastSentAt = now;
        long validFor = 4 * Math.max(resendDelay.toMillis(), interval.toMillis());
        out.add(notice(a, a.state == null ? a.resolvedAt : now + validFor));
      }
    }

    /** The whole group when an alert started firing or resolved, or every repeat interval. */
    List<Notice> webhookNotices(long now) {
      boolean changed = false;
      for (ActiveAlert a : active.values()) {
        boolean firing = a.state == State.FIRING;
        if (firing != a.webhookFiring
            || (firing && now - a.lastWebhookAt >= WEBHOOK_REPEAT_INTERVAL.toMillis())) {
          changed = true;
        }
      }
      if (!changed) {
        return List.of();
      }
      List<Notice> out = new ArrayList<>();
      for (ActiveAlert a : active.values()) {
        boolean firing = a.state == State.FIRING;
        if (firing || (a.state == null && a.webhookFiring)) {
          out.add(notice(a, firing ? now : a.resolvedAt));
          a.lastWebhookAt = now;
        }
        a.webhookFiring = firing;
      }
      return out;
    }

    private Notice notice(ActiveAlert a, long endsAt) {
      return new Notice(
          a.labels,
          a.annotations,
          Instant.ofEpochMilli(a.firedAt),
          Instant.ofEpochMilli(endsAt),
          a.state == State.FIRING,
          externalUrl);
    }

    private void log(ActiveAlert a, String from, String to) {
      System.Logger.Level level =
          to.equals("firing") ? System.Logger.Level.WARNING : System.Logger.Level.INFO;
      String summary = a.annotations.getOrDefault("summary", "");
      LOG.log(
          level,
          () ->
              "alert "
                  + Labels.format(a.labels)
                  + " "
                  + from
                  + " -> "
                  + to
                  + " (value "
                  + Templates.formatValue(a.value)
                  + ")"
                  + (summary.isEmpty() ? "" : ": " + summary));
    }
  }

  /** Builds an {@link AlertEvaluator}. Not thread-safe. */
  public static final class Builder {
    private final AlertsConfig config;
    private final MetricsRegistry metrics;
    private Clock clock = Clock.systemUTC();
    private Duration resendDelay = DEFAULT_RESEND_DELAY;
    private String externalUrl = "http://127.0.0.1:8888/";
    private int maxSeries = MAX_SERIES_WITH_HISTORY;
    private int notifierCapacity = HttpNotifier.DEFAULT_CAPACITY;
    private int maxAttempts = HttpNotifier.DEFAULT_MAX_ATTEMPTS;
    private Duration initialBackoff = HttpNotifier.DEFAULT_INITIAL_BACKOFF;
    private java.util.function.Supplier<MetricSnapshots> source;

    private Builder(AlertsConfig config, MetricsRegistry metrics) {
      this.config = Objects.requireNonNull(config, "config");
      this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** The clock rules are evaluated at (tests use a fake one). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where alerts say they come from ({@code generatorURL}): the relay's admin address. */
    public Builder externalUrl(String externalUrl) {
      this.externalUrl = Objects.requireNonNull(externalUrl, "externalUrl");
      return this;
    }

    /** How often a firing alert is sent to Alertmanager again (default 1 minute). */
    public Builder resendDelay(Duration resendDelay) {
      if (resendDelay.isNegative()) {
        throw new IllegalArgumentException("resendDelay must not be negative");
      }
      this.resendDelay = resendDelay;
      return this;
    }

    /** Reads series from {@code source} instead of the registry (tests replaying series). */
    Builder source(java.util.function.Supplier<MetricSnapshots> source) {
      this.source = source;
      return this;
    }

    Builder maxSeries(int maxSeries) {
      this.maxSeries = maxSeries;
      return this;
    }

    Builder notifierQueue(int capacity, int maxAttempts, Duration initialBackoff) {
      this.notifierCapacity = capacity;
      this.maxAttempts = maxAttempts;
      this.initialBackoff = initialBackoff;
      return this;
    }

    private HttpNotifier notifier(String name, URI uri, MetricsRegistry registry) {
      return new HttpNotifier(
          name,
          uri,
          registry,
          notifierCapacity,
          maxAttempts,
          initialBackoff,
          HttpNotifier.DEFAULT_MAX_BACKOFF);
    }

    /** The evaluator, registered in the registry; call {@link #start} to evaluate on a timer. */
    public AlertEvaluator build() {
      return new AlertEvaluator(this);
    }
  }
}
