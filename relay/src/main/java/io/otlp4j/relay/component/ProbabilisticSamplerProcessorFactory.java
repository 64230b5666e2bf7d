package io.otlp4j.relay.component;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.wire.EditedRequest;
import io.otlp4j.wire.RequestEditor;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.util.List;
import java.util.Map;

/**
 * The {@code probabilistic_sampler} processor, with the Collector's keys, defaults and decisions
 * (see {@link ProbabilisticSamplingPolicy}): spans and log records are sampled by their trace id
 * (logs: or an attribute), in mode {@code hash_seed} (the default: FNV-1a with the seed, 14-bit
 * buckets, the same spans as a Collector with the same seed and percentage), {@code proportional}
 * or {@code equalizing} (OpenTelemetry consistent sampling with the W3C {@code ot=th:…} threshold).
 * Metrics pass through unchanged (the Collector has no metrics sampler).
 *
 * <p>A request is edited where it lies with {@link RequestEditor}: dropped items are left out, kept
 * spans get their new trace state, everything else is slices of the request. Counts: {@code
 * otelcol_processor_incoming_items} / {@code _outgoing_items} and the Collector's {@code
 * otelcol_processor_probabilistic_sampler_count_traces_sampled} / {@code _count_logs_sampled} by
 * {@code policy} and {@code sampled}. What is dropped is not refused: the client is answered as if
 * it had been exported.
 */
final class ProbabilisticSamplerProcessorFactory
    implements ProcessorFactory<ProbabilisticSamplerProcessorFactory.SamplerConfig> {
  static final List<String> MODES = List.of("hash_seed", "proportional", "equalizing");
  static final String DEFAULT_MODE = "hash_seed";
  static final boolean DEFAULT_FAIL_CLOSED = true;
  static final int DEFAULT_PRECISION = 4;
  static final String DEFAULT_ATTRIBUTE_SOURCE = "traceID";

  /** The {@code probabilistic_sampler} processor's configuration, as read. Immutable. */
  record SamplerConfig(
      String id,
      float samplingPercentage,
      int hashSeed,
      String mode,
      boolean failClosed,
      int samplingPrecision,
      boolean traceIdSource,
      String fromAttribute,
      String samplingPriority)
      implements ProcessorConfig {}

  @Override
  public String type() {
    return "probabilistic_sampler";
  }

  @Override
  public SamplerConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(
        m,
        where,
        "sampling_percentage",
        "hash_seed",
        "mode",
        "fail_closed",
        "sampling_precision",
        "attribute_source",
        "from_attribute",
        "sampling_priority");
    float pct = 0;
    ConfigNode p = m.get("sampling_percentage");
    if (p != null) {
      String w = where + ".sampling_percentage";
      try {
        pct = (float) Double.parseDouble(String.valueOf(p.value()).trim());
        double ratio = pct / 100.0;
        if (Float.isNaN(pct) || Float.isInfinite(pct)) {
          in.error(p.line(), w, "sampling rate is invalid: " + p.value() + "%");
        } else if (ratio < 0) {
          in.error(p.line(), w, "sampling rate is negative: " + p.value() + "%");
        } else if (ratio > 0 && ratio < ConsistentSampling.MIN_PROBABILITY) {
          in.error(p.line(), w, "sampling rate is too small: " + p.value() + "%");
        }
      } catch (NumberFormatException e) {
        in.error(p.line(), w, "must be a number (a percentage), was '" + p.value() + "'");
      }
    }
    long seed = in.longValue(m.get("hash_seed"), where + ".hash_seed", 0, 0);
    if (seed > 0xffffffffL) {
      in.error(
          m.get("hash_seed").line(),
          where + ".hash_seed",
          "must be a 32-bit unsigned integer (at most 4294967295), was " + seed);
    }
    String mode = DEFAULT_MODE;
    ConfigNode modeNode = m.get("mode");
    if (modeNode != null && !modeNode.isNull()) {
      String s = in.string(modeNode, where + ".mode");
      if (s != null && !s.isEmpty()) {
        if (MODES.contains(s)) {
          mode = s;
        } else {
          in.error(
              modeNode.line(),
              where + ".mode",
              "unsupported sampler mode \"" + s + "\" (one of " + String.join(", ", MODES) + ")");
        }
      }
    }
    boolean failClosed = in.bool(m.get("fail_closed"), where + ".fail_closed", DEFAULT_FAIL_CLOSED);
    int precision = DEFAULT_PRECISION;
    ConfigNode precisionNode = m.get("sampling_precision");
    if (precisionNode != null) {
      precision = in.intValue(precisionNode, where + ".sampling_precision", DEFAULT_PRECISION, 0);
      if (precision == 0) {
        in.error(
            precisionNode.line(), where + ".sampling_precision", "invalid sampling precision: 0");
      } else if (precision > ConsistentSampling.HEX_DIGITS) {
        in.error(
            precisionNode.line(),
            where + ".sampling_precision",
            "sampling precision is too great, should be <= 14: " + precision);
      }
    }
    String source = DEFAULT_ATTRIBUTE_SOURCE;
    ConfigNode sourceNode = m.get("attribute_source");
    if (sourceNode != null && !sourceNode.isNull()) {
      String s = in.string(sourceNode, where + ".attribute_source");
      if (s != null && !s.isEmpty()) {
        if (s.equals("traceID") || s.equals("record")) {
          source = s;
        } else {
          in.error(
              sourceNode.line(),
              where + ".attribute_source",
              "invalid attribute source: " + s + ". Expected: traceID or record");
        }
      }
    }
    String fromAttribute = optionalString(m.get("from_attribute"), where + ".from_attribute", in);
    String priority = optionalString(m.get("sampling_priority"), where + ".sampling_priority", in);
    if (in.errorCount() != errors) {
      return null;
    }
    return new SamplerConfig(
        id,
        pct,
        (int) seed,
        mode,
        failClosed,
        precision,
        source.equals("traceID"),
        fromAttribute,
        priority);
  }

  private static String optionalString(ConfigNode node, String where, ConfigReader in) {
    if (node == null || node.isNull()) {
      return null;
    }
    String s = in.string(node, where);
    return s == null || s.isEmpty() ? null : s;
  }

  @Override
  public RelayProcessor create(SamplerConfig config, ComponentContext context) {
    return new SamplerProcessor(
        config,
        ProbabilisticSampler.of(config),
        new ProcessorCounts(context.metrics(), config.id()),
        new SamplerCounts(context.metrics(), config.fromAttribute()));
  }

  /**
   * What {@link ProbabilisticSamplingPolicy} needs of the configuration, computed once: the mode
   * the Collector's {@code makeSampler} picks for the percentage, its threshold or ratio.
   */
  record ProbabilisticSampler(
      Mode mode,
      long threshold,
      double ratio,
      int precision,
      boolean failClosed,
      int seedState,
      boolean traceIdSource,
      byte[] fromAttribute,
      byte[] priorityKey) {

    enum Mode {
      NEVER,
      HASH_SEED,
      PROPORTIONAL,
      EQUALIZING
    }

    static ProbabilisticSampler of(SamplerConfig c) {
      float pct = Math.min(c.samplingPercentage(), 100f);
      double ratio = Math.max(pct / 100.0, ConsistentSampling.MIN_PROBABILITY);
      Mode mode =
          switch (c.mode()) {
            case "proportional" -> Mode.PROPORTIONAL;
            case "equalizing" -> Mode.EQUALIZING;
            default -> Mode.HASH_SEED;
          };
      long threshold = 0;
      if (pct == 0) {
        mode = Mode.NEVER;
      } else if (mode == Mode.EQUALIZING) {
        threshold = ConsistentSampling.probabilityToThreshold(ratio, c.samplingPrecision());
      } else if (mode == Mode.HASH_SEED) {
        threshold = ConsistentSampling.hashSeedThreshold(pct);
        if (threshold == ConsistentSampling.NEVER) {
          mode = Mode.NEVER; // the percentage rounds to no bucket at all
        }
      }
      return new ProbabilisticSampler(
          mode,
          threshold,
          ratio,
          c.samplingPrecision(),
          c.failClosed(),
          ConsistentSampling.fnvSeeded(c.hashSeed()),
          c.traceIdSource(),
          c.fromAttribute() == null ? null : c.fromAttribute().getBytes(UTF_8),
          c.samplingPriority() == null ? null : c.samplingPriority().getBytes(UTF_8));
    }
  }

  /**
   * The Collector's {@code count_traces_sampled} / {@code count_logs_sampled} counters, by policy
   * name and outcome. Thread-safe.
   */
  static final class SamplerCounts {
    static final int TRACE_ID_HASH = 0;
    static final int TRACE_ID_W3C = 1;
    static final int SAMPLING_RANDOMNESS = 2;
    static final int MISSING = 3;
    static final int PRIORITY = 4;
    static final int ATTRIBUTE = 5;
    static final int POLICIES = 6;
    static final String TRACES = "otelcol_processor_probabilistic_sampler_count_traces_sampled";
    static final String LOGS = "otelcol_processor_probabilistic_sampler_count_logs_sampled";
    private static final String[] NAMES = {
      "trace_id_hash",
      "trace_id_w3c",
      "sampling_randomness",
      "missing_randomness",
      "sampling_priority",
      null
    };
    private final MetricsRegistry.Counter[] traces = new MetricsRegistry.Counter[2 * POLICIES];
    private final MetricsRegistry.Counter[] logs = new MetricsRegistry.Counter[2 * POLICIES];

    SamplerCounts(MetricsRegistry metrics, String fromAttribute) {
      for (int p = 0; p < POLICIES; p++) {
        String name = p == ATTRIBUTE ? fromAttribute : NAMES[p];
        if (name == null) {
          continue;
        }
        for (int s = 0; s < 2; s++) {
          String sampled = s == 1 ? "true" : "false";
          if (p != ATTRIBUTE) {
            traces[2 * p + s] =
                metrics.counter(
                    TRACES,
                    "Count of traces that were sampled or not",
                    "policy",
                    name,
                    "sampled",
                    sampled);
          }
          logs[2 * p + s] =
              metrics.counter(
                  LOGS,
                  "Count of logs that were sampled or not",
                  "policy",
                  name,
                  "sampled",
                  sampled);
        }
      }
    }

    void add(Signal signal, long[] counts) {
      MetricsRegistry.Counter[] cells = signal == Signal.TRACES ? traces : logs;
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] != 0 && cells[i] != null) {
          cells[i].add(counts[i]);
        }
      }
    }
  }

  /** Samples through one {@link RequestEditor} pass per request. */
  static final class SamplerProcessor implements RelayProcessor {
    private static final RequestEditor EDITOR =
        RequestEditor.builder().validation(false).contiguousOutput(true).build();
    private final SamplerConfig config;
    private final ProbabilisticSampler sampler;
    private final ProcessorCounts counts;
    private final SamplerCounts samplerCounts;

    SamplerProcessor(
        SamplerConfig config,
        ProbabilisticSampler sampler,
        ProcessorCounts counts,
        SamplerCounts samplerCounts) {
      this.config = config;
      this.sampler = sampler;
      this.counts = counts;
      this.samplerCounts = samplerCounts;
    }

    @Override
    public String id() {
      return config.id();
    }

    @Override
    public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
      if (signal == Signal.METRICS) {
        counts.count(signal, summary.itemCount(), summary.itemCount());
        return RelayProcessor.forward(request, summary);
      }
      ProbabilisticSamplingPolicy policy = new ProbabilisticSamplingPolicy(sampler);
      EditedRequest edited;
      try {
        // edit leaves request to us and returns a buffer of its own (slices of request retained)
        edited = EDITOR.editCounted(signal, request, policy);
      } finally {
        request.release();
      }
      samplerCounts.add(signal, policy.counts);
      return counts.forwardEdited(signal, edited, summary, policy.dropped > 0);
    }

    @Override
    public String toString() {
      return "probabilistic_sampler[" + config.id() + "]";
    }
  }
}
